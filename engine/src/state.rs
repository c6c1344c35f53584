//! What every task of a running server shares: the apps, the event queue and the stop signal.

use crate::app::Apps;
use crate::config::Config;
use crate::events::EventQueue;
use crate::scaling::Cluster;
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// State shared by the listener, HTTP connections and sockets of one server.
pub struct ServerState {
    /// The configuration the server started with.
    pub config: Config,
    /// The apps and their channels.
    pub apps: Apps,
    /// This node's membership of a cluster, when scaling is on.
    pub cluster: Option<Arc<Cluster>>,
    /// Events for the host.
    pub events: Arc<EventQueue>,
    /// How many frames may wait for one socket.
    pub send_queue_size: usize,
    /// Cancelled when the server stops: sockets close with 4200, the listener stops accepting.
    pub shutdown: CancellationToken,
    /// Every connection task, so a stop can wait for them to finish.
    pub tasks: TaskTracker,
    /// Wraps accepted sockets in TLS when the server serves `wss://`.
    pub tls: Option<TlsAcceptor>,
}

impl ServerState {
    /// Builds the state for `config`, reporting into `events`; `cluster` shares the work
    /// with other nodes.
    pub fn new(
        config: Config,
        events: Arc<EventQueue>,
        tls: Option<TlsAcceptor>,
        cluster: Option<Arc<Cluster>>,
    ) -> ServerState {
        ServerState {
            apps: Apps::new(&config.apps, cluster.as_ref()),
            cluster,
            send_queue_size: config.send_queue_size,
            config,
            events,
            shutdown: CancellationToken::new(),
            tasks: TaskTracker::new(),
            tls,
        }
    }
}
