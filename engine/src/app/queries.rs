//! What the app reports about itself: its counters, its channels and their users, for the host
//! API and the HTTP API, from this node or from the whole cluster.

use super::App;
use crate::channels::census::{Census, Filter};
use crate::channels::name;
use crate::peers::ScalingStatus;
use crate::socket::Frame;
use crate::webhooks::WebhookStats;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Counters for one app, as reported by `stats()`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppStats {
    /// Open sockets.
    pub connections: usize,
    /// Channels with at least one subscriber.
    pub channels: usize,
    /// Frames received from clients.
    pub messages_in: u64,
    /// Frames sent to clients.
    pub messages_out: u64,
    /// Webhook deliveries.
    pub webhooks: WebhookStats,
    /// The cluster as this node sees it, when scaling is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaling: Option<ScalingStatus>,
}

/// One occupied channel in a listing: its sockets and, on presence channels, its users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChannelSummary {
    /// Sockets subscribed.
    pub subscription_count: usize,
    /// Distinct users, on presence channels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_count: Option<usize>,
}

/// One channel's state: whether it is occupied, its counts, its cached event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChannelState {
    /// Whether anyone is subscribed.
    pub occupied: bool,
    /// Sockets subscribed.
    pub subscription_count: usize,
    /// Distinct users, on presence channels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_count: Option<usize>,
    /// The last event of a cache channel, while it is cached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache: Option<CachedEvent>,
}

/// A cache channel's last event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CachedEvent {
    /// The event frame as subscribers receive it.
    pub frame: Value,
    /// Seconds it stays cached.
    pub ttl_seconds: u64,
}

/// Why a presence channel's users cannot be listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UsersError {
    /// Only presence channels have users.
    #[error("only presence channels have users")]
    NotPresence,
    /// Nobody is subscribed to the channel.
    #[error("the channel has no subscribers")]
    NotFound,
}

impl App {
    /// The last event of a cache channel and how long it stays cached: this node's, or the
    /// one the peers keep when this node did not see it.
    pub async fn cached_event(&self, name: &str) -> Option<(Frame, Duration)> {
        match self.channels.cached_event(name) {
            Some(cached) => Some(cached),
            None => self.peers.cached_event(self.id(), name).await,
        }
    }

    /// This node's channels that `filter` covers, and its sockets.
    pub fn local_census(&self, filter: &Filter) -> Census {
        Census {
            connections: self.connections.load(Ordering::Acquire),
            channels: self.channels.census(filter),
        }
    }

    /// The channels that `filter` covers and the sockets, of the whole cluster.
    pub async fn census(&self, filter: Filter) -> Census {
        let mut census = self.local_census(&filter);
        for other in self.peers.ask(self.id(), filter).await {
            census.merge(other);
        }
        census
    }

    /// This node's occupied channels that `filter` covers, as the host lists them.
    pub fn channel_summaries(&self, filter: &Filter) -> BTreeMap<String, ChannelSummary> {
        self.local_census(filter)
            .channels
            .into_iter()
            .map(|(name, count)| {
                let summary = ChannelSummary {
                    subscription_count: count.subscription_count,
                    user_count: count.user_count(&name),
                };
                (name, summary)
            })
            .collect()
    }

    /// One channel on this node, as the host reports it.
    pub fn channel(&self, name: &str) -> ChannelState {
        let mut census = self.local_census(&Filter::Channel(name.to_string()));
        let count = census.channels.remove(name);
        ChannelState {
            occupied: count.is_some(),
            subscription_count: count.as_ref().map_or(0, |c| c.subscription_count),
            user_count: count.and_then(|c| c.user_count(name)),
            cache: self
                .channels
                .cached_event(name)
                .map(|(frame, ttl)| CachedEvent {
                    frame: serde_json::from_str(frame.as_str()).unwrap_or(Value::Null),
                    ttl_seconds: ttl.as_secs(),
                }),
        }
    }

    /// The users of a presence channel on this node.
    pub fn presence_users(&self, channel: &str) -> Result<Vec<Value>, UsersError> {
        if !name::is_presence(channel) {
            return Err(UsersError::NotPresence);
        }
        let mut census = self.local_census(&Filter::Channel(channel.to_string()));
        census
            .channels
            .remove(channel)
            .map(|count| count.users)
            .ok_or(UsersError::NotFound)
    }

    pub fn stats(&self) -> AppStats {
        let traffic = self.traffic.snapshot();
        AppStats {
            connections: self.connections(),
            channels: self.channels.len(),
            messages_in: traffic.messages_in,
            messages_out: traffic.messages_out,
            webhooks: self.webhooks.stats(),
            scaling: self.peers.status(),
        }
    }
}
