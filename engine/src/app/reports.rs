//! What the app tells webhooks: channels and members arriving and departing, subscription
//! counts, client events and cache misses.

use super::App;
use crate::channels::census::Filter;
use crate::channels::{name, Departure};
use crate::config::WebhookKind;
use crate::protocol::frames;
use crate::socket::Frame;
use crate::webhooks::occupancy::Subject;
use crate::webhooks::reporter;
use crate::webhooks::WebhookEvent;
use serde_json::Value;
use std::sync::Arc;

impl App {
    /// A channel gained its first subscriber on this node (`created`) and, on a presence
    /// channel, a user their first socket in it (`member`): unless they came back within
    /// the webhook delay, they are counted with the peers and reported when they are new to
    /// the cluster, the channel before the member.
    pub(super) fn arrived(self: &Arc<Self>, channel: &str, created: bool, member: Option<&str>) {
        let new: Vec<Subject> = self
            .tracked(channel, created, member)
            .into_iter()
            .filter(|subject| self.occupancy.arrive(subject.clone()))
            .collect();
        if new.is_empty() {
            return;
        }
        self.reporter.arrived(new);
    }

    /// A channel lost its last subscriber on this node (`removed`) or, on a presence
    /// channel, a user their last socket in it: once the webhook delay has passed without
    /// their return, they are counted out with the peers and reported when the cluster has
    /// none left, the member before the channel.
    pub(super) fn departed(
        self: &Arc<Self>,
        channel: &str,
        removed: bool,
        departure: Option<&Departure>,
    ) {
        let member = departure.filter(|d| d.last).map(|d| d.key.as_str());
        let mut subjects = self.tracked(channel, removed, member);
        subjects.reverse();
        if subjects.is_empty() {
            return;
        }
        let holds: Vec<(Subject, u64)> = subjects
            .into_iter()
            .map(|subject| (subject.clone(), self.occupancy.depart(subject)))
            .collect();
        self.reporter.departed(holds);
    }

    /// The subjects among a channel (when `channel_changed`) and a member that someone
    /// hears about.
    fn tracked(&self, channel: &str, channel_changed: bool, member: Option<&str>) -> Vec<Subject> {
        let wants =
            |kinds: [WebhookKind; 2]| kinds.iter().any(|k| self.webhooks.wants(*k, channel));
        let mut subjects = Vec::new();
        if channel_changed && wants([WebhookKind::ChannelOccupied, WebhookKind::ChannelVacated]) {
            subjects.push(Subject::Channel(channel.to_string()));
        }
        if let Some(user_id) = member {
            if wants([WebhookKind::MemberAdded, WebhookKind::MemberRemoved]) {
                subjects.push(Subject::Member {
                    channel: channel.to_string(),
                    user_id: user_id.to_string(),
                });
            }
        }
        subjects
    }

    /// A tracked subject left the cluster with a node that died or stopped.
    pub fn vacated(&self, subject: &str) {
        self.webhooks
            .send(reporter::departure(Subject::from_key(subject)));
    }

    /// Every subject webhooks track on this node, held ones included.
    pub fn tracked_subjects(&self) -> Vec<String> {
        self.occupancy.subjects().iter().map(Subject::key).collect()
    }

    /// The number of sockets of a non-presence channel changed: reports it to the channel's
    /// subscribers (when the app counts subscriptions) and to webhooks, throttled. A new
    /// subscriber's socket calls it once it has sent `subscription_succeeded`, so the count
    /// never comes first.
    pub fn count_changed(self: &Arc<Self>, channel: &str) {
        let subscribers = self.config().subscription_count;
        let webhooks = self.webhooks.wants(WebhookKind::SubscriptionCount, channel);
        if name::is_presence(channel) || !(subscribers || webhooks) {
            return;
        }
        let Some(wait) = self.counts.changed(channel) else {
            return;
        };
        let app = self.clone();
        let channel = channel.to_string();
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            let census = app.census(Filter::Channel(channel.clone())).await;
            let count = census
                .channels
                .get(&channel)
                .map_or(0, |c| c.subscription_count);
            app.counts.reporting(&channel, count);
            if subscribers && count > 0 {
                let frame = Frame::from(frames::subscription_count(&channel, count));
                app.announce(&channel, frame, None);
            }
            app.webhooks.send(WebhookEvent::SubscriptionCount {
                channel,
                subscription_count: count,
            });
        });
    }

    /// A client sent a `client-` event on `channel`: webhooks hear of it.
    pub fn report_client_event(
        &self,
        channel: &str,
        event: &str,
        data: &Value,
        socket_id: &str,
        user_id: Option<&Value>,
    ) {
        if !self.webhooks.wants(WebhookKind::ClientEvent, channel) {
            return;
        }
        let as_string = |value: &Value| match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        self.webhooks.send(WebhookEvent::ClientEvent {
            channel: channel.to_string(),
            event: event.to_string(),
            data: as_string(data),
            socket_id: socket_id.to_string(),
            user_id: user_id
                .filter(|_| name::is_presence(channel))
                .map(as_string),
        });
    }

    /// A client subscribed to a cache channel with nothing cached: webhooks hear of it.
    pub fn report_cache_miss(&self, channel: &str) {
        if self.webhooks.wants(WebhookKind::CacheMiss, channel) {
            self.webhooks.send(WebhookEvent::CacheMiss {
                channel: channel.to_string(),
            });
        }
    }
}
