//! Starting and stopping a server: the listeners, the runtime-owner thread and the stop path.
//!
//! The listeners are bound on the caller's thread so "address in use" is the caller's error.
//! One dedicated OS thread owns the tokio runtime (its work is in `runtime`); it and the runtime's workers are created
//! with the host's termination signals blocked, so signals always land on the host (PHP)
//! thread. Stop is idempotent, bounded by a grace period, and does nothing but forget the
//! runtime in a forked child, where the runtime's threads do not exist.
//!
//! A stop first drains: `/up` answers 503 and new sockets are refused while the open ones
//! are still served, so that a load balancer sends new clients to other servers before this
//! one closes its sockets (with 4200, and they reconnect).

use crate::app::{App, AppStats, ChannelState, ChannelSummary, UsersError};
use crate::apps::{AppChanges, RefusedApp};
use crate::channels::census::Filter;
use crate::config::{AppConfig, Config};
use crate::events::{EngineEvent, EventQueue, WaitOutcome};
use crate::peers::{NoPeers, Peers};
use crate::scaling::{self, Cluster};
use crate::state::ServerState;
use parking_lot::Mutex;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

mod runtime;

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The address could not be bound, with the OS reason.
    #[error("could not listen on {address}: {source}")]
    Bind {
        /// `host:port` as configured.
        address: String,
        /// The OS error.
        source: io::Error,
    },
    /// The metrics address could not be bound, with the OS reason.
    #[error("could not listen on {address} for metrics ({key}.host and .port): {source}")]
    MetricsBind {
        /// `host:port` as configured.
        address: String,
        /// The dotted path of the `metrics` block.
        key: String,
        /// The OS error.
        source: io::Error,
    },
    /// The TLS certificate or key could not be used.
    #[error("could not set up TLS: {0}")]
    Tls(#[from] crate::tls::TlsError),
    /// The Redis settings of `scaling` cannot be used.
    #[error("could not set up scaling: {0}")]
    Scaling(#[from] redis::RedisError),
    /// Redis answered but refused the `scaling.server` settings (a password, a certificate,
    /// cluster mode), so scaling could never work.
    #[error("could not use Redis at {address}: {} {}", refused.key, refused.problem)]
    RedisRefused {
        /// Where Redis is, without the password.
        address: String,
        /// The key to change and why.
        refused: scaling::Refused,
    },
    /// Threads, the runtime or the event queue could not be created.
    #[error("could not start the server runtime: {0}")]
    Runtime(#[from] io::Error),
}

/// Why the host's call about an app could not be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    /// The call named an app this server does not have.
    #[error("no app with id \"{0}\" is configured")]
    UnknownApp(String),
    /// Users were asked of a channel that is not a presence channel.
    #[error("{0}: only presence channels have users")]
    NotPresence(String),
}

/// How long sockets get to close when a server is dropped without an explicit stop.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(3);

/// The signals that must reach the host thread, never a runtime thread.
const HOST_SIGNALS: [libc::c_int; 8] = [
    libc::SIGINT,
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGCHLD,
    libc::SIGALRM,
];

/// A running server. Dropping it stops it.
pub struct Server {
    state: Arc<ServerState>,
    /// The engine's runtime, entered when a host call starts tasks (a new app's).
    runtime: tokio::runtime::Handle,
    local_addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    owner_pid: u32,
    runtime_thread: Mutex<Option<JoinHandle<()>>>,
    grace: Arc<Mutex<Duration>>,
}

impl Server {
    /// Binds the configured address and starts serving on background threads.
    pub fn start(config: Config) -> Result<Server, StartError> {
        let tls = config.tls.as_ref().map(crate::tls::acceptor).transpose()?;
        let address = format!("{}:{}", config.host, config.port);
        let listener = bind(&config.host, config.port)
            .map_err(|source| StartError::Bind { address, source })?;
        let local_addr = listener.local_addr()?;
        let metrics_listener = match &config.metrics {
            Some(metrics) => Some(bind(&metrics.host, metrics.port).map_err(|source| {
                StartError::MetricsBind {
                    address: format!("{}:{}", metrics.host, metrics.port),
                    key: metrics.key.clone(),
                    source,
                }
            })?),
            None => None,
        };
        let metrics_addr = metrics_listener
            .as_ref()
            .map(std::net::TcpListener::local_addr)
            .transpose()?;
        let listeners = Listeners {
            public: listener,
            metrics: metrics_listener,
        };
        let events = Arc::new(EventQueue::new(config.event_queue_size)?);
        let workers = config.workers;
        let cluster = config
            .scaling
            .as_ref()
            .map(Cluster::new)
            .transpose()?
            .map(Arc::new);
        let peers: Arc<dyn Peers> = match &cluster {
            Some(cluster) => cluster.clone(),
            None => Arc::new(NoPeers),
        };
        let runtime = with_host_signals_blocked(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(workers)
                .thread_name("reverb-rs-worker")
                .on_thread_start(crate::socket::mark_engine_thread)
                .enable_all()
                .build()
        })?;
        if let Some(cluster) = &cluster {
            if let Err(refused) = check_redis_settings(&runtime, cluster) {
                runtime.shutdown_background();
                return Err(refused);
            }
        }
        let state = {
            let _inside = runtime.enter();
            Arc::new(ServerState::new(config, events, tls, peers))
        };
        let grace = Arc::new(Mutex::new(DEFAULT_GRACE));
        let runtime_handle = runtime.handle().clone();

        let thread_state = state.clone();
        let thread_grace = grace.clone();
        let runtime_thread = with_host_signals_blocked(|| {
            std::thread::Builder::new()
                .name("reverb-rs".into())
                .spawn(move || {
                    runtime::run(runtime, listeners, thread_state, cluster, thread_grace)
                })
        })?;

        Ok(Server {
            runtime: runtime_handle,
            state,
            local_addr,
            metrics_addr,
            owner_pid: std::process::id(),
            runtime_thread: Mutex::new(Some(runtime_thread)),
            grace,
        })
    }

    /// The address the server listens on (with the real port when port 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The address metrics are served on, when they are on (with the real port when port 0
    /// was asked for).
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// Whether the server still serves.
    pub fn is_running(&self) -> bool {
        self.runtime_thread
            .lock()
            .as_ref()
            .is_some_and(|thread| !thread.is_finished())
    }

    /// Whether this process is a fork of the one that started the server.
    pub fn is_forked_child(&self) -> bool {
        std::process::id() != self.owner_pid
    }

    /// The pid of the process that started the server.
    pub fn owner_pid(&self) -> u32 {
        self.owner_pid
    }

    /// The app with this id.
    fn app(&self, app_id: &str) -> Result<Arc<App>, HostError> {
        self.state
            .apps
            .by_id(app_id)
            .ok_or_else(|| HostError::UnknownApp(app_id.to_string()))
    }

    /// Publishes an event to channels of an app from the host's thread; returns how many of
    /// this node's sockets took it. The frames are only queued: the sockets' tasks write
    /// them on the engine's threads.
    pub fn publish(
        &self,
        app_id: &str,
        channels: &[String],
        event: &str,
        data: &str,
        except_socket_id: Option<&str>,
    ) -> Result<usize, HostError> {
        Ok(self
            .app(app_id)?
            .publish(channels, event, data, except_socket_id))
    }

    /// This node's occupied channels of an app, all or those whose names start with `prefix`.
    pub fn channels(
        &self,
        app_id: &str,
        prefix: Option<&str>,
    ) -> Result<BTreeMap<String, ChannelSummary>, HostError> {
        let filter = prefix.map_or(Filter::All, |prefix| Filter::Prefix(prefix.to_string()));
        Ok(self.app(app_id)?.channel_summaries(&filter))
    }

    /// One channel of an app on this node: occupied, its counts, a cache channel's event.
    pub fn channel(&self, app_id: &str, name: &str) -> Result<ChannelState, HostError> {
        Ok(self.app(app_id)?.channel(name))
    }

    /// The user ids on a presence channel of an app on this node (none when nobody is
    /// subscribed).
    pub fn users(&self, app_id: &str, channel: &str) -> Result<Vec<Value>, HostError> {
        match self.app(app_id)?.presence_users(channel) {
            Ok(users) => Ok(users),
            Err(UsersError::NotFound) => Ok(Vec::new()),
            Err(UsersError::NotPresence) => Err(HostError::NotPresence(channel.to_string())),
        }
    }

    /// How many of this node's sockets are signed in as a user of an app.
    pub fn signed_in_sockets(&self, app_id: &str, user_id: &str) -> Result<usize, HostError> {
        Ok(self.app(app_id)?.users.sockets_of(user_id).len())
    }

    /// Serves exactly the apps of `entries` (shaped like `apps.apps`) from now on: new apps
    /// start, changed ones take their new configuration (a rotated secret is valid at once,
    /// open sockets go on), removed ones close their sockets with 4001 and disabled ones
    /// (`enabled => false`) with 4003. Refused entries are returned; the app each names
    /// keeps its running version.
    pub fn set_apps(&self, entries: &[Value]) -> (AppChanges, Vec<RefusedApp>) {
        let _inside = self.runtime.enter();
        let outcome = self.state.apps.replace_entries(entries);
        if let Some(lookups) = &self.state.lookups {
            lookups.forget_unknown();
        }
        outcome
    }

    /// Takes the host's answer to an [`EngineEvent::AppLookup`]: the app entry, or `None`
    /// when the host does not know the key or id. An entry that cannot be read is refused
    /// with the error that names its key, and the waiting clients hear the app is unknown.
    pub fn answer_app_lookup(&self, lookup: u64, entry: Option<&Value>) -> Result<(), String> {
        let lookups = self
            .state
            .lookups
            .as_ref()
            .ok_or("apps.lookup is not enabled, so no lookup waits for an answer")?;
        let _inside = self.runtime.enter();
        let path = format!("app lookup {lookup}");
        let (config, refused) = match entry.map(|entry| AppConfig::from_entry(entry, &path)) {
            None => (None, None),
            Some(Ok(config)) => (Some(config), None),
            Some(Err(error)) => (None, Some(error.to_string())),
        };
        lookups
            .answer(&self.state.apps, lookup, config)
            .map_err(|error| error.to_string())?;
        refused.map_or(Ok(()), Err)
    }

    /// Closes every socket of a user of an app, on every node; returns how many of this
    /// node's sockets were closed.
    pub fn terminate_user(&self, app_id: &str, user_id: &str) -> Result<usize, HostError> {
        Ok(self.app(app_id)?.terminate_user(user_id))
    }

    /// Bytes waiting in every socket's send queue now, as the send-queue budget counts them.
    pub fn queued_bytes(&self) -> usize {
        self.state.queues.budget.queued()
    }

    /// How many sockets were closed (4100) for being too far behind.
    pub fn slow_consumers_closed(&self) -> u64 {
        self.state.queues.budget.slow_closed()
    }

    /// Counters per app id.
    pub fn stats(&self) -> BTreeMap<String, AppStats> {
        self.state
            .apps
            .all()
            .iter()
            .map(|app| (app.id().to_string(), app.stats()))
            .collect()
    }

    /// Blocks until engine events are queued, `timeout` passes, or a signal arrives.
    pub fn wait(&self, timeout: Duration) -> WaitOutcome {
        self.state.events.wait(timeout)
    }

    /// Takes the queued engine events.
    pub fn drain(&self) -> Vec<EngineEvent> {
        self.state.events.drain()
    }

    /// The eventfd that becomes readable when events are queued.
    pub fn event_fd(&self) -> i32 {
        self.state.events.fd()
    }

    /// How many engine events were dropped because nobody drained them.
    pub fn dropped_events(&self) -> u64 {
        self.state.events.dropped()
    }

    /// Stops the server within `grace`. From the start `/up` answers 503 and new sockets are
    /// refused; the open sockets are still served, so that a load balancer has time to send
    /// new clients elsewhere, until they are all gone or only the last half of `grace` (at
    /// most its last second) is left. Then every socket is closed with 4200, and the rest of
    /// `grace` is what they get to close. Calling it again does nothing. In a forked child it
    /// only lets go of the runtime.
    pub fn stop(&self, grace: Duration) {
        let Some(thread) = self.runtime_thread.lock().take() else {
            return;
        };
        if self.is_forked_child() {
            // The runtime's threads do not exist here; joining or waking them could hang.
            std::mem::forget(thread);
            return;
        }
        *self.grace.lock() = grace;
        self.state.draining.cancel();
        let _ = thread.join();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.is_forked_child() {
            // Freeing the state would wake tasks of a runtime that only exists in the parent.
            std::mem::forget(self.state.clone());
        }
        self.stop(DEFAULT_GRACE);
    }
}

/// Binds `host:port` for the runtime to accept on.
fn bind(host: &str, port: u16) -> io::Result<std::net::TcpListener> {
    let listener = std::net::TcpListener::bind((host, port))?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// The listeners a server was started with.
struct Listeners {
    /// WebSocket upgrades, the HTTP API and `/up`.
    public: std::net::TcpListener,
    /// `/metrics`, when metrics are on.
    metrics: Option<std::net::TcpListener>,
}

/// Tries the Redis settings on the new runtime before anything serves. The caller waits on a
/// channel, not with `block_on`, since a host (a test, say) may already run its own runtime.
fn check_redis_settings(
    runtime: &tokio::runtime::Runtime,
    cluster: &Arc<Cluster>,
) -> Result<(), StartError> {
    let (answer, checked) = std::sync::mpsc::channel();
    let checking = cluster.clone();
    runtime.spawn(async move {
        let _ = answer.send(checking.check_settings().await);
    });
    match checked.recv() {
        Ok(Err(refused)) => Err(StartError::RedisRefused {
            address: cluster.redis_address(),
            refused,
        }),
        _ => Ok(()),
    }
}

/// Runs `spawn` with the host's signals blocked on this thread, so threads created inside
/// inherit the blocked mask; the old mask is restored afterwards.
fn with_host_signals_blocked<T>(spawn: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
    // SAFETY: sigset_t is plain data initialised by sigemptyset/sigaddset before use, and
    // pthread_sigmask only changes this thread's mask.
    unsafe {
        let mut blocked: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut blocked);
        for signal in HOST_SIGNALS {
            libc::sigaddset(&mut blocked, signal);
        }
        let mut previous: libc::sigset_t = std::mem::zeroed();
        libc::pthread_sigmask(libc::SIG_BLOCK, &blocked, &mut previous);
        let result = spawn();
        libc::pthread_sigmask(libc::SIG_SETMASK, &previous, std::ptr::null_mut());
        result
    }
}
