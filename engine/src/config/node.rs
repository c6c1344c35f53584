//! A reader over the configuration's JSON that knows where each value sits, so that every
//! error names its key by dotted path, and that coerces strings as PHP's `.env` values need.

use super::ConfigError;
use serde_json::{Map, Value};
use std::time::Duration;

/// The longest interval a key may give, ten years: longer than any timer needs, and short
/// enough that a deadline that far ahead fits every clock (a longer one overflows `Instant`).
const MAX_SECONDS: u64 = 10 * 365 * 24 * 3600;

/// A JSON object together with its dotted path, so every error can name its key.
pub(super) struct Node<'a> {
    path: String,
    map: Option<&'a Map<String, Value>>,
}

impl<'a> Node<'a> {
    /// The whole configuration, which must be an object.
    pub(super) fn root(value: &'a Value) -> Result<Node<'a>, ConfigError> {
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

    /// The object `value`, which sits at dotted path `path`.
    pub(super) fn at(path: &str, value: &'a Value) -> Result<Node<'a>, ConfigError> {
        match value {
            Value::Object(map) => Ok(Node {
                path: path.to_string(),
                map: Some(map),
            }),
            _ => Err(ConfigError::new(path, "must be an array")),
        }
    }

    /// This object's dotted path, as errors name it.
    pub(super) fn path(&self) -> &str {
        &self.path
    }

    /// The dotted path of `name` under this object, as errors name it.
    pub(super) fn key(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.path)
        }
    }

    /// The value under `name`, with PHP's `null` treated as missing.
    pub(super) fn get(&self, name: &str) -> Option<&'a Value> {
        self.map.and_then(|m| m.get(name)).filter(|v| !v.is_null())
    }

    /// The object under `name`; an empty one when it is missing.
    pub(super) fn object_or_empty(&self, name: &str) -> Result<Node<'a>, ConfigError> {
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

    /// The objects listed under `name`; none when it is missing.
    pub(super) fn list(&self, name: &str) -> Result<Vec<Node<'a>>, ConfigError> {
        let path = self.key(name);
        let items: Vec<(String, &Value)> = match self.get(name) {
            None => Vec::new(),
            Some(Value::Array(list)) => list
                .iter()
                .enumerate()
                .map(|(i, v)| (i.to_string(), v))
                .collect(),
            Some(Value::Object(map)) => map.iter().map(|(k, v)| (k.clone(), v)).collect(),
            Some(_) => return Err(ConfigError::new(&path, "must be a list")),
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

    /// Refuses any key of this object that is not in `known`, so that a misspelt key in a
    /// block that has no Reverb counterpart is not silently ignored.
    pub(super) fn only_keys(&self, known: &[&str]) -> Result<(), ConfigError> {
        let unknown = self
            .map
            .into_iter()
            .flat_map(|map| map.keys())
            .find(|key| !known.contains(&key.as_str()));
        match unknown {
            None => Ok(()),
            Some(key) => Err(ConfigError::new(
                &self.key(key),
                format!("is not a known key (known: {})", known.join(", ")),
            )),
        }
    }

    /// The strings of the object under `name` by key; none when it is missing.
    pub(super) fn string_map(&self, name: &str) -> Result<Vec<(String, String)>, ConfigError> {
        let block = self.object_or_empty(name)?;
        block
            .map
            .into_iter()
            .flat_map(|map| map.iter())
            .map(|(key, value)| match value {
                Value::String(s) => Ok((key.clone(), s.clone())),
                Value::Number(n) => Ok((key.clone(), n.to_string())),
                _ => Err(ConfigError::new(&block.key(key), "must be a string")),
            })
            .collect()
    }

    /// The string under `name`, or `default` when it is missing.
    pub(super) fn string_or(&self, name: &str, default: &str) -> Result<String, ConfigError> {
        Ok(self
            .optional_string(name)?
            .unwrap_or_else(|| default.to_string()))
    }

    /// The string under `name`, if any; numbers are read as their text.
    pub(super) fn optional_string(&self, name: &str) -> Result<Option<String>, ConfigError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ConfigError::new(&self.key(name), "must be a string")),
        }
    }

    /// App ids, keys and secrets: required, non-empty; integers are accepted as strings
    /// because `REVERB_APP_ID=123456` and PHP's numeric ids both occur in practice.
    pub(super) fn required_id(&self, name: &str) -> Result<String, ConfigError> {
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

    /// The integer under `name`, if any; numeric strings count.
    pub(super) fn integer(&self, name: &str) -> Result<Option<i64>, ConfigError> {
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

    /// An integer of at least 1 under `name`, or `default` when it is missing.
    pub(super) fn positive(&self, name: &str, default: usize) -> Result<usize, ConfigError> {
        Ok(self.optional_positive(name)?.unwrap_or(default))
    }

    /// An integer of at least 1 under `name`, if any.
    pub(super) fn optional_positive(&self, name: &str) -> Result<Option<usize>, ConfigError> {
        match self.integer(name)? {
            None => Ok(None),
            Some(n) if n > 0 => Ok(Some(n as usize)),
            Some(n) => Err(ConfigError::new(
                &self.key(name),
                format!("must be greater than 0, got {n}"),
            )),
        }
    }

    /// A number of seconds, at least 1 and at most ten years, under `name`, or `default`
    /// seconds when it is missing.
    pub(super) fn seconds(&self, name: &str, default: u64) -> Result<Duration, ConfigError> {
        let seconds = self.positive(name, default as usize)? as u64;
        if seconds > MAX_SECONDS {
            return Err(ConfigError::new(
                &self.key(name),
                format!("must be at most {MAX_SECONDS} seconds (ten years), got {seconds}"),
            ));
        }
        Ok(Duration::from_secs(seconds))
    }

    /// A limit under `name`: `Some(default)` when it is missing, `None` (no limit) for 0,
    /// so that a limit on by default can still be turned off.
    pub(super) fn limit(&self, name: &str, default: usize) -> Result<Option<usize>, ConfigError> {
        match self.integer(name)? {
            None => Ok(Some(default)),
            Some(0) => Ok(None),
            Some(n) => usize::try_from(n).map(Some).map_err(|_| {
                ConfigError::new(
                    &self.key(name),
                    format!("must be 0 (no limit) or more, got {n}"),
                )
            }),
        }
    }

    /// An integer of at least 0 under `name`, or `default` when it is missing.
    pub(super) fn non_negative(&self, name: &str, default: u64) -> Result<u64, ConfigError> {
        match self.integer(name)? {
            None => Ok(default),
            Some(n) => u64::try_from(n).map_err(|_| {
                ConfigError::new(&self.key(name), format!("must be 0 or more, got {n}"))
            }),
        }
    }

    /// A TCP port (0 to 65535) under `name`, or `default` when it is missing.
    pub(super) fn port(&self, name: &str, default: u16) -> Result<u16, ConfigError> {
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
    pub(super) fn boolean(&self, name: &str, default: bool) -> Result<bool, ConfigError> {
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

    /// A list of strings under `name`, or `default` when it is missing.
    pub(super) fn string_list_or(
        &self,
        name: &str,
        default: &[&str],
    ) -> Result<Vec<String>, ConfigError> {
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
    pub(super) fn networks(&self, name: &str) -> Result<Vec<ipnet::IpNet>, ConfigError> {
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
}
