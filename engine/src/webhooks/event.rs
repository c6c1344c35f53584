//! One webhook event, in the shape Pusher documents for each `name`.

use crate::config::WebhookKind;
use serde::Serialize;

/// Something an app's webhooks (and, when asked, the host) hear about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum WebhookEvent {
    /// The first socket anywhere in the cluster subscribed to `channel`.
    ChannelOccupied {
        /// The channel.
        channel: String,
    },
    /// The last socket anywhere in the cluster left `channel`.
    ChannelVacated {
        /// The channel.
        channel: String,
    },
    /// A user's first socket joined a presence channel.
    MemberAdded {
        /// The presence channel.
        channel: String,
        /// The user's id, as a string.
        user_id: String,
    },
    /// A user's last socket left a presence channel.
    MemberRemoved {
        /// The presence channel.
        channel: String,
        /// The user's id, as a string.
        user_id: String,
    },
    /// A client sent a `client-` event.
    ClientEvent {
        /// The channel it was sent on.
        channel: String,
        /// The event name (`client-...`).
        event: String,
        /// The event's data, as a JSON string.
        data: String,
        /// The sending socket.
        socket_id: String,
        /// The sender's user id, on presence channels.
        #[serde(skip_serializing_if = "Option::is_none")]
        user_id: Option<String>,
    },
    /// A client subscribed to a cache channel that had nothing cached.
    CacheMiss {
        /// The cache channel.
        channel: String,
    },
    /// The number of sockets subscribed to a channel changed.
    SubscriptionCount {
        /// The channel.
        channel: String,
        /// Sockets subscribed, in the whole cluster.
        subscription_count: usize,
    },
}

impl WebhookEvent {
    /// The event's kind, as `event_types` names it.
    pub fn kind(&self) -> WebhookKind {
        match self {
            WebhookEvent::ChannelOccupied { .. } => WebhookKind::ChannelOccupied,
            WebhookEvent::ChannelVacated { .. } => WebhookKind::ChannelVacated,
            WebhookEvent::MemberAdded { .. } => WebhookKind::MemberAdded,
            WebhookEvent::MemberRemoved { .. } => WebhookKind::MemberRemoved,
            WebhookEvent::ClientEvent { .. } => WebhookKind::ClientEvent,
            WebhookEvent::CacheMiss { .. } => WebhookKind::CacheMiss,
            WebhookEvent::SubscriptionCount { .. } => WebhookKind::SubscriptionCount,
        }
    }

    /// The channel the event is about, which webhook filters match.
    pub fn channel(&self) -> &str {
        match self {
            WebhookEvent::ChannelOccupied { channel }
            | WebhookEvent::ChannelVacated { channel }
            | WebhookEvent::MemberAdded { channel, .. }
            | WebhookEvent::MemberRemoved { channel, .. }
            | WebhookEvent::ClientEvent { channel, .. }
            | WebhookEvent::CacheMiss { channel }
            | WebhookEvent::SubscriptionCount { channel, .. } => channel,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_serialize_as_pusher_documents_them() {
        let added = WebhookEvent::MemberAdded {
            channel: "presence-room".into(),
            user_id: "7".into(),
        };
        assert_eq!(
            serde_json::to_value(&added).unwrap(),
            json!({"name": "member_added", "channel": "presence-room", "user_id": "7"})
        );
        let whisper = WebhookEvent::ClientEvent {
            channel: "private-chat".into(),
            event: "client-typing".into(),
            data: "{\"on\":true}".into(),
            socket_id: "1.2".into(),
            user_id: None,
        };
        assert_eq!(
            serde_json::to_value(&whisper).unwrap(),
            json!({"name": "client_event", "channel": "private-chat", "event": "client-typing",
                   "data": "{\"on\":true}", "socket_id": "1.2"})
        );
        assert_eq!(whisper.kind().name(), "client_event");
    }
}
