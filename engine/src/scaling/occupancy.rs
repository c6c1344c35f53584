//! Webhook subjects (channels, presence members) counted across the cluster.
//!
//! Redis keeps, per subject, the set of nodes that have it, and per node the subjects it is
//! in (see [`super::keys`]). A node joins a subject's set when the subject arrives on it and
//! leaves it when the subject has been gone from it for the webhook delay, each in one Lua
//! script, so that exactly one node sees the set go from empty to one node
//! ([`Tally::Changed`] on arrival) and exactly one sees it become empty (on departure): the
//! webhook is sent once per cluster. A node that dies is taken out of its subjects' sets by
//! whichever node notices first, which reports the subjects left empty.

use super::Cluster;
use crate::peers::Tally;
use redis::{RedisResult, Script};
use serde_json::json;
use std::sync::atomic::Ordering;
use std::sync::LazyLock;

/// Puts node `ARGV[1]` in a subject's set; returns 1 when the set was empty.
/// KEYS: the subject's node set, the node's subjects. ARGV: node, `["app","subject"]`.
static OCCUPY: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        local before = redis.call('SCARD', KEYS[1])
        local added = redis.call('SADD', KEYS[1], ARGV[1])
        redis.call('SADD', KEYS[2], ARGV[2])
        if before == 0 and added == 1 then return 1 end
        return 0
        ",
    )
});

/// Takes node `ARGV[1]` out of a subject's set; returns 1 when it is empty now.
/// KEYS: the subject's node set, the node's subjects. ARGV: node, `["app","subject"]`.
static VACATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        local removed = redis.call('SREM', KEYS[1], ARGV[1])
        redis.call('SREM', KEYS[2], ARGV[2])
        if removed == 1 and redis.call('SCARD', KEYS[1]) == 0 then return 1 end
        return 0
        ",
    )
});

/// Takes node `ARGV[1]` out of every subject it is in; returns the `{app, subject}` of each
/// subject left with no node. Two nodes reaping at once report each subject once, since
/// only one of them removes the node from it.
/// KEYS: the node's subjects. ARGV: node, the subject key base.
static REAP: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        local emptied = {}
        for _, entry in ipairs(redis.call('SMEMBERS', KEYS[1])) do
            local at = cjson.decode(entry)
            local key = ARGV[2] .. at[1] .. ':' .. at[2]
            if redis.call('SREM', key, ARGV[1]) == 1 and redis.call('SCARD', key) == 0 then
                table.insert(emptied, {at[1], at[2]})
            end
        end
        redis.call('DEL', KEYS[1])
        return emptied
        ",
    )
});

/// Makes Redis hold node `ARGV[1]` in exactly the subjects `ARGV[3..]` (each
/// `["app","subject"]`), after an outage put them out of step. Reports nothing: what
/// changed meanwhile was reported by this node alone.
/// KEYS: the node's subjects. ARGV: node, the subject key base, subjects...
static RECOUNT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        local wanted = {}
        for i = 3, #ARGV do
            local at = cjson.decode(ARGV[i])
            wanted[at[1] .. '\0' .. at[2]] = {ARGV[i], at}
        end
        for _, entry in ipairs(redis.call('SMEMBERS', KEYS[1])) do
            local at = cjson.decode(entry)
            if not wanted[at[1] .. '\0' .. at[2]] then
                redis.call('SREM', ARGV[2] .. at[1] .. ':' .. at[2], ARGV[1])
                redis.call('SREM', KEYS[1], entry)
            end
        end
        for _, item in pairs(wanted) do
            redis.call('SADD', ARGV[2] .. item[2][1] .. ':' .. item[2][2], ARGV[1])
            redis.call('SADD', KEYS[1], item[1])
        end
        return 0
        ",
    )
});

impl Cluster {
    /// Counts this node in (`arrive`) or out for a subject; `Uncounted` while Redis is away,
    /// and then this node's subjects are counted again once it is back.
    pub(super) async fn tally(&self, app: &str, subject: &str, arrive: bool) -> Tally {
        let counted = match self.is_connected() {
            true => self.count_subject(app, subject, arrive).await,
            false => Err(super::unreachable()),
        };
        match counted {
            Ok(true) => Tally::Changed,
            Ok(false) => Tally::Unchanged,
            Err(_) => {
                self.resync_needed.store(true, Ordering::Release);
                Tally::Uncounted
            }
        }
    }

    async fn count_subject(&self, app: &str, subject: &str, arrive: bool) -> RedisResult<bool> {
        let mut redis = self.connection().ok_or_else(super::unreachable)?;
        let script = if arrive { &*OCCUPY } else { &*VACATE };
        let mut invocation = script.prepare_invoke();
        invocation
            .key(self.keys.occupancy(app, subject))
            .key(self.keys.node_occupancy(&self.node_id))
            .arg(&self.node_id)
            .arg(json!([app, subject]).to_string());
        let changed: i64 = self.bounded(invocation.invoke_async(&mut redis)).await?;
        Ok(changed == 1)
    }

    /// Takes `node` out of every subject; returns the `(app, subject)`s left with no node.
    pub(super) async fn reap_subjects(&self, node: &str) -> RedisResult<Vec<(String, String)>> {
        let mut redis = self.connection().ok_or_else(super::unreachable)?;
        let mut invocation = REAP.prepare_invoke();
        invocation
            .key(self.keys.node_occupancy(node))
            .arg(node)
            .arg(self.keys.occupancy_base());
        self.bounded(invocation.invoke_async(&mut redis)).await
    }

    /// Makes Redis count this node in for exactly `subjects`, as `(app, subject)`.
    pub(super) async fn recount_subjects(&self, subjects: &[(String, String)]) -> RedisResult<()> {
        let mut redis = self.connection().ok_or_else(super::unreachable)?;
        let mut invocation = RECOUNT.prepare_invoke();
        invocation
            .key(self.keys.node_occupancy(&self.node_id))
            .arg(&self.node_id)
            .arg(self.keys.occupancy_base());
        for (app, subject) in subjects {
            invocation.arg(json!([app, subject]).to_string());
        }
        self.bounded(invocation.invoke_async(&mut redis)).await
    }
}
