//! One task per WebSocket: the read loop, the send queue, keep-alive pings and close codes.
//!
//! The task owns the socket. Other tasks reach it only through its [`Connection`] handle
//! (send a frame, ask it to close). Everything the socket subscribed to is left again when
//! the task ends, whatever ended it.
//!
//! - [`transport`]: the socket's bytes: tungstenite reads, the send queue writes.
//! - [`session`]: the task's loop: read, ping, prune, deliver, close.
//! - [`subscriptions`]: `pusher:subscribe` and `pusher:unsubscribe`.
//! - [`signin`]: `pusher:signin` and watchlists.
//! - [`client_events`]: `client-*` events relayed to the channel.
//! - [`origin`], [`rate_limit`]: who may connect, and how fast a socket may send.
//!
//! [`Connection`]: crate::socket::Connection

mod client_events;
mod origin;
mod rate_limit;
mod session;
mod signin;
mod subscriptions;
pub mod transport;

use crate::app::App;
use crate::protocol::{frames, PusherError};
use crate::socket::Frame;
use crate::state::ServerState;
use crate::traffic::RefusalReason;
use session::Session;
use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::io::AsyncRead;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use transport::Transport;

/// The tungstenite settings for one socket of `app`: small buffers, the app's size limit.
pub fn socket_config(app: Option<&App>) -> WebSocketConfig {
    let max_message_size = app.map_or(64 * 1024, |app| app.config().max_message_size);
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
        state
            .unknown_app_connections
            .fetch_add(1, Ordering::Relaxed);
        return reject(transport, PusherError::ApplicationDoesNotExist).await;
    };
    if !origin::is_allowed(origin.as_deref(), &app.config().allowed_origins) {
        app.count_refused(RefusalReason::OriginNotAllowed);
        return reject(transport, PusherError::OriginNotAllowed).await;
    }
    let Some(slot) = app.try_connect() else {
        app.count_refused(RefusalReason::OverConnectionQuota);
        return reject(transport, PusherError::OverConnectionQuota).await;
    };
    Session::new(transport, app, state, slot)
        .run(origin, client)
        .await;
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
