//! The server-wide budget for bytes waiting in send queues.
//!
//! Each socket's queue is capped, but many slow sockets at once could still hold a lot: a
//! client that never reads, on each of many channels, pins every frame sent to it. Every
//! queue therefore also draws on one budget. A socket whose queue grows past
//! [`HEAVY_QUEUE`] is listed here; when the budget is overdrawn, the sockets that hold the
//! most are closed (4100) until a tenth of the budget is free again, and their frames are
//! freed at once.
//!
//! Freed memory only goes back to the system when the allocator lets it go, and glibc's
//! keeps it in its arenas, one per thread that allocated. While the queues hold a lot, and
//! once they have let a lot go, [`SendBudget::wants_release`] says so, and
//! [`return_free_memory`] asks the allocator to give back what is free.

use super::connection::Connection;
use super::SocketId;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

/// A queue holding this many bytes is heavy: it is listed so the budget can find it.
pub const HEAVY_QUEUE: usize = 64 * 1024;

/// Queued bytes above which freeing them is worth asking the allocator to trim.
const TRIM_AFTER: usize = 8 * 1024 * 1024;

/// What every socket's send queue draws on.
pub struct SendBudget {
    limit: usize,
    queued: AtomicUsize,
    heavy: Mutex<HashMap<SocketId, Weak<Connection>>>,
    /// Sockets closed because they were too far behind.
    slow_closed: AtomicU64,
    /// The queues held more than [`TRIM_AFTER`] since the last release.
    grew: AtomicBool,
    /// What the queues held at the last release.
    queued_at_release: AtomicUsize,
}

impl SendBudget {
    /// A budget of `limit` bytes for all queues together.
    pub fn new(limit: usize) -> Arc<SendBudget> {
        Arc::new(SendBudget {
            limit,
            queued: AtomicUsize::new(0),
            heavy: Mutex::new(HashMap::new()),
            slow_closed: AtomicU64::new(0),
            grew: AtomicBool::new(false),
            queued_at_release: AtomicUsize::new(0),
        })
    }

    /// Bytes waiting in all queues now.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    /// How many sockets were closed for being too far behind.
    pub fn slow_closed(&self) -> u64 {
        self.slow_closed.load(Ordering::Relaxed)
    }

    /// Counts `bytes` more in the queues; returns whether the budget is now overdrawn.
    pub(super) fn draw(&self, bytes: usize) -> bool {
        let queued = self.queued.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if queued > TRIM_AFTER {
            self.grew.store(true, Ordering::Relaxed);
        }
        queued > self.limit
    }

    /// Counts `bytes` less in the queues.
    pub(super) fn repay(&self, bytes: usize) {
        self.queued.fetch_sub(bytes, Ordering::Relaxed);
    }

    /// Counts one socket closed for being too far behind.
    pub(super) fn count_slow_close(&self) {
        self.slow_closed.fetch_add(1, Ordering::Relaxed);
    }

    /// Lists a socket whose queue became heavy.
    pub(super) fn list_heavy(&self, id: &SocketId, connection: Weak<Connection>) {
        self.heavy.lock().insert(id.clone(), connection);
    }

    /// Takes a socket off the heavy list, its queue drained or gone.
    pub(super) fn unlist(&self, id: &str) {
        self.heavy.lock().remove(id);
    }

    /// Closes the heaviest queues until a tenth of the budget is free. Only one sender sheds
    /// at a time; the others go on, since the shedding one frees enough for them too.
    pub(super) fn shed(&self) {
        let Some(mut heavy) = self.heavy.try_lock() else {
            return;
        };
        heavy.retain(|_, connection| connection.strong_count() > 0);
        let listed: Vec<Arc<Connection>> = heavy.values().filter_map(Weak::upgrade).collect();
        drop(heavy);
        let mut by_size: Vec<(usize, Arc<Connection>)> = listed
            .into_iter()
            .map(|connection| (connection.queued_bytes(), connection))
            .collect();
        by_size.sort_unstable_by_key(|(bytes, _)| std::cmp::Reverse(*bytes));
        let target = self.limit - self.limit / 10;
        for (_, connection) in by_size {
            if self.queued() <= target {
                break;
            }
            connection.close_too_slow();
        }
    }

    /// Whether free memory should be given back to the system now: the queues held more
    /// than [`TRIM_AFTER`] since the last release (sockets too far behind are being closed),
    /// or hold that much less than then. Asked now and then by the server.
    pub fn wants_release(&self) -> bool {
        let queued = self.queued();
        let grew = self.grew.swap(false, Ordering::Relaxed);
        let shrank = queued + TRIM_AFTER <= self.queued_at_release.load(Ordering::Relaxed);
        if grew || shrank {
            self.queued_at_release.store(queued, Ordering::Relaxed);
        }
        grew || shrank
    }
}

/// Asks glibc's allocator to return the free memory of every arena to the system. It walks
/// every arena, so it runs off the runtime's worker threads.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn return_free_memory() {
    // SAFETY: malloc_trim only walks the allocator's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Other allocators return memory by themselves, or not at all.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn return_free_memory() {}
