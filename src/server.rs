//! `ReverbRs\Server`: the engine as a PHP class.
//!
//! Construction only validates the config; `start()` binds on the PHP thread and starts the
//! runtime. Everything returned to PHP is converted here, on the PHP thread.
//!
//! Parameter names are camelCase because PHP code may pass them as named arguments.
#![allow(non_snake_case)]

use crate::convert::{array_to_json, json_to_array};
use crate::exceptions::{config_error, server_error};
use crate::registry;
use ext_php_rs::boxed::ZBox;
use ext_php_rs::flags::ClassFlags;
use ext_php_rs::prelude::*;
use ext_php_rs::types::ZendHashTable;
use reverb_engine::{Config, HostError, WaitOutcome};
use std::sync::Arc;
use std::time::Duration;

/// A Pusher-protocol WebSocket server running on background threads of this PHP process.
#[php_class]
#[php(name = "ReverbRs\\Server")]
#[php(flags = ClassFlags::Final)]
pub struct Server {
    config: Config,
    engine: Option<Arc<reverb_engine::Server>>,
}

/// Turns an engine answer about an app into PHP's value or `ReverbRs\\ServerException`.
fn answer<T: serde::Serialize>(result: Result<T, HostError>) -> PhpResult<ZBox<ZendHashTable>> {
    let value = result.map_err(|e| server_error(e.to_string()))?;
    Ok(json_to_array(
        &serde_json::to_value(value).unwrap_or_default(),
    ))
}

impl Server {
    /// The started engine, or the exception PHP should see instead.
    fn engine(&self) -> PhpResult<&Arc<reverb_engine::Server>> {
        let engine = self
            .engine
            .as_ref()
            .ok_or_else(|| server_error("The server has not been started: call start() first."))?;
        if engine.is_forked_child() {
            return Err(server_error(format!(
                "This ReverbRs\\Server was started in process {} and cannot be used in a forked \
                 child process ({}); start a new server in the child instead.",
                engine.owner_pid(),
                std::process::id()
            )));
        }
        Ok(engine)
    }
}

#[php_impl]
impl Server {
    /// Validates `$config`, shaped like Laravel's `config('reverb')`. Throws
    /// `ReverbRs\ConfigException` naming the first bad key.
    pub fn __construct(config: &ZendHashTable) -> PhpResult<Self> {
        let config =
            Config::from_value(&array_to_json(config)).map_err(|e| config_error(e.to_string()))?;
        Ok(Server {
            config,
            engine: None,
        })
    }

    /// Binds host:port (port 0 picks a free one) and starts serving in the background.
    pub fn start(&mut self) -> PhpResult<()> {
        if let Some(engine) = &self.engine {
            self.engine()?;
            if engine.is_running() {
                return Err(server_error("The server is already running."));
            }
        }
        let engine = reverb_engine::Server::start(self.config.clone())
            .map(Arc::new)
            .map_err(|e| server_error(format!("Could not start the server: {e}")))?;
        registry::register(&engine);
        self.engine = Some(engine);
        Ok(())
    }

    /// The port the server listens on.
    pub fn port(&self) -> PhpResult<i64> {
        Ok(i64::from(self.engine()?.local_addr().port()))
    }

    /// Blocks until engine events are ready (1), the timeout passes (0), or a signal
    /// interrupts the wait (-1, after which PHP runs its signal handlers).
    pub fn wait(&self, timeoutMs: i64) -> PhpResult<i64> {
        let timeout = Duration::from_millis(timeoutMs.max(0) as u64);
        Ok(match self.engine()?.wait(timeout) {
            WaitOutcome::Ready => 1,
            WaitOutcome::TimedOut => 0,
            WaitOutcome::Interrupted => -1,
        })
    }

    /// The engine events since the last drain, oldest first, each an array with a `type`.
    pub fn drain(&self) -> PhpResult<ZBox<ZendHashTable>> {
        let events: Vec<serde_json::Value> = self
            .engine()?
            .drain()
            .iter()
            .map(|event| serde_json::to_value(event).unwrap_or_default())
            .collect();
        Ok(json_to_array(&serde_json::Value::Array(events)))
    }

    /// Serves exactly the apps of `$apps` (entries shaped like `config('reverb.apps.apps')`)
    /// from now on, without a restart: new apps start, changed apps take their new settings
    /// (a rotated secret is valid at once; open sockets go on), apps left out close their
    /// sockets with 4001 and apps with `'enabled' => false` with 4003. Returns the refused
    /// entries as `[['app_id' => ?string, 'key' => 'apps.apps.N.field', 'message' => ...]]`;
    /// the app each names keeps its running version.
    pub fn set_apps(&self, apps: &ZendHashTable) -> PhpResult<ZBox<ZendHashTable>> {
        let entries = match array_to_json(apps) {
            serde_json::Value::Array(entries) => entries,
            serde_json::Value::Object(entries) => entries.into_iter().map(|(_, v)| v).collect(),
            _ => Vec::new(),
        };
        let (_, refused) = self.engine()?.set_apps(&entries);
        Ok(json_to_array(
            &serde_json::to_value(refused).unwrap_or_default(),
        ))
    }

    /// Answers the `app_lookup` event numbered `$lookup` with the app entry for the key or
    /// id it asked about, or null when there is none. Returns null when the answer was
    /// taken (a late one too: the next client finds the app), else why not (an entry with a
    /// bad value, named by key).
    pub fn answer_app_lookup(
        &self,
        lookup: i64,
        app: Option<&ZendHashTable>,
    ) -> PhpResult<Option<String>> {
        let entry = app.map(array_to_json);
        let lookup = u64::try_from(lookup).unwrap_or(0);
        Ok(self
            .engine()?
            .answer_app_lookup(lookup, entry.as_ref())
            .err())
    }

    /// A file descriptor that becomes readable when events are ready, for `stream_select`
    /// loops (open it with `fopen('php://fd/N', 'r')`).
    pub fn event_fd(&self) -> PhpResult<i64> {
        Ok(i64::from(self.engine()?.event_fd()))
    }

    /// Sends an event to channels of an app, skipping `$exceptSocketId`. Returns at once.
    pub fn publish(
        &self,
        appId: String,
        channels: Vec<String>,
        event: String,
        data: String,
        exceptSocketId: Option<String>,
    ) -> PhpResult<()> {
        self.engine()?
            .publish(&appId, &channels, &event, &data, exceptSocketId.as_deref())
            .map_err(|e| server_error(e.to_string()))?;
        Ok(())
    }

    /// The occupied channels of an app, optionally only those starting with `$prefix`:
    /// `[name => ['subscription_count' => n, 'user_count' => n (presence only)]]`.
    pub fn channels(
        &self,
        appId: String,
        prefix: Option<String>,
    ) -> PhpResult<ZBox<ZendHashTable>> {
        answer(self.engine()?.channels(&appId, prefix.as_deref()))
    }

    /// One channel: `occupied`, `subscription_count`, `user_count` (presence) and `cache`
    /// (`['frame' => last event, 'ttl_seconds' => n]`, cache channels only).
    pub fn channel(&self, appId: String, name: String) -> PhpResult<ZBox<ZendHashTable>> {
        answer(self.engine()?.channel(&appId, &name))
    }

    /// The user ids on a presence channel (`[]` when nobody is subscribed).
    pub fn users(&self, appId: String, channel: String) -> PhpResult<ZBox<ZendHashTable>> {
        answer(self.engine()?.users(&appId, &channel))
    }

    /// Closes every socket of a user (signed in, or joined to a presence channel as them).
    /// Returns how many sockets were closed.
    pub fn terminate_user(&self, appId: String, userId: String) -> PhpResult<i64> {
        self.engine()?
            .terminate_user(&appId, &userId)
            .map(|closed| closed as i64)
            .map_err(|e| server_error(e.to_string()))
    }

    /// Counters per app id: connections, channels, messages_in, messages_out, webhooks (sent,
    /// failed, retried, dropped) and, with scaling on, scaling (node, redis, nodes, messages).
    pub fn stats(&self) -> PhpResult<ZBox<ZendHashTable>> {
        let stats = serde_json::to_value(self.engine()?.stats()).unwrap_or_default();
        Ok(json_to_array(&stats))
    }

    /// How many engine events were dropped because nobody drained them in time.
    pub fn dropped_events(&self) -> PhpResult<i64> {
        Ok(self.engine()?.dropped_events() as i64)
    }

    /// Whether the server is serving.
    pub fn is_running(&self) -> PhpResult<bool> {
        match &self.engine {
            None => Ok(false),
            Some(_) => Ok(self.engine()?.is_running()),
        }
    }

    /// Stops the server within `$graceSeconds`. From the start `/up` answers 503 and new
    /// sockets are refused, while the open ones are still served until they are gone or only
    /// the last half of the grace (at most its last second) is left; then every client is told
    /// to reconnect (close code 4200). Calling it again does nothing.
    #[php(defaults(graceSeconds = 3.0))]
    pub fn stop(&self, graceSeconds: f64) -> PhpResult<()> {
        if self.engine.is_some() {
            let grace = Duration::from_secs_f64(graceSeconds.clamp(0.0, 3600.0));
            self.engine()?.stop(grace);
        }
        Ok(())
    }
}
