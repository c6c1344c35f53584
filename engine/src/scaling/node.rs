//! Nodes come and go: heartbeats, the cleanup after a node that died, and putting Redis
//! right after an outage.
//!
//! Every node refreshes a heartbeat key that expires after `node_timeout` and checks the
//! others' every third of it. When a node's heartbeat is gone (the process was killed, the
//! machine fell over), the first node to notice takes its presence members out of Redis, and
//! the script that does it announces the users that are gone with it; so a dead node's
//! members disappear within `node_timeout` plus a third of it. A node that finds its own
//! heartbeat gone, or that could not reach Redis for a while, counts its members again; a
//! node that stops cleanly takes its members out itself.

use super::{Cluster, Local};
use redis::RedisResult;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Beats, watches the other nodes and resynchronises until the server stops; then leaves.
pub(super) async fn keep_alive(cluster: Arc<Cluster>, local: Arc<Local>) {
    let mut ticks = tokio::time::interval(cluster.config.node_timeout / 3);
    let mut first_beat = true;
    loop {
        tokio::select! {
            _ = local.shutdown.cancelled() => break,
            _ = ticks.tick() => {}
        }
        match beat(&cluster).await {
            Ok(was_alive) => {
                if cluster.subscribed.load(Ordering::Acquire) {
                    cluster.set_connected(true, &local.events, String::new);
                }
                if !was_alive && !first_beat {
                    cluster.resync_needed.store(true, Ordering::Release);
                }
                first_beat = false;
                resync_if_needed(cluster.clone(), local.clone()).await;
                let _ = reap_dead_nodes(&cluster, &local).await;
            }
            Err(error) => cluster.set_connected(false, &local.events, || error.to_string()),
        }
    }
    let _ = leave_cluster(&cluster, &local).await;
}

/// Counts this node's presence members again if something may have put Redis out of step:
/// an outage, a failed script, or other nodes having given this one up.
pub(super) async fn resync_if_needed(cluster: Arc<Cluster>, local: Arc<Local>) {
    if cluster.resync_needed.swap(false, Ordering::AcqRel)
        && resync(&cluster, &local).await.is_err()
    {
        cluster.resync_needed.store(true, Ordering::Release);
    }
}

/// Refreshes this node's heartbeat; returns whether it was still there (it is not on the
/// first beat, nor after other nodes gave this one up).
async fn beat(cluster: &Cluster) -> RedisResult<bool> {
    let mut redis = cluster.connection().ok_or_else(super::unreachable)?;
    let ttl = cluster.config.node_timeout.as_millis() as u64;
    let mut pipeline = redis::pipe();
    pipeline
        .cmd("SET")
        .arg(cluster.keys.heartbeat(&cluster.node_id))
        .arg(1)
        .arg("PX")
        .arg(ttl)
        .arg("GET")
        .cmd("SADD")
        .arg(cluster.keys.nodes())
        .arg(&cluster.node_id)
        .ignore();
    let beat = pipeline.query_async::<(Option<String>,)>(&mut redis);
    let (previous,) = cluster.bounded(beat).await?;
    Ok(previous.is_some())
}

/// Removes the members of every node whose heartbeat expired; the script tells every node's
/// sockets who left.
async fn reap_dead_nodes(cluster: &Cluster, local: &Local) -> RedisResult<()> {
    let mut redis = cluster.connection().ok_or_else(super::unreachable)?;
    let nodes: Vec<String> = redis::cmd("SMEMBERS")
        .arg(cluster.keys.nodes())
        .query_async(&mut redis)
        .await?;
    let mut alive = 0;
    for node in nodes {
        let beating: bool = redis::cmd("EXISTS")
            .arg(cluster.keys.heartbeat(&node))
            .query_async(&mut redis)
            .await?;
        if beating {
            alive += 1;
            continue;
        }
        for (app_id, subject) in cluster.reap_subjects(&node).await? {
            local.node.vacated(&app_id, &subject);
        }
        cluster.reap(&node, true).await?;
    }
    cluster.nodes.store(alive.max(1), Ordering::Relaxed);
    Ok(())
}

/// Makes Redis count this node's presence members as the node really has them, in one
/// script, which tells the other nodes about users that came or went meanwhile.
async fn resync(cluster: &Cluster, local: &Local) -> RedisResult<()> {
    cluster
        .recount_subjects(&local.node.tracked_subjects())
        .await?;
    cluster.recount(&local.node.presence_members()).await
}

/// A clean stop: takes this node's members out of Redis (the script tells the other nodes
/// who left), reports the webhook subjects that leave the cluster with this node, and
/// removes the node.
async fn leave_cluster(cluster: &Cluster, local: &Local) -> RedisResult<()> {
    let work = async {
        for (app_id, subject) in cluster.reap_subjects(&cluster.node_id).await? {
            local.node.vacated(&app_id, &subject);
        }
        cluster.reap(&cluster.node_id, false).await?;
        let mut redis = cluster.connection().ok_or_else(super::unreachable)?;
        redis::pipe()
            .cmd("DEL")
            .arg(cluster.keys.heartbeat(&cluster.node_id))
            .ignore()
            .cmd("SREM")
            .arg(cluster.keys.nodes())
            .arg(&cluster.node_id)
            .ignore()
            .query_async::<()>(&mut redis)
            .await
    };
    cluster.bounded(work).await
}
