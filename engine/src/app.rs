//! The runtime state of each configured app: its channels, its sockets and its counters.

use crate::channels::ChannelRegistry;
use crate::config::AppConfig;
use crate::protocol::frames;
use crate::ws::connection::Frame;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// One app while the server runs.
pub struct App {
    /// The app's configuration.
    pub config: AppConfig,
    /// The app's channels.
    pub channels: ChannelRegistry,
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
            config,
            channels: ChannelRegistry::default(),
            connections: AtomicUsize::new(0),
            messages_in: AtomicU64::new(0),
            messages_out: AtomicU64::new(0),
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
