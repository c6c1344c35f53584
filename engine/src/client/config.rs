//! Where and as whom the client sends requests, read from the options the host passes.

use super::tls::Verification;
use serde_json::Value;
use std::time::Duration;

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
    /// Which certificates an `https` server may present.
    pub verify: Verification,
}

impl ClientConfig {
    /// Reads the options of `ReverbRs\\Client`: `key`, `secret`, `app_id` (required),
    /// `host` (127.0.0.1), `port` (80/443), `scheme` (`http`|`https`), `path`, `timeout`
    /// (5.0 s) and `verify`. Numbers may come as strings, as `.env` values do. The error
    /// names the option.
    pub fn from_value(config: &Value) -> Result<ClientConfig, String> {
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
}
