//! Reverb's per-socket message rate limit: at most `max_attempts` messages per window.

use crate::config::RateLimit;
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
    use std::time::Duration;

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
}
