//! The runtime state of each configured app: its channels, its sockets and its counters.

use crate::census::{Census, Filter};
use crate::channels::presence::MemberData;
use crate::channels::{name, ChannelRegistry, Subscribed, Unsubscribed};
use crate::config::AppConfig;
use crate::protocol::{frames, PusherError};
use crate::scaling::wire::Delivery;
use crate::scaling::{Cluster, ScalingStatus};
use crate::users::Users;
use crate::ws::connection::{Connection, Frame, Handoff};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// One app while the server runs.
///
/// Everything that other nodes of a cluster must see goes through here: with scaling on,
/// publishes, client events, presence changes and terminations are handed to the
/// [`Cluster`] after this node has served its own sockets.
pub struct App {
    /// The app's configuration.
    pub config: AppConfig,
    /// The app's channels.
    pub channels: ChannelRegistry,
    /// The app's signed-in users.
    pub users: Users,
    cluster: Option<Arc<Cluster>>,
    connections: AtomicUsize,
    messages_in: AtomicU64,
    messages_out: AtomicU64,
}

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
    /// The cluster as this node sees it, when scaling is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaling: Option<ScalingStatus>,
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

/// Holds one slot of an app's connection quota and gives it back when dropped, so a socket
/// task that ends in any way (even a panic) never leaks a count.
pub struct ConnectionSlot(Arc<App>);

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.0.connections.fetch_sub(1, Ordering::AcqRel);
    }
}

impl App {
    fn new(config: AppConfig, cluster: Option<Arc<Cluster>>) -> App {
        App {
            channels: ChannelRegistry::new(config.cache_ttl, cluster.is_none()),
            users: Users::default(),
            cluster,
            connections: AtomicUsize::new(0),
            messages_in: AtomicU64::new(0),
            messages_out: AtomicU64::new(0),
            config,
        }
    }

    /// Takes a connection slot, or `None` when the app is at `max_connections`.
    pub fn try_connect(self: &Arc<Self>) -> Option<ConnectionSlot> {
        let limit = self.config.max_connections.unwrap_or(usize::MAX);
        self.connections
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |current| {
                (current < limit).then_some(current + 1)
            })
            .ok()
            .map(|_| ConnectionSlot(self.clone()))
    }

    /// Publishes an event to channels, on every node of a cluster; returns how many of this
    /// node's sockets took it. `handoff` says who writes to this node's sockets.
    pub fn publish(
        &self,
        channels: &[String],
        event: &str,
        data: &str,
        except: Option<&str>,
        handoff: Handoff,
    ) -> usize {
        let mut deliveries = Vec::new();
        let delivered = channels
            .iter()
            .map(|channel| {
                let frame = Frame::from(frames::channel_event(event, channel, data));
                let delivered = self.deliver_local(channel, &frame, except, handoff);
                if let Some(cluster) = &self.cluster {
                    if name::is_cached(channel) {
                        let ttl = self.config.cache_ttl;
                        cluster.store_cached(&self.config.app_id, channel, &frame, ttl);
                    }
                    deliveries.push(Delivery {
                        channel: channel.clone(),
                        frame: frame.as_str().to_string(),
                    });
                }
                delivered
            })
            .sum();
        if let Some(cluster) = &self.cluster {
            cluster.deliver(&self.config.app_id, deliveries, except);
        }
        delivered
    }

    /// Relays a client event to the channel's other subscribers, on every node of a cluster;
    /// returns how many of this node's sockets got it.
    pub fn relay(&self, channel: &str, frame: Frame, sender: &str) -> usize {
        let delivered = self.deliver_local(channel, &frame, Some(sender), Handoff::Write);
        if let Some(cluster) = &self.cluster {
            let item = Delivery {
                channel: channel.to_string(),
                frame: frame.as_str().to_string(),
            };
            cluster.deliver(&self.config.app_id, vec![item], Some(sender));
        }
        delivered
    }

    /// Hands `frame` to this node's subscribers of `channel` except `except`, keeping it as
    /// a cache channel's last event; returns how many took it.
    pub fn deliver_local(
        &self,
        channel: &str,
        frame: &Frame,
        except: Option<&str>,
        handoff: Handoff,
    ) -> usize {
        let delivered = self.channels.publish(channel, frame, except, handoff);
        self.count_sent(delivered);
        delivered
    }

    /// Subscribes a socket to a channel (as `member` on presence channels). In a cluster,
    /// presence members are counted across nodes and the payload lists all of them.
    pub async fn subscribe(
        self: &Arc<Self>,
        name: &str,
        connection: &Arc<Connection>,
        member: Option<&MemberData>,
    ) -> Result<Subscribed, PusherError> {
        let mut outcome =
            self.channels
                .subscribe(name, connection, member, self.config.max_presence_members)?;
        if let (Some(cluster), Some(member)) = (&self.cluster, member) {
            if let Some(replaced) = outcome.replaced.take() {
                cluster.leave(self.clone(), name.to_string(), replaced);
            }
            let socket_id = connection.socket_id();
            // Boxed: every socket task would otherwise hold room for a Redis round trip.
            let joined =
                Box::pin(cluster.join(self, name, member, outcome.member_joined, socket_id));
            outcome.payload = joined.await;
        }
        Ok(outcome)
    }

    /// Takes a socket out of a channel; `None` when it was not subscribed.
    pub fn unsubscribe(self: &Arc<Self>, name: &str, socket_id: &str) -> Option<Unsubscribed> {
        let outcome = self.channels.unsubscribe(name, socket_id)?;
        if let (Some(cluster), Some(departure)) = (&self.cluster, &outcome.departure) {
            cluster.leave(self.clone(), name.to_string(), departure.clone());
        }
        Some(outcome)
    }

    /// The last event of a cache channel and how long it stays cached: this node's, or in a
    /// cluster the one Redis keeps when this node did not see it.
    pub async fn cached_event(&self, name: &str) -> Option<(Frame, Duration)> {
        match (self.channels.cached_event(name), &self.cluster) {
            (Some(cached), _) => Some(cached),
            (None, Some(cluster)) => {
                // Boxed, like the presence join in `subscribe`.
                Box::pin(cluster.cached_event(&self.config.app_id, name)).await
            }
            (None, None) => None,
        }
    }

    /// This node's channels that `filter` covers, and its sockets.
    pub fn local_census(&self, filter: &Filter) -> Census {
        Census {
            connections: self.connections.load(Ordering::Acquire),
            channels: self.channels.census(filter),
        }
    }

    /// The channels that `filter` covers and the sockets, of the whole cluster when scaling
    /// is on.
    pub async fn census(&self, filter: Filter) -> Census {
        let mut census = self.local_census(&filter);
        if let Some(cluster) = &self.cluster {
            for other in cluster.ask(&self.config.app_id, filter).await {
                census.merge(other);
            }
        }
        census
    }

    /// One channel on this node, as PHP reports it.
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

    /// Closes every socket signed in as `user_id` and, as Reverb does, every socket that
    /// joined a presence channel as that user, on every node of a cluster. Returns how many
    /// of this node's sockets were closed.
    pub fn terminate_user(&self, user_id: &str) -> usize {
        if let Some(cluster) = &self.cluster {
            cluster.terminate(&self.config.app_id, user_id);
        }
        self.terminate_local(user_id)
    }

    /// Closes this node's sockets of `user_id`; returns how many.
    pub fn terminate_local(&self, user_id: &str) -> usize {
        let mut sockets: HashMap<String, std::sync::Arc<Connection>> = HashMap::new();
        for connection in self
            .users
            .sockets_of(user_id)
            .into_iter()
            .chain(self.channels.sockets_of_member(user_id))
        {
            sockets.insert(connection.socket_id().to_string(), connection);
        }
        for connection in sockets.values() {
            connection.close(PusherError::Terminated);
        }
        sockets.len()
    }

    /// Counts one frame received from a client.
    pub fn count_received(&self) {
        self.messages_in.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts frames sent to clients.
    pub fn count_sent(&self, frames: usize) {
        self.messages_out
            .fetch_add(frames as u64, Ordering::Relaxed);
    }

    /// The app's counters right now.
    pub fn stats(&self) -> AppStats {
        AppStats {
            connections: self.connections.load(Ordering::Acquire),
            channels: self.channels.len(),
            messages_in: self.messages_in.load(Ordering::Relaxed),
            messages_out: self.messages_out.load(Ordering::Relaxed),
            scaling: self.cluster.as_ref().map(|cluster| cluster.status()),
        }
    }
}

/// Every app of the server, found by key (WebSocket) or by id (HTTP API, PHP).
pub struct Apps {
    by_key: HashMap<String, Arc<App>>,
    by_id: HashMap<String, Arc<App>>,
}

impl Apps {
    /// Builds the runtime state for the configured apps, members of `cluster` when scaling.
    pub fn new(configs: &[AppConfig], cluster: Option<&Arc<Cluster>>) -> Apps {
        let apps: Vec<Arc<App>> = configs
            .iter()
            .map(|config| Arc::new(App::new(config.clone(), cluster.cloned())))
            .collect();
        Apps {
            by_key: apps
                .iter()
                .map(|a| (a.config.key.clone(), a.clone()))
                .collect(),
            by_id: apps
                .iter()
                .map(|a| (a.config.app_id.clone(), a.clone()))
                .collect(),
        }
    }

    /// The app with this public key.
    pub fn by_key(&self, key: &str) -> Option<&Arc<App>> {
        self.by_key.get(key)
    }

    /// The app with this id.
    pub fn by_id(&self, id: &str) -> Option<&Arc<App>> {
        self.by_id.get(id)
    }

    /// Every app.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<App>> {
        self.by_id.values()
    }
}
