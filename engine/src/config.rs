//! Typed server configuration, read from the shape of Laravel's `config('reverb')`.
//!
//! The input is a JSON value (the PHP array converted by the extension). Missing keys take
//! Reverb's defaults, unknown keys are ignored like Reverb ignores them, and a key with a wrong
//! type or an impossible value is a [`ConfigError`] that names the key by its dotted path
//! (`apps.apps.0.max_message_size must be an integer`). Values that come from `.env` arrive as
//! strings in PHP (`"8080"`), so numeric strings and boolean words are accepted where Reverb's
//! PHP coercion accepts them.

use crate::tls::TlsFiles;
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::time::Duration;

/// A configuration key that has the wrong type or an impossible value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key} {problem}")]
pub struct ConfigError {
    /// The dotted path of the offending key, e.g. `servers.reverb.port`.
    pub key: String,
    /// What is wrong with it, phrased to follow the key.
    pub problem: String,
}

impl ConfigError {
    fn new(key: &str, problem: impl Into<String>) -> Self {
        ConfigError {
            key: key.to_string(),
            problem: problem.into(),
        }
    }
}

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
    /// The most distinct users one presence channel may hold; `None` is unlimited.
    pub max_presence_members: Option<usize>,
    /// The largest presence `user_info`, in bytes of JSON; `None` is unlimited.
    pub max_presence_user_info_bytes: Option<usize>,
    /// How long a cache channel keeps its last event.
    pub cache_ttl: Duration,
    /// The per-socket message rate limit; `None` when disabled.
    pub rate_limit: Option<RateLimit>,
    /// The most channels one HTTP API event may name; `None` is unlimited (like Reverb).
    pub max_channels_per_event: Option<usize>,
    /// The most events one HTTP API batch may hold; `None` is unlimited (like Reverb).
    pub max_events_per_batch: Option<usize>,
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

/// Everything the engine needs to run one server.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Bind address (`servers.reverb.host`).
    pub host: String,
    /// Bind port (`servers.reverb.port`); 0 picks a free port.
    pub port: u16,
    /// Path prefix for every route, normalised to `""` or `/prefix` without a trailing slash.
    pub path: String,
    /// The public hostname, for banners and certificate lookup.
    pub hostname: Option<String>,
    /// Serve `wss://`/`https://` with these files; `None` serves plain `ws://`/`http://`.
    pub tls: Option<TlsFiles>,
    /// The largest HTTP request (headers and body) the server buffers, in bytes.
    pub max_request_size: usize,
    /// How far an HTTP API request's `auth_timestamp` may be from the server's clock;
    /// `None` (configured as 0) turns the check off.
    pub timestamp_window: Option<Duration>,
    /// Reverse proxies whose `X-Forwarded-For` is believed (addresses or CIDR ranges).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Tokio worker threads; defaults to the number of cores.
    pub workers: usize,
    /// How many engine events wait for PHP before the oldest are dropped.
    pub event_queue_size: usize,
    /// How many frames may wait for one socket before it is closed as too slow.
    pub send_queue_size: usize,
    /// Report every frame written to a socket as a `message_sent` event (for `--debug` and
    /// Laravel's `MessageSent`); off by default because it costs one event per delivery.
    pub report_sent_messages: bool,
    /// Sharing work with other nodes over Redis; `None` when `scaling.enabled` is off.
    pub scaling: Option<ScalingConfig>,
    /// The applications served.
    pub apps: Vec<AppConfig>,
}

/// `servers.reverb.scaling`: several servers sharing events and presence through Redis.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalingConfig {
    /// The Redis pub/sub channel every node listens on, before the prefix.
    pub channel: String,
    /// Put in front of every Redis channel and key, so apps sharing a Redis stay apart
    /// (Laravel's `database.redis.options.prefix`, from `REDIS_PREFIX`).
    pub prefix: String,
    /// Where Redis is.
    pub server: RedisServer,
    /// How long one connection attempt or command may take.
    pub timeout: Duration,
    /// How long a node may miss heartbeats before the others remove its presence members.
    pub node_timeout: Duration,
}

/// How to reach Redis: a URL, or host, port and credentials as in `database.redis`.
#[derive(Debug, Clone, PartialEq)]
pub struct RedisServer {
    /// `redis://user:password@host:port/db`; when set it wins over the other fields.
    pub url: Option<String>,
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// ACL user name.
    pub username: Option<String>,
    /// Password.
    pub password: Option<String>,
    /// Database number; pub/sub ignores it, keys live in it.
    pub database: i64,
}

impl Config {
    /// Reads a configuration from the shape of Laravel's `config('reverb')`.
    pub fn from_value(root: &Value) -> Result<Config, ConfigError> {
        let root = Node::root(root)?;
        let server_name = root.string_or("default", "reverb")?;
        let servers = root.object_or_empty("servers")?;
        let server = servers.object_or_empty(&server_name)?;

        let apps_section = root.object_or_empty("apps")?;
        let apps = apps_section.list("apps")?;
        if apps.is_empty() {
            return Err(ConfigError::new(
                "apps.apps",
                "must list at least one app (app_id, key, secret)",
            ));
        }
        let apps = apps
            .iter()
            .map(AppConfig::from_node)
            .collect::<Result<Vec<_>, _>>()?;
        ensure_unique(&apps, "app_id", |a| &a.app_id)?;
        ensure_unique(&apps, "key", |a| &a.key)?;

        let default_workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(Config {
            host: server.string_or("host", "0.0.0.0")?,
            port: server.port("port", 8080)?,
            path: normalise_path(&server.string_or("path", "")?),
            hostname: server.optional_string("hostname")?,
            tls: tls_files(&server.object_or_empty("options")?.object_or_empty("tls")?)?,
            max_request_size: server.positive("max_request_size", 10_000)?,
            timestamp_window: match server.non_negative("timestamp_window", 600)? {
                0 => None,
                seconds => Some(Duration::from_secs(seconds)),
            },
            trusted_proxies: server.networks("trusted_proxies")?,
            workers: server.positive("workers", default_workers)?,
            event_queue_size: server.positive("event_queue_size", 10_000)?,
            send_queue_size: server.positive("send_queue_size", 1_000)?,
            report_sent_messages: server.boolean("report_sent_messages", false)?,
            scaling: ScalingConfig::from_node(&server.object_or_empty("scaling")?)?,
            apps,
        })
    }
}

impl AppConfig {
    fn from_node(app: &Node) -> Result<AppConfig, ConfigError> {
        Ok(AppConfig {
            app_id: app.required_id("app_id")?,
            key: app.required_id("key")?,
            secret: app.required_id("secret")?,
            allowed_origins: app.string_list_or("allowed_origins", &["*"])?,
            ping_interval: Duration::from_secs(app.positive("ping_interval", 60)? as u64),
            activity_timeout: app.positive("activity_timeout", 30)? as u64,
            max_connections: app.optional_positive("max_connections")?,
            max_message_size: app.positive("max_message_size", 10_000)?,
            accept_client_events_from: app.client_events_from()?,
            max_presence_members: app.optional_positive("max_presence_members")?,
            max_presence_user_info_bytes: app.optional_positive("max_presence_user_info_bytes")?,
            cache_ttl: Duration::from_secs(app.positive("cache_ttl", 1800)? as u64),
            rate_limit: RateLimit::from_node(&app.object_or_empty("rate_limiting")?)?,
            max_channels_per_event: app.optional_positive("max_channels_per_event")?,
            max_events_per_batch: app.optional_positive("max_events_per_batch")?,
        })
    }
}

impl RateLimit {
    /// `None` unless `enabled` is true, like Reverb, where a missing block means disabled.
    fn from_node(block: &Node) -> Result<Option<RateLimit>, ConfigError> {
        if !block.boolean("enabled", false)? {
            return Ok(None);
        }
        let max_attempts = block.positive("max_attempts", 60)?;
        Ok(Some(RateLimit {
            max_attempts: u32::try_from(max_attempts).unwrap_or(u32::MAX),
            decay: Duration::from_secs(block.positive("decay_seconds", 60)? as u64),
            terminate_on_limit: block.boolean("terminate_on_limit", false)?,
        }))
    }
}

impl ScalingConfig {
    /// Longest accepted `timeout`: a longer wait for one Redis attempt only delays recovery.
    const MAX_ATTEMPT_TIMEOUT: u64 = 10;

    /// `None` unless `enabled` is true, as in Reverb.
    fn from_node(block: &Node) -> Result<Option<ScalingConfig>, ConfigError> {
        if !block.boolean("enabled", false)? {
            return Ok(None);
        }
        let server = block.object_or_empty("server")?;
        let database = server.non_negative("database", 0)?;
        let redis = RedisServer {
            url: server.optional_string("url")?.filter(|url| !url.is_empty()),
            host: server.string_or("host", "127.0.0.1")?,
            port: server.port("port", 6379)?,
            username: server
                .optional_string("username")?
                .filter(|u| !u.is_empty()),
            password: server
                .optional_string("password")?
                .filter(|p| !p.is_empty()),
            database: i64::try_from(database).unwrap_or(i64::MAX),
        };
        if let Some(url) = &redis.url {
            if !(url.starts_with("redis://") || url.starts_with("unix://")) {
                return Err(ConfigError::new(
                    &server.key("url"),
                    "must be a redis:// or unix:// URL (rediss:// is not supported yet: \
                     reach a TLS Redis through a local stunnel or spiped)",
                ));
            }
        }
        let timeout = server.positive("timeout", 60)? as u64;
        Ok(Some(ScalingConfig {
            channel: block.string_or("channel", "reverb")?,
            prefix: block.string_or("prefix", "")?,
            server: redis,
            timeout: Duration::from_secs(timeout.min(Self::MAX_ATTEMPT_TIMEOUT)),
            node_timeout: Duration::from_secs(block.positive("node_timeout", 10)? as u64),
        }))
    }
}

/// TLS is on when `local_cert` is set, as in Reverb. PHP stream-context options that rustls
/// cannot honour are refused rather than ignored.
fn tls_files(tls: &Node) -> Result<Option<TlsFiles>, ConfigError> {
    if tls
        .optional_string("passphrase")?
        .is_some_and(|p| !p.is_empty())
    {
        return Err(ConfigError::new(
            &tls.key("passphrase"),
            "is not supported: decrypt the key once (openssl pkey -in key.pem -out key-plain.pem) \
             and point local_pk at it",
        ));
    }
    let key = tls.optional_string("local_pk")?;
    match tls.optional_string("local_cert")? {
        Some(cert) => Ok(Some(TlsFiles { cert, key })),
        None if key.is_some() => Err(ConfigError::new(
            &tls.key("local_cert"),
            "is required when local_pk is set",
        )),
        None => Ok(None),
    }
}

fn ensure_unique(
    apps: &[AppConfig],
    field: &str,
    get: impl Fn(&AppConfig) -> &String,
) -> Result<(), ConfigError> {
    let mut seen = HashSet::new();
    for (index, app) in apps.iter().enumerate() {
        if !seen.insert(get(app)) {
            return Err(ConfigError::new(
                &format!("apps.apps.{index}.{field}"),
                format!("repeats \"{}\", which another app already uses", get(app)),
            ));
        }
    }
    Ok(())
}

fn normalise_path(path: &str) -> String {
    let trimmed = path.trim_matches('/');
    if trimmed.is_empty() {
        String::new()
    } else {
        format!("/{trimmed}")
    }
}

/// A JSON object together with its dotted path, so every error can name its key.
struct Node<'a> {
    path: String,
    map: Option<&'a Map<String, Value>>,
}

impl<'a> Node<'a> {
    fn root(value: &'a Value) -> Result<Node<'a>, ConfigError> {
        match value {
            Value::Object(map) => Ok(Node {
                path: String::new(),
                map: Some(map),
            }),
            Value::Array(list) if list.is_empty() => Ok(Node {
                path: String::new(),
                map: None,
            }),
            _ => Err(ConfigError::new("config", "must be an array")),
        }
    }

    fn key(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.path)
        }
    }

    /// The value under `name`, with PHP's `null` treated as missing.
    fn get(&self, name: &str) -> Option<&'a Value> {
        self.map.and_then(|m| m.get(name)).filter(|v| !v.is_null())
    }

    fn object_or_empty(&self, name: &str) -> Result<Node<'a>, ConfigError> {
        let path = self.key(name);
        match self.get(name) {
            None => Ok(Node { path, map: None }),
            Some(Value::Object(map)) => Ok(Node {
                path,
                map: Some(map),
            }),
            // PHP's empty array arrives as an empty list.
            Some(Value::Array(list)) if list.is_empty() => Ok(Node { path, map: None }),
            Some(_) => Err(ConfigError::new(&path, "must be an array")),
        }
    }

    fn list(&self, name: &str) -> Result<Vec<Node<'a>>, ConfigError> {
        let path = self.key(name);
        let items: Vec<(String, &Value)> = match self.get(name) {
            None => Vec::new(),
            Some(Value::Array(list)) => list
                .iter()
                .enumerate()
                .map(|(i, v)| (i.to_string(), v))
                .collect(),
            Some(Value::Object(map)) => map.iter().map(|(k, v)| (k.clone(), v)).collect(),
            Some(_) => return Err(ConfigError::new(&path, "must be a list of apps")),
        };
        items
            .into_iter()
            .map(|(index, value)| {
                let item_path = format!("{path}.{index}");
                match value {
                    Value::Object(map) => Ok(Node {
                        path: item_path,
                        map: Some(map),
                    }),
                    _ => Err(ConfigError::new(&item_path, "must be an array")),
                }
            })
            .collect()
    }

    fn string_or(&self, name: &str, default: &str) -> Result<String, ConfigError> {
        Ok(self
            .optional_string(name)?
            .unwrap_or_else(|| default.to_string()))
    }

    fn optional_string(&self, name: &str) -> Result<Option<String>, ConfigError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ConfigError::new(&self.key(name), "must be a string")),
        }
    }

    /// App ids, keys and secrets: required, non-empty; integers are accepted as strings
    /// because `REVERB_APP_ID=123456` and PHP's numeric ids both occur in practice.
    fn required_id(&self, name: &str) -> Result<String, ConfigError> {
        let key = self.key(name);
        match self.get(name) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(n.to_string()),
            Some(Value::String(_)) | None => Err(ConfigError::new(
                &key,
                "is required and must not be empty (check the REVERB_APP_* variables in .env)",
            )),
            Some(_) => Err(ConfigError::new(&key, "must be a string")),
        }
    }

    fn integer(&self, name: &str) -> Result<Option<i64>, ConfigError> {
        let key = self.key(name);
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
                .map(Some)
                .ok_or_else(|| ConfigError::new(&key, "must be an integer")),
            Some(Value::String(s)) => s
                .trim()
                .parse::<i64>()
                .map(Some)
                .map_err(|_| ConfigError::new(&key, "must be an integer")),
            Some(_) => Err(ConfigError::new(&key, "must be an integer")),
        }
    }

    fn positive(&self, name: &str, default: usize) -> Result<usize, ConfigError> {
        Ok(self.optional_positive(name)?.unwrap_or(default))
    }

    fn optional_positive(&self, name: &str) -> Result<Option<usize>, ConfigError> {
        match self.integer(name)? {
            None => Ok(None),
            Some(n) if n > 0 => Ok(Some(n as usize)),
            Some(n) => Err(ConfigError::new(
                &self.key(name),
                format!("must be greater than 0, got {n}"),
            )),
        }
    }

    fn non_negative(&self, name: &str, default: u64) -> Result<u64, ConfigError> {
        match self.integer(name)? {
            None => Ok(default),
            Some(n) => u64::try_from(n).map_err(|_| {
                ConfigError::new(&self.key(name), format!("must be 0 or more, got {n}"))
            }),
        }
    }

    fn port(&self, name: &str, default: u16) -> Result<u16, ConfigError> {
        match self.integer(name)? {
            None => Ok(default),
            Some(n) => u16::try_from(n).map_err(|_| {
                ConfigError::new(
                    &self.key(name),
                    format!("must be an integer between 0 and 65535, got {n}"),
                )
            }),
        }
    }

    /// Booleans as PHP writes them, including `.env` words (`true`, `false`, `1`, `0`).
    fn boolean(&self, name: &str, default: bool) -> Result<bool, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::Number(n)) if n.as_i64() == Some(0) => Ok(false),
            Some(Value::Number(n)) if n.as_i64() == Some(1) => Ok(true),
            Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "on" | "yes" => Ok(true),
                "false" | "0" | "off" | "no" | "" => Ok(false),
                _ => Err(ConfigError::new(&self.key(name), "must be a boolean")),
            },
            Some(_) => Err(ConfigError::new(&self.key(name), "must be a boolean")),
        }
    }

    fn string_list_or(&self, name: &str, default: &[&str]) -> Result<Vec<String>, ConfigError> {
        let key = self.key(name);
        match self.get(name) {
            None => Ok(default.iter().map(|s| s.to_string()).collect()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::String(s) => Ok(s.clone()),
                    _ => Err(ConfigError::new(&format!("{key}.{i}"), "must be a string")),
                })
                .collect(),
            Some(_) => Err(ConfigError::new(&key, "must be a list of strings")),
        }
    }

    /// IP addresses and CIDR ranges (`127.0.0.1`, `10.0.0.0/8`).
    fn networks(&self, name: &str) -> Result<Vec<ipnet::IpNet>, ConfigError> {
        let key = self.key(name);
        self.string_list_or(name, &[])?
            .iter()
            .enumerate()
            .map(|(i, text)| {
                text.parse::<ipnet::IpNet>()
                    .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        ConfigError::new(
                            &format!("{key}.{i}"),
                            format!("must be an IP address or CIDR range, got \"{text}\""),
                        )
                    })
            })
            .collect()
    }

    fn client_events_from(&self) -> Result<ClientEventsFrom, ConfigError> {
        let name = "accept_client_events_from";
        match self.optional_string(name)?.as_deref() {
            None | Some("members") => Ok(ClientEventsFrom::Members),
            Some("all") => Ok(ClientEventsFrom::All),
            Some("none") => Ok(ClientEventsFrom::None),
            Some(other) => Err(ConfigError::new(
                &self.key(name),
                format!("must be one of \"all\", \"members\", \"none\", got \"{other}\""),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn minimal() -> Value {
        json!({"apps": {"apps": [{"app_id": "1", "key": "k", "secret": "s"}]}})
    }

    #[test]
    fn missing_keys_take_reverbs_defaults() {
        let config = Config::from_value(&minimal()).unwrap();
        assert_eq!(config.host, "0.0.0.0");
        assert_eq!(config.port, 8080);
        assert_eq!(config.path, "");
        assert_eq!(config.max_request_size, 10_000);
        let app = &config.apps[0];
        assert_eq!(app.allowed_origins, vec!["*"]);
        assert_eq!(app.ping_interval, Duration::from_secs(60));
        assert_eq!(app.activity_timeout, 30);
        assert_eq!(app.max_connections, None);
        assert_eq!(app.max_message_size, 10_000);
        assert_eq!(app.accept_client_events_from, ClientEventsFrom::Members);
    }

    #[test]
    fn env_strings_are_coerced_like_php() {
        let config = Config::from_value(&json!({
            "servers": {"reverb": {"port": "9090", "path": "/ws/"}},
            "apps": {"apps": [{"app_id": 123456, "key": "k", "secret": "s",
                "max_message_size": "2048", "max_connections": null}]}
        }))
        .unwrap();
        assert_eq!(config.port, 9090);
        assert_eq!(config.path, "/ws");
        assert_eq!(config.apps[0].app_id, "123456");
        assert_eq!(config.apps[0].max_message_size, 2048);
    }

    #[test]
    fn wrong_types_name_the_key() {
        let mut value = minimal();
        value["apps"]["apps"][0]["max_message_size"] = json!("big");
        let err = Config::from_value(&value).unwrap_err();
        assert_eq!(
            err.to_string(),
            "apps.apps.0.max_message_size must be an integer"
        );
    }

    #[test]
    fn impossible_values_are_rejected() {
        let mut value = minimal();
        value["servers"] = json!({"reverb": {"port": 70000}});
        let err = Config::from_value(&value).unwrap_err();
        assert_eq!(err.key, "servers.reverb.port");

        let mut value = minimal();
        value["apps"]["apps"][0]["ping_interval"] = json!(0);
        let err = Config::from_value(&value).unwrap_err();
        assert_eq!(err.key, "apps.apps.0.ping_interval");

        let mut value = minimal();
        value["apps"]["apps"][0]["accept_client_events_from"] = json!("friends");
        let err = Config::from_value(&value).unwrap_err();
        assert_eq!(err.key, "apps.apps.0.accept_client_events_from");
    }

    #[test]
    fn apps_need_credentials_and_unique_keys() {
        let err = Config::from_value(&json!({"apps": {"apps": [{"app_id": "1", "key": "k"}]}}))
            .unwrap_err();
        assert_eq!(err.key, "apps.apps.0.secret");

        let err = Config::from_value(&json!({"apps": {"apps": [
            {"app_id": "1", "key": "k", "secret": "s"},
            {"app_id": "2", "key": "k", "secret": "t"}
        ]}}))
        .unwrap_err();
        assert_eq!(err.key, "apps.apps.1.key");

        let err = Config::from_value(&json!({})).unwrap_err();
        assert_eq!(err.key, "apps.apps");
    }

    #[test]
    fn rate_limiting_is_off_unless_enabled() {
        let config = Config::from_value(&minimal()).unwrap();
        assert_eq!(config.apps[0].rate_limit, None);

        let mut value = minimal();
        value["apps"]["apps"][0]["rate_limiting"] =
            json!({"enabled": "true", "max_attempts": 5, "decay_seconds": "2"});
        let limit = Config::from_value(&value).unwrap().apps[0]
            .rate_limit
            .unwrap();
        assert_eq!(limit.max_attempts, 5);
        assert_eq!(limit.decay, Duration::from_secs(2));
        assert!(!limit.terminate_on_limit);

        value["apps"]["apps"][0]["rate_limiting"]["terminate_on_limit"] = json!("maybe");
        let err = Config::from_value(&value).unwrap_err();
        assert_eq!(err.key, "apps.apps.0.rate_limiting.terminate_on_limit");
    }

    #[test]
    fn scaling_is_off_unless_enabled_and_names_bad_keys() {
        assert_eq!(Config::from_value(&minimal()).unwrap().scaling, None);
        let mut root = minimal();
        root["servers"] = json!({"reverb": {"scaling": {
            "enabled": "true",
            "server": {"host": "redis.internal", "port": "6380", "database": "2", "password": ""},
        }}});
        let scaling = Config::from_value(&root).unwrap().scaling.unwrap();
        assert_eq!(scaling.channel, "reverb");
        assert_eq!(scaling.prefix, "");
        assert_eq!(scaling.server.host, "redis.internal");
        assert_eq!(scaling.server.port, 6380);
        assert_eq!(scaling.server.database, 2);
        assert_eq!(scaling.server.password, None);
        assert_eq!(scaling.timeout, Duration::from_secs(10));
        assert_eq!(scaling.node_timeout, Duration::from_secs(10));

        root["servers"]["reverb"]["scaling"]["server"]["url"] = json!("http://redis");
        let err = Config::from_value(&root).unwrap_err();
        assert_eq!(err.key, "servers.reverb.scaling.server.url");
        root["servers"]["reverb"]["scaling"]["server"]["url"] = json!(null);
        root["servers"]["reverb"]["scaling"]["node_timeout"] = json!(0);
        let err = Config::from_value(&root).unwrap_err();
        assert_eq!(err.key, "servers.reverb.scaling.node_timeout");
    }

    #[test]
    fn unknown_keys_are_ignored() {
        let mut value = minimal();
        value["pulse_ingest_interval"] = json!(15);
        value["apps"]["apps"][0]["options"] = json!({"host": "example.com"});
        assert!(Config::from_value(&value).is_ok());
    }
}
