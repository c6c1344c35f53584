//! `servers.reverb.metrics`: whether the server exposes Prometheus metrics, and where. They are
//! served on a listener of their own, never through the public WebSocket port.

use super::node::Node;
use super::ConfigError;

/// Where the metrics listener binds (`servers.reverb.metrics`, when `enabled`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsConfig {
    /// Bind address; loopback by default, so only the machine itself can scrape.
    pub host: String,
    /// Bind port; 0 picks a free port.
    pub port: u16,
    /// The block's dotted path (`servers.reverb.metrics`), so that a failed bind at start
    /// names the keys to change.
    pub key: String,
}

impl MetricsConfig {
    /// `None` unless `enabled` is true. The keys are checked even when it is off, so that a
    /// misspelt `enabled` does not leave the metrics off without a word.
    pub(super) fn from_node(block: &Node) -> Result<Option<MetricsConfig>, ConfigError> {
        block.only_keys(&["enabled", "host", "port"])?;
        let host = block.string_or("host", "127.0.0.1")?;
        let port = block.port("port", 9601)?;
        if !block.boolean("enabled", false)? {
            return Ok(None);
        }
        Ok(Some(MetricsConfig {
            host,
            port,
            key: block.path().to_string(),
        }))
    }
}
