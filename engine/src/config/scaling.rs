//! `servers.reverb.scaling`: where Redis is and how the nodes of a cluster use it.

use super::node::Node;
use super::ConfigError;
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

impl ScalingConfig {
    /// Longest accepted `timeout`: a longer wait for one Redis attempt only delays recovery.
    const MAX_ATTEMPT_TIMEOUT: u64 = 10;

    /// `None` unless `enabled` is true, as in Reverb.
    pub(super) fn from_node(block: &Node) -> Result<Option<ScalingConfig>, ConfigError> {
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
            node_timeout: block.seconds("node_timeout", 10)?,
        }))
    }
}
