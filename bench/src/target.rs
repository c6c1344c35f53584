//! The command-line options every scenario shares: which server, as which app.

use crate::publisher::Credentials;
use crate::pusher::Target;
use clap::Args;

/// The server under test and the app key clients connect with.
#[derive(Args, Clone)]
pub struct ServerArgs {
    /// Server host.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Server port.
    #[arg(long)]
    pub port: u16,
    /// The server's pid, whose RSS and CPU time are measured.
    #[arg(long)]
    pub pid: u32,
    /// App key.
    #[arg(long)]
    pub key: String,
}

impl ServerArgs {
    /// Where WebSocket clients connect.
    pub fn target(&self) -> Target {
        Target {
            host: self.host.clone(),
            port: self.port,
            key: self.key.clone(),
        }
    }
}

/// The app id and secret, for scenarios that publish through the HTTP API.
#[derive(Args, Clone)]
pub struct ApiArgs {
    /// App id.
    #[arg(long)]
    pub app_id: String,
    /// App secret.
    #[arg(long)]
    pub secret: String,
}

impl ApiArgs {
    /// The credentials a publisher signs with.
    pub fn credentials(&self, server: &ServerArgs) -> Credentials {
        Credentials {
            app_id: self.app_id.clone(),
            key: server.key.clone(),
            secret: self.secret.clone(),
        }
    }
}
