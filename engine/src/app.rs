//! The runtime state of one configured app: its channels, its sockets and its counters.

use crate::channels::census::{Census, Filter};
use crate::channels::presence::{self, MemberData};
use crate::channels::{name, ChannelRegistry, Departure, Subscribed, Unsubscribed};
use crate::config::{AppConfig, WebhookKind};
use crate::peers::{Joined, Left, Peers, ScalingStatus};
use crate::protocol::{frames, PusherError};
use crate::socket::{Connection, Frame};
use crate::traffic::{CloseReason, Traffic, TrafficStats};
use crate::users::Users;
use crate::webhooks::counting::SubscriptionCounts;
use crate::webhooks::occupancy::{Occupancy, Subject};
use crate::webhooks::reporter::{self, Reporter};
use crate::webhooks::{WebhookEvent, WebhookStats, Webhooks};
use arc_swap::ArcSwap;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

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
        let joined = self.peers.join(self.id(), name, socket_id, member);
        outcome.payload = match joined.await {
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

    /// A channel gained its first subscriber on this node (`created`) and, on a presence
    /// channel, a user their first socket in it (`member`): unless they came back within
    /// the webhook delay, they are counted with the peers and reported when they are new to
    /// the cluster, the channel before the member.
    fn arrived(self: &Arc<Self>, channel: &str, created: bool, member: Option<&str>) {
        let new: Vec<Subject> = self
            .tracked(channel, created, member)
            .into_iter()
            .filter(|subject| self.occupancy.arrive(subject.clone()))
            .collect();
        if new.is_empty() {
            return;
        }
        self.reporter.arrived(new);
    }

    /// A channel lost its last subscriber on this node (`removed`) or, on a presence
    /// channel, a user their last socket in it: once the webhook delay has passed without
    /// their return, they are counted out with the peers and reported when the cluster has
    /// none left, the member before the channel.
    fn departed(self: &Arc<Self>, channel: &str, removed: bool, departure: Option<&Departure>) {
        let member = departure.filter(|d| d.last).map(|d| d.key.as_str());
        let mut subjects = self.tracked(channel, removed, member);
        subjects.reverse();
        if subjects.is_empty() {
            return;
        }
        let holds: Vec<(Subject, u64)> = subjects
            .into_iter()
            .map(|subject| (subject.clone(), self.occupancy.depart(subject)))
            .collect();
        self.reporter.departed(holds);
    }

    /// The subjects among a channel (when `channel_changed`) and a member that someone
    /// hears about.
    fn tracked(&self, channel: &str, channel_changed: bool, member: Option<&str>) -> Vec<Subject> {
        let wants =
            |kinds: [WebhookKind; 2]| kinds.iter().any(|k| self.webhooks.wants(*k, channel));
        let mut subjects = Vec::new();
        if channel_changed && wants([WebhookKind::ChannelOccupied, WebhookKind::ChannelVacated]) {
            subjects.push(Subject::Channel(channel.to_string()));
        }
        if let Some(user_id) = member {
            if wants([WebhookKind::MemberAdded, WebhookKind::MemberRemoved]) {
                subjects.push(Subject::Member {
                    channel: channel.to_string(),
                    user_id: user_id.to_string(),
                });
            }
        }
        subjects
    }

    /// A tracked subject left the cluster with a node that died or stopped.
    pub fn vacated(&self, subject: &str) {
        self.webhooks
            .send(reporter::departure(Subject::from_key(subject)));
    }

    /// Every subject webhooks track on this node, held ones included.
    pub fn tracked_subjects(&self) -> Vec<String> {
        self.occupancy.subjects().iter().map(Subject::key).collect()
    }

    /// The number of sockets of a non-presence channel changed: reports it to the channel's
    /// subscribers (when the app counts subscriptions) and to webhooks, throttled. A new
    /// subscriber's socket calls it once it has sent `subscription_succeeded`, so the count
    /// never comes first.
    pub fn count_changed(self: &Arc<Self>, channel: &str) {
        let subscribers = self.config().subscription_count;
        let webhooks = self.webhooks.wants(WebhookKind::SubscriptionCount, channel);
        if name::is_presence(channel) || !(subscribers || webhooks) {
            return;
        }
        let Some(wait) = self.counts.changed(channel) else {
            return;
        };
        let app = self.clone();
        let channel = channel.to_string();
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            let census = app.census(Filter::Channel(channel.clone())).await;
            let count = census
                .channels
                .get(&channel)
                .map_or(0, |c| c.subscription_count);
            app.counts.reporting(&channel, count);
            if subscribers && count > 0 {
                let frame = Frame::from(frames::subscription_count(&channel, count));
                app.announce(&channel, frame, None);
            }
            app.webhooks.send(WebhookEvent::SubscriptionCount {
                channel,
                subscription_count: count,
            });
        });
    }

    /// A client sent a `client-` event on `channel`: webhooks hear of it.
    pub fn report_client_event(
        &self,
        channel: &str,
        event: &str,
        data: &Value,
        socket_id: &str,
        user_id: Option<&Value>,
    ) {
        if !self.webhooks.wants(WebhookKind::ClientEvent, channel) {
            return;
        }
        let as_string = |value: &Value| match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        self.webhooks.send(WebhookEvent::ClientEvent {
            channel: channel.to_string(),
            event: event.to_string(),
            data: as_string(data),
            socket_id: socket_id.to_string(),
            user_id: user_id
                .filter(|_| name::is_presence(channel))
                .map(as_string),
        });
    }

    /// A client subscribed to a cache channel with nothing cached: webhooks hear of it.
    pub fn report_cache_miss(&self, channel: &str) {
        if self.webhooks.wants(WebhookKind::CacheMiss, channel) {
            self.webhooks.send(WebhookEvent::CacheMiss {
                channel: channel.to_string(),
            });
        }
    }

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

    /// The app's counters right now.
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
