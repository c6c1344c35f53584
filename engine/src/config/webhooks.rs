//! Webhooks: where each app's are sent (`apps.apps.N.webhooks`, in soketi's shape) and how
//! the server sends them (`servers.reverb.webhooks`).

use super::node::Node;
use super::ConfigError;
use std::time::Duration;

/// The kinds of webhook event, by the names Pusher gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WebhookKind {
    /// A channel got its first subscriber anywhere in the cluster.
    ChannelOccupied,
    /// A channel lost its last subscriber anywhere in the cluster.
    ChannelVacated,
    /// A user joined a presence channel (their first socket in it).
    MemberAdded,
    /// A user left a presence channel (their last socket in it).
    MemberRemoved,
    /// A client sent a `client-` event.
    ClientEvent,
    /// A client subscribed to a cache channel that had no cached event.
    CacheMiss,
    /// The number of subscriptions of a channel changed.
    SubscriptionCount,
}

impl WebhookKind {
    /// Every kind, in Pusher's documentation order.
    pub const ALL: [WebhookKind; 7] = [
        WebhookKind::ChannelOccupied,
        WebhookKind::ChannelVacated,
        WebhookKind::MemberAdded,
        WebhookKind::MemberRemoved,
        WebhookKind::ClientEvent,
        WebhookKind::CacheMiss,
        WebhookKind::SubscriptionCount,
    ];

    /// The event's `name` on the wire.
    pub fn name(self) -> &'static str {
        match self {
            WebhookKind::ChannelOccupied => "channel_occupied",
            WebhookKind::ChannelVacated => "channel_vacated",
            WebhookKind::MemberAdded => "member_added",
            WebhookKind::MemberRemoved => "member_removed",
            WebhookKind::ClientEvent => "client_event",
            WebhookKind::CacheMiss => "cache_miss",
            WebhookKind::SubscriptionCount => "subscription_count",
        }
    }

    fn from_name(name: &str) -> Option<WebhookKind> {
        WebhookKind::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
    }
}

/// One webhook of an app: an endpoint and which events it wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookConfig {
    /// The `http://` or `https://` URL that receives the `POST`s.
    pub url: String,
    /// The kinds it wants; every kind when `event_types` is omitted.
    pub event_types: Vec<WebhookKind>,
    /// Only channels whose name starts with this.
    pub channel_name_starts_with: Option<String>,
    /// Only channels whose name ends with this.
    pub channel_name_ends_with: Option<String>,
    /// Extra request headers, for an endpoint that wants its own token.
    pub headers: Vec<(String, String)>,
}

impl WebhookConfig {
    /// Whether an event of `kind` on `channel` goes to this webhook.
    pub fn wants(&self, kind: WebhookKind, channel: &str) -> bool {
        self.event_types.contains(&kind)
            && self
                .channel_name_starts_with
                .as_deref()
                .is_none_or(|prefix| channel.starts_with(prefix))
            && self
                .channel_name_ends_with
                .as_deref()
                .is_none_or(|suffix| channel.ends_with(suffix))
    }

    /// Reads the `webhooks` list of one app entry.
    pub(super) fn list_from_node(app: &Node) -> Result<Vec<WebhookConfig>, ConfigError> {
        app.list("webhooks")?
            .iter()
            .map(WebhookConfig::from_node)
            .collect()
    }

    fn from_node(webhook: &Node) -> Result<WebhookConfig, ConfigError> {
        webhook.only_keys(&["url", "event_types", "filter", "headers"])?;
        let url = webhook.optional_string("url")?.unwrap_or_default();
        let scheme_ok = url.starts_with("http://") || url.starts_with("https://");
        if !scheme_ok || url.parse::<hyper::Uri>().is_err() {
            return Err(ConfigError::new(
                &webhook.key("url"),
                format!("must be an http:// or https:// URL, got \"{url}\""),
            ));
        }
        let event_types = match webhook.get("event_types") {
            None => WebhookKind::ALL.to_vec(),
            Some(_) => {
                let key = webhook.key("event_types");
                webhook
                    .string_list_or("event_types", &[])?
                    .iter()
                    .enumerate()
                    .map(|(i, name)| {
                        WebhookKind::from_name(name).ok_or_else(|| {
                            let known: Vec<&str> =
                                WebhookKind::ALL.iter().map(|k| k.name()).collect();
                            ConfigError::new(
                                &format!("{key}.{i}"),
                                format!("must be one of {}, got \"{name}\"", known.join(", ")),
                            )
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?
            }
        };
        if url
            .parse::<hyper::Uri>()
            .ok()
            .and_then(|uri| uri.authority().map(|a| a.as_str().contains('@')))
            .unwrap_or(false)
        {
            return Err(ConfigError::new(
                &webhook.key("url"),
                "must not carry credentials: send them in headers (Authorization)",
            ));
        }
        let headers = webhook.string_map("headers")?;
        if let Some((name, _)) = headers.iter().find(|(name, value)| {
            hyper::header::HeaderName::from_bytes(name.as_bytes()).is_err()
                || hyper::header::HeaderValue::from_str(value).is_err()
        }) {
            return Err(ConfigError::new(
                &format!("{}.{name}", webhook.key("headers")),
                "must be an HTTP header name with a value of visible ASCII characters",
            ));
        }
        let filter = webhook.object_or_empty("filter")?;
        filter.only_keys(&["channel_name_starts_with", "channel_name_ends_with"])?;
        Ok(WebhookConfig {
            url,
            event_types,
            channel_name_starts_with: filter.optional_string("channel_name_starts_with")?,
            channel_name_ends_with: filter.optional_string("channel_name_ends_with")?,
            headers,
        })
    }
}

/// How the server sends webhooks and reports them to the host (`servers.reverb.webhooks`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    /// Also report every webhook event to the host, which dispatches it as a Laravel event.
    pub dispatch_events: bool,
    /// How long `channel_vacated` and `member_removed` wait for the channel or member to come
    /// back; when it does, neither the departure nor the return is sent.
    pub delay: Duration,
    /// How long an event waits for others to share its request.
    pub batch_window: Duration,
    /// The most events in one request.
    pub batch_size: usize,
    /// How long one request may take before it counts as failed.
    pub timeout: Duration,
    /// How long a failing request is retried, with growing pauses, before its events are
    /// dropped.
    pub retry_for: Duration,
    /// How many events may wait for one endpoint; past it the oldest are dropped.
    pub queue_size: usize,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            dispatch_events: false,
            delay: Duration::from_millis(3000),
            batch_window: Duration::from_millis(50),
            batch_size: 50,
            timeout: Duration::from_secs(4),
            retry_for: Duration::from_secs(300),
            queue_size: 10_000,
        }
    }
}

impl WebhookSettings {
    /// Reads `servers.reverb.webhooks`.
    pub(super) fn from_node(block: &Node) -> Result<WebhookSettings, ConfigError> {
        block.only_keys(&[
            "dispatch_events",
            "delay_ms",
            "batch_ms",
            "batch_size",
            "timeout",
            "retry_for",
            "queue_size",
        ])?;
        let defaults = WebhookSettings::default();
        let millis = |name: &str, default: Duration| -> Result<Duration, ConfigError> {
            let ms = block.non_negative(name, default.as_millis() as u64)?;
            if ms > 3_600_000 {
                let problem = format!("must be at most 3600000 (one hour), got {ms}");
                return Err(ConfigError::new(&block.key(name), problem));
            }
            Ok(Duration::from_millis(ms))
        };
        Ok(WebhookSettings {
            dispatch_events: block.boolean("dispatch_events", defaults.dispatch_events)?,
            delay: millis("delay_ms", defaults.delay)?,
            batch_window: millis("batch_ms", defaults.batch_window)?,
            batch_size: block.positive("batch_size", defaults.batch_size)?,
            timeout: block.seconds("timeout", defaults.timeout.as_secs())?,
            retry_for: block.seconds("retry_for", defaults.retry_for.as_secs())?,
            queue_size: block.positive("queue_size", defaults.queue_size)?,
        })
    }
}
