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
use reverb_engine::{BatchEvent, ClientConfig, ClientError};
use serde_json::Value;

/// Publishes to, and queries, any Pusher-compatible server over keep-alive HTTP.
#[php_class]
#[php(name = "ReverbRs\\Client")]
#[php(flags = ClassFlags::Final)]
pub struct Client {
    client: reverb_engine::Client,
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

#[php_impl]
impl Client {
    /// Options: `key`, `secret`, `app_id` (required), `host` (127.0.0.1), `port` (80/443),
    /// `scheme` (`http`|`https`), `path` (a prefix before `/apps`), `timeout` (5.0 s), and
    /// `verify` for https (true: Mozilla's roots; a path: that CA file; false: no checks).
    /// Throws `ReverbRs\ConfigException` naming a bad option.
    pub fn __construct(options: &ZendHashTable) -> PhpResult<Self> {
        let config = ClientConfig::from_value(&array_to_json(options)).map_err(config_error)?;
        let client = reverb_engine::Client::new(config)
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
