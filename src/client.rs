//! `ReverbRs\Client`: the engine's Pusher HTTP API client as a PHP class.
//!
//! Parameter names are camelCase because PHP code may pass them as named arguments.
#![allow(non_snake_case)]

use crate::convert::{array_to_json, json_to_array, zval_to_json};
use crate::exceptions::{api_error, config_error};
use ext_php_rs::boxed::ZBox;
use ext_php_rs::flags::ClassFlags;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendHashTable, Zval};
use reverb_engine::client::tls::Verification;
use reverb_engine::client::{BatchEvent, ClientConfig, ClientError};
use serde_json::Value;
use std::time::Duration;

/// Publishes to, and queries, any Pusher-compatible server over keep-alive HTTP.
#[php_class]
#[php(name = "ReverbRs\\Client")]
#[php(flags = ClassFlags::Final)]
pub struct Client {
    client: reverb_engine::client::Client,
}

/// Turns a failed request into `ReverbRs\ApiException`.
fn thrown(error: ClientError) -> PhpException {
    api_error(error.message, error.status)
}

/// Reads `[...]` of strings, or one string, as a list.
fn string_list(value: &Value, what: &str) -> PhpResult<Vec<String>> {
    match value {
        Value::String(one) => Ok(vec![one.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                _ => Err(PhpException::from_message(format!(
                    "{what} must hold strings only"
                ))),
            })
            .collect(),
        _ => Err(PhpException::from_message(format!(
            "{what} must be a string or an array of strings"
        ))),
    }
}

fn options(config: &Value) -> Result<ClientConfig, String> {
    let text = |key: &str| -> Result<Option<String>, String> {
        match config.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(format!("{key} must be a string")),
        }
    };
    let required = |key: &str| {
        text(key)?
            .filter(|value| !value.is_empty())
            .ok_or_else(|| format!("{key} is required"))
    };
    let scheme = text("scheme")?.unwrap_or_else(|| "http".into());
    if scheme != "http" && scheme != "https" {
        return Err(format!(
            "scheme must be \"http\" or \"https\", got \"{scheme}\""
        ));
    }
    let default_port = if scheme == "https" { 443 } else { 80 };
    let port = match text("port")? {
        None => default_port,
        Some(port) => port
            .parse::<u16>()
            .map_err(|_| format!("port must be an integer between 1 and 65535, got {port}"))?,
    };
    let timeout = match config.get("timeout") {
        None | Some(Value::Null) => 5.0,
        Some(value) => value
            .as_f64()
            .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
            .filter(|t| *t > 0.0)
            .ok_or("timeout must be a number of seconds greater than 0")?,
    };
    let path = text("path")?.unwrap_or_default();
    let verify = match config.get("verify") {
        None | Some(Value::Null) | Some(Value::Bool(true)) => Verification::WebPki,
        Some(Value::Bool(false)) => Verification::Disabled,
        Some(Value::String(ca_file)) if !ca_file.is_empty() => {
            Verification::CaFile(ca_file.clone())
        }
        Some(_) => return Err("verify must be true, false, or the path of a CA file".into()),
    };
    Ok(ClientConfig {
        key: required("key")?,
        secret: required("secret")?,
        app_id: required("app_id")?,
        host: text("host")?.unwrap_or_else(|| "127.0.0.1".into()),
        port,
        scheme,
        path: path.trim_end_matches('/').to_string(),
        timeout: Duration::from_secs_f64(timeout),
        verify,
    })
}

#[php_impl]
impl Client {
    /// Options: `key`, `secret`, `app_id` (required), `host` (127.0.0.1), `port` (80/443),
    /// `scheme` (`http`|`https`), `path` (a prefix before `/apps`), `timeout` (5.0 s), and
    /// `verify` for https (true: Mozilla's roots; a path: that CA file; false: no checks).
    /// Throws `ReverbRs\ConfigException` naming a bad option.
    pub fn __construct(options: &ZendHashTable) -> PhpResult<Self> {
        let config = self::options(&array_to_json(options)).map_err(config_error)?;
        let client = reverb_engine::client::Client::new(config)
            .map_err(|error| config_error(format!("verify: {}", error.message)))?;
        Ok(Client { client })
    }

    /// Publishes `$data` as `$event` on one channel or several; returns the server's answer
    /// (`[]`, or `['channels' => [...]]` when `$info` asks for attributes).
    #[php(defaults(info = []))]
    pub fn trigger(
        &self,
        channels: &Zval,
        event: String,
        data: String,
        socketId: Option<String>,
        info: Vec<String>,
    ) -> PhpResult<ZBox<ZendHashTable>> {
        let channels = string_list(&zval_to_json(channels), "$channels")?;
        let answer = self
            .client
            .trigger(&channels, &event, &data, socketId.as_deref(), &info)
            .map_err(thrown)?;
        Ok(json_to_array(&answer))
    }

    /// Publishes several events: each `['channel' => .., 'name' => .., 'data' => ..,
    /// 'socket_id' => ?, 'info' => ?]`.
    pub fn trigger_batch(&self, events: &ZendHashTable) -> PhpResult<ZBox<ZendHashTable>> {
        let Value::Array(items) = array_to_json(events) else {
            return Err(PhpException::from_message(
                "$events must be a list of events".into(),
            ));
        };
        let batch = items
            .iter()
            .enumerate()
            .map(|(index, item)| {
                let field = |name: &str| item.get(name).and_then(Value::as_str).map(str::to_string);
                let missing = |name: &str| {
                    PhpException::from_message(format!(
                        "$events[{index}]['{name}'] must be a string"
                    ))
                };
                Ok(BatchEvent {
                    channel: field("channel").ok_or_else(|| missing("channel"))?,
                    name: field("name").ok_or_else(|| missing("name"))?,
                    data: field("data").ok_or_else(|| missing("data"))?,
                    socket_id: field("socket_id"),
                    info: field("info")
                        .map(|info| info.split(',').map(str::to_string).collect())
                        .unwrap_or_default(),
                })
            })
            .collect::<PhpResult<Vec<_>>>()?;
        Ok(json_to_array(
            &self.client.trigger_batch(&batch).map_err(thrown)?,
        ))
    }

    /// The occupied channels, optionally those starting with `$prefix`.
    #[php(defaults(info = []))]
    pub fn channels(
        &self,
        prefix: Option<String>,
        info: Vec<String>,
    ) -> PhpResult<ZBox<ZendHashTable>> {
        let answer = self
            .client
            .channels(prefix.as_deref(), &info)
            .map_err(thrown)?;
        Ok(json_to_array(&answer))
    }

    /// One channel: `occupied` and the attributes asked for in `$info`.
    #[php(defaults(info = []))]
    pub fn channel(&self, name: String, info: Vec<String>) -> PhpResult<ZBox<ZendHashTable>> {
        Ok(json_to_array(
            &self.client.channel(&name, &info).map_err(thrown)?,
        ))
    }

    /// The users of a presence channel: `['users' => [['id' => ..], ..]]`.
    pub fn users(&self, channel: String) -> PhpResult<ZBox<ZendHashTable>> {
        Ok(json_to_array(&self.client.users(&channel).map_err(thrown)?))
    }

    /// Disconnects every socket of a user.
    pub fn terminate_user_connections(&self, userId: String) -> PhpResult<()> {
        self.client
            .terminate_user_connections(&userId)
            .map_err(thrown)?;
        Ok(())
    }

    /// Sends an event to every socket signed in as a user (`#server-to-user-{id}`).
    pub fn send_to_user(&self, userId: String, event: String, data: String) -> PhpResult<()> {
        self.client
            .send_to_user(&userId, &event, &data)
            .map_err(thrown)?;
        Ok(())
    }
}
