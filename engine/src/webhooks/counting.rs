//! Subscription counting: how many sockets a channel has, told to its subscribers
//! (`pusher_internal:subscription_count`) and to webhooks (`subscription_count`) when it
//! changes, at most once per [`INTERVAL`] per channel so that a busy channel does not flood
//! its subscribers. A change after a quiet interval is reported at once; changes within an
//! interval are reported together at its end, with the count as it is then.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::time::Duration;
use tokio::time::Instant;

/// The shortest time between two reports for one channel.
pub(crate) const INTERVAL: Duration = Duration::from_secs(1);

/// One channel's reports.
#[derive(Debug, Clone, Copy)]
struct Reports {
    last: Option<Instant>,
    scheduled: bool,
}

/// The channels whose count changed recently.
#[derive(Default)]
pub(crate) struct SubscriptionCounts {
    channels: Mutex<HashMap<String, Reports>>,
}

impl SubscriptionCounts {
    /// The count of `channel` changed: returns how long to wait before reporting it, or
    /// `None` when a report is already scheduled (it will carry this change too).
    pub(crate) fn changed(&self, channel: &str) -> Option<Duration> {
        let mut channels = self.channels.lock();
        let reports = channels.entry(channel.to_string()).or_insert(Reports {
            last: None,
            scheduled: false,
        });
        if reports.scheduled {
            return None;
        }
        reports.scheduled = true;
        let next = reports.last.map_or(Instant::now(), |last| last + INTERVAL);
        Some(next.saturating_duration_since(Instant::now()))
    }

    /// A scheduled report is being made now, with the channel's count at this moment; an
    /// empty channel is forgotten.
    pub(crate) fn reporting(&self, channel: &str, count: usize) {
        let mut channels = self.channels.lock();
        if count == 0 {
            channels.remove(channel);
        } else if let Some(reports) = channels.get_mut(channel) {
            reports.scheduled = false;
            reports.last = Some(Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn changes_within_an_interval_share_one_report() {
        let counts = SubscriptionCounts::default();
        assert_eq!(counts.changed("room"), Some(Duration::ZERO));
        assert_eq!(counts.changed("room"), None);
        counts.reporting("room", 2);
        assert_eq!(counts.changed("room"), Some(INTERVAL));
        assert_eq!(counts.changed("room"), None);
        tokio::time::advance(INTERVAL).await;
        counts.reporting("room", 1);
        tokio::time::advance(INTERVAL * 2).await;
        assert_eq!(counts.changed("room"), Some(Duration::ZERO));
    }

    #[tokio::test(start_paused = true)]
    async fn an_empty_channel_is_forgotten() {
        let counts = SubscriptionCounts::default();
        counts.changed("room");
        counts.reporting("room", 0);
        assert!(counts.channels.lock().is_empty());
    }
}
