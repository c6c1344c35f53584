//! Scaling out over Redis: several servers behind a load balancer act as one.
//!
//! Every node publishes what the others must know on one Redis pub/sub channel and listens
//! to it: frames to deliver (events, client events) with their socket exclusion, user
//! terminations, and questions for the HTTP API's cluster-wide reads. A node delivers to its
//! own sockets first and never waits for Redis, so while Redis is away it keeps serving its
//! own sockets; the outage is reported once and shown in `/up` and stats. Presence changes
//! are the exception: the Lua script that counts a change publishes it, numbered, and every
//! node delivers it from the pub/sub channel, the one that ran the script included, so all
//! see a channel's changes in the order Redis counted them.
//!
//! - [`wire`]: the messages nodes exchange; apps are named by id, secrets never travel.
//! - [`connection`]: reaching one Redis server or a Redis Cluster, over TCP or TLS.
//! - [`keys`]: every Redis name, under the configured prefix and one hash tag.
//! - [`presence`]: presence membership counted across the cluster, changed and announced by
//!   Lua scripts.
//! - [`occupancy`]: the channels and members webhooks report, counted across the cluster.
//! - [`link`]: the node's link to Redis: connecting, publishing, listening.
//! - [`node`]: heartbeats, removing the members of a node that died, resynchronising.
//!
//! The apps reach the cluster as their [`Peers`]; the cluster hands what other nodes send to
//! this node through [`LocalNode`]. Neither knows the other's types.

mod connection;
mod keys;
mod link;
mod node;
mod occupancy;
mod presence;
mod wire;

pub use connection::Refused;
pub use link::run;

use crate::channels::census::{Census, Filter};
use crate::channels::presence::MemberData;
use crate::config::ScalingConfig;
use crate::events::{EngineEvent, EventQueue};
use crate::peers::{Joined, Left, LocalNode, Peers, ScalingStatus, Tally};
use crate::socket::Frame;
use connection::{Commands, Endpoints};
use futures_util::future::BoxFuture;
use keys::Keys;
use parking_lot::Mutex;
use redis::RedisResult;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use wire::{Delivery, Envelope, Message};

/// How many messages wait for Redis before new ones are dropped (and counted).
const OUTGOING_QUEUE: usize = 100_000;

/// How many queued messages go to Redis in one pipeline.
const PIPELINE_BATCH: usize = 256;

/// How long a cluster-wide read waits for the other nodes' answers.
const QUESTION_TIMEOUT: Duration = Duration::from_secs(1);

/// How much longer a cluster-wide read waits once every node known alive has answered.
const STRAY_LISTENER_GRACE: Duration = Duration::from_millis(20);

/// How long the check before the server starts waits for Redis to answer.
const SETTINGS_CHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// The first and the longest pause between attempts to reach Redis.
const RECONNECT_BACKOFF: (Duration, Duration) =
    (Duration::from_millis(100), Duration::from_secs(5));

/// Redis has not been tried yet.
const UNKNOWN: u8 = 0;
/// Redis answered last time it was tried.
const CONNECTED: u8 = 1;
/// Redis did not answer last time it was tried.
const DISCONNECTED: u8 = 2;

/// What the publisher task sends to Redis.
enum Outgoing {
    /// A message for the other nodes.
    Publish(String),
    /// A cache channel's last event, kept in Redis for nodes that did not see it.
    Cache {
        /// Where it is kept.
        key: String,
        /// The event frame.
        frame: String,
        /// How long it stays.
        ttl: Duration,
    },
}

/// What the cluster's tasks need of the server they run in.
pub struct Local {
    /// This node's apps, which get what the other nodes send.
    pub node: Arc<dyn LocalNode>,
    /// Where Redis outages and reconnections are reported.
    pub events: Arc<EventQueue>,
    /// Cancelled when the server stops.
    pub shutdown: CancellationToken,
}

/// One node's membership in a cluster.
pub struct Cluster {
    /// This node's random id, named in every message it sends.
    node_id: String,
    /// Every Redis name, under the prefix.
    keys: Keys,
    config: ScalingConfig,
    /// The clients that reach Redis.
    endpoints: Endpoints,
    /// The command connection (publishing, scripts, heartbeats), once [`run`] created it.
    commands: OnceLock<Commands>,
    /// Messages for the publisher task.
    outgoing: mpsc::Sender<Outgoing>,
    /// The publisher task's end of `outgoing`, until it starts.
    outgoing_queue: Mutex<Option<mpsc::Receiver<Outgoing>>>,
    /// Cluster-wide reads waiting for answers, by question id.
    questions: Mutex<HashMap<u64, mpsc::UnboundedSender<Census>>>,
    next_question: AtomicU64,
    /// [`UNKNOWN`], [`CONNECTED`] or [`DISCONNECTED`].
    redis_state: AtomicU8,
    /// Whether the subscriber connection is listening right now.
    subscribed: AtomicBool,
    /// Redis may be out of step with this node's presence members.
    resync_needed: AtomicBool,
    /// Nodes alive at the last heartbeat.
    nodes: AtomicUsize,
    /// Messages for other nodes that were dropped.
    dropped: AtomicU64,
    /// Messages published to the other nodes.
    sent: AtomicU64,
    /// Messages received from the other nodes.
    received: AtomicU64,
}

impl Cluster {
    /// Prepares this node's membership; nothing connects until [`run`] starts.
    pub fn new(config: &ScalingConfig) -> RedisResult<Cluster> {
        let (outgoing, queue) = mpsc::channel(OUTGOING_QUEUE);
        Ok(Cluster {
            node_id: format!("{:016x}", rand::random::<u64>()),
            keys: Keys::new(&config.prefix, &config.channel),
            endpoints: Endpoints::new(&config.server, config.timeout)?,
            config: config.clone(),
            commands: OnceLock::new(),
            outgoing,
            outgoing_queue: Mutex::new(Some(queue)),
            questions: Mutex::new(HashMap::new()),
            next_question: AtomicU64::new(1),
            redis_state: AtomicU8::new(UNKNOWN),
            subscribed: AtomicBool::new(false),
            resync_needed: AtomicBool::new(false),
            nodes: AtomicUsize::new(1),
            dropped: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            received: AtomicU64::new(0),
        })
    }

    /// Tries the settings once before the server starts: `Err` names the key to change when
    /// Redis answered and refused them; a Redis that cannot be reached is not an error.
    pub async fn check_settings(&self) -> Result<(), Refused> {
        let wait = self.config.timeout.min(SETTINGS_CHECK_TIMEOUT);
        connection::check(&self.endpoints, &self.config.server, wait).await
    }

    /// Where Redis is, without the password, for errors and the host's banner.
    pub fn redis_address(&self) -> String {
        self.config.server.display()
    }

    /// Whether Redis answered last time it was tried.
    pub fn is_connected(&self) -> bool {
        self.redis_state.load(Ordering::Acquire) == CONNECTED
    }

    /// The node's view of the cluster right now.
    fn current_status(&self) -> ScalingStatus {
        ScalingStatus {
            node: self.node_id.clone(),
            redis: if self.is_connected() {
                "connected"
            } else {
                "disconnected"
            },
            nodes: self.nodes.load(Ordering::Relaxed),
            dropped_messages: self.dropped.load(Ordering::Relaxed),
            sent_messages: self.sent.load(Ordering::Relaxed),
            received_messages: self.received.load(Ordering::Relaxed),
        }
    }

    /// Asks the other nodes to deliver frames to their subscribers, except `except`.
    fn send_deliveries(&self, app: &str, items: Vec<Delivery>, except: Option<&str>) {
        self.send_to_others(Message::Deliver {
            app: app.to_string(),
            items,
            except: except.map(str::to_string),
        });
    }

    /// A cache channel's last event as Redis keeps it, with the time it stays cached.
    async fn read_cached(&self, app: &str, channel: &str) -> Option<(Frame, Duration)> {
        let mut redis = self.connection()?;
        let key = self.keys.cache(app, channel);
        let mut pipeline = redis::pipe();
        pipeline.get(&key).pttl(&key);
        let (frame, ttl): (Option<String>, i64) =
            self.bounded(pipeline.query_async(&mut redis)).await.ok()?;
        let ttl = Duration::from_millis(u64::try_from(ttl).ok()?);
        frame.map(|frame| (Frame::from(frame), ttl))
    }

    /// The other nodes' censuses of an app; empty when Redis is away. Waits at most
    /// [`QUESTION_TIMEOUT`] for nodes that do not answer.
    async fn ask_nodes(&self, app: &str, filter: Filter) -> Vec<Census> {
        if !self.is_connected() {
            return Vec::new();
        }
        let id = self.next_question.fetch_add(1, Ordering::Relaxed);
        let (answers_in, mut answers) = mpsc::unbounded_channel();
        self.questions.lock().insert(id, answers_in);
        let question = Message::Query {
            app: app.to_string(),
            id,
            filter,
        };
        let listeners = self.publish_now(question).await.unwrap_or(0);
        // Every listener but this node should answer. Listeners that are not nodes (a
        // `redis-cli subscribe` someone left open) never do: once the nodes seen alive at the
        // last heartbeat have answered, the others get only a short grace.
        let nodes = self.nodes.load(Ordering::Relaxed);
        let mut deadline = tokio::time::Instant::now() + QUESTION_TIMEOUT;
        let mut censuses = Vec::new();
        while censuses.len() + 1 < listeners {
            match tokio::time::timeout_at(deadline, answers.recv()).await {
                Ok(Some(census)) => censuses.push(census),
                _ => break,
            }
            if censuses.len() + 1 >= nodes {
                deadline = deadline.min(tokio::time::Instant::now() + STRAY_LISTENER_GRACE);
            }
        }
        self.questions.lock().remove(&id);
        censuses
    }

    /// Publishes `message` right away, past the publisher task's queue, and returns how many
    /// listeners Redis delivered it to: for questions, which need that count.
    async fn publish_now(&self, message: Message) -> RedisResult<usize> {
        let mut redis = self.connection().ok_or_else(unreachable)?;
        let mut publish = redis::cmd("PUBLISH");
        publish
            .arg(self.keys.channel())
            .arg(self.envelope(message).encode());
        let listeners = self.bounded(publish.query_async(&mut redis)).await?;
        self.sent.fetch_add(1, Ordering::Relaxed);
        Ok(listeners)
    }

    /// Awaits one Redis call for at most `timeout`, so a Redis that stops answering never
    /// holds a socket, a read or the heartbeat for longer.
    async fn bounded<T>(&self, call: impl Future<Output = RedisResult<T>>) -> RedisResult<T> {
        tokio::time::timeout(self.config.timeout, call)
            .await
            .map_err(|_| timed_out())?
    }

    fn send_to_others(&self, message: Message) {
        self.enqueue(Outgoing::Publish(self.envelope(message).encode()));
    }

    fn enqueue(&self, outgoing: Outgoing) {
        if self.outgoing.try_send(outgoing).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn envelope(&self, message: Message) -> Envelope {
        Envelope {
            node: self.node_id.clone(),
            message,
        }
    }

    /// The shared command connection, once [`run`] created it.
    fn connection(&self) -> Option<Commands> {
        self.commands.get().cloned()
    }

    /// Records whether Redis answered; tells the host once per change.
    fn set_connected(&self, connected: bool, events: &EventQueue, error: impl FnOnce() -> String) {
        let new = if connected { CONNECTED } else { DISCONNECTED };
        if self.redis_state.swap(new, Ordering::AcqRel) == new {
            return;
        }
        events.push(if connected {
            EngineEvent::ScalingConnected {
                node: self.node_id.clone(),
            }
        } else {
            self.resync_needed.store(true, Ordering::Release);
            EngineEvent::ScalingDisconnected {
                error: format!("{}: {}", self.redis_address(), error()),
            }
        });
    }

    /// Handles one message from the pub/sub channel: every presence change, and what other
    /// nodes sent.
    fn receive(&self, node: &dyn LocalNode, envelope: Envelope) {
        let from_here = envelope.node == self.node_id;
        if !from_here {
            self.received.fetch_add(1, Ordering::Relaxed);
        }
        match envelope.message {
            // Presence changes reach every node in the order Redis counted them: this one
            // too, unless its sockets heard of the change already.
            Message::Presence(change) => {
                if !(from_here && change.others_only) {
                    presence::deliver_change(node, change);
                }
            }
            _ if from_here => {}
            Message::Deliver { app, items, except } => {
                for item in items {
                    let frame = Frame::from(item.frame);
                    node.deliver(&app, &item.channel, &frame, except.as_deref());
                }
            }
            Message::Terminate { app, user_id } => node.terminate(&app, &user_id),
            Message::Query { app, id, filter } => {
                let census = node.census(&app, &filter);
                self.send_to_others(Message::Answer {
                    to: envelope.node,
                    id,
                    census,
                });
            }
            Message::Answer { to, id, census } if to == self.node_id => {
                if let Some(answers) = self.questions.lock().get(&id) {
                    let _ = answers.send(census);
                }
            }
            Message::Answer { .. } => {}
        }
    }
}

impl Peers for Cluster {
    fn shares_presence(&self) -> bool {
        true
    }

    fn deliver(&self, app_id: &str, items: &[(&str, Frame)], except: Option<&str>) {
        let items = items
            .iter()
            .map(|(channel, frame)| Delivery {
                channel: channel.to_string(),
                frame: frame.as_str().to_string(),
            })
            .collect();
        self.send_deliveries(app_id, items, except);
    }

    fn terminate(&self, app_id: &str, user_id: &str) {
        self.send_to_others(Message::Terminate {
            app: app_id.to_string(),
            user_id: user_id.to_string(),
        });
    }

    fn store_cached(&self, app_id: &str, channel: &str, frame: &Frame, ttl: Duration) {
        self.enqueue(Outgoing::Cache {
            key: self.keys.cache(app_id, channel),
            frame: frame.as_str().to_string(),
            ttl,
        });
    }

    fn cached_event<'a>(
        &'a self,
        app_id: &'a str,
        channel: &'a str,
    ) -> BoxFuture<'a, Option<(Frame, Duration)>> {
        Box::pin(self.read_cached(app_id, channel))
    }

    fn ask<'a>(&'a self, app_id: &'a str, filter: Filter) -> BoxFuture<'a, Vec<Census>> {
        Box::pin(self.ask_nodes(app_id, filter))
    }

    fn join<'a>(
        &'a self,
        app_id: &'a str,
        channel: &'a str,
        socket_id: &'a str,
        member: &'a MemberData,
    ) -> BoxFuture<'a, Joined> {
        Box::pin(self.join_presence(app_id, channel, socket_id, member))
    }

    fn members<'a>(&'a self, app_id: &'a str, channel: &'a str) -> BoxFuture<'a, Joined> {
        Box::pin(self.presence_members(app_id, channel))
    }

    fn leave<'a>(
        &'a self,
        app_id: &'a str,
        channel: &'a str,
        member_key: &'a str,
    ) -> BoxFuture<'a, Left> {
        Box::pin(self.leave_presence(app_id, channel, member_key))
    }

    fn occupy<'a>(&'a self, app_id: &'a str, subject: &'a str) -> BoxFuture<'a, Tally> {
        Box::pin(self.tally(app_id, subject, true))
    }

    fn vacate<'a>(&'a self, app_id: &'a str, subject: &'a str) -> BoxFuture<'a, Tally> {
        Box::pin(self.tally(app_id, subject, false))
    }

    fn status(&self) -> Option<ScalingStatus> {
        Some(self.current_status())
    }
}

fn timed_out() -> redis::RedisError {
    redis::RedisError::from((redis::ErrorKind::Io, "Redis did not answer in time"))
}

fn unreachable() -> redis::RedisError {
    redis::RedisError::from((redis::ErrorKind::Client, "Redis is not reachable right now"))
}
