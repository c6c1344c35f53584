//! `servers.reverb.scaling`: where Redis is and how the nodes of a cluster use it.
//!
//! The `server` block takes every form Laravel's own Redis connections take (a URL with user,
//! password and database; host, port, `username`, `password`, `database`; `scheme => 'tls'`)
//! plus `tls` (PHP's SSL context names) and `cluster`, so a node can share the Redis, or the
//! managed Redis Cluster, the Laravel app already uses.

use super::node::Node;
use super::ConfigError;
use percent_encoding::percent_decode_str;
use std::time::Duration;

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

/// How to reach Redis, whichever way `scaling.server` spelt it.
#[derive(Debug, Clone, PartialEq)]
pub struct RedisServer {
    /// The dotted path of the `server` block, so connection errors can name their key.
    pub key: String,
    /// Where the server (or, for a cluster, the first node to ask for the others) listens.
    pub address: RedisAddress,
    /// ACL user name.
    pub username: Option<String>,
    /// Password (of the ACL user, or `requirepass`).
    pub password: Option<String>,
    /// Database number; pub/sub ignores it, keys live in it. A cluster has only 0.
    pub database: i64,
    /// TLS settings, when the connection is encrypted.
    pub tls: Option<RedisTls>,
    /// Whether Redis runs in cluster mode (`cluster-enabled yes`, managed "cluster mode").
    pub cluster: bool,
}

/// Where a Redis server listens.
#[derive(Debug, Clone, PartialEq)]
pub enum RedisAddress {
    /// A host name or address, and a TCP port.
    Tcp {
        /// Host name or address.
        host: String,
        /// TCP port.
        port: u16,
    },
    /// A Unix socket path.
    Unix(String),
}

/// `scaling.server.tls`: how the server's certificate is checked, with PHP's SSL context names.
#[derive(Debug, Clone, PartialEq)]
pub struct RedisTls {
    /// `cafile`: PEM of the authority that signed the server's certificate; the system's
    /// roots when missing.
    pub ca: Option<Vec<u8>>,
    /// `local_cert` and `local_pk`: a client certificate and key, for servers that ask for one.
    pub client: Option<(Vec<u8>, Vec<u8>)>,
    /// `verify_peer`: false accepts any certificate (only for a test Redis).
    pub verify_peer: bool,
}

impl RedisServer {
    /// Where Redis is, as a URL without the password, for banners and errors.
    pub fn display(&self) -> String {
        let user = self
            .username
            .as_deref()
            .map(|user| format!("{user}@"))
            .unwrap_or_default();
        match &self.address {
            RedisAddress::Tcp { host, port } => {
                let scheme = if self.tls.is_some() {
                    "rediss"
                } else {
                    "redis"
                };
                let host = if host.contains(':') {
                    format!("[{host}]")
                } else {
                    host.clone()
                };
                format!("{scheme}://{user}{host}:{port}/{}", self.database)
            }
            RedisAddress::Unix(path) => format!("unix://{user}{path}?db={}", self.database),
        }
    }

    /// Reads `server`, where url components win over the separate keys, as in Laravel.
    fn from_node(server: &Node) -> Result<RedisServer, ConfigError> {
        let mut redis = RedisServer {
            key: server.path().to_string(),
            address: RedisAddress::Tcp {
                host: server.string_or("host", "127.0.0.1")?,
                port: server.port("port", 6379)?,
            },
            username: server
                .optional_string("username")?
                .filter(|u| !u.is_empty()),
            password: server
                .optional_string("password")?
                .filter(|p| !p.is_empty()),
            database: i64::try_from(server.non_negative("database", 0)?).unwrap_or(i64::MAX),
            tls: None,
            cluster: server.boolean("cluster", false)?,
        };
        let mut encrypted = match server.optional_string("scheme")?.as_deref() {
            None | Some("" | "tcp" | "redis") => false,
            Some("tls" | "rediss") => true,
            Some(other) => {
                return Err(ConfigError::new(
                    &server.key("scheme"),
                    format!("must be \"tcp\" or \"tls\", got \"{other}\""),
                ))
            }
        };
        if let RedisAddress::Tcp { host, .. } = &mut redis.address {
            // phpredis takes `tls://host` as the host of an encrypted connection.
            if let Some(bare) = host.strip_prefix("tls://") {
                *host = bare.to_string();
                encrypted = true;
            }
        }
        if let Some(url) = server.optional_string("url")?.filter(|url| !url.is_empty()) {
            encrypted = redis.apply_url(&url, &server.key("url"))?;
        }
        redis.tls = redis_tls(&server.object_or_empty("tls")?, encrypted)?;
        redis.check(server)?;
        Ok(redis)
    }

    /// Takes what `url` says; returns whether its scheme asks for TLS.
    fn apply_url(&mut self, url: &str, key: &str) -> Result<bool, ConfigError> {
        let invalid = |problem: String| ConfigError::new(key, problem);
        let parsed = url::Url::parse(url).map_err(|error| {
            invalid(format!(
                "must be a redis://, rediss:// or unix:// URL ({error})"
            ))
        })?;
        let encrypted = match parsed.scheme() {
            "redis" | "tcp" | "valkey" | "unix" => false,
            "rediss" | "tls" | "valkeys" => true,
            other => {
                return Err(invalid(format!(
                    "must be a redis://, rediss://, tls:// or unix:// URL, not {other}://"
                )))
            }
        };
        let decoded = |text: &str| percent_decode_str(text).decode_utf8_lossy().into_owned();
        if !parsed.username().is_empty() {
            self.username = Some(decoded(parsed.username()));
        }
        if let Some(password) = parsed.password() {
            self.password = Some(decoded(password)).filter(|p| !p.is_empty());
        }
        if parsed.scheme() == "unix" {
            self.address = RedisAddress::Unix(decoded(parsed.path()));
        } else {
            let host = parsed
                .host_str()
                .ok_or_else(|| invalid("names no host".into()))?;
            self.address = RedisAddress::Tcp {
                host: host.trim_start_matches('[').trim_end_matches(']').into(),
                port: parsed.port().unwrap_or(6379),
            };
            if let Some(database) = parsed.path_segments().and_then(|mut s| s.next()) {
                if !database.is_empty() {
                    self.database = database_number(database)
                        .ok_or_else(|| invalid(format!("has no database number: /{database}")))?;
                }
            }
        }
        for (name, value) in parsed.query_pairs() {
            match name.as_ref() {
                "db" | "database" => {
                    self.database = database_number(&value).ok_or_else(|| {
                        invalid(format!("has no database number: {name}={value}"))
                    })?;
                }
                "username" | "user" => self.username = Some(value.into_owned()),
                "password" => self.password = Some(value.into_owned()).filter(|p| !p.is_empty()),
                _ => {}
            }
        }
        Ok(encrypted)
    }

    /// Refuses combinations no Redis connection can have.
    fn check(&self, server: &Node) -> Result<(), ConfigError> {
        let unix = matches!(self.address, RedisAddress::Unix(_));
        if unix && self.tls.is_some() {
            return Err(ConfigError::new(
                &server.key("url"),
                "is a Unix socket, which cannot use TLS",
            ));
        }
        if self.cluster && unix {
            return Err(ConfigError::new(
                &server.key("cluster"),
                "cannot be used with a Unix socket: a Redis Cluster is reached over TCP",
            ));
        }
        if self.cluster && self.database != 0 {
            return Err(ConfigError::new(
                &server.key("database"),
                "must be 0 with cluster: a Redis Cluster has only database 0",
            ));
        }
        Ok(())
    }
}

/// A database number as Laravel writes it.
fn database_number(text: &str) -> Option<i64> {
    text.trim().parse::<i64>().ok().filter(|n| *n >= 0)
}

/// `tls` for an encrypted connection; for a plain one the block must not ask for anything.
fn redis_tls(tls: &Node, encrypted: bool) -> Result<Option<RedisTls>, ConfigError> {
    tls.only_keys(&["cafile", "verify_peer", "local_cert", "local_pk"])?;
    let read = |name: &str| -> Result<Option<Vec<u8>>, ConfigError> {
        let Some(path) = tls.optional_string(name)?.filter(|p| !p.is_empty()) else {
            return Ok(None);
        };
        std::fs::read(&path)
            .map(Some)
            .map_err(|error| ConfigError::new(&tls.key(name), format!("{path}: {error}")))
    };
    let settings = RedisTls {
        ca: read("cafile")?,
        client: match (read("local_cert")?, read("local_pk")?) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            (Some(_), None) => {
                return Err(ConfigError::new(
                    &tls.key("local_pk"),
                    "is needed with local_cert",
                ))
            }
            (None, Some(_)) => {
                return Err(ConfigError::new(
                    &tls.key("local_cert"),
                    "is needed with local_pk",
                ))
            }
        },
        verify_peer: tls.boolean("verify_peer", true)?,
    };
    if encrypted {
        return Ok(Some(settings));
    }
    if settings.ca.is_some() || settings.client.is_some() || !settings.verify_peer {
        return Err(ConfigError::new(
            tls.path(),
            "is set but the connection is not encrypted: use a rediss:// URL or scheme => 'tls'",
        ));
    }
    Ok(None)
}

impl ScalingConfig {
    /// Longest accepted `timeout`: a longer wait for one Redis attempt only delays recovery.
    const MAX_ATTEMPT_TIMEOUT: u64 = 10;

    /// `None` unless `enabled` is true, as in Reverb.
    pub(super) fn from_node(block: &Node) -> Result<Option<ScalingConfig>, ConfigError> {
        if !block.boolean("enabled", false)? {
            return Ok(None);
        }
        let server = block.object_or_empty("server")?;
        let timeout = server.positive("timeout", 60)? as u64;
        Ok(Some(ScalingConfig {
            channel: block.string_or("channel", "reverb")?,
            prefix: block.string_or("prefix", "")?,
            server: RedisServer::from_node(&server)?,
            timeout: Duration::from_secs(timeout.min(Self::MAX_ATTEMPT_TIMEOUT)),
            node_timeout: block.seconds("node_timeout", 10)?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn server(block: Value) -> Result<RedisServer, ConfigError> {
        let root = json!({"server": block});
        let root = Node::root(&root)?;
        RedisServer::from_node(&root.object_or_empty("server")?)
    }

    #[test]
    fn a_url_with_user_password_and_database_wins_over_the_separate_keys() {
        let redis = server(json!({
            "url": "rediss://reverb:s%40cret@cache.example.com:6380/3",
            "host": "127.0.0.1", "password": "other", "database": 1,
        }))
        .unwrap();
        assert_eq!(
            redis.address,
            RedisAddress::Tcp {
                host: "cache.example.com".into(),
                port: 6380
            }
        );
        assert_eq!(redis.username.as_deref(), Some("reverb"));
        assert_eq!(redis.password.as_deref(), Some("s@cret"));
        assert_eq!(redis.database, 3);
        assert!(redis.tls.as_ref().unwrap().verify_peer);
        assert_eq!(redis.display(), "rediss://reverb@cache.example.com:6380/3");
    }

    #[test]
    fn reverb_style_query_and_tls_scheme_are_understood() {
        let redis = server(json!({"url": "tls://10.0.0.5?username=u&password=p&db=2"})).unwrap();
        assert_eq!(redis.username.as_deref(), Some("u"));
        assert_eq!(redis.password.as_deref(), Some("p"));
        assert_eq!(redis.database, 2);
        assert!(redis.tls.is_some());
        let redis = server(json!({"host": "::1", "scheme": "tls"})).unwrap();
        assert_eq!(redis.display(), "rediss://[::1]:6379/0");
        let redis = server(json!({"host": "tls://cache.internal", "port": "6380"})).unwrap();
        assert_eq!(redis.display(), "rediss://cache.internal:6380/0");
        let redis = server(json!({"url": "unix:///run/redis.sock?db=4"})).unwrap();
        assert_eq!(redis.address, RedisAddress::Unix("/run/redis.sock".into()));
        assert_eq!(redis.database, 4);
    }

    #[test]
    fn bad_values_name_their_key() {
        let cases = [
            (json!({"url": "http://redis"}), "server.url"),
            (json!({"url": "redis://h/x"}), "server.url"),
            (json!({"scheme": "ssl"}), "server.scheme"),
            (
                json!({"tls": {"cafile": "/nonexistent.pem"}, "scheme": "tls"}),
                "server.tls.cafile",
            ),
            (json!({"tls": {"verify_peer": false}}), "server.tls"),
            (
                json!({"tls": {"peer_name": "x"}, "scheme": "tls"}),
                "server.tls.peer_name",
            ),
            (json!({"cluster": true, "database": 2}), "server.database"),
            (
                json!({"cluster": true, "url": "unix:///r.sock"}),
                "server.cluster",
            ),
        ];
        for (block, key) in cases {
            let error = server(block.clone()).unwrap_err();
            assert_eq!(error.key, key, "{block}: {error}");
        }
    }
}
