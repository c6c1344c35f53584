//! A count of an app's channels and sockets: one node's, or the sum over a cluster.
//!
//! The HTTP API's reads (`/channels`, `/channels/{name}`, `/channels/{name}/users`,
//! `/connections`, the `info` of published events) answer from a census. With scaling on,
//! every node contributes its own and the asking node merges them: subscriptions and sockets
//! add up, presence users are counted once however many nodes they are connected to.

use super::name::is_presence;
use super::presence::member_key;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};

/// Which channels a census covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Filter {
    /// Every occupied channel.
    All,
    /// Channels whose names start with this (`filter_by_prefix`).
    Prefix(String),
    /// One channel.
    Channel(String),
    /// No channel: only the socket count is wanted.
    None,
}

impl Filter {
    /// Whether the channel `name` is covered.
    pub fn matches(&self, name: &str) -> bool {
        match self {
            Filter::All => true,
            Filter::Prefix(prefix) => name.starts_with(prefix.as_str()),
            Filter::Channel(channel) => name == channel,
            Filter::None => false,
        }
    }
}

/// Occupied channels and open sockets of one app.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Census {
    /// Open sockets.
    pub connections: usize,
    /// Occupied channels covered by the filter, by name.
    pub channels: BTreeMap<String, ChannelCount>,
}

/// One occupied channel.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChannelCount {
    /// Sockets subscribed.
    pub subscription_count: usize,
    /// The user ids of a presence channel, each once, JSON types kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<Value>,
}

impl ChannelCount {
    /// Distinct users, on a presence channel named `channel`; `None` on other channels.
    pub fn user_count(&self, channel: &str) -> Option<usize> {
        is_presence(channel).then_some(self.users.len())
    }
}

impl Census {
    /// Adds another node's census to this one.
    pub fn merge(&mut self, other: Census) {
        self.connections += other.connections;
        for (name, count) in other.channels {
            let merged = self.channels.entry(name).or_default();
            merged.subscription_count += count.subscription_count;
            let mut seen: HashSet<String> = merged.users.iter().filter_map(member_key).collect();
            for user in count.users {
                if member_key(&user).is_some_and(|key| seen.insert(key)) {
                    merged.users.push(user);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn census(connections: usize, channels: &[(&str, usize, Vec<Value>)]) -> Census {
        Census {
            connections,
            channels: channels
                .iter()
                .map(|(name, subscription_count, users)| {
                    (
                        name.to_string(),
                        ChannelCount {
                            subscription_count: *subscription_count,
                            users: users.clone(),
                        },
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn merging_adds_sockets_and_counts_each_user_once() {
        let mut a = census(
            3,
            &[("news", 2, vec![]), ("presence-room", 1, vec![json!(1)])],
        );
        let b = census(
            2,
            &[
                ("presence-room", 2, vec![json!(1), json!("2")]),
                ("sport", 1, vec![]),
            ],
        );
        a.merge(b);
        assert_eq!(a.connections, 5);
        assert_eq!(a.channels["news"].subscription_count, 2);
        assert_eq!(a.channels["sport"].subscription_count, 1);
        assert_eq!(a.channels["presence-room"].subscription_count, 3);
        assert_eq!(
            a.channels["presence-room"].users,
            vec![json!(1), json!("2")]
        );
    }

    #[test]
    fn filters_pick_channels() {
        assert!(Filter::All.matches("x"));
        assert!(Filter::Prefix("presence-".into()).matches("presence-a"));
        assert!(!Filter::Prefix("presence-".into()).matches("private-a"));
        assert!(Filter::Channel("a".into()).matches("a"));
        assert!(!Filter::Channel("a".into()).matches("ab"));
        assert!(!Filter::None.matches("a"));
    }
}
