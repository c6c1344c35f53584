//! Property-based fuzzing of the configuration reader, [`Config::from_value`]: the host hands
//! it whatever PHP's `config('reverb')` holds, so arbitrary JSON must never panic it, and a
//! value it refuses must be named by its dotted path; and what it accepts must not break the
//! server later (every timer fits the clock). `PROPTEST_CASES` sets how many cases each
//! property runs (256 by default).

mod support;

use proptest::prelude::*;
use reverb_engine::{Config, ConfigError};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use support::fuzzing::json_value;
use support::{publish, start_one, Client};

/// A configuration every property starts from: one app, scaling and metrics on, TLS off, every
/// key the reader knows present (some as `null`, which counts as missing).
fn valid() -> Value {
    json!({
        "default": "reverb",
        "servers": {"reverb": {
            "host": "127.0.0.1", "port": 8080, "path": "", "hostname": null,
            "max_request_size": 10_000,
            "timestamp_window": 600, "trusted_proxies": ["10.0.0.0/8"], "workers": 2,
            "event_queue_size": 100, "send_queue_size": 100, "send_queue_bytes": 4096,
            "send_queue_budget": 65536, "report_sent_messages": false,
            "options": {"tls": {"local_cert": null, "local_pk": null, "passphrase": null}},
            "scaling": {"enabled": true, "channel": "reverb", "prefix": "", "node_timeout": 10,
                "server": {"url": null, "host": "127.0.0.1", "port": 6379, "username": null,
                    "password": null, "database": 0, "timeout": 5}},
            "metrics": {"enabled": true, "host": "127.0.0.1", "port": 9601},
        }},
        "apps": {"apps": [{
            "app_id": "1", "key": "k", "secret": "s", "allowed_origins": ["*"],
            "ping_interval": 60, "activity_timeout": 30, "max_connections": 10,
            "max_message_size": 10_000, "accept_client_events_from": "members",
            "max_client_events_per_second": 10, "max_channels_per_connection": 100,
            "max_presence_members": 100, "max_presence_user_info_bytes": 2048,
            "max_channels_per_event": 100, "max_events_per_batch": 10, "cache_ttl": 1800,
            "rate_limiting": {"enabled": true, "max_attempts": 60, "decay_seconds": 60,
                "terminate_on_limit": false},
        }]},
    })
}

/// Every key of [`valid`] by dotted path, objects and lists included.
fn paths(value: &Value, prefix: &str, out: &mut Vec<String>) {
    let children: Vec<(String, &Value)> = match value {
        Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), v)).collect(),
        Value::Array(list) => list
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect(),
        _ => return,
    };
    for (name, child) in children {
        let path = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}.{name}")
        };
        out.push(path.clone());
        paths(child, &path, out);
    }
}

/// [`valid`] with the value at dotted `path` replaced by `value`.
fn with(path: &str, value: Value) -> Value {
    let mut config = valid();
    let pointer = format!("/{}", path.replace('.', "/"));
    *config.pointer_mut(&pointer).expect("the path exists") = value;
    config
}

/// Errors that rightly name another key than the one changed: a `local_pk` without a
/// `local_cert` is reported at `local_cert`.
const NAMED_ELSEWHERE: [(&str, &str); 1] = [(
    "servers.reverb.options.tls.local_pk",
    "servers.reverb.options.tls.local_cert",
)];

/// Whether `error` names the changed key `path`, or a key inside it.
fn names_the_key(error: &ConfigError, path: &str) -> bool {
    error.key == path
        || error.key.starts_with(&format!("{path}."))
        || NAMED_ELSEWHERE
            .iter()
            .any(|&(changed, named)| changed == path && named == error.key)
}

proptest! {
    #[test]
    fn arbitrary_json_is_read_or_refused_naming_a_key(value in json_value()) {
        if let Err(error) = Config::from_value(&value) {
            prop_assert!(!error.key.is_empty());
            prop_assert_eq!(error.to_string(), format!("{} {}", error.key, error.problem));
        }
    }

    #[test]
    fn any_value_at_any_key_is_refused_naming_that_key_or_gives_timers_that_fit_the_clock(
        index in any::<prop::sample::Index>(),
        value in prop_oneof![
            2 => json_value(),
            1 => any::<i64>().prop_map(Value::from),
            1 => any::<u64>().prop_map(Value::from),
        ],
    ) {
        let mut all = Vec::new();
        paths(&valid(), "", &mut all);
        let path = index.get(&all);
        match Config::from_value(&with(path, value.clone())) {
            Err(error) => {
                prop_assert!(names_the_key(&error, path), "{} set to {} gave: {}", path, value, error);
            }
            Ok(config) => {
                let now = Instant::now();
                for interval in timers(&config) {
                    prop_assert!(now.checked_add(interval).is_some(), "{} set to {} was accepted", path, value);
                }
            }
        }
    }
}

/// Every interval the server adds to its clock: pings, cache lifetimes, rate-limit windows
/// and node heartbeats. (`timestamp_window` is only compared, never added to a clock.)
fn timers(config: &Config) -> Vec<Duration> {
    let mut timers: Vec<Duration> = config
        .apps
        .iter()
        .flat_map(|app| {
            let window = app.rate_limit.map(|limit| limit.decay);
            [Some(app.ping_interval), Some(app.cache_ttl), window]
        })
        .flatten()
        .collect();
    if let Some(scaling) = &config.scaling {
        timers.extend([scaling.node_timeout, scaling.timeout]);
    }
    timers
}

/// Found while fuzzing the reader: a `ping_interval`, `cache_ttl`, `decay_seconds` or
/// `node_timeout` too long for `Instant` was accepted, and then every socket's task (for
/// `ping_interval`) or every publish to a cache channel (for `cache_ttl`, on the publisher's
/// thread, PHP's included) panicked adding it to the clock. Now ten years is the most.
#[test]
fn regression_an_interval_over_ten_years_is_refused_naming_its_key() {
    for path in [
        "apps.apps.0.ping_interval",
        "apps.apps.0.cache_ttl",
        "apps.apps.0.rate_limiting.decay_seconds",
        "servers.reverb.scaling.node_timeout",
    ] {
        let error = Config::from_value(&with(path, json!(i64::MAX))).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "{path} must be at most 315360000 seconds (ten years), got {}",
                i64::MAX
            )
        );
        assert!(Config::from_value(&with(path, json!(315_360_000))).is_ok());
    }
}

/// The other half of the regression above: at the longest intervals allowed, sockets are
/// served and cache channels keep their last event.
#[tokio::test]
async fn regression_the_longest_intervals_allowed_serve_sockets_and_cache_channels() {
    let server = start_one(json!({"ping_interval": 315_360_000, "cache_ttl": 315_360_000}));
    let (mut client, _) = Client::subscribed(server.local_addr(), "cache-a").await;
    client.expect_event("pusher:cache_miss").await;
    publish(&server, &["cache-a"], "e", "d");
    client.expect_event("e").await;
    client.ping_pong().await;
    let (mut late, _) = Client::subscribed(server.local_addr(), "cache-a").await;
    late.expect_event("e").await;
}

#[test]
fn the_starting_configuration_is_valid() {
    Config::from_value(&valid()).expect("valid() is a valid configuration");
}
