//! Typed server configuration, read from the shape of Laravel's `config('reverb')`.
//!
//! The input is a JSON value (the PHP array converted by the extension). Missing keys take
//! Reverb's defaults, unknown keys are ignored like Reverb ignores them, and a key with a wrong
//! type or an impossible value is a [`ConfigError`] that names the key by its dotted path
//! (`apps.apps.0.max_message_size must be an integer`). Values that come from `.env` arrive as
//! strings in PHP (`"8080"`), so numeric strings and boolean words are accepted where Reverb's
//! PHP coercion accepts them.
//!
//! - [`app`]: one app's credentials and limits (`apps.apps.N`).
//! - [`lookup`]: apps looked up from the host on demand (`apps.lookup`).
//! - [`scaling`]: Redis between nodes (`servers.reverb.scaling`).
//! - [`metrics`]: the Prometheus metrics listener (`servers.reverb.metrics`).
//! - [`webhooks`]: each app's webhooks and how the server sends them.
//! - [`node`]: the reader that knows each value's dotted path, so errors can name it.

mod app;
mod lookup;
mod metrics;
mod node;
mod scaling;
mod webhooks;

pub use app::{AppConfig, ClientEventsFrom, RateLimit};
pub use lookup::LookupConfig;
pub use metrics::MetricsConfig;
pub use scaling::{RedisAddress, RedisServer, RedisTls, ScalingConfig};
pub use webhooks::{WebhookConfig, WebhookKind, WebhookSettings};

use crate::tls::TlsFiles;
use node::Node;
use serde_json::Value;
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
    /// An error about the key at dotted path `key`.
    pub(crate) fn new(key: &str, problem: impl Into<String>) -> Self {
        ConfigError {
            key: key.to_string(),
            problem: problem.into(),
        }
    }
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
    /// How many bytes may wait for one socket before it is closed as too slow.
    pub send_queue_bytes: usize,
    /// How many bytes may wait in all sockets' queues together; past it the sockets that
    /// hold the most are closed as too slow.
    pub send_queue_budget: usize,
    /// Report every frame written to a socket as a `message_sent` event (for `--debug` and
    /// Laravel's `MessageSent`); off by default because it costs one event per delivery.
    pub report_sent_messages: bool,
    /// Report every message a client sends as a `message_received` event, with a copy of
    /// it; on by default, `reverb:start` turns it off unless something listens.
    pub report_received_messages: bool,
    /// Sharing work with other nodes over Redis; `None` when `scaling.enabled` is off.
    pub scaling: Option<ScalingConfig>,
    /// How webhooks are sent (`servers.reverb.webhooks`).
    pub webhooks: WebhookSettings,
    /// Where Prometheus metrics are served; `None` when `metrics.enabled` is off.
    pub metrics: Option<MetricsConfig>,
    /// The applications served.
    pub apps: Vec<AppConfig>,
    /// Apps looked up from the host on demand (`apps.lookup`); `None` when off.
    pub lookup: Option<LookupConfig>,
}

impl Config {
    /// Reads a configuration from the shape of Laravel's `config('reverb')`.
    pub fn from_value(root: &Value) -> Result<Config, ConfigError> {
        let root = Node::root(root)?;
        let server_name = root.string_or("default", "reverb")?;
        let servers = root.object_or_empty("servers")?;
        let server = servers.object_or_empty(&server_name)?;

        let apps_section = root.object_or_empty("apps")?;
        let lookup = LookupConfig::from_node(&apps_section.object_or_empty("lookup")?)?;
        let apps = apps_section.list("apps")?;
        if apps.is_empty() && lookup.is_none() {
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
            send_queue_size: server.positive("send_queue_size", 100_000)?,
            send_queue_bytes: server.positive("send_queue_bytes", 4 * 1024 * 1024)?,
            send_queue_budget: server.positive("send_queue_budget", 256 * 1024 * 1024)?,
            report_sent_messages: server.boolean("report_sent_messages", false)?,
            report_received_messages: server.boolean("report_received_messages", true)?,
            scaling: ScalingConfig::from_node(&server.object_or_empty("scaling")?)?,
            webhooks: WebhookSettings::from_node(&server.object_or_empty("webhooks")?)?,
            metrics: MetricsConfig::from_node(&server.object_or_empty("metrics")?)?,
            apps,
            lookup,
        })
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
    fn limits_are_on_by_default_and_0_turns_them_off() {
        let app = &Config::from_value(&minimal()).unwrap().apps[0];
        assert_eq!(app.max_client_events_per_second, Some(10));
        assert_eq!(app.max_channels_per_connection, Some(100));
        assert_eq!(app.max_presence_members, Some(100));
        assert_eq!(app.max_presence_user_info_bytes, Some(2048));

        let keys = [
            "max_client_events_per_second",
            "max_channels_per_connection",
            "max_presence_members",
            "max_presence_user_info_bytes",
        ];
        let mut value = minimal();
        for key in keys {
            value["apps"]["apps"][0][key] = json!("0");
        }
        let app = &Config::from_value(&value).unwrap().apps[0];
        assert_eq!(app.max_client_events_per_second, None);
        assert_eq!(app.max_channels_per_connection, None);
        assert_eq!(app.max_presence_members, None);
        assert_eq!(app.max_presence_user_info_bytes, None);

        for key in keys {
            let mut value = minimal();
            value["apps"]["apps"][0][key] = json!(-1);
            let err = Config::from_value(&value).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("apps.apps.0.{key} must be 0 (no limit) or more, got -1")
            );
            value["apps"]["apps"][0][key] = json!([5]);
            let err = Config::from_value(&value).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("apps.apps.0.{key} must be an integer")
            );
        }
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
        assert_eq!(
            scaling.server.address,
            RedisAddress::Tcp {
                host: "redis.internal".into(),
                port: 6380
            }
        );
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
