//! The handle other tasks hold to reach one socket: a bounded send queue and a close signal.
//!
//! Channels store `Arc<Connection>`s. Sending never blocks and never grows memory without
//! bound: when a socket's queue is full the socket is closed with 4100 instead.

use crate::protocol::PusherError;
use std::sync::{Arc, OnceLock};
use tokio::sync::{mpsc, Notify};
use tokio_tungstenite::tungstenite::Utf8Bytes;

/// A serialized text frame, shared between every socket it is sent to.
pub type Frame = Utf8Bytes;

/// A socket's Pusher id (`123.456`), cheap to clone into maps and events.
pub type SocketId = Arc<str>;

/// Makes a new random socket id in the `\d+\.\d+` form pusher-js and the server SDKs check.
pub fn new_socket_id() -> SocketId {
    let a: u32 = rand::random_range(1..=1_000_000_000);
    let b: u32 = rand::random_range(1..=1_000_000_000);
    format!("{a}.{b}").into()
}

/// One connected socket as seen from outside its own task.
pub struct Connection {
    socket_id: SocketId,
    outbound: mpsc::Sender<Frame>,
    close_reason: OnceLock<PusherError>,
    close_requested: Notify,
}

impl Connection {
    /// Creates the handle and the receiving end its socket task drains.
    pub fn new(socket_id: SocketId, queue_size: usize) -> (Arc<Connection>, mpsc::Receiver<Frame>) {
        let (outbound, inbound) = mpsc::channel(queue_size);
        let connection = Connection {
            socket_id,
            outbound,
            close_reason: OnceLock::new(),
            close_requested: Notify::new(),
        };
        (Arc::new(connection), inbound)
    }

    /// The socket's Pusher id.
    pub fn socket_id(&self) -> &SocketId {
        &self.socket_id
    }

    /// Queues a frame; returns whether it was queued. A full queue closes the socket (4100).
    pub fn send(&self, frame: Frame) -> bool {
        match self.outbound.try_send(frame) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.close(PusherError::OverCapacity);
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    /// Asks the socket task to send `reason` and close. The first reason wins.
    pub fn close(&self, reason: PusherError) {
        if self.close_reason.set(reason).is_ok() {
            self.close_requested.notify_one();
        }
    }

    /// Resolves once someone asked this socket to close, with the reason.
    pub async fn close_requested(&self) -> PusherError {
        loop {
            if let Some(reason) = self.close_reason.get() {
                return reason.clone();
            }
            self.close_requested.notified().await;
        }
    }
}
