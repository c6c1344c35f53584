//! A client for the Pusher HTTP API, for processes that do not host the server (PHP-FPM
//! workers, queue workers). It works against any Pusher-compatible server.
//!
//! Requests are signed here (see [`crate::auth::sign_request`]) and sent over keep-alive
//! connections from a process-wide pool, so consecutive calls, and consecutive PHP requests
//! of one FPM worker, reuse the same connection. A connection the server closed is replaced
//! transparently. `https` uses rustls.

use crate::auth;
use parking_lot::Mutex;
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use serde_json::Value;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

/// Where and as whom to send requests.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientConfig {
    /// The app key.
    pub key: String,
    /// The app secret.
    pub secret: String,
    /// The app id.
    pub app_id: String,
    /// `http` or `https`.
    pub scheme: String,
    /// Server host.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// A path prefix in front of `/apps/...` (a proxy location or Reverb's `path`); it is
    /// not part of the signed path, as in the official SDKs.
    pub path: String,
    /// How long one request may take, connecting included.
    pub timeout: Duration,
}

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
}

/// The pool of connections: one agent per timeout, owned by the process that made it.
struct Pool {
    pid: u32,
    agents: HashMap<Duration, ureq::Agent>,
}

static POOL: Mutex<Option<Pool>> = Mutex::new(None);

/// Resolves hosts on the calling thread. ureq's default resolver starts a thread per request
/// when a timeout is set, which costs more than the whole request over a kept-alive
/// connection; the host is usually an IP address or `localhost` anyway.
#[derive(Debug)]
struct CallingThreadResolver;

impl Resolver for CallingThreadResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        _config: &ureq::config::Config,
        _timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host = uri.host().ok_or(ureq::Error::HostNotFound)?;
        let default_port = if uri.scheme_str() == Some("https") {
            443
        } else {
            80
        };
        let port = uri.port_u16().unwrap_or(default_port);
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let mut resolved = self.empty();
        match host.parse::<IpAddr>() {
            Ok(ip) => resolved.push(SocketAddr::new(ip, port)),
            Err(_) => (host, port)
                .to_socket_addrs()?
                .take(8)
                .for_each(|addr| resolved.push(addr)),
        }
        if resolved.is_empty() {
            return Err(ureq::Error::HostNotFound);
        }
        Ok(resolved)
    }
}

/// The agent (and so the keep-alive connections) for requests with `timeout`. A forked child
/// starts a pool of its own rather than share sockets with its parent.
fn agent(timeout: Duration) -> ureq::Agent {
    let pid = std::process::id();
    let mut pool = POOL.lock();
    if pool.as_ref().is_none_or(|pool| pool.pid != pid) {
        *pool = Some(Pool {
            pid,
            agents: HashMap::new(),
        });
    }
    let agents = &mut pool.as_mut().expect("initialised above").agents;
    agents
        .entry(timeout)
        .or_insert_with(|| {
            let config = ureq::Agent::config_builder()
                .timeout_global(Some(timeout))
                .http_status_as_error(false)
                .max_idle_connections_per_host(8)
                .build();
            ureq::Agent::with_parts(config, DefaultConnector::new(), CallingThreadResolver)
        })
        .clone()
}

/// Escapes one path segment.
fn segment(value: &str) -> String {
    utf8_percent_encode(value, PATH_SEGMENT).to_string()
}

impl Client {
    /// A client for the app and server in `config`.
    pub fn new(config: ClientConfig) -> Client {
        Client { config }
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
        let url = format!(
            "{}://{}:{}{}{signed_path}?{query}",
            config.scheme, config.host, config.port, config.path
        );
        let agent = agent(config.timeout);
        let sent = if method == "GET" {
            agent.get(&url).call()
        } else {
            agent
                .post(&url)
                .header("Content-Type", "application/json")
                .send(body.as_bytes())
        };
        let mut response = sent.map_err(|error| ClientError {
            status: None,
            message: format!(
                "Could not reach {}://{}:{}: {error}",
                config.scheme, config.host, config.port
            ),
        })?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|error| ClientError {
                status: Some(status),
                message: format!("Could not read the response: {error}"),
            })?;
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
