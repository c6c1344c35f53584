//! A client for the Pusher HTTP API, for processes that do not host the server (PHP-FPM
//! workers, queue workers). It works against any Pusher-compatible server.
//!
//! Requests are signed here (see [`crate::auth::sign_request`]) and sent over keep-alive
//! connections from a process-wide pool, so consecutive calls, and consecutive PHP requests
//! of one FPM worker, reuse the same connection. A connection the server closed is replaced
//! transparently. `https` uses rustls.
//!
//! - [`config`]: where and as whom requests go, read from the host's options.
//! - [`http`]: one kept-alive HTTP/1.1 connection.
//! - [`tls`]: how `https` servers are verified.

mod config;
mod http;
pub mod tls;

use crate::auth;
use http::{Connection, RoundTripError};
use parking_lot::Mutex;
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use rustls::ClientConfig as TlsConfig;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tls::Verification;

pub use config::ClientConfig;

/// A request that failed: the HTTP status (`None` when no response arrived) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ClientError {
    /// The HTTP status the server answered with.
    pub status: Option<u16>,
    /// The server's body, or the transport error.
    pub message: String,
}

/// One event of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchEvent {
    /// The channel.
    pub channel: String,
    /// The event name.
    pub name: String,
    /// The payload string.
    pub data: String,
    /// A socket to exclude.
    pub socket_id: Option<String>,
    /// Attributes to return for the channel.
    pub info: Vec<String>,
}

/// What must be escaped in a path segment (channel names, user ids); everything Pusher allows
/// in a channel name stays as is, as the official SDKs send it.
const PATH_SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'?')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// A Pusher HTTP API client for one app.
pub struct Client {
    config: ClientConfig,
    tls: Option<Arc<TlsConfig>>,
}

/// Where a pooled connection goes: scheme, host, port, and how its certificate was checked.
type Target = (String, String, u16, Verification);

/// Idle kept-alive connections, owned by the process that opened them.
struct Pool {
    pid: u32,
    idle: HashMap<Target, Vec<Connection>>,
}

/// How many idle connections are kept per target.
const IDLE_PER_TARGET: usize = 8;

static POOL: Mutex<Option<Pool>> = Mutex::new(None);

/// Runs `f` on this process's pool. A forked child starts a pool of its own rather than
/// share sockets with its parent.
fn with_pool<T>(f: impl FnOnce(&mut HashMap<Target, Vec<Connection>>) -> T) -> T {
    let pid = std::process::id();
    let mut pool = POOL.lock();
    if pool.as_ref().is_none_or(|pool| pool.pid != pid) {
        // Replacing a parent's pool closes only this process's copies of its sockets.
        *pool = Some(Pool {
            pid,
            idle: HashMap::new(),
        });
    }
    f(&mut pool.as_mut().expect("initialised above").idle)
}

/// Escapes one path segment.
fn segment(value: &str) -> String {
    utf8_percent_encode(value, PATH_SEGMENT).to_string()
}

impl Client {
    /// Sends a request over a pooled connection, or a new one; a pooled connection the server
    /// had already closed is replaced once, transparently.
    fn send(&self, request: &[u8]) -> Result<(u16, String), ClientError> {
        let config = &self.config;
        let target: Target = (
            config.scheme.clone(),
            config.host.clone(),
            config.port,
            config.verify.clone(),
        );
        let unreachable = |error: std::io::Error| ClientError {
            status: None,
            message: format!(
                "Could not reach {}://{}:{}: {error}",
                config.scheme, config.host, config.port
            ),
        };
        loop {
            let pooled = with_pool(|idle| idle.get_mut(&target).and_then(Vec::pop));
            let reused = pooled.is_some();
            let mut connection = match pooled {
                Some(connection) => connection,
                None => {
                    Connection::open(&config.host, config.port, self.tls.clone(), config.timeout)
                        .map_err(unreachable)?
                }
            };
            match connection.round_trip(request) {
                Ok(response) => {
                    if response.keep_alive {
                        with_pool(|idle| {
                            let connections = idle.entry(target).or_default();
                            if connections.len() < IDLE_PER_TARGET {
                                connections.push(connection);
                            }
                        });
                    }
                    let text = String::from_utf8_lossy(&response.body).into_owned();
                    return Ok((response.status, text));
                }
                Err(RoundTripError::Stale(_)) if reused => continue,
                Err(RoundTripError::Stale(error) | RoundTripError::Failed(error)) => {
                    return Err(unreachable(error))
                }
            }
        }
    }

    /// A client for the app and server in `config`; fails when the TLS settings cannot be
    /// used (an unreadable CA file).
    pub fn new(config: ClientConfig) -> Result<Client, ClientError> {
        let tls = (config.scheme == "https")
            .then(|| config.verify.client_config())
            .transpose()
            .map_err(|error| ClientError {
                status: None,
                message: error.to_string(),
            })?;
        Ok(Client { config, tls })
    }

    /// Publishes an event to channels; returns the server's answer (`{}` or channel info).
    pub fn trigger(
        &self,
        channels: &[String],
        event: &str,
        data: &str,
        socket_id: Option<&str>,
        info: &[String],
    ) -> Result<Value, ClientError> {
        let mut body = serde_json::json!({"name": event, "data": data, "channels": channels});
        if let Some(socket_id) = socket_id {
            body["socket_id"] = socket_id.into();
        }
        if !info.is_empty() {
            body["info"] = info.join(",").into();
        }
        self.request("POST", "events", &[], Some(&body))
    }

    /// Publishes several events in one request.
    pub fn trigger_batch(&self, events: &[BatchEvent]) -> Result<Value, ClientError> {
        let batch: Vec<Value> = events
            .iter()
            .map(|event| {
                let mut item = serde_json::json!({
                    "channel": event.channel, "name": event.name, "data": event.data
                });
                if let Some(socket_id) = &event.socket_id {
                    item["socket_id"] = socket_id.clone().into();
                }
                if !event.info.is_empty() {
                    item["info"] = event.info.join(",").into();
                }
                item
            })
            .collect();
        self.request(
            "POST",
            "batch_events",
            &[],
            Some(&serde_json::json!({ "batch": batch })),
        )
    }

    /// The occupied channels, optionally filtered by prefix.
    pub fn channels(&self, prefix: Option<&str>, info: &[String]) -> Result<Value, ClientError> {
        let mut params = Vec::new();
        if let Some(prefix) = prefix {
            params.push(("filter_by_prefix".to_string(), prefix.to_string()));
        }
        if !info.is_empty() {
            params.push(("info".to_string(), info.join(",")));
        }
        self.request("GET", "channels", &params, None)
    }

    /// One channel's state.
    pub fn channel(&self, name: &str, info: &[String]) -> Result<Value, ClientError> {
        let mut params = Vec::new();
        if !info.is_empty() {
            params.push(("info".to_string(), info.join(",")));
        }
        self.request("GET", &format!("channels/{}", segment(name)), &params, None)
    }

    /// The users of a presence channel.
    pub fn users(&self, channel: &str) -> Result<Value, ClientError> {
        let route = format!("channels/{}/users", segment(channel));
        self.request("GET", &route, &[], None)
    }

    /// Disconnects every socket of a user.
    pub fn terminate_user_connections(&self, user_id: &str) -> Result<Value, ClientError> {
        let path = format!("users/{}/terminate_connections", segment(user_id));
        self.request("POST", &path, &[], Some(&serde_json::json!({})))
    }

    /// Sends an event to every socket signed in as a user.
    pub fn send_to_user(
        &self,
        user_id: &str,
        event: &str,
        data: &str,
    ) -> Result<Value, ClientError> {
        let channel = [format!("#server-to-user-{user_id}")];
        self.trigger(&channel, event, data, None, &[])
    }

    fn request(
        &self,
        method: &str,
        route: &str,
        params: &[(String, String)],
        body: Option<&Value>,
    ) -> Result<Value, ClientError> {
        let config = &self.config;
        let signed_path = format!("/apps/{}/{route}", config.app_id);
        let body = body.map(Value::to_string).unwrap_or_default();
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs());
        let query = auth::sign_request(
            &config.key,
            &config.secret,
            method,
            &signed_path,
            params,
            body.as_bytes(),
            timestamp,
        );
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(query)
            .finish();
        let mut request = format!(
            "{method} {}{signed_path}?{query} HTTP/1.1\r\nHost: {}:{}\r\nUser-Agent: reverb-rs/{}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            config.path,
            config.host,
            config.port,
            env!("CARGO_PKG_VERSION"),
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(body.as_bytes());
        let (status, text) = self.send(&request)?;
        if status != 200 {
            return Err(ClientError {
                status: Some(status),
                message: text,
            });
        }
        serde_json::from_str(&text).map_err(|error| ClientError {
            status: Some(status),
            message: format!("The server answered with invalid JSON ({error}): {text}"),
        })
    }
}
