//! One application's configuration: credentials and per-app limits, as in `apps.apps.N`.

use super::node::Node;
use super::webhooks::WebhookConfig;
use super::ConfigError;
use std::time::Duration;

/// Client events one socket may send per second unless configured: Pusher's limit.
const MAX_CLIENT_EVENTS_PER_SECOND: usize = 10;
/// Channels one socket may be subscribed to at once unless configured.
const MAX_CHANNELS_PER_CONNECTION: usize = 100;
/// Users one presence channel may hold unless configured: Pusher's, soketi's and sockudo's.
const MAX_PRESENCE_MEMBERS: usize = 100;
/// Bytes of one member's `user_info` unless configured: soketi's and sockudo's 2 KB, twice
/// Pusher's 1 KB.
const MAX_PRESENCE_USER_INFO_BYTES: usize = 2048;

/// Who may send client events (whispers) on a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientEventsFrom {
    /// Any connection, subscribed to the channel or not.
    All,
    /// Only connections subscribed to the channel.
    Members,
    /// Nobody: client events are rejected with 4301.
    None,
}

/// One application: credentials and per-app limits, as in `apps.apps[]`.
#[derive(Debug, Clone, PartialEq)]
pub struct AppConfig {
    /// The app id used by the HTTP API (`/apps/{id}`).
    pub app_id: String,
    /// The public key clients connect with (`/app/{key}`).
    pub key: String,
    /// The secret that signs channel auth and HTTP API requests.
    pub secret: String,
    /// Origin host patterns (`*`, `example.com`, `*.example.com`); `*` allows every origin.
    pub allowed_origins: Vec<String>,
    /// Idle time after which the server pings a socket, and then prunes it if it stays silent.
    pub ping_interval: Duration,
    /// The activity timeout advertised to clients in `connection_established`, in seconds.
    pub activity_timeout: u64,
    /// The most sockets this app may hold at once; `None` is unlimited.
    pub max_connections: Option<usize>,
    /// The largest WebSocket message a client may send, in bytes.
    pub max_message_size: usize,
    /// Who may send client events.
    pub accept_client_events_from: ClientEventsFrom,
    /// The most client events one socket may send per second; `None` (configured as 0) is
    /// unlimited, like Reverb.
    pub max_client_events_per_second: Option<u32>,
    /// The most channels one socket may be subscribed to at once; `None` (configured as 0)
    /// is unlimited, like Reverb.
    pub max_channels_per_connection: Option<usize>,
    /// The most distinct users one presence channel may hold; `None` (configured as 0) is
    /// unlimited, like Reverb.
    pub max_presence_members: Option<usize>,
    /// The largest presence `user_info`, in bytes of JSON; `None` (configured as 0) is
    /// unlimited, like Reverb.
    pub max_presence_user_info_bytes: Option<usize>,
    /// How long a cache channel keeps its last event.
    pub cache_ttl: Duration,
    /// The per-socket message rate limit; `None` when disabled.
    pub rate_limit: Option<RateLimit>,
    /// The most channels one HTTP API event may name; `None` is unlimited (like Reverb).
    pub max_channels_per_event: Option<usize>,
    /// The most events one HTTP API batch may hold; `None` is unlimited (like Reverb).
    pub max_events_per_batch: Option<usize>,
    /// Where the app's webhooks go.
    pub webhooks: Vec<WebhookConfig>,
    /// Send `pusher_internal:subscription_count` to the subscribers of non-presence
    /// channels when their number changes (Pusher's "subscription counting").
    pub subscription_count: bool,
    /// Served when true; a disabled app refuses sockets with 4003 and its HTTP API with 404.
    pub enabled: bool,
}

/// Reverb's per-socket `rate_limiting` block: at most `max_attempts` messages per `decay`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Messages allowed per window.
    pub max_attempts: u32,
    /// The window length.
    pub decay: Duration,
    /// Close the socket (4301) instead of only rejecting the message.
    pub terminate_on_limit: bool,
}

impl ClientEventsFrom {
    /// Reads `accept_client_events_from` of an app (`members` when missing).
    fn from_node(app: &Node) -> Result<ClientEventsFrom, ConfigError> {
        let name = "accept_client_events_from";
        match app.optional_string(name)?.as_deref() {
            None | Some("members") => Ok(ClientEventsFrom::Members),
            Some("all") => Ok(ClientEventsFrom::All),
            Some("none") => Ok(ClientEventsFrom::None),
            Some(other) => Err(ConfigError::new(
                &app.key(name),
                format!("must be one of \"all\", \"members\", \"none\", got \"{other}\""),
            )),
        }
    }
}

impl AppConfig {
    /// Reads one entry of `apps.apps`.
    pub(super) fn from_node(app: &Node) -> Result<AppConfig, ConfigError> {
        Ok(AppConfig {
            app_id: app.required_id("app_id")?,
            key: app.required_id("key")?,
            secret: app.required_id("secret")?,
            allowed_origins: app.string_list_or("allowed_origins", &["*"])?,
            ping_interval: app.seconds("ping_interval", 60)?,
            activity_timeout: app.positive("activity_timeout", 30)? as u64,
            max_connections: app.optional_positive("max_connections")?,
            max_message_size: app.positive("max_message_size", 10_000)?,
            accept_client_events_from: ClientEventsFrom::from_node(app)?,
            max_client_events_per_second: app
                .limit("max_client_events_per_second", MAX_CLIENT_EVENTS_PER_SECOND)?
                .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
            max_channels_per_connection: app
                .limit("max_channels_per_connection", MAX_CHANNELS_PER_CONNECTION)?,
            max_presence_members: app.limit("max_presence_members", MAX_PRESENCE_MEMBERS)?,
            max_presence_user_info_bytes: app
                .limit("max_presence_user_info_bytes", MAX_PRESENCE_USER_INFO_BYTES)?,
            cache_ttl: app.seconds("cache_ttl", 1800)?,
            rate_limit: RateLimit::from_node(&app.object_or_empty("rate_limiting")?)?,
            max_channels_per_event: app.optional_positive("max_channels_per_event")?,
            max_events_per_batch: app.optional_positive("max_events_per_batch")?,
            webhooks: WebhookConfig::list_from_node(app)?,
            subscription_count: app.boolean("subscription_count", false)?,
            enabled: app.boolean("enabled", true)?,
        })
    }

    /// Reads one app entry the host hands over while the server runs (a changed app set, the
    /// answer to a lookup); errors name the key under `path`, e.g. `apps.apps.3`.
    pub fn from_entry(entry: &serde_json::Value, path: &str) -> Result<AppConfig, ConfigError> {
        AppConfig::from_node(&Node::at(path, entry)?)
    }
}

impl RateLimit {
    /// `None` unless `enabled` is true, like Reverb, where a missing block means disabled.
    pub(super) fn from_node(block: &Node) -> Result<Option<RateLimit>, ConfigError> {
        if !block.boolean("enabled", false)? {
            return Ok(None);
        }
        let max_attempts = block.positive("max_attempts", 60)?;
        Ok(Some(RateLimit {
            max_attempts: u32::try_from(max_attempts).unwrap_or(u32::MAX),
            decay: block.seconds("decay_seconds", 60)?,
            terminate_on_limit: block.boolean("terminate_on_limit", false)?,
        }))
    }
}
