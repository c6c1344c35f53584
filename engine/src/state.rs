//! What every task of a running server shares: the apps, their peers, the event queue and
//! the stop signals.

use crate::app::App;
use crate::apps::Apps;
use crate::config::Config;
use crate::events::EventQueue;
use crate::lookups::{By, Lookups};
use crate::peers::Peers;
use crate::socket::{QueueLimits, QueueSettings, SendBudget};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

impl ServerState {
    /// The app with public key `key`, asking the host when it is unknown and lookups are on.
    pub async fn app_by_key(&self, key: &str) -> Option<Arc<App>> {
        match (self.apps.by_key(key), &self.lookups) {
            (Some(app), _) => Some(app),
            (None, Some(lookups)) => lookups.find(&self.apps, By::Key, key).await,
            (None, None) => None,
        }
    }

    /// The app with id `id`, asking the host when it is unknown and lookups are on.
    pub async fn app_by_id(&self, id: &str) -> Option<Arc<App>> {
        match (self.apps.by_id(id), &self.lookups) {
            (Some(app), _) => Some(app),
            (None, Some(lookups)) => lookups.find(&self.apps, By::Id, id).await,
            (None, None) => None,
        }
    }
}

/// State shared by the listener, HTTP connections and sockets of one server.
pub struct ServerState {
    /// The configuration the server started with.
    pub config: Config,
    /// The apps and their channels.
    pub apps: Arc<Apps>,
    /// Questions to the host about apps clients name, when `apps.lookup` is on.
    pub lookups: Option<Lookups>,
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
    /// Sockets that named a key no served app has (closed with 4001).
    pub unknown_app_connections: AtomicU64,
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
        let lookups = config
            .lookup
            .clone()
            .map(|lookup| Lookups::new(lookup, events.clone()));
        ServerState {
            apps: Arc::new(apps),
            lookups,
            peers,
            queues,
            config,
            events,
            draining: CancellationToken::new(),
            shutdown,
            tasks,
            tls,
            unknown_app_connections: AtomicU64::new(0),
        }
    }
}
