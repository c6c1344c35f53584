//! What one app counts of its sockets and messages: sockets opened, refused and closed (and
//! why), messages and their bytes in each direction.
//!
//! Every counter is a relaxed atomic added to where the thing happens: a publish adds its
//! deliveries once, not once per socket, and nothing here takes a lock. `stats()` and the
//! metrics endpoint read them.

use crate::protocol::PusherError;
use crate::socket::Frame;
use std::sync::atomic::{AtomicU64, Ordering};

/// Why a socket's session ended, as the metrics tell closes apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The client closed: a close frame, or the end of its TCP stream.
    ClientClosed,
    /// The connection failed: reset, a failed write, or a client that took nothing for a
    /// ping interval.
    ConnectionLost,
    /// Closed with 4100: the socket could not keep up with what it was sent.
    SlowConsumer,
    /// Closed with 4200: the server stopped.
    ServerStopping,
    /// Closed with 4201: silent after a ping.
    PongTimeout,
    /// Closed with 4009: the server terminated the user's connections.
    Terminated,
    /// Closed with 4301: over the app's `rate_limiting` with `terminate_on_limit`.
    RateLimited,
    /// Closed for breaking the protocol: a WebSocket violation (1002, 1007, 1009).
    ProtocolError,
}

impl CloseReason {
    /// Every reason, in the order the metrics list them.
    pub const ALL: [CloseReason; 8] = [
        CloseReason::ClientClosed,
        CloseReason::ConnectionLost,
        CloseReason::SlowConsumer,
        CloseReason::ServerStopping,
        CloseReason::PongTimeout,
        CloseReason::Terminated,
        CloseReason::RateLimited,
        CloseReason::ProtocolError,
    ];

    /// The value of the metrics' `reason` label.
    pub fn label(self) -> &'static str {
        match self {
            CloseReason::ClientClosed => "client_closed",
            CloseReason::ConnectionLost => "connection_lost",
            CloseReason::SlowConsumer => "slow_consumer",
            CloseReason::ServerStopping => "server_stopping",
            CloseReason::PongTimeout => "pong_timeout",
            CloseReason::Terminated => "terminated",
            CloseReason::RateLimited => "rate_limited",
            CloseReason::ProtocolError => "protocol_error",
        }
    }

    /// The reason a session closed with `error` ends with.
    pub fn of(error: &PusherError) -> CloseReason {
        match error {
            PusherError::OverCapacity => CloseReason::SlowConsumer,
            PusherError::ServerShuttingDown => CloseReason::ServerStopping,
            PusherError::PongNotReceived => CloseReason::PongTimeout,
            PusherError::Terminated => CloseReason::Terminated,
            PusherError::RateLimited { .. } | PusherError::ClientEventRateLimited { .. } => {
                CloseReason::RateLimited
            }
            _ => CloseReason::ProtocolError,
        }
    }
}

/// Why a socket of a known app was refused before its session began, as the metrics tell
/// refusals apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalReason {
    /// 4009: its `Origin` is not among the app's `allowed_origins`.
    OriginNotAllowed,
    /// 4004: the app already had `max_connections` sockets.
    OverConnectionQuota,
}

impl RefusalReason {
    /// Every reason, in the order the metrics list them.
    pub const ALL: [RefusalReason; 2] = [
        RefusalReason::OriginNotAllowed,
        RefusalReason::OverConnectionQuota,
    ];

    /// The value of the metrics' `reason` label.
    pub fn label(self) -> &'static str {
        match self {
            RefusalReason::OriginNotAllowed => "origin_not_allowed",
            RefusalReason::OverConnectionQuota => "over_connection_quota",
        }
    }
}

/// One app's counters.
#[derive(Default)]
pub struct Traffic {
    opened: AtomicU64,
    refused: [AtomicU64; RefusalReason::ALL.len()],
    closed: [AtomicU64; CloseReason::ALL.len()],
    messages_in: AtomicU64,
    messages_out: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
}

/// An app's counters at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrafficStats {
    /// Sockets accepted for the app (past the origin check and the connection quota).
    pub opened: u64,
    /// Sockets refused, by reason, in the order of [`RefusalReason::ALL`].
    pub refused: [(RefusalReason, u64); RefusalReason::ALL.len()],
    /// Sockets closed, by reason, in the order of [`CloseReason::ALL`].
    pub closed: [(CloseReason, u64); CloseReason::ALL.len()],
    /// Messages received from clients.
    pub messages_in: u64,
    /// Messages sent to clients, one per socket that took one.
    pub messages_out: u64,
    /// Bytes of the messages received: their text, without WebSocket framing.
    pub bytes_in: u64,
    /// Bytes of the messages sent, counted as [`TrafficStats::bytes_in`].
    pub bytes_out: u64,
}

impl Traffic {
    /// Counts one socket accepted.
    pub fn opened(&self) {
        self.opened.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one socket refused for `reason`.
    pub fn refused(&self, reason: RefusalReason) {
        self.refused[reason as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one socket closed for `reason`.
    pub fn closed(&self, reason: CloseReason) {
        self.closed[reason as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one message of `bytes` received from a client.
    pub fn received(&self, bytes: usize) {
        self.messages_in.fetch_add(1, Ordering::Relaxed);
        self.bytes_in.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// Counts `frame` sent to `sockets` sockets.
    pub fn sent(&self, frame: &Frame, sockets: usize) {
        let sockets = sockets as u64;
        self.messages_out.fetch_add(sockets, Ordering::Relaxed);
        self.bytes_out
            .fetch_add(sockets * frame.as_str().len() as u64, Ordering::Relaxed);
    }

    /// The counters now.
    pub fn snapshot(&self) -> TrafficStats {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        TrafficStats {
            opened: load(&self.opened),
            refused: RefusalReason::ALL
                .map(|reason| (reason, load(&self.refused[reason as usize]))),
            closed: CloseReason::ALL.map(|reason| (reason, load(&self.closed[reason as usize]))),
            messages_in: load(&self.messages_in),
            messages_out: load(&self.messages_out),
            bytes_in: load(&self.bytes_in),
            bytes_out: load(&self.bytes_out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_index_their_own_counter_and_deliveries_count_once_per_socket() {
        let traffic = Traffic::default();
        traffic.opened();
        traffic.opened();
        traffic.closed(CloseReason::SlowConsumer);
        traffic.refused(RefusalReason::OverConnectionQuota);
        traffic.received(7);
        traffic.sent(&Frame::from("12345"), 3);

        let stats = traffic.snapshot();
        assert_eq!(stats.opened, 2);
        for (reason, count) in &stats.closed {
            let expected = u64::from(*reason == CloseReason::SlowConsumer);
            assert_eq!(*count, expected, "{}", reason.label());
        }
        for (reason, count) in &stats.refused {
            let expected = u64::from(*reason == RefusalReason::OverConnectionQuota);
            assert_eq!(*count, expected, "{}", reason.label());
        }
        assert_eq!((stats.messages_in, stats.bytes_in), (1, 7));
        assert_eq!((stats.messages_out, stats.bytes_out), (3, 15));
    }
}
