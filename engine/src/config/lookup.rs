//! `apps.lookup`: apps the host is asked for when a client names one the server does not
//! have yet, so a table of many tenants need not be loaded at start.

use super::node::Node;
use super::ConfigError;
use std::time::Duration;

/// How apps are looked up on demand.
#[derive(Debug, Clone, PartialEq)]
pub struct LookupConfig {
    /// How long a handshake or an HTTP API call waits for the host's answer.
    pub timeout: Duration,
    /// How long an app found this way is kept while no socket uses it.
    pub cache_ttl: Duration,
    /// How long a key or id the host did not know is answered "unknown" without asking again.
    pub negative_ttl: Duration,
}

impl LookupConfig {
    /// `None` unless `apps.lookup.enabled` is true.
    pub(super) fn from_node(block: &Node) -> Result<Option<LookupConfig>, ConfigError> {
        block.only_keys(&["enabled", "timeout", "cache_ttl", "negative_ttl"])?;
        if !block.boolean("enabled", false)? {
            return Ok(None);
        }
        Ok(Some(LookupConfig {
            timeout: block.seconds("timeout", 2)?,
            cache_ttl: block.seconds("cache_ttl", 300)?,
            negative_ttl: block.seconds("negative_ttl", 30)?,
        }))
    }
}
