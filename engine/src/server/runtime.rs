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
        spawn_chores(&state);
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

/// How often looked-up apps are checked for having outlived `apps.lookup.cache_ttl` unused.
const LOOKED_UP_SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// How often the server checks whether memory the send queues let go should be returned to
/// the system.
const MEMORY_RELEASE_INTERVAL: Duration = Duration::from_secs(1);

/// Spawns the server's periodic chores, each running until the server stops.
fn spawn_chores(state: &Arc<ServerState>) {
    // Expired cached events of every app are dropped.
    let sweep = every(CACHE_SWEEP_INTERVAL, state.clone(), async |state| {
        state
            .apps
            .all()
            .iter()
            .for_each(|app| app.channels.sweep_cache());
    });
    state.tasks.spawn(sweep);
    // Looked-up apps no socket used for `apps.lookup.cache_ttl` are dropped.
    if state.lookups.is_some() {
        let drop_unused = every(LOOKED_UP_SWEEP_INTERVAL, state.clone(), async |state| {
            state.apps.drop_expired(std::time::Instant::now());
        });
        state.tasks.spawn(drop_unused);
    }
    // Memory that send queues no longer hold is returned to the system.
    let release = every(MEMORY_RELEASE_INTERVAL, state.clone(), async |state| {
        if state.queues.budget.wants_release() {
            let _ = tokio::task::spawn_blocking(crate::socket::return_free_memory).await;
        }
    });
    state.tasks.spawn(release);
}

/// Runs `chore` every `period` until the server stops.
async fn every(period: Duration, state: Arc<ServerState>, chore: impl AsyncFn(&ServerState)) {
    let mut interval = tokio::time::interval(period);
    loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => return,
            _ = interval.tick() => chore(&state).await,
        }
    }
}
