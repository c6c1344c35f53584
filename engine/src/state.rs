//! What every task of a running server shares: the apps, their peers, the event queue and
//! the stop signals.

use crate::apps::Apps;
use crate::config::Config;
use crate::events::EventQueue;
use crate::peers::Peers;
use crate::socket::{QueueLimits, QueueSettings, SendBudget};
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// State shared by the listener, HTTP connections and sockets of one server.
pub struct ServerState {
    /// The configuration the server started with.
    pub config: Config,
    /// The apps and their channels.
    pub apps: Arc<Apps>,
    /// The other nodes of the cluster (nobody without scaling).
    pub peers: Arc<dyn Peers>,
    /// Events for the host.
    pub events: Arc<EventQueue>,
    /// How every socket queues what it is sent, and the budget all queues share.
    pub queues: QueueSettings,
    /// Cancelled when a stop begins: `/up` answers 503 and new sockets are refused, while the
    /// sockets already open are still served until `shutdown`.
    pub draining: CancellationToken,
    /// Cancelled when the server stops: sockets close with 4200, the listeners stop accepting.
    pub shutdown: CancellationToken,
    /// Every connection task, so a stop can wait for them to finish.
    pub tasks: TaskTracker,
    /// Wraps accepted sockets in TLS when the server serves `wss://`.
    pub tls: Option<TlsAcceptor>,
}

impl ServerState {
    /// Builds the state for `config`, reporting into `events`, sharing the work with `peers`;
    /// called inside the server's runtime, where the apps' webhooks start.
    pub fn new(
        config: Config,
        events: Arc<EventQueue>,
        tls: Option<TlsAcceptor>,
        peers: Arc<dyn Peers>,
    ) -> ServerState {
        let queues = QueueSettings {
            limits: QueueLimits {
                frames: config.send_queue_size,
                bytes: config.send_queue_bytes,
            },
            budget: SendBudget::new(config.send_queue_budget),
            direct_writes: !config.report_sent_messages,
        };
        let (shutdown, tasks) = (CancellationToken::new(), TaskTracker::new());
        let apps = Apps::start(
            &config.apps,
            &peers,
            &config.webhooks,
            &events,
            &shutdown,
            &tasks,
        );
        ServerState {
            apps: Arc::new(apps),
            peers,
            queues,
            config,
            events,
            draining: CancellationToken::new(),
            shutdown,
            tasks,
            tls,
        }
    }
}
