//! The runtime state of one configured app: its channels, its sockets and its counters.
//!
//! What the app answers about itself is in `queries`, what it tells webhooks in `reports`.

use crate::channels::presence::{self, MemberData};
use crate::channels::{name, ChannelRegistry, Departure, Subscribed, Unsubscribed};
use crate::config::AppConfig;
use crate::peers::{Joined, Left, Peers};
use crate::protocol::{frames, PusherError};
use crate::socket::{Connection, Frame};
use crate::traffic::{CloseReason, RefusalReason, Traffic, TrafficStats};
use crate::users::Users;
use crate::webhooks::counting::SubscriptionCounts;
use crate::webhooks::occupancy::Occupancy;
use crate::webhooks::reporter::Reporter;
use crate::webhooks::Webhooks;
use arc_swap::ArcSwap;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

mod queries;
mod reports;

pub use queries::{AppStats, CachedEvent, ChannelState, ChannelSummary, UsersError};

/// One app while the server runs.
///
/// Everything that other nodes of a cluster must see goes through here: publishes, client
/// events, presence changes and terminations are handed to the app's [`Peers`] after this
/// node has served its own sockets.
pub struct App {
    /// The app's id, which never changes while the app runs.
    id: String,
    /// The app's configuration, replaced as a whole when the host changes the app.
    config: ArcSwap<AppConfig>,
    /// Cancelled, with the reason in `close_reason`, when the app is removed or disabled.
    closed: CancellationToken,
    /// Why every socket of the app is closed.
    close_reason: OnceLock<PusherError>,
    /// The app's channels.
    pub channels: ChannelRegistry,
    /// The app's signed-in users.
    pub users: Users,
    peers: Arc<dyn Peers>,
    webhooks: Arc<Webhooks>,
    occupancy: Arc<Occupancy>,
    reporter: Reporter,
    counts: SubscriptionCounts,
    connections: AtomicUsize,
    traffic: Traffic,
}

/// Holds one slot of an app's connection quota and gives it back when dropped, so a socket
/// task that ends in any way (even a panic) never leaks a count; the socket is then counted
/// closed, for the first reason its session gave (connection lost when it gave none).
pub struct ConnectionSlot {
    app: Arc<App>,
    reason: Option<CloseReason>,
}

impl ConnectionSlot {
    /// Records why the socket is closing; the first reason wins.
    pub fn closing(&mut self, reason: CloseReason) {
        self.reason.get_or_insert(reason);
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.app.connections.fetch_sub(1, Ordering::AcqRel);
        let reason = self.reason.unwrap_or(CloseReason::ConnectionLost);
        self.app.traffic.closed(reason);
    }
}

impl App {
    /// The state of the app configured by `config`, sharing its work with `peers` and
    /// telling `webhooks` about departures once they have lasted `webhook_delay`; starts the
    /// app's reporting task, so it must be called inside the server's runtime.
    pub fn new(
        config: AppConfig,
        peers: Arc<dyn Peers>,
        webhooks: Webhooks,
        webhook_delay: Duration,
    ) -> App {
        let webhooks = Arc::new(webhooks);
        let occupancy = Arc::new(Occupancy::default());
        let reporter = Reporter::start(
            &config.app_id,
            occupancy.clone(),
            peers.clone(),
            webhooks.clone(),
            webhook_delay,
        );
        App {
            channels: ChannelRegistry::new(config.cache_ttl, !peers.shares_presence()),
            users: Users::default(),
            peers,
            webhooks,
            occupancy,
            reporter,
            counts: SubscriptionCounts::default(),
            connections: AtomicUsize::new(0),
            traffic: Traffic::default(),
            id: config.app_id.clone(),
            config: ArcSwap::from_pointee(config),
            closed: CancellationToken::new(),
            close_reason: OnceLock::new(),
        }
    }

    /// The app's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The app's configuration as it is now: a changed app's sockets keep the one they read.
    pub fn config(&self) -> Arc<AppConfig> {
        self.config.load_full()
    }

    /// Takes a changed configuration of this app (a rotated secret, new limits, origins or
    /// webhooks); sockets already open go on, what they read next is the new one.
    pub fn reconfigure(&self, config: AppConfig) {
        let old = self.config();
        if (&old.webhooks, &old.key, &old.secret) != (&config.webhooks, &config.key, &config.secret)
        {
            self.webhooks.reconfigure(&config);
        }
        self.config.store(Arc::new(config));
    }

    /// Closes every socket of the app with `reason` (4001 for a removed app, 4003 for a
    /// disabled one), now and for any socket that would still open on it.
    pub fn close(&self, reason: PusherError) {
        let _ = self.close_reason.set(reason);
        self.closed.cancel();
    }

    /// Resolves, with the reason, once the app is closed.
    pub async fn closed(&self) -> PusherError {
        self.closed.cancelled().await;
        self.close_reason
            .get()
            .cloned()
            .unwrap_or(PusherError::ApplicationDoesNotExist)
    }

    /// Whether the app was closed.
    pub fn is_closed(&self) -> bool {
        self.closed.is_cancelled()
    }

    /// Takes a connection slot, or `None` when the app is at `max_connections`.
    pub fn try_connect(self: &Arc<Self>) -> Option<ConnectionSlot> {
        let limit = self.config().max_connections.unwrap_or(usize::MAX);
        self.connections
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |current| {
                (current < limit).then_some(current + 1)
            })
            .ok()?;
        self.traffic.opened();
        Some(ConnectionSlot {
            app: self.clone(),
            reason: None,
        })
    }

    /// Publishes an event to channels, on every node of a cluster; returns how many of this
    /// node's sockets took it.
    pub fn publish(
        &self,
        channels: &[String],
        event: &str,
        data: &str,
        except: Option<&str>,
    ) -> usize {
        let published: Vec<(&str, Frame)> = channels
            .iter()
            .map(|channel| {
                let frame = Frame::from(frames::channel_event(event, channel, data));
                (channel.as_str(), frame)
            })
            .collect();
        let delivered = published
            .iter()
            .map(|(channel, frame)| {
                let delivered = self.deliver_local(channel, frame, except);
                if name::is_cached(channel) {
                    let ttl = self.config().cache_ttl;
                    self.peers.store_cached(self.id(), channel, frame, ttl);
                }
                delivered
            })
            .sum();
        self.peers.deliver(self.id(), &published, except);
        delivered
    }

    /// Relays a client event to the channel's other subscribers, on every node of a cluster;
    /// returns how many of this node's sockets got it.
    pub fn relay(&self, channel: &str, frame: Frame, sender: &str) -> usize {
        let delivered = self.deliver_local(channel, &frame, Some(sender));
        self.peers
            .deliver(self.id(), &[(channel, frame)], Some(sender));
        delivered
    }

    /// Sends `frame` to this node's subscribers of `channel` and to every other node's.
    fn announce(&self, channel: &str, frame: Frame, except: Option<&str>) {
        self.deliver_local(channel, &frame, except);
        self.peers.deliver(self.id(), &[(channel, frame)], except);
    }

    /// Hands `frame` to this node's subscribers of `channel` except `except`, keeping it as
    /// a cache channel's last event; returns how many took it.
    pub fn deliver_local(&self, channel: &str, frame: &Frame, except: Option<&str>) -> usize {
        let delivered = self.channels.publish(channel, frame, except);
        self.count_sent(frame, delivered);
        delivered
    }

    /// Subscribes a socket to a channel (as `member` on presence channels). When the peers
    /// share presence, members are counted across nodes and the payload lists all of them;
    /// the changes after that list wait for [`App::confirm`].
    pub async fn subscribe(
        self: &Arc<Self>,
        name: &str,
        connection: &Arc<Connection>,
        member: Option<&MemberData>,
    ) -> Result<Subscribed, PusherError> {
        let mut outcome = self.channels.subscribe(
            name,
            connection,
            member,
            self.config().max_presence_members,
        )?;
        if let Some(replaced) = &outcome.replaced {
            self.departed(name, false, Some(replaced));
        }
        let joined = member.filter(|_| outcome.member_joined);
        self.arrived(
            name,
            outcome.channel_created,
            joined.map(|m| m.key.as_str()),
        );
        let Some(member) = member.filter(|_| self.peers.shares_presence()) else {
            return Ok(outcome);
        };
        if let Some(replaced) = outcome.replaced.take() {
            self.count_departure(name, replaced);
        }
        let socket_id = connection.socket_id();
        let joined = match outcome.again {
            true => self.peers.members(self.id(), name).await,
            false => self.peers.join(self.id(), name, socket_id, member).await,
        };
        outcome.payload = match joined {
            Joined::Counted { version, members } => {
                outcome.version = Some(version);
                presence::snapshot_from_channel_data(&members)
            }
            Joined::Uncounted => {
                if outcome.member_joined {
                    let added = Frame::from(frames::member_added(name, &member.channel_data));
                    self.deliver_local(name, &added, Some(socket_id));
                }
                self.channels.presence_snapshot(name)
            }
        };
        Ok(outcome)
    }

    /// Sends a presence subscriber that [`App::subscribe`] held its `subscription_succeeded`
    /// through `confirmation`, then the cluster's changes that came after its member list.
    pub fn confirm<T>(
        &self,
        channel: &str,
        socket_id: &str,
        version: Option<u64>,
        confirmation: impl FnOnce() -> T,
    ) -> T {
        let (confirmed, changes) = self
            .channels
            .confirm(channel, socket_id, version, confirmation);
        for change in &changes {
            self.count_sent(change, 1);
        }
        confirmed
    }

    /// Hands change number `version` of a presence channel's members, as the cluster counted
    /// it, to this node's subscribers of it except `except`.
    pub fn deliver_presence(
        &self,
        channel: &str,
        version: u64,
        frame: &Frame,
        except: Option<&str>,
    ) {
        let delivered = self
            .channels
            .publish_change(channel, version, frame, except);
        self.count_sent(frame, delivered);
    }

    /// Takes a socket out of a channel; `None` when it was not subscribed.
    pub fn unsubscribe(self: &Arc<Self>, name: &str, socket_id: &str) -> Option<Unsubscribed> {
        let outcome = self.channels.unsubscribe(name, socket_id)?;
        self.departed(name, outcome.channel_removed, outcome.departure.as_ref());
        self.count_changed(name);
        if let (true, Some(departure)) = (self.peers.shares_presence(), &outcome.departure) {
            self.count_departure(name, departure.clone());
        }
        Some(outcome)
    }

    /// Uncounts a presence socket that left `channel` with the peers, off the socket's task;
    /// they announce the user's departure when it was their last socket anywhere. While they
    /// cannot be reached, this node's sockets hear of it when it was the last one here.
    fn count_departure(self: &Arc<Self>, channel: &str, departure: Departure) {
        let app = self.clone();
        let channel = channel.to_string();
        tokio::spawn(async move {
            let app_id = app.id();
            let left = app.peers.leave(app_id, &channel, &departure.key).await;
            if left == Left::Uncounted && departure.last {
                let removed = frames::member_removed(&channel, &departure.user_id);
                app.deliver_local(&channel, &Frame::from(removed), None);
            }
        });
    }
    /// Closes every socket signed in as `user_id` and, as Reverb does, every socket that
    /// joined a presence channel as that user, on every node of a cluster. Returns how many
    /// of this node's sockets were closed.
    pub fn terminate_user(&self, user_id: &str) -> usize {
        self.peers.terminate(self.id(), user_id);
        self.terminate_local(user_id)
    }

    /// Closes this node's sockets of `user_id`; returns how many.
    pub fn terminate_local(&self, user_id: &str) -> usize {
        let mut sockets: HashMap<String, Arc<Connection>> = HashMap::new();
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

    /// Counts one socket refused before its session began.
    pub fn count_refused(&self, reason: RefusalReason) {
        self.traffic.refused(reason);
    }

    /// Counts one message of `bytes` received from a client.
    pub fn count_received(&self, bytes: usize) {
        self.traffic.received(bytes);
    }

    /// Counts `frame` sent to `sockets` clients.
    pub fn count_sent(&self, frame: &Frame, sockets: usize) {
        self.traffic.sent(frame, sockets);
    }

    /// Open sockets now.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::Acquire)
    }

    /// The app's socket and message counters now.
    pub fn traffic(&self) -> TrafficStats {
        self.traffic.snapshot()
    }
}
