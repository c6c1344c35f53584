//! The command-line options every scenario shares: which server, as which app.

use crate::publisher::Credentials;
use crate::pusher::Target;
use clap::Args;

/// Where WebSocket clients connect, and with which app key.
#[derive(Args, Clone)]
pub struct TargetArgs {
    /// Server host.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Server port.
    #[arg(long)]
    pub port: u16,
    /// App key.
    #[arg(long)]
    pub key: String,
}

impl TargetArgs {
    /// Where WebSocket clients connect.
    pub fn target(&self) -> Target {
        Target {
            host: self.host.clone(),
            port: self.port,
            key: self.key.clone(),
        }
    }

    /// The same options, for a worker process's command line.
    pub fn to_args(&self) -> Vec<String> {
        vec![
            "--host".into(),
            self.host.clone(),
            "--port".into(),
            self.port.to_string(),
            "--key".into(),
            self.key.clone(),
        ]
    }
}

/// The server under test: where it listens and its pid, whose RSS and CPU time are measured.
#[derive(Args, Clone)]
pub struct ServerArgs {
    /// Where clients connect.
    #[command(flatten)]
    pub target: TargetArgs,
    /// The server's pid.
    #[arg(long)]
    pub pid: u32,
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
    /// Publish through the HTTP API on this port of the same host instead: another node of
    /// a cluster, to measure delivery across nodes.
    #[arg(long)]
    pub publish_port: Option<u16>,
}

impl ApiArgs {
    /// The credentials a publisher signs with.
    pub fn credentials(&self, server: &ServerArgs) -> Credentials {
        Credentials {
            app_id: self.app_id.clone(),
            key: server.target.key.clone(),
            secret: self.secret.clone(),
        }
    }
}

/// How a scenario spreads its sockets over generator processes and source addresses.
#[derive(Args, Clone)]
pub struct SpreadArgs {
    /// Generator processes holding the sockets.
    #[arg(long, default_value_t = 2)]
    pub processes: usize,
    /// Local addresses to connect from, one per process, round-robin (e.g. 127.0.0.2,127.0.0.3).
    #[arg(long, value_delimiter = ',', default_value = "127.0.0.1")]
    pub sources: Vec<String>,
}
