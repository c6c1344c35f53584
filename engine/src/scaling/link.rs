//! The node's link to Redis: the command connection, the publisher that pipelines what other
//! nodes must know, and the subscriber that listens to them, reconnecting with backoff.

use super::connection::Commands;
use super::node;
use super::wire::Envelope;
use super::{Cluster, Local, Outgoing, PIPELINE_BATCH, RECONNECT_BACKOFF};
use futures_util::StreamExt;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Runs the node's side of the cluster until the server stops: the connection to Redis, the
/// publisher, the subscriber and the heartbeat.
pub async fn run(cluster: Arc<Cluster>, local: Local) {
    let Some(commands) = connect_commands(&cluster, &local).await else {
        return;
    };
    let _ = cluster.commands.set(commands);
    let Some(queue) = cluster.outgoing_queue.lock().take() else {
        return;
    };
    let local = Arc::new(local);
    tokio::join!(
        publish(cluster.clone(), local.shutdown.clone(), queue),
        listen(cluster.clone(), local.clone()),
        node::keep_alive(cluster, local),
    );
}

/// Opens the command connection, retrying with backoff while a cluster cannot tell its slot
/// map; `None` when the server stops first.
async fn connect_commands(cluster: &Cluster, local: &Local) -> Option<Commands> {
    let mut backoff = RECONNECT_BACKOFF.0;
    loop {
        let attempt = cluster.endpoints.commands(cluster.config.timeout);
        let attempt = tokio::select! {
            _ = local.shutdown.cancelled() => return None,
            attempt = tokio::time::timeout(cluster.config.timeout, attempt) => attempt,
        };
        match attempt {
            Ok(Ok(commands)) => return Some(commands),
            Ok(Err(error)) => cluster.set_connected(false, &local.events, || error.to_string()),
            Err(_) => cluster.set_connected(false, &local.events, || {
                format!("Redis did not answer within {:?}", cluster.config.timeout)
            }),
        }
        tokio::select! {
            _ = local.shutdown.cancelled() => return None,
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(RECONNECT_BACKOFF.1);
    }
}

/// Sends queued messages to Redis, many per pipeline; drops them while Redis is away.
async fn publish(
    cluster: Arc<Cluster>,
    shutdown: CancellationToken,
    mut queue: mpsc::Receiver<Outgoing>,
) {
    let mut batch = Vec::with_capacity(PIPELINE_BATCH);
    loop {
        let received = tokio::select! {
            _ = shutdown.cancelled() => return,
            received = queue.recv_many(&mut batch, PIPELINE_BATCH) => received,
        };
        if received == 0 {
            return;
        }
        let Some(mut redis) = cluster.connection().filter(|_| cluster.is_connected()) else {
            cluster
                .dropped
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
            batch.clear();
            continue;
        };
        let mut pipeline = redis::pipe();
        let mut messages = 0;
        for outgoing in batch.drain(..) {
            match outgoing {
                Outgoing::Publish(payload) => {
                    messages += 1;
                    pipeline
                        .cmd("PUBLISH")
                        .arg(cluster.keys.channel())
                        .arg(payload)
                        .ignore();
                }
                Outgoing::Cache { key, frame, ttl } => {
                    pipeline
                        .cmd("SET")
                        .arg(key)
                        .arg(frame)
                        .arg("PX")
                        .arg(ttl.as_millis().max(1) as u64)
                        .ignore();
                }
            }
        }
        let sent = cluster.bounded(pipeline.query_async::<()>(&mut redis));
        match sent.await {
            Ok(()) => cluster.sent.fetch_add(messages, Ordering::Relaxed),
            Err(_) => cluster
                .dropped
                .fetch_add(received as u64, Ordering::Relaxed),
        };
    }
}

/// Listens to the other nodes, reconnecting with backoff whenever Redis goes away.
async fn listen(cluster: Arc<Cluster>, local: Arc<Local>) {
    let mut backoff = RECONNECT_BACKOFF.0;
    loop {
        let subscribe = async {
            let mut pubsub = cluster.endpoints.server.get_async_pubsub().await?;
            pubsub.subscribe(cluster.keys.channel()).await?;
            // The command connection must work too before the node counts as connected.
            let mut commands = cluster.connection().ok_or_else(super::unreachable)?;
            redis::cmd("PING").query_async::<()>(&mut commands).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        let attempt = tokio::select! {
            _ = local.shutdown.cancelled() => return,
            attempt = tokio::time::timeout(cluster.config.timeout, subscribe) => attempt,
        };
        match attempt {
            Ok(Ok(pubsub)) => {
                backoff = RECONNECT_BACKOFF.0;
                cluster.subscribed.store(true, Ordering::Release);
                cluster.set_connected(true, &local.events, String::new);
                tokio::spawn(node::resync_if_needed(cluster.clone(), local.clone()));
                let mut messages = pubsub.into_on_message();
                loop {
                    let message = tokio::select! {
                        _ = local.shutdown.cancelled() => return,
                        message = messages.next() => message,
                    };
                    let Some(message) = message else { break };
                    if let Some(envelope) = Envelope::decode(message.get_payload_bytes()) {
                        cluster.receive(local.node.as_ref(), envelope);
                    }
                }
                cluster.subscribed.store(false, Ordering::Release);
                let closed = || "the connection to Redis closed".into();
                cluster.set_connected(false, &local.events, closed);
            }
            Ok(Err(error)) => cluster.set_connected(false, &local.events, || error.to_string()),
            Err(_) => cluster.set_connected(false, &local.events, || {
                format!("Redis did not answer within {:?}", cluster.config.timeout)
            }),
        }
        tokio::select! {
            _ = local.shutdown.cancelled() => return,
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(RECONNECT_BACKOFF.1);
    }
}
