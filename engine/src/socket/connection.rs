//! The handle other tasks hold to reach one socket: its send queue, its write side when
//! anyone may write to it, and a close signal.
//!
//! Channels store `Arc<Connection>`s. Sending never blocks and never grows memory without
//! bound: when a socket's queue is full the socket is closed with 4100 instead. The queue is
//! a plain deque that allocates only while frames wait, so an idle socket costs nothing here.
//!
//! On a plain TCP socket a sender whose frame finds nothing queued writes it to the socket
//! itself, a non-blocking write under the queue's lock: a publish to a thousand idle sockets
//! is a thousand writes, not a thousand task wake-ups. What the kernel does not take at once
//! is queued, and the socket task writes it when the socket is writable. Frames leave in the
//! order they were sent whoever writes them, since a sender writes only when nothing waits
//! before its frame. Otherwise (TLS, or every written frame must be reported) the socket task
//! writes every frame.
//!
//! Who writes is decided here, by the thread that sends: only the engine's own threads write
//! to sockets. The host's thread (PHP publishing in-process) only queues, so it spends a
//! queue push per socket, never a system call.

use super::frame::Frame;
use crate::protocol::PusherError;
use parking_lot::Mutex;
use std::cell::Cell;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Waker};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::Notify;

/// A socket's Pusher id (`123.456`), cheap to clone into maps and events.
pub type SocketId = Arc<str>;

/// How many queued frames one vectored write takes at most.
const FRAMES_PER_WRITE: usize = 64;

/// Makes a new random socket id in the `\d+\.\d+` form pusher-js and the server SDKs check.
pub fn new_socket_id() -> SocketId {
    let a: u32 = rand::random_range(1..=1_000_000_000);
    let b: u32 = rand::random_range(1..=1_000_000_000);
    format!("{a}.{b}").into()
}

thread_local! {
    /// Whether this thread is one of the engine's, which may write to sockets directly.
    static ENGINE_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// Marks the calling thread as one of the engine's: its sends write to sockets directly.
/// The runtime calls it on every thread it starts.
pub fn mark_engine_thread() {
    ENGINE_THREAD.set(true);
}

/// Frames waiting to be written, and who may write them.
struct SendQueue {
    frames: VecDeque<Frame>,
    /// How many bytes of the first frame are already on the wire.
    written: usize,
    open: bool,
    /// The socket task, while it waits for frames.
    waiter: Option<Waker>,
    /// The socket's write side, when senders may write to it themselves.
    direct: Option<OwnedWriteHalf>,
    /// A write failed: the peer is gone.
    broken: bool,
}

impl SendQueue {
    fn wake(&mut self) {
        if let Some(waiter) = self.waiter.take() {
            waiter.wake();
        }
    }

    /// Marks the socket gone after a failed write; its task finds out and ends.
    fn break_off(&mut self) {
        self.broken = true;
        self.open = false;
        self.frames.clear();
        self.wake();
    }

    /// Forgets the first `count` bytes of the queue, which the kernel took.
    fn advance(&mut self, mut count: usize) {
        while let Some(front) = self.frames.front() {
            let left = front.wire().len() - self.written;
            if count < left {
                self.written += count;
                return;
            }
            count -= left;
            self.written = 0;
            self.frames.pop_front();
        }
    }
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
    /// Creates the handle of a socket whose queue holds at most `capacity` frames. With
    /// `direct`, senders write to that socket themselves when nothing is queued.
    pub fn new(
        socket_id: SocketId,
        capacity: usize,
        direct: Option<OwnedWriteHalf>,
    ) -> Arc<Connection> {
        Arc::new(Connection {
            socket_id,
            queue: Mutex::new(SendQueue {
                frames: VecDeque::new(),
                written: 0,
                open: true,
                waiter: None,
                direct,
                broken: false,
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

    /// Sends a frame: written at once when an engine thread sends it and nothing waits
    /// before it, otherwise queued for the socket task. Returns whether it was taken; a full
    /// queue closes the socket (4100).
    pub fn send(&self, frame: Frame) -> bool {
        self.hand_over(frame, ENGINE_THREAD.get())
    }

    /// Queues a frame for the socket task to write, whoever sends it: for fan-outs too big
    /// for one thread to write, which the socket tasks spread over the runtime's cores.
    /// Returns whether it was taken; a full queue closes the socket (4100).
    pub fn enqueue(&self, frame: Frame) -> bool {
        self.hand_over(frame, false)
    }

    /// Hands a frame to the socket, written at once if `may_write` allows it.
    fn hand_over(&self, frame: Frame, may_write: bool) -> bool {
        let mut queue = self.queue.lock();
        if !queue.open {
            return false;
        }
        let attempt = match &queue.direct {
            Some(socket) if may_write && queue.frames.is_empty() => {
                Some(socket.try_write(frame.wire()))
            }
            _ => None,
        };
        if let Some(attempt) = attempt {
            match attempt {
                Ok(count) if count == frame.wire().len() => return true,
                Ok(count) => queue.written = count,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => {
                    queue.break_off();
                    return false;
                }
            }
        }
        if queue.frames.len() >= self.capacity {
            drop(queue);
            self.close(PusherError::OverCapacity);
            return false;
        }
        queue.frames.push_back(frame);
        queue.wake();
        true
    }

    /// Waits until frames are queued for the socket task to write (or a write failed).
    pub async fn frames_queued(&self) {
        poll_fn(|cx| {
            let mut queue = self.queue.lock();
            if !queue.frames.is_empty() || queue.broken {
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
        })
        .await
    }

    /// Writes everything queued to the socket, waiting for it to become writable as often
    /// as needed. For sockets whose senders write directly.
    pub async fn write_queued(&self) -> io::Result<()> {
        poll_fn(|cx| self.poll_write_queued(cx)).await
    }

    fn poll_write_queued(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut queue = self.queue.lock();
        loop {
            if queue.broken {
                return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
            }
            if queue.frames.is_empty() {
                return Poll::Ready(Ok(()));
            }
            let Some(socket) = &queue.direct else {
                return Poll::Ready(Err(io::ErrorKind::NotConnected.into()));
            };
            let slices: Vec<IoSlice<'_>> = queue
                .frames
                .iter()
                .take(FRAMES_PER_WRITE)
                .enumerate()
                .map(|(index, frame)| {
                    let skip = if index == 0 { queue.written } else { 0 };
                    IoSlice::new(&frame.wire()[skip..])
                })
                .collect();
            let result = match socket.try_write_vectored(&slices) {
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    match socket.as_ref().poll_write_ready(cx) {
                        Poll::Ready(Ok(())) => continue,
                        Poll::Ready(Err(error)) => Err(error),
                        Poll::Pending => return Poll::Pending,
                    }
                }
                result => result,
            };
            drop(slices);
            match result {
                Ok(count) => queue.advance(count),
                Err(error) => {
                    queue.break_off();
                    return Poll::Ready(Err(error));
                }
            }
        }
    }

    /// Moves up to `max` queued frames into `batch`, oldest first, for the socket task to
    /// write itself. For sockets whose senders only queue.
    pub fn take_frames(&self, batch: &mut Vec<Frame>, max: usize) {
        let mut queue = self.queue.lock();
        let count = queue.frames.len().min(max);
        batch.extend(queue.frames.drain(..count));
    }

    /// Called when the socket is gone: later frames are refused, waiting ones freed and the
    /// write side closed.
    pub fn finish(&self) {
        let mut queue = self.queue.lock();
        queue.open = false;
        queue.frames = VecDeque::new();
        queue.waiter = None;
        queue.direct = None;
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
