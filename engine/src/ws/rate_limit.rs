//! Per-socket rate limits: Reverb's `rate_limiting` (at most `max_attempts` messages per
//! window) and `max_client_events_per_second` (client events per second, as Pusher limits them).

use crate::config::RateLimit;
use std::time::Duration;
use tokio::time::Instant;

/// A fixed-window counter owned by one socket task; no shared state, no locks.
pub struct RateLimiter {
    limit: RateLimit,
    window_started: Instant,
    attempts: u32,
}

impl RateLimiter {
    /// A limiter with a fresh window.
    pub fn new(limit: RateLimit) -> RateLimiter {
        RateLimiter {
            limit,
            window_started: Instant::now(),
            attempts: 0,
        }
    }

    /// A limiter of `max` events per second that only refuses, never closes.
    pub fn per_second(max: u32) -> RateLimiter {
        RateLimiter::new(RateLimit {
            max_attempts: max,
            decay: Duration::from_secs(1),
            terminate_on_limit: false,
        })
    }

    /// Counts one message; returns `false` when it is over the limit.
    pub fn allow(&mut self) -> bool {
        let now = Instant::now();
        if now.duration_since(self.window_started) >= self.limit.decay {
            self.window_started = now;
            self.attempts = 0;
        }
        self.attempts = self.attempts.saturating_add(1);
        self.attempts <= self.limit.max_attempts
    }

    /// Whether going over the limit closes the socket.
    pub fn terminates(&self) -> bool {
        self.limit.terminate_on_limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn allows_max_attempts_per_window_then_resets() {
        let mut limiter = RateLimiter::new(RateLimit {
            max_attempts: 2,
            decay: Duration::from_secs(1),
            terminate_on_limit: false,
        });
        assert!(limiter.allow());
        assert!(limiter.allow());
        assert!(!limiter.allow());
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(limiter.allow());
    }

    #[tokio::test(start_paused = true)]
    async fn per_second_limits_each_second_and_never_terminates() {
        let mut limiter = RateLimiter::per_second(3);
        assert!(!limiter.terminates());
        assert_eq!((0..4).filter(|_| limiter.allow()).count(), 3);
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(limiter.allow());
    }
}
