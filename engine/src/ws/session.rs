//! The socket task's loop: it reads the client's messages and hands each to its handler,
//! writes what senders queued, pings a quiet client and prunes one that does not answer,
//! and closes with the Pusher code that ended the session.

use super::rate_limit::RateLimiter;
use super::transport::Transport;
use crate::app::{App, ConnectionSlot};
use crate::events::EngineEvent;
use crate::protocol::{close, frames, ClientMessage, PusherError};
use crate::socket::{Connection, Frame};
use crate::state::ServerState;
use crate::traffic::CloseReason;
use serde_json::Value;
use std::collections::HashMap;
use std::future::{poll_fn, Future};
use std::net::IpAddr;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;
use tokio::io::AsyncRead;
use tokio::time::{sleep_until, Instant};
use tokio_tungstenite::tungstenite::error::Error as WsError;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

/// Runs a write unless the socket is abandoned first: someone asked it to close (its queue
/// overflowed, the user was terminated), the server stops, or the client has not taken the
/// data for `limit`. A socket stuck that way is not waited for: one asked to close still gets
/// its last words, one that took nothing for `limit` is dropped. Returns how the write ended.
///
/// Most writes complete at once (the kernel takes the bytes), so the write is polled once
/// before the close signals and the timer, which cost a registration each, are set up.
async fn unless_abandoned<E>(
    write: impl Future<Output = Result<(), E>>,
    connection: &Connection,
    shutdown: &CancellationToken,
    limit: Duration,
) -> WriteEnd {
    let ended = |result: Result<(), E>| match result {
        Ok(()) => WriteEnd::Done,
        Err(_) => WriteEnd::Failed,
    };
    let mut write = std::pin::pin!(write);
    if let Poll::Ready(result) = poll_fn(|cx| Poll::Ready(write.as_mut().poll(cx))).await {
        return ended(result);
    }
    tokio::select! {
        biased;
        result = write => ended(result),
        reason = connection.close_requested() => WriteEnd::Abandoned(reason),
        _ = shutdown.cancelled() => WriteEnd::Abandoned(PusherError::ServerShuttingDown),
        _ = tokio::time::sleep(limit) => WriteEnd::Failed,
    }
}

/// How a write that may be abandoned ended.
enum WriteEnd {
    /// Everything was written.
    Done,
    /// The peer is gone, or took nothing for too long.
    Failed,
    /// The socket must close for this reason: it still gets its last words.
    Abandoned(PusherError),
}

/// Goes on when `ok`, stops otherwise.
pub(super) fn flow_of(ok: bool) -> Flow {
    if ok {
        Flow::Continue
    } else {
        Flow::Stop
    }
}

/// What woke the socket task.
enum Wakeup {
    Incoming(Option<Result<Message, WsError>>),
    Outgoing,
    CloseRequested(PusherError),
    PingDue,
}

/// How the socket task goes on after handling a wakeup.
pub(super) enum Flow {
    Continue,
    Close(u16, String),
    Stop,
}

/// The user a socket signed in as, and the users it watches.
pub(super) struct SignedIn {
    /// The user id.
    pub(super) id: String,
    /// The user ids it watches.
    pub(super) watchlist: Vec<String>,
}

/// The socket no longer takes frames: it is closing or its peer is gone.
pub(super) struct Gone;

/// One socket's session, owned by its task.
pub(super) struct Session<R> {
    transport: Transport<R>,
    /// The app the socket connected to.
    pub(super) app: Arc<App>,
    state: Arc<ServerState>,
    /// The handle other tasks reach the socket by.
    pub(super) connection: Arc<Connection>,
    /// Channels this socket is subscribed to, with the user id it joined presence ones as.
    pub(super) subscriptions: HashMap<String, Option<Value>>,
    /// The user the socket signed in as.
    pub(super) user: Option<SignedIn>,
    rate_limiter: Option<RateLimiter>,
    /// Counts the client events this socket relays, against `max_client_events_per_second`.
    pub(super) client_event_limiter: Option<RateLimiter>,
    last_seen: Instant,
    pinged: bool,
    uses_control_frames: bool,
    /// The app's connection slot, told why the socket closes.
    slot: ConnectionSlot,
}

impl<R> Session<R>
where
    R: AsyncRead + Unpin,
{
    /// A new session on a socket of `app` that holds one of its connection slots.
    pub(super) fn new(
        transport: Transport<R>,
        app: Arc<App>,
        state: Arc<ServerState>,
        slot: ConnectionSlot,
    ) -> Session<R> {
        let connection = transport.connection().clone();
        let rate_limiter = app.config().rate_limit.map(RateLimiter::new);
        let client_event_limiter = app
            .config()
            .max_client_events_per_second
            .map(RateLimiter::per_second);
        Session {
            transport,
            app,
            state,
            connection,
            subscriptions: HashMap::new(),
            user: None,
            rate_limiter,
            client_event_limiter,
            last_seen: Instant::now(),
            pinged: false,
            uses_control_frames: false,
            slot,
        }
    }

    /// Serves the socket until it closes, then leaves its channels, signs it out and reports
    /// it closed.
    pub(super) async fn run(&mut self, origin: Option<String>, client: IpAddr) {
        let established = frames::connection_established(
            self.connection.socket_id(),
            self.app.config().activity_timeout,
        );
        let opened = self.write(established).is_ok();
        if opened {
            self.report(|app_id, socket_id| EngineEvent::ConnectionOpened {
                app_id,
                socket_id,
                origin,
                ip: client.to_string(),
            });
            self.serve_until_closed().await;
        }
        self.connection.finish();
        self.leave_all_channels();
        self.sign_out();
        // The socket's last event: its channels are left by the time the host hears of it.
        if opened {
            self.report(|app_id, socket_id| EngineEvent::ConnectionClosed { app_id, socket_id });
        }
    }

    async fn serve_until_closed(&mut self) {
        let ping_interval = self.app.config().ping_interval;
        let mut ping_due = Box::pin(sleep_until(self.last_seen + ping_interval));
        // The two close signals wait across iterations: registered once, not at every wakeup.
        let (connection, shutdown) = (self.connection.clone(), self.state.shutdown.clone());
        let app = self.app.clone();
        let mut close_requested = std::pin::pin!(connection.close_requested());
        let mut shutting_down = std::pin::pin!(shutdown.cancelled());
        let mut app_closed = std::pin::pin!(app.closed());
        loop {
            let wakeup = tokio::select! {
                _ = &mut shutting_down => Wakeup::CloseRequested(PusherError::ServerShuttingDown),
                reason = &mut close_requested => Wakeup::CloseRequested(reason),
                reason = &mut app_closed => Wakeup::CloseRequested(reason),
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
            Some(Err(error)) => {
                return match close::close_for(&error) {
                    Some((code, reason)) => {
                        self.slot.closing(CloseReason::ProtocolError);
                        Flow::Close(code, reason.to_string())
                    }
                    None => Flow::Stop,
                }
            }
            None => {
                self.slot.closing(CloseReason::ClientClosed);
                return Flow::Stop;
            }
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
        self.app.count_received(text.len());
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
                if self.state.config.report_received_messages {
                    self.report(|app_id, socket_id| EngineEvent::MessageReceived {
                        app_id,
                        socket_id,
                        event,
                        channel,
                        message: text.to_string(),
                    });
                }
                Flow::Continue
            }
            Err(Some(error)) => self.send_error(error).await,
            Err(None) => Flow::Stop,
        }
    }

    async fn on_ping_due(&mut self) -> Flow {
        let interval = self.app.config().ping_interval;
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
        let (app_id, socket_id) = (&self.app.id(), self.connection.socket_id());
        let written = self.transport.flush(|frame: &Frame| {
            if let (Some(events), true) = (report, frame.is_text()) {
                events.push(EngineEvent::MessageSent {
                    app_id: app_id.to_string(),
                    socket_id: socket_id.to_string(),
                    message: frame.as_str().to_string(),
                });
            }
        });
        let limit = self.app.config().ping_interval;
        match unless_abandoned(written, &self.connection, &self.state.shutdown, limit).await {
            WriteEnd::Done => Flow::Continue,
            WriteEnd::Failed => Flow::Stop,
            WriteEnd::Abandoned(reason) => self.fail(reason),
        }
    }

    /// Sends `error` as `pusher:error`; closes the socket when the error calls for it.
    pub(super) async fn send_error(&mut self, error: PusherError) -> Flow {
        if error.closes_connection() {
            return self.fail(error);
        }
        flow_of(self.write(frames::error(&error)).is_ok())
    }

    /// Ends the session for `error`: sends it as the socket's last words, then closes with
    /// its code. Taken even from a socket closing for being too far behind.
    pub(super) fn fail(&mut self, error: PusherError) -> Flow {
        self.slot.closing(CloseReason::of(&error));
        let last_words = Frame::from(frames::error(&error));
        self.app.count_sent(&last_words, 1);
        match self.connection.send_last_words(last_words) {
            true => Flow::Close(error.code(), error.message()),
            false => Flow::Stop,
        }
    }

    /// Sends one Pusher message to this socket.
    pub(super) fn write(&self, frame: String) -> Result<(), Gone> {
        let frame = Frame::from(frame);
        self.app.count_sent(&frame, 1);
        self.send(frame)
    }

    pub(super) fn send(&self, frame: Frame) -> Result<(), Gone> {
        self.connection.send(frame).then_some(()).ok_or(Gone)
    }

    pub(super) fn report(&self, event: impl FnOnce(String, String) -> EngineEvent) {
        self.state.events.push(event(
            self.app.id().to_string(),
            self.connection.socket_id().to_string(),
        ));
    }
}
