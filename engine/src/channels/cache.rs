//! Cache channels: the last event of each cache channel, kept for a TTL even after the
//! channel empties, like Pusher does.

use crate::socket::Frame;
use dashmap::DashMap;
use std::time::{Duration, Instant};

/// A cached event and when it stops counting.
struct Cached {
    frame: Frame,
    expires_at: Instant,
}

/// The last event per cache channel of one app.
pub struct EventCache {
    ttl: Duration,
    entries: DashMap<String, Cached>,
}

impl EventCache {
    /// An empty cache whose entries live for `ttl`.
    pub fn new(ttl: Duration) -> EventCache {
        EventCache {
            ttl,
            entries: DashMap::new(),
        }
    }

    /// Remembers `frame` as the last event of `channel`.
    pub fn store(&self, channel: &str, frame: &Frame) {
        self.entries.insert(
            channel.to_string(),
            Cached {
                frame: frame.clone(),
                expires_at: Instant::now() + self.ttl,
            },
        );
    }

    /// The last event of `channel` and how long it stays cached, unless it expired.
    pub fn get(&self, channel: &str) -> Option<(Frame, Duration)> {
        let now = Instant::now();
        let fresh = self.entries.get(channel).and_then(|cached| {
            (cached.expires_at > now).then(|| (cached.frame.clone(), cached.expires_at - now))
        });
        if fresh.is_none() {
            self.entries
                .remove_if(channel, |_, cached| cached.expires_at <= now);
        }
        fresh
    }

    /// Drops every expired entry, so channels nobody reads again do not hold memory.
    pub fn sweep(&self) {
        let now = Instant::now();
        self.entries.retain(|_, cached| cached.expires_at > now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_after_the_ttl() {
        let cache = EventCache::new(Duration::from_millis(30));
        cache.store("cache-a", &Frame::from("one"));
        let (frame, ttl) = cache.get("cache-a").unwrap();
        assert_eq!(frame.as_str(), "one");
        assert!(ttl <= Duration::from_millis(30));
        std::thread::sleep(Duration::from_millis(40));
        assert!(cache.get("cache-a").is_none());
        cache.store("cache-b", &Frame::from("two"));
        std::thread::sleep(Duration::from_millis(40));
        cache.sweep();
        assert_eq!(cache.entries.len(), 0);
    }
}
