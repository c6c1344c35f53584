//! What the engine reports to its host: a bounded queue of [`EngineEvent`]s plus an eventfd.
//!
//! Socket tasks push plain Rust data; the host (PHP) blocks in [`EventQueue::wait`] on `poll(2)`
//! of the eventfd, which a signal interrupts, and then takes everything with
//! [`EventQueue::drain`] on its own thread. When the host does not drain, the oldest events are
//! dropped and counted, so memory stays bounded.

use crate::webhooks::WebhookEvent;
use parking_lot::Mutex;
use serde::Serialize;
use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Something that happened in the engine that the host may want to act on.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EngineEvent {
    /// A client named an app this server does not have: the host answers with
    /// `Server::answer_app_lookup` (with `apps.lookup` on).
    AppLookup {
        /// The question's number, to answer with.
        lookup: u64,
        /// `key` or `id`.
        by: &'static str,
        /// The key or id the client named.
        value: String,
    },
    /// A socket completed its handshake and received `connection_established`.
    ConnectionOpened {
        /// The app the socket belongs to.
        app_id: String,
        /// The socket's Pusher id.
        socket_id: String,
        /// The `Origin` header, when the client sent one.
        origin: Option<String>,
        /// The client's address (from `X-Forwarded-For` behind a trusted proxy).
        ip: String,
    },
    /// A socket is gone, for whatever reason.
    ConnectionClosed {
        /// The app the socket belonged to.
        app_id: String,
        /// The socket's Pusher id.
        socket_id: String,
    },
    /// A socket was closed because it stayed silent after a ping.
    ConnectionPruned {
        /// The app the socket belonged to.
        app_id: String,
        /// The socket's Pusher id.
        socket_id: String,
    },
    /// A socket subscribed to a channel.
    Subscribed {
        /// The app.
        app_id: String,
        /// The subscribing socket.
        socket_id: String,
        /// The channel.
        channel: String,
    },
    /// A socket left a channel, by unsubscribing or disconnecting.
    Unsubscribed {
        /// The app.
        app_id: String,
        /// The socket that left.
        socket_id: String,
        /// The channel.
        channel: String,
    },
    /// A channel got its first subscriber.
    ChannelCreated {
        /// The app.
        app_id: String,
        /// The channel.
        channel: String,
    },
    /// A channel lost its last subscriber.
    ChannelRemoved {
        /// The app.
        app_id: String,
        /// The channel.
        channel: String,
    },
    /// A frame was written to a socket; only reported when `report_sent_messages` is on,
    /// because fan-out makes this one event per delivery.
    MessageSent {
        /// The app.
        app_id: String,
        /// The receiving socket.
        socket_id: String,
        /// The frame as sent.
        message: String,
    },
    /// This node reached Redis and shares work with the other nodes (scaling on).
    ScalingConnected {
        /// This node's id in the cluster.
        node: String,
    },
    /// This node lost Redis, or could not reach it; it keeps serving its own sockets and
    /// retries. Reported once per outage.
    ScalingDisconnected {
        /// Why, as the Redis client put it.
        error: String,
    },
    /// A client sent a message that the server handled without error.
    MessageReceived {
        /// The app.
        app_id: String,
        /// The sending socket.
        socket_id: String,
        /// The `event` field.
        event: String,
        /// The `channel` field, when the message has one.
        channel: Option<String>,
        /// The raw frame as the client sent it.
        message: String,
    },
    /// A webhook event (`channel_occupied`, `member_added`, ...), reported once per
    /// cluster when `webhooks.dispatch_events` is on, whether or not the app has webhooks.
    Webhook {
        /// The app.
        app_id: String,
        /// The event as webhooks send it, with its `name`.
        #[serde(flatten)]
        event: WebhookEvent,
    },
    /// A webhook endpoint stopped answering with 2xx; reported once until it answers again.
    WebhookFailing {
        /// The app.
        app_id: String,
        /// The endpoint.
        url: String,
        /// What went wrong, e.g. `HTTP 500` or `timed out after 4 s`.
        error: String,
    },
}

impl EngineEvent {
    /// Whether a client waits until the host has seen this event: such events are the last
    /// a full queue drops.
    pub fn has_waiting_client(&self) -> bool {
        matches!(self, EngineEvent::AppLookup { .. })
    }
}

/// The bounded queue between engine threads and the host thread.
pub struct EventQueue {
    events: Mutex<VecDeque<EngineEvent>>,
    capacity: usize,
    dropped: AtomicU64,
    wakeup: OwnedFd,
}

impl EventQueue {
    /// Creates a queue that holds at most `capacity` events.
    pub fn new(capacity: usize) -> io::Result<EventQueue> {
        // SAFETY: eventfd has no memory-safety preconditions; the result is checked.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(EventQueue {
            events: Mutex::new(VecDeque::new()),
            capacity,
            dropped: AtomicU64::new(0),
            // SAFETY: fd is a freshly created descriptor that nothing else owns.
            wakeup: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// Queues an event and wakes the host if the queue was empty.
    pub fn push(&self, event: EngineEvent) {
        let mut events = self.events.lock();
        if events.len() >= self.capacity {
            // The oldest event goes, unless a client waits on it (an app lookup): lookups are
            // bounded on their own, and a dropped one would fail its clients after a timeout.
            let oldest = events
                .iter()
                .position(|queued| !queued.has_waiting_client())
                .unwrap_or(0);
            events.remove(oldest);
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        events.push_back(event);
        if events.len() == 1 {
            self.signal();
        }
    }

    /// Takes every queued event, oldest first.
    pub fn drain(&self) -> Vec<EngineEvent> {
        let mut events = self.events.lock();
        self.reset();
        events.drain(..).collect()
    }

    /// Blocks until events are queued or `timeout` passes.
    ///
    /// Built on `poll(2)` so a signal interrupts it: the host's signal handlers run at once.
    pub fn wait(&self, timeout: Duration) -> WaitOutcome {
        if !self.events.lock().is_empty() {
            return WaitOutcome::Ready;
        }
        let mut fds = [libc::pollfd {
            fd: self.wakeup.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }];
        let millis = timeout.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: fds points to one valid pollfd for the duration of the call.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), 1, millis) };
        match ready {
            n if n > 0 => WaitOutcome::Ready,
            0 => WaitOutcome::TimedOut,
            _ => WaitOutcome::Interrupted,
        }
    }

    /// The descriptor that becomes readable when events are queued, for host event loops.
    pub fn fd(&self) -> RawFd {
        self.wakeup.as_raw_fd()
    }

    /// How many events were dropped because the host did not drain in time.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    fn signal(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a valid u64 to our own eventfd. A full counter (EAGAIN)
        // already means "readable", so the result needs no handling.
        unsafe { libc::write(self.wakeup.as_raw_fd(), (&one as *const u64).cast(), 8) };
    }

    fn reset(&self) {
        let mut counter: u64 = 0;
        // SAFETY: reads 8 bytes into a valid u64 from our own non-blocking eventfd; EAGAIN
        // (nothing to read) is fine.
        unsafe {
            libc::read(
                self.wakeup.as_raw_fd(),
                (&mut counter as *mut u64).cast(),
                8,
            )
        };
    }
}

/// How [`EventQueue::wait`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitOutcome {
    /// Events are waiting to be drained.
    Ready,
    /// The timeout passed with nothing queued.
    TimedOut,
    /// A signal interrupted the wait.
    Interrupted,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn closed(n: usize) -> EngineEvent {
        EngineEvent::ConnectionClosed {
            app_id: "1".into(),
            socket_id: n.to_string(),
        }
    }

    #[test]
    fn wait_wakes_when_an_event_is_pushed_and_drain_resets_it() {
        let queue = EventQueue::new(10).unwrap();
        assert_eq!(queue.wait(Duration::from_millis(1)), WaitOutcome::TimedOut);
        queue.push(closed(1));
        assert_eq!(queue.wait(Duration::from_millis(1)), WaitOutcome::Ready);
        assert_eq!(queue.drain(), vec![closed(1)]);
        assert_eq!(queue.wait(Duration::from_millis(1)), WaitOutcome::TimedOut);
    }

    #[test]
    fn a_full_queue_drops_the_oldest_and_counts_them() {
        let queue = EventQueue::new(2).unwrap();
        for n in 0..5 {
            queue.push(closed(n));
        }
        assert_eq!(queue.drain(), vec![closed(3), closed(4)]);
        assert_eq!(queue.dropped(), 3);
    }

    #[test]
    fn a_full_queue_keeps_the_app_lookups_clients_wait_on() {
        let queue = EventQueue::new(3).unwrap();
        let lookup = EngineEvent::AppLookup {
            lookup: 1,
            by: "key",
            value: "tenant".into(),
        };
        queue.push(lookup.clone());
        for n in 0..5 {
            queue.push(closed(n));
        }
        assert_eq!(queue.drain(), vec![lookup, closed(3), closed(4)]);
        assert_eq!(queue.dropped(), 3);
    }

    #[test]
    fn webhook_events_reach_the_host_flat_with_their_name() {
        let event = EngineEvent::Webhook {
            app_id: "1".into(),
            event: WebhookEvent::ChannelVacated {
                channel: "news".into(),
            },
        };
        assert_eq!(
            serde_json::to_value(event).unwrap(),
            serde_json::json!({"type": "webhook", "app_id": "1", "name": "channel_vacated",
                               "channel": "news"})
        );
    }

    #[test]
    fn events_serialize_with_a_type_tag() {
        let json = serde_json::to_value(closed(7)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"type": "connection_closed", "app_id": "1", "socket_id": "7"})
        );
    }
}
