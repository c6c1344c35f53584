//! The channels of one app, who is subscribed to them, and fan-out.
//!
//! A channel exists while it has subscribers. Publishing serializes a frame once and hands a
//! shared reference to every subscriber's send queue. Presence bookkeeping happens under the
//! same lock as the subscriber list, so `member_added`/`member_removed` are sent exactly once
//! per user and in order. When a cluster counts the members, its numbered changes are sent
//! under that lock too, each subscriber hearing of those after its member list only.
//!
//! - [`name`]: valid names and channel kinds.
//! - [`presence`]: presence members, counted per user.
//! - [`presence_order`]: which of a cluster's presence changes each subscriber hears, when.
//! - [`cache`]: the last event of cache channels.
//! - [`census`]: counts of channels and sockets, one node's or a cluster's.

pub mod cache;
pub mod census;
pub mod name;
pub mod presence;
pub mod presence_order;

use crate::protocol::{frames, PusherError};
use crate::socket::{Connection, Frame, SocketId};
use cache::EventCache;
use census::{ChannelCount, Filter};
use dashmap::DashMap;
use name::ChannelType;
use presence::{MemberData, Members};
use presence_order::PresenceOrder;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

/// A subscribed socket and, on presence channels, the user it joined as.
struct Subscriber {
    connection: Arc<Connection>,
    member_key: Option<String>,
}

/// How many of a channel's subscribers one publish writes to itself; the rest are queued for
/// their sockets' tasks. Writing at once saves a task wake-up per socket, which matters most
/// when the server is idle between publishes. On a big channel the tasks do better: they
/// run on every core of the runtime, and under load each writes several frames at a time.
const DIRECT_WRITES_PER_PUBLISH: usize = 1_000;

/// A presence subscriber that left a channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Departure {
    /// The key the user is counted by.
    pub key: String,
    /// The user id, JSON type kept.
    pub user_id: Value,
    /// Whether it was the user's last socket in the channel on this node.
    pub last: bool,
}

/// One channel's subscribers and presence members.
#[derive(Default)]
struct Channel {
    subscribers: HashMap<SocketId, Subscriber>,
    members: Members,
    /// The subscribers that do not hear of every change a cluster counts yet.
    order: PresenceOrder,
}

impl Channel {
    /// Hands `frame` to every subscriber except `except`; returns how many took it. The
    /// first [`DIRECT_WRITES_PER_PUBLISH`] are sent (written at once where the sender may),
    /// the rest queued for their sockets' tasks.
    fn broadcast(&self, frame: &Frame, except: Option<&str>) -> usize {
        self.subscribers
            .iter()
            .filter(|(id, _)| Some(id.as_ref()) != except)
            .enumerate()
            .filter(|(index, (_, subscriber))| hand(subscriber, *index, frame))
            .count()
    }

    /// Hands change number `version` of the channel's members to every subscriber except
    /// `except` that may hear of it now (see [`presence_order`]); returns how many took it.
    fn broadcast_change(&mut self, version: u64, frame: &Frame, except: Option<&str>) -> usize {
        let order = &mut self.order;
        self.subscribers
            .iter()
            .filter(|(id, _)| Some(id.as_ref()) != except)
            .filter(|(id, _)| order.admit(id, version, frame))
            .enumerate()
            .filter(|(index, (_, subscriber))| hand(subscriber, *index, frame))
            .count()
    }

    /// Removes a subscriber; on presence channels, tells the others when its user is gone
    /// if `announce`, and reports the departure.
    fn remove(&mut self, name: &str, socket_id: &str, announce: bool) -> Option<Departure> {
        self.order.forget(socket_id);
        let key = self.subscribers.remove(socket_id)?.member_key?;
        let (user_id, last) = self.members.leave(&key)?;
        if last && announce {
            let removed = Frame::from(frames::member_removed(name, &user_id));
            self.broadcast(&removed, None);
        }
        Some(Departure { key, user_id, last })
    }
}

/// Hands `frame` to the subscriber that is number `index` in a fan-out: the first
/// [`DIRECT_WRITES_PER_PUBLISH`] are sent, the rest queued; returns whether it was taken.
fn hand(subscriber: &Subscriber, index: usize, frame: &Frame) -> bool {
    if index < DIRECT_WRITES_PER_PUBLISH {
        subscriber.connection.send(frame.clone())
    } else {
        subscriber.connection.enqueue(frame.clone())
    }
}

/// This node's channels of one app counted for the metrics: how many of each type, and the
/// members of its presence channels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelTally {
    /// Channels with subscribers, by type, in the order of [`ChannelType::ALL`].
    pub by_type: [(ChannelType, usize); ChannelType::ALL.len()],
    /// Users in presence channels, each counted once per channel they are in.
    pub presence_members: usize,
}

/// What a subscribe changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscribed {
    /// The channel did not exist before this subscriber.
    pub channel_created: bool,
    /// The `subscription_succeeded` payload: `{}`, or the member list on presence channels.
    pub payload: String,
    /// On presence channels: this is the user's first socket in the channel on this node.
    pub member_joined: bool,
    /// The membership this socket gave up by subscribing again as another user.
    pub replaced: Option<Departure>,
    /// On presence channels whose members a cluster counts: the changes the subscriber hears
    /// of wait until [`ChannelRegistry::confirm`] sends its `subscription_succeeded`.
    pub held: bool,
    /// The number of the cluster's last change that `payload` shows, when it counted them.
    pub version: Option<u64>,
    /// The socket was already subscribed, as the same member on presence channels: nothing
    /// changed, and the cluster must not count it again.
    pub again: bool,
}

/// What an unsubscribe changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Unsubscribed {
    /// The subscriber was the last one and the channel is gone.
    pub channel_removed: bool,
    /// The user that left, on presence channels.
    pub departure: Option<Departure>,
}

/// All channels of one app.
pub struct ChannelRegistry {
    channels: DashMap<String, Channel>,
    cache: EventCache,
    announces_members: bool,
}

impl ChannelRegistry {
    /// An empty registry whose cache channels keep their last event for `cache_ttl`.
    /// `announces_members` sends `member_added`/`member_removed` from here; a node of a
    /// cluster leaves that to the cluster, which knows the user's sockets on other nodes.
    pub fn new(cache_ttl: Duration, announces_members: bool) -> ChannelRegistry {
        ChannelRegistry {
            channels: DashMap::new(),
            cache: EventCache::new(cache_ttl),
            announces_members,
        }
    }

    /// Adds `connection` to `name`, as `member` on presence channels. A socket that
    /// subscribes again replaces its earlier subscription. `max_members` refuses new users
    /// on a full presence channel, leaving nothing behind.
    pub fn subscribe(
        &self,
        name: &str,
        connection: &Arc<Connection>,
        member: Option<&MemberData>,
        max_members: Option<usize>,
    ) -> Result<Subscribed, PusherError> {
        let mut channel_created = false;
        let mut channel = self.channels.entry(name.to_string()).or_insert_with(|| {
            channel_created = true;
            Channel::default()
        });
        let socket_id = connection.socket_id();
        let previous = channel
            .subscribers
            .get(socket_id)
            .map(|subscriber| subscriber.member_key.clone());
        let member_key = member.map(|m| m.key.clone());
        // A cluster's presence changes wait for the member list the cluster will give.
        let held = member.is_some() && !self.announces_members;
        if previous.as_ref() == Some(&member_key) {
            // The same socket as the same member again: confirm, change nothing.
            if held {
                channel.order.hold(socket_id);
            }
            let payload = match member {
                Some(_) => channel.members.snapshot(),
                None => "{}".to_string(),
            };
            return Ok(Subscribed {
                channel_created,
                payload,
                member_joined: false,
                replaced: None,
                held,
                version: None,
                again: true,
            });
        }
        if let (Some(member), Some(limit)) = (member, max_members) {
            if !channel.members.contains(&member.key) && channel.members.len() >= limit {
                let empty = channel.subscribers.is_empty();
                drop(channel);
                if empty {
                    self.channels
                        .remove_if(name, |_, c| c.subscribers.is_empty());
                }
                return Err(PusherError::PresenceChannelFull { limit });
            }
        }
        let replaced = match previous {
            // The socket joins as another member: its old membership ends first.
            Some(_) => channel.remove(name, socket_id, self.announces_members),
            None => None,
        };
        let member_joined = member.is_some_and(|member| channel.members.join(member));
        if let (true, true, Some(member)) = (member_joined, self.announces_members, member) {
            let added = Frame::from(frames::member_added(name, &member.channel_data));
            channel.broadcast(&added, None);
        }
        if held {
            channel.order.hold(socket_id);
        }
        channel.subscribers.insert(
            connection.socket_id().clone(),
            Subscriber {
                connection: connection.clone(),
                member_key: member.map(|m| m.key.clone()),
            },
        );
        let payload = match member {
            Some(_) => channel.members.snapshot(),
            None => "{}".to_string(),
        };
        Ok(Subscribed {
            channel_created,
            payload,
            member_joined,
            replaced,
            held,
            version: None,
            again: false,
        })
    }

    /// Sends a held presence subscriber of `name` its `subscription_succeeded` through
    /// `confirmation` and, right after it, the changes newer than its member list, which
    /// shows the channel at `version` (`None`: this node's members only, and the changes
    /// that waited are dropped). Under the channel's lock, so that no change comes in
    /// between. Returns what `confirmation` returned and the changes the subscriber took.
    pub fn confirm<T>(
        &self,
        name: &str,
        socket_id: &str,
        version: Option<u64>,
        confirmation: impl FnOnce() -> T,
    ) -> (T, Vec<Frame>) {
        let Some(mut channel) = self.channels.get_mut(name) else {
            return (confirmation(), Vec::new());
        };
        let confirmed = confirmation();
        let changes = channel.order.confirm(socket_id, version);
        let taken = match channel.subscribers.get(socket_id) {
            Some(subscriber) => changes
                .into_iter()
                .filter(|frame| subscriber.connection.send(frame.clone()))
                .collect(),
            None => Vec::new(),
        };
        (confirmed, taken)
    }

    /// Removes a socket from `name`; `None` when it was not subscribed.
    pub fn unsubscribe(&self, name: &str, socket_id: &str) -> Option<Unsubscribed> {
        let (departure, now_empty) = {
            let mut channel = self.channels.get_mut(name)?;
            if !channel.subscribers.contains_key(socket_id) {
                return None;
            }
            let departure = channel.remove(name, socket_id, self.announces_members);
            (departure, channel.subscribers.is_empty())
        };
        let channel_removed = now_empty
            && self
                .channels
                .remove_if(name, |_, c| c.subscribers.is_empty())
                .is_some();
        Some(Unsubscribed {
            channel_removed,
            departure,
        })
    }

    /// Sends `frame` to every subscriber of `name` except `except`, and keeps it as the last
    /// event of cache channels; returns how many subscribers got it.
    pub fn publish(&self, name: &str, frame: &Frame, except: Option<&str>) -> usize {
        if name::is_cached(name) {
            self.cache.store(name, frame);
        }
        self.channels
            .get(name)
            .map_or(0, |channel| channel.broadcast(frame, except))
    }

    /// Sends change number `version` of a presence channel's members, counted by a cluster,
    /// to the subscribers of `name` except `except`, each when its member list allows;
    /// returns how many took it now.
    pub fn publish_change(
        &self,
        name: &str,
        version: u64,
        frame: &Frame,
        except: Option<&str>,
    ) -> usize {
        self.channels.get_mut(name).map_or(0, |mut channel| {
            channel.broadcast_change(version, frame, except)
        })
    }

    /// The last event published to a cache channel and how long it stays cached.
    pub fn cached_event(&self, name: &str) -> Option<(Frame, Duration)> {
        self.cache.get(name)
    }

    /// Drops expired cached events.
    pub fn sweep_cache(&self) {
        self.cache.sweep();
    }

    /// How many channels have subscribers.
    pub fn len(&self) -> usize {
        self.channels.len()
    }

    /// This node's channels by type, and its presence members, counted now.
    pub fn tally(&self) -> ChannelTally {
        let mut by_type = ChannelType::ALL.map(|kind| (kind, 0));
        let mut presence_members = 0;
        for channel in self.channels.iter() {
            let kind = ChannelType::of(channel.key());
            by_type[kind as usize].1 += 1;
            presence_members += channel.members.len();
        }
        ChannelTally {
            by_type,
            presence_members,
        }
    }

    /// The `subscription_succeeded` payload of a presence channel from this node's members.
    pub fn presence_snapshot(&self, name: &str) -> String {
        self.channels
            .get(name)
            .map_or_else(|| Members::default().snapshot(), |c| c.members.snapshot())
    }

    /// Every presence member on this node: channel, member (as `channel_data`) and how many
    /// of its sockets are in the channel.
    pub fn presence_members(&self) -> Vec<(String, MemberData, usize)> {
        self.channels
            .iter()
            .filter(|entry| name::is_presence(entry.key()))
            .flat_map(|entry| {
                let channel = entry.key().clone();
                entry
                    .members
                    .iter()
                    .map(|(key, user_id, user_info, sockets)| {
                        let data = serde_json::json!({"user_id": user_id, "user_info": user_info});
                        let member = MemberData {
                            key: key.to_string(),
                            user_id: user_id.clone(),
                            user_info: user_info.clone(),
                            channel_data: data.to_string(),
                        };
                        (channel.clone(), member, sockets)
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// This node's occupied channels that `filter` covers, with their counts.
    pub fn census(&self, filter: &Filter) -> BTreeMap<String, ChannelCount> {
        let count = |name: &str, channel: &Channel| ChannelCount {
            subscription_count: channel.subscribers.len(),
            users: if name::is_presence(name) {
                channel.members.ids()
            } else {
                Vec::new()
            },
        };
        match filter {
            Filter::Channel(name) => self
                .channels
                .get(name)
                .map(|channel| (name.clone(), count(name, &channel)))
                .into_iter()
                .collect(),
            _ => self
                .channels
                .iter()
                .filter(|entry| filter.matches(entry.key()))
                .map(|entry| (entry.key().clone(), count(entry.key(), entry.value())))
                .collect(),
        }
    }

    /// Every socket that joined a presence channel as the user `key`.
    pub fn sockets_of_member(&self, key: &str) -> Vec<Arc<Connection>> {
        self.channels
            .iter()
            .flat_map(|channel| {
                channel
                    .subscribers
                    .values()
                    .filter(|s| s.member_key.as_deref() == Some(key))
                    .map(|s| s.connection.clone())
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}
