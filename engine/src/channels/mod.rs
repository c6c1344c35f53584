//! The channels of one app and who is subscribed to them.
//!
//! A channel exists while it has subscribers. Publishing serializes a frame once and hands a
//! shared reference to every subscriber's send queue.

use crate::ws::connection::{Connection, Frame, SocketId};
use dashmap::DashMap;
use std::collections::HashMap;
use std::sync::Arc;

/// One channel's subscribers, by socket id.
#[derive(Default)]
pub struct Channel {
    subscribers: HashMap<SocketId, Arc<Connection>>,
}

/// What a subscribe changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subscribed {
    /// The channel did not exist before this subscriber.
    pub channel_created: bool,
}

/// What an unsubscribe changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsubscribed {
    /// The subscriber was the last one and the channel is gone.
    pub channel_removed: bool,
}

/// All channels of one app.
#[derive(Default)]
pub struct ChannelRegistry {
    channels: DashMap<String, Channel>,
}

impl ChannelRegistry {
    /// Adds `connection` to `name`, creating the channel if needed. Subscribing twice is fine.
    pub fn subscribe(&self, name: &str, connection: &Arc<Connection>) -> Subscribed {
        let mut channel_created = false;
        let mut channel = self.channels.entry(name.to_string()).or_insert_with(|| {
            channel_created = true;
            Channel::default()
        });
        channel
            .subscribers
            .insert(connection.socket_id().clone(), connection.clone());
        Subscribed { channel_created }
    }

    /// Removes a socket from `name`; `None` when it was not subscribed.
    pub fn unsubscribe(&self, name: &str, socket_id: &str) -> Option<Unsubscribed> {
        let now_empty = {
            let mut channel = self.channels.get_mut(name)?;
            channel.subscribers.remove(socket_id)?;
            channel.subscribers.is_empty()
        };
        let channel_removed = now_empty
            && self
                .channels
                .remove_if(name, |_, c| c.subscribers.is_empty())
                .is_some();
        Some(Unsubscribed { channel_removed })
    }

    /// Sends `frame` to every subscriber of `name` except `except`; returns how many got it.
    pub fn publish(&self, name: &str, frame: &Frame, except: Option<&str>) -> usize {
        let Some(channel) = self.channels.get(name) else {
            return 0;
        };
        channel
            .subscribers
            .iter()
            .filter(|(id, _)| Some(id.as_ref()) != except)
            .filter(|(_, connection)| connection.send(frame.clone()))
            .count()
    }

    /// How many channels have subscribers.
    pub fn len(&self) -> usize {
        self.channels.len()
    }

    /// Whether no channel has subscribers.
    pub fn is_empty(&self) -> bool {
        self.channels.is_empty()
    }

    /// How many sockets are subscribed to `name`.
    pub fn subscription_count(&self, name: &str) -> usize {
        self.channels
            .get(name)
            .map_or(0, |channel| channel.subscribers.len())
    }
}
