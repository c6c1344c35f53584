//! The names of everything reverb-rs keeps in Redis, all under the configured prefix and the
//! hash tag `{reverb-rs}`, which keeps every key on one slot of a
//! Redis Cluster.
//!
//! ```text
//! {prefix}{channel}                                  the pub/sub channel
//! {prefix}{reverb-rs}:nodes                          set of node ids
//! {prefix}{reverb-rs}:node:{node}                    heartbeat, expires after node_timeout
//! {prefix}{reverb-rs}:node:{node}:presence           set of ["app","channel"] the node has members in
//! {prefix}{reverb-rs}:presence:{app}:{channel}:sockets hash "{node}|{user}" -> sockets of the user on the node
//! {prefix}{reverb-rs}:presence:{app}:{channel}:users hash user -> sockets of the user in the cluster
//! {prefix}{reverb-rs}:presence:{app}:{channel}:info  hash user -> channel_data
//! {prefix}{reverb-rs}:presence:{app}:{channel}:version the channel's changes so far, kept a day after its last user
//! {prefix}{reverb-rs}:cache:{app}:{channel}          a cache channel's last event, expires with its TTL
//! {prefix}{reverb-rs}:occupancy:{app}:{subject}      set of nodes that have a webhook subject
//! {prefix}{reverb-rs}:node:{node}:occupancy          set of ["app","subject"] the node has
//! ```

/// Every key's hash tag: a Redis Cluster keeps all of them on one slot, so one script can
/// change a channel's hashes and the node's sets together.
const HASH_TAG: &str = "{reverb-rs}";

/// Builds key names for one prefix.
#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
    channel: String,
}

/// The three hashes of one presence channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceKeys {
    /// Sockets per user per node.
    pub sockets: String,
    /// Sockets per user in the cluster.
    pub users: String,
    /// Each user's `channel_data`.
    pub info: String,
}

impl Keys {
    /// Keys under `prefix`, with `channel` as the pub/sub channel name.
    pub fn new(prefix: &str, channel: &str) -> Keys {
        Keys {
            prefix: format!("{prefix}{HASH_TAG}:"),
            channel: format!("{prefix}{channel}"),
        }
    }

    /// The pub/sub channel.
    pub fn channel(&self) -> &str {
        &self.channel
    }

    /// The set of node ids.
    pub fn nodes(&self) -> String {
        format!("{}nodes", self.prefix)
    }

    /// A node's heartbeat.
    pub fn heartbeat(&self, node: &str) -> String {
        format!("{}node:{node}", self.prefix)
    }

    /// The presence channels a node has members in.
    pub fn node_presence(&self, node: &str) -> String {
        format!("{}node:{node}:presence", self.prefix)
    }

    /// What the Lua scripts put in front of `{app}:{channel}` to find a channel's hashes.
    pub fn presence_base(&self) -> String {
        format!("{}presence:", self.prefix)
    }

    /// The hashes of one presence channel.
    pub fn presence(&self, app: &str, channel: &str) -> PresenceKeys {
        let base = format!("{}{app}:{channel}", self.presence_base());
        PresenceKeys {
            sockets: format!("{base}:sockets"),
            users: format!("{base}:users"),
            info: format!("{base}:info"),
        }
    }

    /// What the Lua scripts put in front of `{app}:{subject}` to find a subject's node set.
    pub fn occupancy_base(&self) -> String {
        format!("{}occupancy:", self.prefix)
    }

    /// The nodes that have a webhook subject (a channel, or a member as `channel\nuser`).
    pub fn occupancy(&self, app: &str, subject: &str) -> String {
        format!("{}{app}:{subject}", self.occupancy_base())
    }

    /// The webhook subjects a node has.
    pub fn node_occupancy(&self, node: &str) -> String {
        format!("{}node:{node}:occupancy", self.prefix)
    }

    /// A cache channel's last event.
    pub fn cache(&self, app: &str, channel: &str) -> String {
        format!("{}cache:{app}:{channel}", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_carries_the_prefix() {
        let keys = Keys::new("shop_database_", "reverb");
        assert_eq!(keys.channel(), "shop_database_reverb");
        assert_eq!(keys.nodes(), "shop_database_{reverb-rs}:nodes");
        assert_eq!(keys.heartbeat("n1"), "shop_database_{reverb-rs}:node:n1");
        assert_eq!(
            keys.presence("1", "presence-room").users,
            "shop_database_{reverb-rs}:presence:1:presence-room:users"
        );
        assert_eq!(
            keys.cache("1", "cache-a"),
            "shop_database_{reverb-rs}:cache:1:cache-a"
        );
    }
}
