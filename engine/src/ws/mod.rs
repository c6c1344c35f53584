//! One task per WebSocket: the read loop, the send queue, keep-alive pings and close codes.
//!
//! The task owns the socket. Other tasks reach it only through its [`Connection`] handle
//! (queue a frame, ask it to close). Everything the socket subscribed to is left again when
//! the task ends, whatever ended it.

pub mod connection;
mod frame;
pub mod origin;
pub mod rate_limit;
pub mod transport;

use crate::app::{App, ConnectionSlot};
use crate::auth;
use crate::channels::name::{Access, ChannelKind};
use crate::channels::presence::MemberData;
use crate::config::ClientEventsFrom;
use crate::events::EngineEvent;
use crate::protocol::{frames, ClientMessage, PusherError};
use crate::state::ServerState;
use crate::users::MAX_WATCHLIST;
use connection::{Connection, Frame};
use rate_limit::RateLimiter;
use serde_json::Value;
use std::collections::HashMap;
use std::future::{poll_fn, Future};
use std::net::IpAddr;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;
use tokio::io::AsyncRead;
use tokio::time::{sleep_until, Instant};
use tokio_tungstenite::tungstenite::error::{CapacityError, Error as WsError};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;
use transport::Transport;

/// The close code and reason for a message over `max_message_size`, as Reverb sends them.
const MESSAGE_TOO_BIG: (u16, &str) = (1009, "Maximum message size exceeded");

/// The tungstenite settings for one socket of `app`: small buffers, the app's size limit.
pub fn socket_config(app: Option<&App>) -> WebSocketConfig {
    let max_message_size = app.map_or(64 * 1024, |app| app.config.max_message_size);
    WebSocketConfig::default()
        .read_buffer_size(512)
        .write_buffer_size(0)
        .max_message_size(Some(max_message_size))
        .max_frame_size(Some(max_message_size))
}

/// Serves one upgraded socket until it closes. `app` is `None` for an unknown key.
pub async fn serve<R>(
    transport: Transport<R>,
    app: Option<Arc<App>>,
    origin: Option<String>,
    client: IpAddr,
    state: Arc<ServerState>,
) where
    R: AsyncRead + Unpin,
{
    let Some(app) = app else {
        return reject(transport, PusherError::ApplicationDoesNotExist).await;
    };
    if !origin::is_allowed(origin.as_deref(), &app.config.allowed_origins) {
        return reject(transport, PusherError::OriginNotAllowed).await;
    }
    let Some(slot) = app.try_connect() else {
        return reject(transport, PusherError::OverConnectionQuota).await;
    };
    let connection = transport.connection().clone();
    let rate_limiter = app.config.rate_limit.map(RateLimiter::new);
    let mut socket = Socket {
        transport,
        app,
        state,
        connection,
        subscriptions: HashMap::new(),
        user: None,
        rate_limiter,
        last_seen: Instant::now(),
        pinged: false,
        uses_control_frames: false,
        _slot: slot,
    };
    socket.run(origin, client).await;
}

/// Sends an error to a socket that may not connect, then closes it with the error's code.
async fn reject<R>(mut transport: Transport<R>, error: PusherError)
where
    R: AsyncRead + Unpin,
{
    if transport
        .connection()
        .send(Frame::from(frames::error(&error)))
    {
        transport.close(error.code(), &error.message()).await;
    }
    transport.connection().finish();
}

/// Runs a write unless the socket is abandoned first: someone asked it to close (its queue
/// overflowed, the user was terminated), the server stops, or the client has not taken the
/// data for `limit`. A socket stuck that way is dropped, not waited for. Returns whether the
/// write completed.
///
/// Most writes complete at once (the kernel takes the bytes), so the write is polled once
/// before the close signals and the timer, which cost a registration each, are set up.
async fn unless_abandoned<E>(
    write: impl Future<Output = Result<(), E>>,
    connection: &Connection,
    shutdown: &CancellationToken,
    limit: Duration,
) -> bool {
    let mut write = std::pin::pin!(write);
    if let Poll::Ready(result) = poll_fn(|cx| Poll::Ready(write.as_mut().poll(cx))).await {
        return result.is_ok();
    }
    tokio::select! {
        biased;
        result = write => result.is_ok(),
        _ = connection.close_requested() => false,
        _ = shutdown.cancelled() => false,
        _ = tokio::time::sleep(limit) => false,
    }
}

fn flow_of(ok: bool) -> Flow {
    if ok {
        Flow::Continue
    } else {
        Flow::Stop
    }
}

/// Reads a sign-in's `user_data`: a JSON object with a non-empty string `id` and an optional
/// `watchlist` of user ids.
fn parse_user_data(user_data: &str) -> Result<(String, Vec<String>), PusherError> {
    let invalid =
        |detail: &str| PusherError::InvalidMessage(format!("Invalid user_data: {detail}"));
    let Ok(Value::Object(data)) = serde_json::from_str::<Value>(user_data) else {
        return Err(invalid("it must be a JSON object"));
    };
    let id = match data.get("id") {
        Some(Value::String(id)) if !id.is_empty() => id.clone(),
        _ => return Err(invalid("\"id\" must be a non-empty string")),
    };
    let watchlist = match data.get("watchlist") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(ids)) => ids
            .iter()
            .map(|id| match id {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                _ => Err(invalid("\"watchlist\" must list user ids")),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(invalid("\"watchlist\" must be an array")),
    };
    Ok((id, watchlist))
}

/// What woke the socket task.
enum Wakeup {
    Incoming(Option<Result<Message, WsError>>),
    Outgoing,
    CloseRequested(PusherError),
    PingDue,
}

/// How the socket task goes on after handling a wakeup.
enum Flow {
    Continue,
    Close(u16, String),
    Stop,
}

/// The user a socket signed in as, and the users it watches.
struct SignedIn {
    id: String,
    watchlist: Vec<String>,
}

/// The socket no longer takes frames: it is closing or its peer is gone.
struct Gone;

struct Socket<R> {
    transport: Transport<R>,
    app: Arc<App>,
    state: Arc<ServerState>,
    connection: Arc<Connection>,
    /// Channels this socket is subscribed to, with the user id it joined presence ones as.
    subscriptions: HashMap<String, Option<Value>>,
    user: Option<SignedIn>,
    rate_limiter: Option<RateLimiter>,
    last_seen: Instant,
    pinged: bool,
    uses_control_frames: bool,
    _slot: ConnectionSlot,
}

impl<R> Socket<R>
where
    R: AsyncRead + Unpin,
{
    async fn run(&mut self, origin: Option<String>, client: IpAddr) {
        let established = frames::connection_established(
            self.connection.socket_id(),
            self.app.config.activity_timeout,
        );
        if self.write(established).is_ok() {
            self.report(|app_id, socket_id| EngineEvent::ConnectionOpened {
                app_id,
                socket_id,
                origin,
                ip: client.to_string(),
            });
            self.serve_until_closed().await;
            self.report(|app_id, socket_id| EngineEvent::ConnectionClosed { app_id, socket_id });
        }
        self.connection.finish();
        self.leave_all_channels();
        self.sign_out();
    }

    async fn serve_until_closed(&mut self) {
        let ping_interval = self.app.config.ping_interval;
        let mut ping_due = Box::pin(sleep_until(self.last_seen + ping_interval));
        // The two close signals wait across iterations: registered once, not at every wakeup.
        let (connection, shutdown) = (self.connection.clone(), self.state.shutdown.clone());
        let mut close_requested = std::pin::pin!(connection.close_requested());
        let mut shutting_down = std::pin::pin!(shutdown.cancelled());
        loop {
            let wakeup = tokio::select! {
                _ = &mut shutting_down => Wakeup::CloseRequested(PusherError::ServerShuttingDown),
                reason = &mut close_requested => Wakeup::CloseRequested(reason),
                _ = connection.frames_queued() => Wakeup::Outgoing,
                message = self.transport.next() => Wakeup::Incoming(message),
                _ = &mut ping_due => Wakeup::PingDue,
            };
            let flow = match wakeup {
                Wakeup::Incoming(message) => self.on_incoming(message).await,
                Wakeup::Outgoing => self.deliver().await,
                Wakeup::CloseRequested(reason) => self.fail(reason),
                Wakeup::PingDue => {
                    let flow = self.on_ping_due().await;
                    // A pinged socket gets a full interval to answer; otherwise the next
                    // check is one interval after it was last heard from.
                    let next = if self.pinged {
                        Instant::now() + ping_interval
                    } else {
                        self.last_seen + ping_interval
                    };
                    ping_due.as_mut().reset(next);
                    flow
                }
            };
            match flow {
                Flow::Continue => {}
                Flow::Close(code, reason) => {
                    self.transport.close(code, &reason).await;
                    return;
                }
                Flow::Stop => return,
            }
        }
    }

    async fn on_incoming(&mut self, message: Option<Result<Message, WsError>>) -> Flow {
        let message = match message {
            Some(Ok(message)) => message,
            Some(Err(WsError::Capacity(CapacityError::MessageTooLong { .. }))) => {
                return Flow::Close(MESSAGE_TOO_BIG.0, MESSAGE_TOO_BIG.1.to_string());
            }
            Some(Err(_)) | None => return Flow::Stop,
        };
        self.last_seen = Instant::now();
        self.pinged = false;
        match message {
            Message::Text(text) => self.on_text(text.as_str()).await,
            Message::Binary(bytes) => match std::str::from_utf8(&bytes) {
                Ok(text) => self.on_text(text).await,
                Err(_) => {
                    let error = PusherError::InvalidMessage(
                        "Invalid message format: binary frames must hold UTF-8 JSON".into(),
                    );
                    self.send_error(error).await
                }
            },
            Message::Ping(_) | Message::Pong(_) => {
                // The transport queued the pong for a ping already.
                self.uses_control_frames = true;
                Flow::Continue
            }
            Message::Close(_) | Message::Frame(_) => Flow::Continue,
        }
    }

    async fn on_text(&mut self, text: &str) -> Flow {
        self.app.count_received();
        if let Some(limiter) = &mut self.rate_limiter {
            if !limiter.allow() {
                let terminate = limiter.terminates();
                return self
                    .send_error(PusherError::RateLimited { terminate })
                    .await;
            }
        }
        let message = match ClientMessage::parse(text) {
            Ok(message) => message,
            Err(error) => return self.send_error(error).await,
        };
        let event = message.event().to_string();
        let channel = message.channel().map(str::to_string);
        let handled = match message {
            ClientMessage::Ping => self.write(frames::pong()).map_err(|_| None),
            ClientMessage::Pong | ClientMessage::Ignored { .. } => Ok(()),
            ClientMessage::Subscribe {
                channel,
                auth,
                channel_data,
            } => self.subscribe(channel, auth, channel_data).await,
            ClientMessage::Signin { auth, user_data } => self.sign_in(auth, user_data).await,
            ClientMessage::Unsubscribe { channel } => {
                self.unsubscribe(&channel);
                Ok(())
            }
            ClientMessage::ClientEvent {
                event,
                channel,
                data,
            } => self.relay_client_event(&event, &channel, &data),
        };
        match handled {
            Ok(()) => {
                self.report(|app_id, socket_id| EngineEvent::MessageReceived {
                    app_id,
                    socket_id,
                    event,
                    channel,
                    message: text.to_string(),
                });
                Flow::Continue
            }
            Err(Some(error)) => self.send_error(error).await,
            Err(None) => Flow::Stop,
        }
    }

    /// Subscribes to a channel once its auth checks out. `Err(None)` means the socket broke
    /// while answering.
    async fn subscribe(
        &mut self,
        channel: String,
        auth: Option<String>,
        channel_data: Option<String>,
    ) -> Result<(), Option<PusherError>> {
        let kind = ChannelKind::of(&channel)?;
        let member = self.authorize(&channel, &kind, auth.as_deref(), channel_data.as_deref())?;
        let outcome = self
            .app
            .subscribe(&channel, &self.connection, member.as_ref())
            .await?;
        if outcome.channel_created {
            let name = channel.clone();
            self.report(|app_id, _| EngineEvent::ChannelCreated {
                app_id,
                channel: name,
            });
        }
        self.subscriptions
            .insert(channel.clone(), member.map(|m| m.user_id));
        let name = channel.clone();
        self.report(|app_id, socket_id| EngineEvent::Subscribed {
            app_id,
            socket_id,
            channel: name,
        });
        self.write(frames::subscription_succeeded(&channel, &outcome.payload))
            .map_err(|_| None)?;
        if kind.cached {
            let sent = match self.app.cached_event(&channel).await {
                Some((frame, _)) => {
                    self.app.count_sent(1);
                    self.send(frame)
                }
                None => self.write(frames::cache_miss(&channel)),
            };
            sent.map_err(|_| None)?;
        }
        Ok(())
    }

    /// Checks who may subscribe to `channel`; returns the presence member to join as.
    fn authorize(
        &self,
        channel: &str,
        kind: &ChannelKind,
        auth: Option<&str>,
        channel_data: Option<&str>,
    ) -> Result<Option<MemberData>, PusherError> {
        let socket_id = self.connection.socket_id();
        let config = &self.app.config;
        match &kind.access {
            Access::Public => Ok(None),
            Access::Private => auth::verify_channel(config, socket_id, channel, channel_data, auth)
                .then_some(None)
                .ok_or(PusherError::Unauthorized),
            Access::Presence => {
                if !auth::verify_channel(config, socket_id, channel, channel_data, auth) {
                    return Err(PusherError::Unauthorized);
                }
                MemberData::parse(channel_data, config.max_presence_user_info_bytes).map(Some)
            }
            Access::ServerToUser(user_id) => match &self.user {
                Some(user) if &user.id == user_id => Ok(None),
                _ => Err(PusherError::Unauthorized),
            },
        }
    }

    /// Signs the socket in as a user (`pusher:signin`) and starts its watchlist.
    async fn sign_in(
        &mut self,
        auth: Option<String>,
        user_data: String,
    ) -> Result<(), Option<PusherError>> {
        let socket_id = self.connection.socket_id().clone();
        if !auth::verify_user(&self.app.config, &socket_id, &user_data, auth.as_deref()) {
            return Err(Some(PusherError::Unauthorized));
        }
        let (id, mut watchlist) = parse_user_data(&user_data)?;
        if let Some(current) = &self.user {
            if current.id != id {
                return Err(Some(PusherError::Unauthorized));
            }
            return self
                .write(frames::signin_success(&user_data))
                .map_err(|_| None);
        }
        let watchlist_too_long = watchlist.len() > MAX_WATCHLIST;
        watchlist.truncate(MAX_WATCHLIST);
        self.app.users.sign_in(&id, &self.connection);
        let (online, offline) = self.app.users.watch(&self.connection, &watchlist);
        self.user = Some(SignedIn { id, watchlist });
        self.write(frames::signin_success(&user_data))
            .map_err(|_| None)?;
        if watchlist_too_long {
            self.write(frames::error(&PusherError::WatchlistTooLong))
                .map_err(|_| None)?;
        }
        if let Some(frame) = frames::watchlist_events(&online, &offline) {
            self.write(frame).map_err(|_| None)?;
        }
        Ok(())
    }

    fn sign_out(&mut self) {
        if let Some(user) = self.user.take() {
            let socket_id = self.connection.socket_id();
            self.app.users.sign_out(&user.id, socket_id);
            self.app.users.unwatch(socket_id, &user.watchlist);
        }
    }

    fn unsubscribe(&mut self, channel: &str) {
        if self.subscriptions.remove(channel).is_some() {
            self.leave(channel);
        }
    }

    fn leave_all_channels(&mut self) {
        for channel in std::mem::take(&mut self.subscriptions).into_keys() {
            self.leave(&channel);
        }
    }

    fn leave(&self, channel: &str) {
        let Some(outcome) = self.app.unsubscribe(channel, self.connection.socket_id()) else {
            return;
        };
        self.report(|app_id, socket_id| EngineEvent::Unsubscribed {
            app_id,
            socket_id,
            channel: channel.to_string(),
        });
        if outcome.channel_removed {
            self.report(|app_id, _| EngineEvent::ChannelRemoved {
                app_id,
                channel: channel.to_string(),
            });
        }
    }

    fn relay_client_event(
        &self,
        event: &str,
        channel: &str,
        data: &Value,
    ) -> Result<(), Option<PusherError>> {
        let membership = self.subscriptions.get(channel);
        match self.app.config.accept_client_events_from {
            ClientEventsFrom::None => return Err(Some(PusherError::ClientEventsDisabled)),
            ClientEventsFrom::Members if membership.is_none() => {
                return Err(Some(PusherError::NotAMember))
            }
            ClientEventsFrom::Members | ClientEventsFrom::All => {}
        }
        let user_id = membership.and_then(Option::as_ref);
        let frame = Frame::from(frames::client_event(event, channel, data, user_id));
        self.app.relay(channel, frame, self.connection.socket_id());
        Ok(())
    }

    async fn on_ping_due(&mut self) -> Flow {
        let interval = self.app.config.ping_interval;
        if self.last_seen.elapsed() < interval {
            return Flow::Continue;
        }
        if self.pinged {
            self.report(|app_id, socket_id| EngineEvent::ConnectionPruned { app_id, socket_id });
            return self.fail(PusherError::PongNotReceived);
        }
        self.pinged = true;
        let sent = if self.uses_control_frames {
            self.transport
                .send_control(Message::Ping(Default::default()))
                .await
        } else {
            self.write(frames::ping()).is_ok()
        };
        flow_of(sent)
    }

    /// Writes the frames senders could not write at once, several per flush.
    async fn deliver(&mut self) -> Flow {
        let report = self
            .state
            .config
            .report_sent_messages
            .then_some(&self.state.events);
        let (app_id, socket_id) = (&self.app.config.app_id, self.connection.socket_id());
        let written = self.transport.flush(|frame: &Frame| {
            if let (Some(events), true) = (report, frame.is_text()) {
                events.push(EngineEvent::MessageSent {
                    app_id: app_id.clone(),
                    socket_id: socket_id.to_string(),
                    message: frame.as_str().to_string(),
                });
            }
        });
        let limit = self.app.config.ping_interval;
        flow_of(unless_abandoned(written, &self.connection, &self.state.shutdown, limit).await)
    }

    /// Sends `error` as `pusher:error`; closes the socket when the error calls for it.
    async fn send_error(&mut self, error: PusherError) -> Flow {
        if error.closes_connection() {
            return self.fail(error);
        }
        flow_of(self.write(frames::error(&error)).is_ok())
    }

    fn fail(&mut self, error: PusherError) -> Flow {
        match self.write(frames::error(&error)) {
            Ok(()) => Flow::Close(error.code(), error.message()),
            Err(Gone) => Flow::Stop,
        }
    }

    /// Sends one Pusher message to this socket.
    fn write(&self, frame: String) -> Result<(), Gone> {
        self.app.count_sent(1);
        self.send(Frame::from(frame))
    }

    fn send(&self, frame: Frame) -> Result<(), Gone> {
        self.connection.send(frame).then_some(()).ok_or(Gone)
    }

    fn report(&self, event: impl FnOnce(String, String) -> EngineEvent) {
        self.state.events.push(event(
            self.app.config.app_id.clone(),
            self.connection.socket_id().to_string(),
        ));
    }
}
