//! The work of the runtime-owner thread: the listeners' tasks and the periodic chores while
//! the server runs, then the drain and the stop.

use super::Listeners;
use crate::http;
use crate::metrics::Metrics;
use crate::scaling::{self, Cluster};
use crate::state::ServerState;
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How often a draining server looks whether any socket is still open.
const DRAIN_CHECK_INTERVAL: Duration = Duration::from_millis(20);

/// The body of the runtime-owner thread.
pub(super) fn run(
    runtime: tokio::runtime::Runtime,
    listeners: Listeners,
    state: Arc<ServerState>,
    cluster: Option<Arc<Cluster>>,
    grace: Arc<Mutex<Duration>>,
) {
    crate::socket::mark_engine_thread();
    runtime.block_on(async {
        state.tasks.spawn(sweep_caches(state.clone()));
        if state.lookups.is_some() {
            state.tasks.spawn(drop_unused_looked_up_apps(state.clone()));
        }
        state.tasks.spawn(release_memory(state.clone()));
        if let Some(cluster) = cluster {
            let local = scaling::Local {
                node: state.apps.clone(),
                events: state.events.clone(),
                shutdown: state.shutdown.clone(),
            };
            state.tasks.spawn(scaling::run(cluster, local));
        }
        let metrics = listeners
            .metrics
            .map(|listener| (listener, Arc::new(Metrics::new(state.clone()))));
        let counted = metrics.as_ref().map(|(_, metrics)| metrics.clone());
        if let Some((listener, metrics)) = metrics {
            match tokio::net::TcpListener::from_std(listener) {
                Ok(listener) => {
                    let serving = http::serve_metrics(listener, state.clone(), metrics);
                    state.tasks.spawn(serving);
                }
                Err(_) => state.shutdown.cancel(),
            }
        }
        match tokio::net::TcpListener::from_std(listeners.public) {
            Ok(listener) => {
                state
                    .tasks
                    .spawn(http::serve(listener, state.clone(), counted));
            }
            Err(_) => state.shutdown.cancel(),
        }
        tokio::select! {
            _ = state.draining.cancelled() => {}
            _ = state.shutdown.cancelled() => {}
        }
        let grace = *grace.lock();
        let deadline = Instant::now() + grace;
        let closing = (grace / 2).min(crate::ws::transport::CLOSE_HANDSHAKE_TIMEOUT);
        drain(&state, deadline - closing).await;
        state.shutdown.cancel();
        state.tasks.close();
        let _ = tokio::time::timeout_at(deadline, state.tasks.wait()).await;
    });
    runtime.shutdown_timeout(Duration::from_millis(100));
}

/// Serves the open sockets of a stopping server until none is left or `until` comes.
async fn drain(state: &ServerState, until: Instant) {
    while state.apps.all().iter().any(|app| app.connections() > 0) {
        let now = Instant::now();
        if now >= until {
            return;
        }
        tokio::time::sleep_until(until.min(now + DRAIN_CHECK_INTERVAL)).await;
    }
}

/// How often expired cache-channel events are dropped.
const CACHE_SWEEP_INTERVAL: Duration = Duration::from_secs(60);

/// Drops expired cached events of every app until the server stops.
async fn sweep_caches(state: Arc<ServerState>) {
    let mut interval = tokio::time::interval(CACHE_SWEEP_INTERVAL);
    loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => return,
            _ = interval.tick() => state.apps.all().iter().for_each(|app| app.channels.sweep_cache()),
        }
    }
}

/// How often looked-up apps are checked for having outlived `apps.lookup.cache_ttl` unused.
const LOOKED_UP_SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// Drops looked-up apps no socket used for `apps.lookup.cache_ttl`, until the server stops.
async fn drop_unused_looked_up_apps(state: Arc<ServerState>) {
    let mut interval = tokio::time::interval(LOOKED_UP_SWEEP_INTERVAL);
    loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => return,
            _ = interval.tick() => state.apps.drop_expired(std::time::Instant::now()),
        }
    }
}

/// How often the server checks whether memory the send queues let go should be returned to
/// the system.
const MEMORY_RELEASE_INTERVAL: Duration = Duration::from_secs(1);

/// Returns memory that send queues no longer hold to the system until the server stops.
async fn release_memory(state: Arc<ServerState>) {
    let mut interval = tokio::time::interval(MEMORY_RELEASE_INTERVAL);
    loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => return,
            _ = interval.tick() => {
                if state.queues.budget.wants_release() {
                    let _ = tokio::task::spawn_blocking(crate::socket::return_free_memory).await;
                }
            }
        }
    }
}
