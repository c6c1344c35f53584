//! Presence membership across the cluster.
//!
//! Redis keeps, per presence channel, how many sockets each user has on each node, how many
//! in the whole cluster, each user's `channel_data`, and the channel's version: how many
//! times its users changed (see [`super::keys`]). Every socket that joins or leaves runs one
//! Lua script, so the cluster-wide count changes atomically. A script that adds a user (its
//! count rises from zero) or removes one (it falls back) numbers the change with the next
//! version and publishes it itself, on the pub/sub channel, as a [`PresenceChange`]: Redis's
//! pub/sub carries the changes in the order their scripts ran, to every node, the one that
//! ran the script included, whichever nodes the user's sockets are on. Each node builds
//! `member_added` or `member_removed` from it and hands it to its subscribers in that order
//! ([`crate::channels::presence_order`]). `subscription_succeeded` lists every member of
//! the cluster with the version that list is at, so each subscriber hears of exactly the
//! changes after it.
//!
//! While Redis is away the count is [`Joined::Uncounted`] or [`Left::Uncounted`]: the app
//! falls back to this node's own members and announces changes to its own sockets only;
//! [`super::node`] puts Redis right again when it is back, and the users that came or went
//! meanwhile are published, numbered, to the other nodes.
//!
//! A channel's version stays while the channel has users, and for [`VERSION_TTL`] after its
//! last one left, so that versions only grow while any node may still hold one of them.

use super::wire::{Change, PresenceChange};
use super::Cluster;
use crate::channels::presence::MemberData;
use crate::peers::{Joined, Left, LocalMember, LocalNode};
use crate::protocol::frames;
use crate::socket::Frame;
use redis::{RedisResult, Script, ScriptInvocation};
use serde_json::Value;
use std::sync::atomic::Ordering;
use std::sync::LazyLock;
use std::time::Duration;

/// How long a presence channel's version outlives its last user.
const VERSION_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// What every presence script starts with: `announce` numbers one change of a channel's
/// users and publishes it as a [`PresenceChange`] from the node that runs the script.
/// `channel_data` is passed on as the string it is, never decoded, so no user id changes
/// (cjson writes numbers with 14 digits, plenty for a version, not for every user id).
/// ARGV[1..3] of every presence script: the pub/sub channel, this node's id, [`VERSION_TTL`]
/// in milliseconds.
const ANNOUNCE: &str = r"
    local function announce(version_key, users, app, channel, change, data, except, others_only)
        local version = redis.call('INCR', version_key)
        if redis.call('EXISTS', users) == 1 then
            redis.call('PERSIST', version_key)
        else
            redis.call('PEXPIRE', version_key, ARGV[3])
        end
        local message = {
            node = ARGV[2], type = 'presence', app = app, channel = channel,
            version = version, change = change, data = data, except = except,
        }
        if others_only then message.others_only = true end
        redis.call('PUBLISH', ARGV[1], cjson.encode(message))
        return version
    end
";

/// A presence script: [`ANNOUNCE`], then `body`.
fn script(body: &str) -> Script {
    Script::new(&[ANNOUNCE, body].concat())
}

/// Adds one socket of user `ARGV[5]` on this node, announcing the user when it is new to the
/// channel, except to the joining socket `ARGV[10]`; returns 1 when it was new, the channel's
/// version, and every member's `channel_data`.
/// KEYS: sockets, users, info, the node's presence set, version.
/// ARGV: (see [`ANNOUNCE`]), "{node}|{user}", user, channel_data, `["app","channel"]`, app,
/// channel, socket id.
static JOIN: LazyLock<Script> = LazyLock::new(|| {
    script(
        r"
        redis.call('HINCRBY', KEYS[1], ARGV[4], 1)
        local total = redis.call('HINCRBY', KEYS[2], ARGV[5], 1)
        redis.call('HSET', KEYS[3], ARGV[5], ARGV[6])
        redis.call('SADD', KEYS[4], ARGV[7])
        if total == 1 then
            local version = announce(KEYS[5], KEYS[2], ARGV[8], ARGV[9], 'added', ARGV[6], ARGV[10])
            return {1, version, redis.call('HVALS', KEYS[3])}
        end
        local version = tonumber(redis.call('GET', KEYS[5]) or '0')
        return {0, version, redis.call('HVALS', KEYS[3])}
        ",
    )
});

/// Every member's `channel_data` and the version that list is at, read together.
/// KEYS: info, version.
static MEMBERS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        local version = tonumber(redis.call('GET', KEYS[2]) or '0')
        return {version, redis.call('HVALS', KEYS[1])}
        ",
    )
});

/// Removes one socket of user `ARGV[5]` on this node, announcing the user's departure when
/// it was their last socket in the cluster; returns 1 then. A socket Redis never counted (it
/// joined while Redis was away) changes nothing.
/// KEYS: sockets, users, info, version.
/// ARGV: (see [`ANNOUNCE`]), "{node}|{user}", user, app, channel.
static LEAVE: LazyLock<Script> = LazyLock::new(|| {
    script(
        r"
        local mine = redis.call('HINCRBY', KEYS[1], ARGV[4], -1)
        if mine <= 0 then redis.call('HDEL', KEYS[1], ARGV[4]) end
        if mine < 0 then return 0 end
        local total = redis.call('HINCRBY', KEYS[2], ARGV[5], -1)
        if total > 0 then return 0 end
        local data = redis.call('HGET', KEYS[3], ARGV[5]) or ''
        redis.call('HDEL', KEYS[2], ARGV[5])
        redis.call('HDEL', KEYS[3], ARGV[5])
        announce(KEYS[4], KEYS[2], ARGV[6], ARGV[7], 'removed', data)
        return 1
        ",
    )
});

/// Removes every socket node `ARGV[4]` has in any presence channel and announces each user
/// that left the cluster with it; returns how many. With `ARGV[6] == "1"` only the node that
/// takes `ARGV[4]` out of the node set does the work, so a dead node is cleaned up once. A
/// node that takes its own sockets out (it stops) announces them to the other nodes only.
/// KEYS: the node set, the node's presence set.
/// ARGV: (see [`ANNOUNCE`]), node, presence key base, exclusive.
pub(super) static REAP: LazyLock<Script> = LazyLock::new(|| {
    script(
        r"
        if ARGV[6] == '1' and redis.call('SREM', KEYS[1], ARGV[4]) == 0 then return 0 end
        local removed = 0
        local mine = ARGV[4] .. '|'
        local others_only = ARGV[4] == ARGV[2]
        for _, entry in ipairs(redis.call('SMEMBERS', KEYS[2])) do
            local at = cjson.decode(entry)
            local base = ARGV[5] .. at[1] .. ':' .. at[2]
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
                        announce(base .. ':version', users, at[1], at[2], 'removed', data, nil,
                            others_only)
                        removed = removed + 1
                    end
                end
            end
        end
        redis.call('DEL', KEYS[2])
        return removed
        ",
    )
});

/// Sets what Redis counts for this node to what the node really has, in one step, so other
/// nodes never see its users drop to zero in between. `ARGV[5]` lists the node's members as
/// `[[app, channel, user, sockets, channel_data], ...]`; every other socket Redis counted for
/// the node is taken out. Announces, to the other nodes only (this node's sockets heard of
/// them while Redis was away), the users that are new to the cluster and those that left
/// it; returns how many.
/// KEYS: the node's presence set. ARGV: (see [`ANNOUNCE`]), presence key base, members.
static RESYNC: LazyLock<Script> = LazyLock::new(|| {
    script(
        r"
        local mine = ARGV[2] .. '|'
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
        for _, m in ipairs(cjson.decode(ARGV[5])) do
            channel(m[1], m[2]).users[m[3]] = {count = m[4], data = m[5]}
        end
        local announced = 0
        redis.call('DEL', KEYS[1])
        for _, c in pairs(channels) do
            local base = ARGV[4] .. c.app .. ':' .. c.name
            local sockets, users, info = base .. ':sockets', base .. ':users', base .. ':info'
            local version = base .. ':version'
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
                            announce(version, users, c.app, c.name, 'added', wanted.data, nil, true)
                            announced = announced + 1
                        end
                    else
                        local data = redis.call('HGET', info, user) or ''
                        redis.call('HDEL', users, user)
                        redis.call('HDEL', info, user)
                        if before > 0 then
                            announce(version, users, c.app, c.name, 'removed', data, nil, true)
                            announced = announced + 1
                        end
                    end
                end
            end
            if next(c.users) ~= nil then
                redis.call('SADD', KEYS[1], cjson.encode({c.app, c.name}))
            end
        end
        return announced
        ",
    )
});

impl Cluster {
    /// Starts a presence script's invocation with what [`ANNOUNCE`] needs.
    fn announcing<'s>(&self, script: &'s Script) -> ScriptInvocation<'s> {
        let mut invocation = script.prepare_invoke();
        invocation
            .arg(self.keys.channel())
            .arg(&self.node_id)
            .arg(VERSION_TTL.as_millis() as u64);
        invocation
    }

    /// A presence channel's version, next to its hashes: named as the scripts that find the
    /// hashes from the presence key base name it.
    fn version_key(&self, app: &str, channel: &str) -> String {
        format!("{}{app}:{channel}:version", self.keys.presence_base())
    }

    /// Counts what the scripts published on the pub/sub channel.
    fn published(&self, messages: usize) {
        self.sent.fetch_add(messages as u64, Ordering::Relaxed);
    }

    /// Makes Redis count exactly `members` for this node, announcing who came or went.
    pub(super) async fn recount(&self, members: &[LocalMember]) -> RedisResult<()> {
        let mut redis = self.connection().ok_or_else(super::unreachable)?;
        let members: Vec<Value> = members
            .iter()
            .map(|m| {
                let data = &m.member.channel_data;
                serde_json::json!([m.app_id, m.channel, m.member.key, m.sockets, data])
            })
            .collect();
        let mut invocation = self.announcing(&RESYNC);
        invocation
            .key(self.keys.node_presence(&self.node_id))
            .arg(self.keys.presence_base())
            .arg(Value::Array(members).to_string());
        let announced = self.bounded(invocation.invoke_async(&mut redis)).await?;
        self.published(announced);
        Ok(())
    }

    /// Counts one more socket of `member` on this node in Redis, announcing the user when
    /// new; returns the channel's version and every member's `channel_data`.
    async fn count_join(
        &self,
        app: &str,
        channel: &str,
        socket_id: &str,
        member: &MemberData,
    ) -> RedisResult<(u64, Vec<String>)> {
        let mut redis = self.connection().ok_or_else(super::unreachable)?;
        let keys = self.keys.presence(app, channel);
        let mut invocation = self.announcing(&JOIN);
        invocation
            .key(&keys.sockets)
            .key(&keys.users)
            .key(&keys.info)
            .key(self.keys.node_presence(&self.node_id))
            .key(self.version_key(app, channel))
            .arg(format!("{}|{}", self.node_id, member.key))
            .arg(&member.key)
            .arg(&member.channel_data)
            .arg(serde_json::json!([app, channel]).to_string())
            .arg(app)
            .arg(channel)
            .arg(socket_id);
        let (announced, version, members): (usize, u64, Vec<String>) =
            self.bounded(invocation.invoke_async(&mut redis)).await?;
        self.published(announced);
        Ok((version, members))
    }

    /// The socket `socket_id` joined a presence channel as `member`: counts it in Redis. When
    /// Redis cannot count it, this node's members must be counted again once it is back.
    pub(super) async fn join_presence(
        &self,
        app: &str,
        channel: &str,
        socket_id: &str,
        member: &MemberData,
    ) -> Joined {
        let counted = match self.is_connected() {
            true => self.count_join(app, channel, socket_id, member).await,
            false => Err(super::unreachable()),
        };
        match counted {
            Ok((version, members)) => Joined::Counted { version, members },
            Err(_) => {
                self.resync_needed.store(true, Ordering::Release);
                Joined::Uncounted
            }
        }
    }

    /// The members of a presence channel as Redis counts them, for a socket that subscribes
    /// again as the member it already is; uncounted while Redis cannot be asked.
    pub(super) async fn presence_members(&self, app: &str, channel: &str) -> Joined {
        let read = match self.is_connected() {
            true => self.read_members(app, channel).await,
            false => Err(super::unreachable()),
        };
        match read {
            Ok((version, members)) => Joined::Counted { version, members },
            Err(_) => Joined::Uncounted,
        }
    }

    async fn read_members(&self, app: &str, channel: &str) -> RedisResult<(u64, Vec<String>)> {
        let mut redis = self.connection().ok_or_else(super::unreachable)?;
        let mut invocation = MEMBERS.prepare_invoke();
        invocation
            .key(&self.keys.presence(app, channel).info)
            .key(self.version_key(app, channel));
        self.bounded(invocation.invoke_async(&mut redis)).await
    }

    /// A presence socket of the member keyed `key` left `channel`: uncounts it in Redis.
    pub(super) async fn leave_presence(&self, app: &str, channel: &str, key: &str) -> Left {
        let counted = match self.is_connected() {
            true => self.count_leave(app, channel, key).await,
            false => Err(super::unreachable()),
        };
        match counted {
            Ok(()) => Left::Counted,
            Err(_) => {
                self.resync_needed.store(true, Ordering::Release);
                Left::Uncounted
            }
        }
    }

    async fn count_leave(&self, app: &str, channel: &str, key: &str) -> RedisResult<()> {
        let mut redis = self.connection().ok_or_else(super::unreachable)?;
        let keys = self.keys.presence(app, channel);
        let mut invocation = self.announcing(&LEAVE);
        invocation
            .key(&keys.sockets)
            .key(&keys.users)
            .key(&keys.info)
            .key(self.version_key(app, channel))
            .arg(format!("{}|{key}", self.node_id))
            .arg(key)
            .arg(app)
            .arg(channel);
        let announced = self.bounded(invocation.invoke_async(&mut redis)).await?;
        self.published(announced);
        Ok(())
    }

    /// Takes every presence socket of `node` out of Redis, announcing the users that left
    /// the cluster with it. `exclusive` leaves the work to whichever node removes `node`
    /// from the node set first.
    pub(super) async fn reap(&self, node: &str, exclusive: bool) -> RedisResult<()> {
        let mut redis = self.connection().ok_or_else(super::unreachable)?;
        let mut invocation = self.announcing(&REAP);
        invocation
            .key(self.keys.nodes())
            .key(self.keys.node_presence(node))
            .arg(node)
            .arg(self.keys.presence_base())
            .arg(if exclusive { "1" } else { "0" });
        let announced = self.bounded(invocation.invoke_async(&mut redis)).await?;
        self.published(announced);
        Ok(())
    }
}

/// Hands one presence change from the node channel to this node's subscribers of its
/// channel, as `member_added` or `member_removed`.
pub(super) fn deliver_change(node: &dyn LocalNode, change: PresenceChange) {
    let frame = match change.change {
        Change::Added => frames::member_added(&change.channel, &change.data),
        Change::Removed => match user_id_of(&change.data) {
            Some(user_id) => frames::member_removed(&change.channel, &user_id),
            None => return,
        },
    };
    let except = change.except.as_deref();
    node.deliver_presence(
        &change.app,
        &change.channel,
        change.version,
        &Frame::from(frame),
        except,
    );
}

/// The user id in a member's `channel_data`, for `member_removed`.
fn user_id_of(channel_data: &str) -> Option<Value> {
    MemberData::parse(Some(channel_data), None)
        .ok()
        .map(|m| m.user_id)
}
