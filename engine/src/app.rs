//! The runtime state of each configured app: its channels, its sockets and its counters.

use crate::channels::{ChannelInfo, ChannelRegistry};
use crate::config::AppConfig;
use crate::protocol::{frames, PusherError};
use crate::users::Users;
use crate::ws::connection::{Connection, Frame};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// One app while the server runs.
pub struct App {
    /// The app's configuration.
    pub config: AppConfig,
    /// The app's channels.
    pub channels: ChannelRegistry,
    /// The app's signed-in users.
    pub users: Users,
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
    fn new(config: AppConfig) -> App {
        App {
            channels: ChannelRegistry::new(config.cache_ttl),
            users: Users::default(),
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

    /// Publishes an event to channels; returns how many frames were queued in total.
    pub fn publish(
        &self,
        channels: &[String],
        event: &str,
        data: &str,
        except: Option<&str>,
    ) -> usize {
        let delivered = channels
            .iter()
            .map(|channel| {
                let frame = Frame::from(frames::channel_event(event, channel, data));
                self.channels.publish(channel, &frame, except)
            })
            .sum();
        self.count_sent(delivered);
        delivered
    }

    /// One channel as the HTTP API's `GET /channels/{name}` and PHP report it.
    pub fn channel(&self, name: &str) -> ChannelState {
        let info = self.channels.info(name);
        ChannelState {
            occupied: info.is_some(),
            subscription_count: info.as_ref().map_or(0, |i| i.subscription_count),
            user_count: info.and_then(|i| i.user_count),
            cache: self
                .channels
                .cached_event(name)
                .map(|(frame, ttl)| CachedEvent {
                    frame: serde_json::from_str(frame.as_str()).unwrap_or(Value::Null),
                    ttl_seconds: ttl.as_secs(),
                }),
        }
    }

    /// The occupied channels whose names start with `prefix`.
    pub fn channels(&self, prefix: Option<&str>) -> Vec<(String, ChannelInfo)> {
        self.channels.list(prefix)
    }

    /// The users of a presence channel.
    pub fn presence_users(&self, channel: &str) -> Result<Vec<Value>, UsersError> {
        if !crate::channels::name::is_presence(channel) {
            return Err(UsersError::NotPresence);
        }
        self.channels
            .presence_users(channel)
            .ok_or(UsersError::NotFound)
    }

    /// Closes every socket signed in as `user_id` and, as Reverb does, every socket that
    /// joined a presence channel as that user. Returns how many sockets were closed.
    pub fn terminate_user(&self, user_id: &str) -> usize {
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
        }
    }
}

/// Every app of the server, found by key (WebSocket) or by id (HTTP API, PHP).
pub struct Apps {
    by_key: HashMap<String, Arc<App>>,
    by_id: HashMap<String, Arc<App>>,
}

impl Apps {
    /// Builds the runtime state for the configured apps.
    pub fn new(configs: &[AppConfig]) -> Apps {
        let apps: Vec<Arc<App>> = configs
            .iter()
            .cloned()
            .map(App::new)
            .map(Arc::new)
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
