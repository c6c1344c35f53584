//! Presence membership across the cluster.
//!
//! Redis keeps, per presence channel, how many sockets each user has on each node, how many
//! in the whole cluster, and each user's `channel_data` (see [`super::keys`]). Every socket
//! that joins or leaves runs one Lua script, so the cluster-wide count changes atomically:
//! `member_added` goes out when a user's count rises from zero, `member_removed` when it
//! falls back, whichever nodes the user's sockets are on. `subscription_succeeded` lists
//! every member of the cluster.
//!
//! While Redis is away the count is [`Joined::Uncounted`] or [`Left::Uncounted`]: the app
//! falls back to this node's own members and announces changes to its own sockets only;
//! [`super::node`] puts Redis right again when it is back.

use super::Cluster;
use crate::channels::presence::MemberData;
use crate::peers::{Joined, Left, LocalMember};
use redis::{RedisResult, Script};
use serde_json::Value;
use std::sync::atomic::Ordering;
use std::sync::LazyLock;

/// Adds one socket of user `ARGV[2]` on this node; returns 1 when the user was not in the
/// channel before, and every member's `channel_data`.
/// KEYS: sockets, users, info, the node's presence set.
/// ARGV: "{node}|{user}", user, channel_data, `["app","channel"]`.
static JOIN: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
        local total = redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
        redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
        redis.call('SADD', KEYS[4], ARGV[4])
        local first = 0
        if total == 1 then first = 1 end
        return {first, redis.call('HVALS', KEYS[3])}
        ",
    )
});

/// Removes one socket of user `ARGV[2]` on this node; returns 1 when it was the user's last
/// socket in the cluster. A socket Redis never counted (it joined while Redis was away)
/// changes nothing.
/// KEYS: sockets, users, info. ARGV: "{node}|{user}", user.
static LEAVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        local mine = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
        if mine <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
        if mine < 0 then return 0 end
        local total = redis.call('HINCRBY', KEYS[2], ARGV[2], -1)
        if total > 0 then return 0 end
        redis.call('HDEL', KEYS[2], ARGV[2])
        redis.call('HDEL', KEYS[3], ARGV[2])
        return 1
        ",
    )
});

/// Removes every socket node `ARGV[1]` has in any presence channel; returns
/// `{app, channel, channel_data}` of each user that left the cluster with it. With
/// `ARGV[3] == "1"` only the node that takes `ARGV[1]` out of the node set does the work,
/// so a dead node is cleaned up once.
/// KEYS: the node set, the node's presence set. ARGV: node, presence key base, exclusive.
pub(super) static REAP: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        if ARGV[3] == '1' and redis.call('SREM', KEYS[1], ARGV[1]) == 0 then return {} end
        local removed = {}
        local mine = ARGV[1] .. '|'
        for _, entry in ipairs(redis.call('SMEMBERS', KEYS[2])) do
            local at = cjson.decode(entry)
            local base = ARGV[2] .. at[1] .. ':' .. at[2]
            local sockets, users, info = base .. ':sockets', base .. ':users', base .. ':info'
            local fields = redis.call('HGETALL', sockets)
            for i = 1, #fields, 2 do
                if string.sub(fields[i], 1, #mine) == mine then
                    local user = string.sub(fields[i], #mine + 1)
                    local count = tonumber(fields[i + 1])
                    redis.call('HDEL', sockets, fields[i])
                    if count > 0 and redis.call('HINCRBY', users, user, -count) <= 0 then
                        local data = redis.call('HGET', info, user) or ''
                        redis.call('HDEL', users, user)
                        redis.call('HDEL', info, user)
                        table.insert(removed, {at[1], at[2], data})
                    end
                end
            end
        end
        redis.call('DEL', KEYS[2])
        return removed
        ",
    )
});

/// Sets what Redis counts for node `ARGV[1]` to what the node really has, in one step, so
/// other nodes never see its users drop to zero in between. `ARGV[3]` lists the node's
/// members as `[[app, channel, user, sockets, channel_data], ...]`; every other socket Redis
/// counted for the node is taken out. Returns `{added, removed}`: the
/// `{app, channel, channel_data}` of users that are new to the cluster, and of users that
/// left it.
/// KEYS: the node's presence set. ARGV: node, presence key base, members.
static RESYNC: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        local mine = ARGV[1] .. '|'
        local channels = {}
        local function channel(app, name)
            local id = app .. '\n' .. name
            channels[id] = channels[id] or {app = app, name = name, users = {}}
            return channels[id]
        end
        for _, entry in ipairs(redis.call('SMEMBERS', KEYS[1])) do
            local at = cjson.decode(entry)
            channel(at[1], at[2])
        end
        for _, m in ipairs(cjson.decode(ARGV[3])) do
            channel(m[1], m[2]).users[m[3]] = {count = m[4], data = m[5]}
        end
        local added, removed = {}, {}
        redis.call('DEL', KEYS[1])
        for _, c in pairs(channels) do
            local base = ARGV[2] .. c.app .. ':' .. c.name
            local sockets, users, info = base .. ':sockets', base .. ':users', base .. ':info'
            local had = {}
            local fields = redis.call('HGETALL', sockets)
            for i = 1, #fields, 2 do
                if string.sub(fields[i], 1, #mine) == mine then
                    had[string.sub(fields[i], #mine + 1)] = tonumber(fields[i + 1])
                end
            end
            for user, _ in pairs(c.users) do had[user] = had[user] or 0 end
            for user, old in pairs(had) do
                local wanted = c.users[user]
                local new = wanted and wanted.count or 0
                if new > 0 then
                    redis.call('HSET', sockets, mine .. user, new)
                    redis.call('HSET', info, user, wanted.data)
                else
                    redis.call('HDEL', sockets, mine .. user)
                end
                if new ~= old then
                    local before = tonumber(redis.call('HGET', users, user) or '0')
                    local total = before + new - old
                    if total > 0 then
                        redis.call('HSET', users, user, total)
                        if before <= 0 and wanted then
                            table.insert(added, {c.app, c.name, wanted.data})
                        end
                    else
                        local data = redis.call('HGET', info, user) or ''
                        redis.call('HDEL', users, user)
                        redis.call('HDEL', info, user)
                        if before > 0 then table.insert(removed, {c.app, c.name, data}) end
                    end
                end
            end
            if next(c.users) ~= nil then
                redis.call('SADD', KEYS[1], cjson.encode({c.app, c.name}))
            end
        end
        return {added, removed}
        ",
    )
});

/// Users that a resync found new to the cluster and gone from it, as
/// `(app, channel, channel_data)`.
pub(super) type Resynced = (Vec<(String, String, String)>, Vec<(String, String, String)>);

impl Cluster {
    /// Makes Redis count exactly `members` for this node.
    pub(super) async fn recount(&self, members: &[LocalMember]) -> RedisResult<Resynced> {
        let mut redis = self.connection().ok_or_else(super::unreachable)?;
        let members: Vec<Value> = members
            .iter()
            .map(|m| {
                let data = &m.member.channel_data;
                serde_json::json!([m.app_id, m.channel, m.member.key, m.sockets, data])
            })
            .collect();
        let mut invocation = RESYNC.prepare_invoke();
        invocation
            .key(self.keys.node_presence(&self.node_id))
            .arg(&self.node_id)
            .arg(self.keys.presence_base())
            .arg(Value::Array(members).to_string());
        self.bounded(invocation.invoke_async(&mut redis)).await
    }

    /// Counts one more socket of `member` on this node in Redis; returns whether the user
    /// is new to the channel cluster-wide, and every member's `channel_data`.
    async fn count_join(
        &self,
        app: &str,
        channel: &str,
        member: &MemberData,
    ) -> RedisResult<(bool, Vec<String>)> {
        let mut redis = self.connection().ok_or_else(super::unreachable)?;
        let keys = self.keys.presence(app, channel);
        let mut invocation = JOIN.prepare_invoke();
        invocation
            .key(&keys.sockets)
            .key(&keys.users)
            .key(&keys.info)
            .key(self.keys.node_presence(&self.node_id))
            .arg(format!("{}|{}", self.node_id, member.key))
            .arg(&member.key)
            .arg(&member.channel_data)
            .arg(serde_json::json!([app, channel]).to_string());
        let (first, members): (i64, Vec<String>) =
            self.bounded(invocation.invoke_async(&mut redis)).await?;
        Ok((first == 1, members))
    }

    /// A socket joined a presence channel as `member`: counts it in Redis. When Redis cannot
    /// count it, this node's members must be counted again once it is back.
    pub(super) async fn join_presence(
        &self,
        app: &str,
        channel: &str,
        member: &MemberData,
    ) -> Joined {
        let counted = match self.is_connected() {
            true => self.count_join(app, channel, member).await,
            false => Err(super::unreachable()),
        };
        match counted {
            Ok((first, members)) => Joined::Counted { first, members },
            Err(_) => {
                self.resync_needed.store(true, Ordering::Release);
                Joined::Uncounted
            }
        }
    }

    /// A presence socket of the member keyed `key` left `channel`: uncounts it in Redis.
    pub(super) async fn leave_presence(&self, app: &str, channel: &str, key: &str) -> Left {
        let counted = match self.is_connected() {
            true => self.count_leave(app, channel, key).await,
            false => Err(super::unreachable()),
        };
        match counted {
            Ok(last) => Left::Counted { last },
            Err(_) => {
                self.resync_needed.store(true, Ordering::Release);
                Left::Uncounted
            }
        }
    }

    async fn count_leave(&self, app: &str, channel: &str, key: &str) -> RedisResult<bool> {
        let mut redis = self.connection().ok_or_else(super::unreachable)?;
        let keys = self.keys.presence(app, channel);
        let mut invocation = LEAVE.prepare_invoke();
        invocation
            .key(&keys.sockets)
            .key(&keys.users)
            .key(&keys.info)
            .arg(format!("{}|{key}", self.node_id))
            .arg(key);
        let last: i64 = self.bounded(invocation.invoke_async(&mut redis)).await?;
        Ok(last == 1)
    }

    /// Takes every presence socket of `node` out of Redis; returns the users that left the
    /// cluster with it as `(app, channel, channel_data)`. `exclusive` leaves the work to
    /// whichever node removes `node` from the node set first.
    pub(super) async fn reap(
        &self,
        node: &str,
        exclusive: bool,
    ) -> RedisResult<Vec<(String, String, String)>> {
        let mut redis = self.connection().ok_or_else(super::unreachable)?;
        let mut invocation = REAP.prepare_invoke();
        invocation
            .key(self.keys.nodes())
            .key(self.keys.node_presence(node))
            .arg(node)
            .arg(self.keys.presence_base())
            .arg(if exclusive { "1" } else { "0" });
        self.bounded(invocation.invoke_async(&mut redis)).await
    }
}

/// The user id in a member's `channel_data`, for `member_removed`.
pub(super) fn user_id_of(channel_data: &str) -> Option<Value> {
    MemberData::parse(Some(channel_data), None)
        .ok()
        .map(|m| m.user_id)
}
