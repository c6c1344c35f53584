//! The handle other tasks hold to reach one socket: its send queue, its write side when
//! anyone may write to it, and a close signal.
//!
//! Channels store `Arc<Connection>`s. Sending never blocks and never grows memory without
//! bound: a queue is capped in frames and in bytes, and draws on the server-wide
//! [`SendBudget`]. A socket past its cap, or among the heaviest when the budget is overdrawn,
//! is closed with 4100: its queued frames are freed at once, and only its last words (the
//! error and the close frame) are still taken. The queue is a plain deque that allocates only
//! while frames wait, so an idle socket costs nothing here.
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

use super::budget::{SendBudget, HEAVY_QUEUE};
use super::frame::Frame;
use crate::protocol::PusherError;
use parking_lot::Mutex;
use std::cell::Cell;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::sync::{Arc, OnceLock, Weak};
use std::task::{Context, Poll, Waker};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::Notify;

/// A socket's Pusher id (`123.456`), cheap to clone into maps and events.
pub type SocketId = Arc<str>;

/// How many queued frames one vectored write takes at most.
const FRAMES_PER_WRITE: usize = 64;

/// What a queued frame costs beyond its bytes: its slot in the queue and the shared buffer's
/// header, so that a flood of tiny frames is bounded too.
const FRAME_COST: usize = 64;

/// How much one socket's queue may hold before the socket is closed as too slow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueLimits {
    /// Frames waiting.
    pub frames: usize,
    /// Bytes waiting, each frame counted with [`FRAME_COST`] more.
    pub bytes: usize,
}

/// How every socket of a server queues what it is sent: the same limits and the one budget.
#[derive(Clone)]
pub struct QueueSettings {
    /// Each socket's caps.
    pub limits: QueueLimits,
    /// The budget all queues draw on.
    pub budget: Arc<SendBudget>,
    /// Whether senders may write to a plain TCP socket themselves. Not when every written
    /// frame must be reported, which only the socket task can do.
    pub direct_writes: bool,
}

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
    /// What the queue holds as its caps count it: unwritten bytes, plus [`FRAME_COST`] per
    /// frame.
    bytes: usize,
    open: bool,
    /// The socket is closing for being too far behind: only its last words are taken.
    last_words_only: bool,
    /// Listed in the budget as heavy.
    heavy: bool,
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

    /// Empties the queue, keeping a partly written first frame when `keep_partial` (the
    /// stream must stay a sequence of whole frames); returns the bytes freed.
    fn empty(&mut self, keep_partial: bool) -> usize {
        let kept = match self.frames.pop_front() {
            Some(front) if keep_partial && self.written > 0 => Some(front),
            _ => None,
        };
        let kept_bytes = kept
            .as_ref()
            .map_or(0, |front| front.wire().len() - self.written + FRAME_COST);
        if kept.is_none() {
            self.written = 0;
        }
        // A new deque: the old one's buffer is freed, not kept for frames that never come.
        self.frames = kept.into_iter().collect();
        let freed = self.bytes - kept_bytes;
        self.bytes = kept_bytes;
        freed
    }

    /// Forgets the first `count` bytes of the queue, which the kernel took; returns what the
    /// caps count as freed.
    fn advance(&mut self, mut count: usize) -> usize {
        let mut freed = 0;
        while let Some(front) = self.frames.front() {
            let left = front.wire().len() - self.written;
            if count < left {
                self.written += count;
                freed += count;
                break;
            }
            count -= left;
            freed += left + FRAME_COST;
            self.written = 0;
            self.frames.pop_front();
        }
        self.bytes -= freed;
        freed
    }
}

/// One connected socket as seen from outside its own task.
pub struct Connection {
    socket_id: SocketId,
    queue: Mutex<SendQueue>,
    limits: QueueLimits,
    budget: Arc<SendBudget>,
    /// This handle, for the budget's list of heavy queues.
    me: Weak<Connection>,
    close_reason: OnceLock<PusherError>,
    close_requested: Notify,
}

impl Connection {
    /// Creates the handle of a socket that queues as `settings` say. With `direct`, senders
    /// write to that socket themselves when nothing is queued.
    pub fn new(
        socket_id: SocketId,
        settings: &QueueSettings,
        direct: Option<OwnedWriteHalf>,
    ) -> Arc<Connection> {
        Arc::new_cyclic(|me| Connection {
            socket_id,
            queue: Mutex::new(SendQueue {
                frames: VecDeque::new(),
                written: 0,
                bytes: 0,
                open: true,
                last_words_only: false,
                heavy: false,
                waiter: None,
                direct,
                broken: false,
            }),
            limits: settings.limits,
            budget: settings.budget.clone(),
            me: me.clone(),
            close_reason: OnceLock::new(),
            close_requested: Notify::new(),
        })
    }

    /// The socket's Pusher id.
    pub fn socket_id(&self) -> &SocketId {
        &self.socket_id
    }

    /// Sends a frame: written at once when an engine thread sends it and nothing waits
    /// before it, otherwise queued for the socket task. Returns whether it was taken; a
    /// socket too far behind is closed (4100) instead.
    pub fn send(&self, frame: Frame) -> bool {
        self.hand_over(frame, ENGINE_THREAD.get(), false)
    }

    /// Queues a frame for the socket task to write, whoever sends it: for fan-outs too big
    /// for one thread to write, which the socket tasks spread over the runtime's cores.
    /// Returns whether it was taken; a socket too far behind is closed (4100) instead.
    pub fn enqueue(&self, frame: Frame) -> bool {
        self.hand_over(frame, false, false)
    }

    /// Sends one of the socket's last words (the error that closes it, its close frame):
    /// taken even from a socket closing for being too far behind, past its caps.
    pub fn send_last_words(&self, frame: Frame) -> bool {
        self.hand_over(frame, ENGINE_THREAD.get(), true)
    }

    /// Hands a frame to the socket, written at once if `may_write` allows it.
    fn hand_over(&self, frame: Frame, may_write: bool, last_words: bool) -> bool {
        let mut queue = self.queue.lock();
        if !queue.open || (queue.last_words_only && !last_words) {
            return false;
        }
        let attempt = match &queue.direct {
            Some(socket) if may_write && queue.frames.is_empty() => {
                Some(socket.try_write(frame.wire()))
            }
            _ => None,
        };
        let mut already_written = 0;
        if let Some(attempt) = attempt {
            match attempt {
                Ok(count) if count == frame.wire().len() => return true,
                Ok(count) => already_written = count,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => {
                    self.break_off(&mut queue);
                    return false;
                }
            }
        }
        let cost = frame.wire().len() - already_written + FRAME_COST;
        // The first frame is always taken: it may be partly on the wire already.
        let over_limits = !queue.frames.is_empty()
            && (queue.frames.len() >= self.limits.frames || queue.bytes + cost > self.limits.bytes);
        if over_limits && !last_words {
            drop(queue);
            self.close_too_slow();
            return false;
        }
        if already_written > 0 {
            queue.written = already_written;
        }
        queue.frames.push_back(frame);
        queue.bytes += cost;
        // Drawn under the lock: the frame cannot be written, and repaid, before it is drawn.
        let overdrawn = self.budget.draw(cost);
        queue.wake();
        if !queue.heavy && queue.bytes >= HEAVY_QUEUE {
            queue.heavy = true;
            self.budget.list_heavy(&self.socket_id, self.me.clone());
        }
        drop(queue);
        if overdrawn {
            self.budget.shed();
        }
        true
    }

    /// What the queue holds now, as its caps count it.
    pub fn queued_bytes(&self) -> usize {
        self.queue.lock().bytes
    }

    /// Closes the socket for being too far behind (4100): frees what waits, keeps only a
    /// partly written frame, and from then on takes only the socket's last words.
    pub fn close_too_slow(&self) {
        let mut queue = self.queue.lock();
        if !queue.open || queue.last_words_only {
            return;
        }
        queue.last_words_only = true;
        let freed = queue.empty(true);
        let was_heavy = std::mem::take(&mut queue.heavy);
        drop(queue);
        if was_heavy {
            self.budget.unlist(&self.socket_id);
        }
        self.budget.repay(freed);
        self.budget.count_slow_close();
        self.close(PusherError::OverCapacity);
    }

    /// Gives bytes the queue no longer holds back to the budget.
    fn repay(&self, bytes: usize) {
        if bytes > 0 {
            self.budget.repay(bytes);
        }
    }

    /// Takes the queue off the budget's heavy list once it is empty again.
    fn unlist_if_drained(&self, queue: &mut SendQueue) {
        if queue.heavy && queue.frames.is_empty() {
            queue.heavy = false;
            self.budget.unlist(&self.socket_id);
        }
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
                Ok(count) => {
                    let freed = queue.advance(count);
                    self.repay(freed);
                    self.unlist_if_drained(&mut queue);
                }
                Err(error) => {
                    self.break_off(&mut queue);
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
        let taken: usize = queue
            .frames
            .iter()
            .take(count)
            .map(|frame| frame.wire().len() + FRAME_COST)
            .sum();
        batch.extend(queue.frames.drain(..count));
        queue.bytes -= taken;
        self.repay(taken);
        self.unlist_if_drained(&mut queue);
    }

    /// Marks the socket gone after a failed write; its task finds out and ends.
    fn break_off(&self, queue: &mut SendQueue) {
        queue.broken = true;
        queue.open = false;
        self.let_go(queue);
        queue.wake();
    }

    /// Frees everything queued and takes the queue off the budget's heavy list.
    fn let_go(&self, queue: &mut SendQueue) {
        let freed = queue.empty(false);
        self.repay(freed);
        if std::mem::take(&mut queue.heavy) {
            self.budget.unlist(&self.socket_id);
        }
    }

    /// Called when the socket is gone: later frames are refused, waiting ones freed and the
    /// write side closed.
    pub fn finish(&self) {
        let mut queue = self.queue.lock();
        queue.open = false;
        self.let_go(&mut queue);
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
