//! The handle other tasks hold to reach one socket: a bounded send queue and a close signal.
//!
//! Channels store `Arc<Connection>`s. Sending never blocks and never grows memory without
//! bound: when a socket's queue is full the socket is closed with 4100 instead. The queue is
//! a plain deque that allocates only while frames wait, so an idle socket costs nothing here
//! (a channel would keep a block of slots allocated for every socket).

use crate::protocol::PusherError;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Waker};
use tokio::sync::Notify;
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

/// Frames waiting to be written, whether the socket still takes any, and the socket task
/// to wake when a frame arrives (set while it waits for frames).
struct SendQueue {
    frames: VecDeque<Frame>,
    open: bool,
    waiter: Option<Waker>,
}

/// One connected socket as seen from outside its own task.
pub struct Connection {
    socket_id: SocketId,
    queue: Mutex<SendQueue>,
    capacity: usize,
    close_reason: OnceLock<PusherError>,
    close_requested: Notify,
}

impl Connection {
    /// Creates the handle of a socket whose queue holds at most `capacity` frames.
    pub fn new(socket_id: SocketId, capacity: usize) -> Arc<Connection> {
        Arc::new(Connection {
            socket_id,
            queue: Mutex::new(SendQueue {
                frames: VecDeque::new(),
                open: true,
                waiter: None,
            }),
            capacity,
            close_reason: OnceLock::new(),
            close_requested: Notify::new(),
        })
    }

    /// The socket's Pusher id.
    pub fn socket_id(&self) -> &SocketId {
        &self.socket_id
    }

    /// Queues a frame; returns whether it was queued. A full queue closes the socket (4100).
    pub fn send(&self, frame: Frame) -> bool {
        let waiter = {
            let mut queue = self.queue.lock();
            if !queue.open {
                return false;
            }
            if queue.frames.len() >= self.capacity {
                drop(queue);
                self.close(PusherError::OverCapacity);
                return false;
            }
            queue.frames.push_back(frame);
            queue.waiter.take()
        };
        if let Some(waiter) = waiter {
            waiter.wake();
        }
        true
    }

    /// Waits for queued frames and moves up to `max` of them into `batch`, oldest first.
    pub async fn next_frames(&self, batch: &mut Vec<Frame>, max: usize) {
        poll_fn(|cx| self.poll_frames(cx, batch, max)).await
    }

    /// Moves up to `max` queued frames into `batch`, or remembers to wake `cx` for the next
    /// frame. The waker lives under the queue's lock: a frame costs one lock and, only when
    /// the task waits, one wake-up.
    fn poll_frames(&self, cx: &mut Context<'_>, batch: &mut Vec<Frame>, max: usize) -> Poll<()> {
        let mut queue = self.queue.lock();
        if !queue.frames.is_empty() {
            let count = queue.frames.len().min(max);
            batch.extend(queue.frames.drain(..count));
            return Poll::Ready(());
        }
        if !queue
            .waiter
            .as_ref()
            .is_some_and(|waiter| waiter.will_wake(cx.waker()))
        {
            queue.waiter = Some(cx.waker().clone());
        }
        Poll::Pending
    }

    /// Called when the socket is gone: later frames are refused and waiting ones freed.
    pub fn finish(&self) {
        let mut queue = self.queue.lock();
        queue.open = false;
        queue.frames = VecDeque::new();
        queue.waiter = None;
    }

    /// Asks the socket task to send `reason` and close. The first reason wins.
    pub fn close(&self, reason: PusherError) {
        if self.close_reason.set(reason).is_ok() {
            // Every waiter: the socket task may wait in more than one place at once.
            self.close_requested.notify_waiters();
        }
    }

    /// Resolves once someone asked this socket to close, with the reason.
    pub async fn close_requested(&self) -> PusherError {
        loop {
            // Registered before the check, so that a close in between is not missed.
            let mut notified = std::pin::pin!(self.close_requested.notified());
            notified.as_mut().enable();
            if let Some(reason) = self.close_reason.get() {
                return reason.clone();
            }
            notified.await;
        }
    }
}
