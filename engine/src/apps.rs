//! Every app of a running server, found by key (WebSocket) or by id (HTTP API, host, peers),
//! and changed while it serves: the host replaces the set (apps added, changed, disabled or
//! removed) or adds one app it was asked for.
//!
//! Readers share a read lock for the time of one map lookup; replacing the set builds the new
//! one first and swaps it in, and adding one looked-up app inserts it, so a host answering
//! lookups for many tenants pays the same for the last one as for the first.
//! A changed app keeps its channels and sockets and takes the new configuration; a removed
//! or disabled app closes its sockets (4001, 4003).
//!
//! The set is also this node as its peers reach it: what other nodes hand over arrives
//! through [`LocalNode`] and is passed to the app it names.

use crate::app::App;
use crate::channels::census::{Census, Filter};
use crate::config::{AppConfig, ConfigError, WebhookSettings};
use crate::events::EventQueue;
use crate::peers::{LocalMember, LocalNode, Peers};
use crate::protocol::PusherError;
use crate::socket::Frame;
use crate::webhooks::Webhooks;
use parking_lot::{Mutex, RwLock};
use serde::Serialize;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The apps of one server.
pub struct Apps {
    set: RwLock<AppSet>,
    factory: AppFactory,
    /// Apps added because a client named them, and when each may be dropped if unused.
    looked_up: Mutex<HashMap<String, Instant>>,
    /// Serialises changes, so two never build on the same old set.
    changing: Mutex<()>,
}

/// One version of the set.
#[derive(Default, Clone)]
struct AppSet {
    by_key: HashMap<String, Arc<App>>,
    by_id: HashMap<String, Arc<App>>,
}

/// What a new app needs from the server it runs in.
struct AppFactory {
    peers: Arc<dyn Peers>,
    webhooks: WebhookSettings,
    events: Arc<EventQueue>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
}

/// What a change of the app set did, by app id.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AppChanges {
    /// Apps that were not served before.
    pub added: Vec<String>,
    /// Apps whose configuration changed.
    pub changed: Vec<String>,
    /// Apps no longer served (removed or disabled).
    pub removed: Vec<String>,
}

/// An entry of a new app set that was refused, and why; the app's previous version, if it
/// ran, goes on running.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefusedApp {
    /// The entry's `app_id`, when it has a readable one.
    pub app_id: Option<String>,
    /// The dotted path of the offending key, e.g. `apps.apps.3.ping_interval`.
    pub key: String,
    /// What is wrong with it.
    pub message: String,
}

impl AppFactory {
    fn build(&self, config: AppConfig) -> Arc<App> {
        let hooks = Webhooks::start(
            &config,
            &self.webhooks,
            &self.events,
            &self.shutdown,
            &self.tasks,
        );
        let delay = self.webhooks.delay;
        Arc::new(App::new(config, self.peers.clone(), hooks, delay))
    }
}

impl AppSet {
    fn of(apps: impl IntoIterator<Item = Arc<App>>) -> AppSet {
        let mut set = AppSet::default();
        apps.into_iter().for_each(|app| set.insert(app));
        set
    }

    fn insert(&mut self, app: Arc<App>) {
        self.by_key.insert(app.config().key.clone(), app.clone());
        self.by_id.insert(app.id().to_string(), app);
    }

    fn remove(&mut self, app: &App) {
        self.by_key.remove(&app.config().key);
        self.by_id.remove(app.id());
    }
}

impl Apps {
    /// Builds the runtime state for the configured apps, sharing their work with `peers`
    /// and starting their webhooks' delivery (so it runs inside the server's runtime).
    pub fn start(
        configs: &[AppConfig],
        peers: &Arc<dyn Peers>,
        webhooks: &WebhookSettings,
        events: &Arc<EventQueue>,
        shutdown: &CancellationToken,
        tasks: &TaskTracker,
    ) -> Apps {
        let factory = AppFactory {
            peers: peers.clone(),
            webhooks: webhooks.clone(),
            events: events.clone(),
            shutdown: shutdown.clone(),
            tasks: tasks.clone(),
        };
        let apps = configs
            .iter()
            .filter(|config| config.enabled)
            .map(|config| factory.build(config.clone()));
        Apps {
            set: RwLock::new(AppSet::of(apps)),
            factory,
            looked_up: Mutex::new(HashMap::new()),
            changing: Mutex::new(()),
        }
    }

    /// The app with this public key.
    pub fn by_key(&self, key: &str) -> Option<Arc<App>> {
        self.set.read().by_key.get(key).cloned()
    }

    /// The app with this id.
    pub fn by_id(&self, id: &str) -> Option<Arc<App>> {
        self.set.read().by_id.get(id).cloned()
    }

    /// Every app, as the set is now.
    pub fn all(&self) -> Vec<Arc<App>> {
        self.set.read().by_id.values().cloned().collect()
    }

    /// Serves exactly the apps of `entries` (shaped like `apps.apps`) from now on; an entry
    /// that cannot be read, or that repeats another's id or key, is refused and the app it
    /// names keeps its running version.
    pub fn replace_entries(&self, entries: &[Value]) -> (AppChanges, Vec<RefusedApp>) {
        let mut configs: Vec<AppConfig> = Vec::with_capacity(entries.len());
        let mut refused = Vec::new();
        let (mut ids, mut keys) = (HashSet::new(), HashSet::new());
        for (index, entry) in entries.iter().enumerate() {
            let path = format!("apps.apps.{index}");
            let app_id = entry_id(entry);
            let parsed = AppConfig::from_entry(entry, &path).and_then(|config| {
                if !ids.insert(config.app_id.clone()) {
                    return Err(ConfigError::new(
                        &format!("{path}.app_id"),
                        "repeats another app's app_id",
                    ));
                }
                if !keys.insert(config.key.clone()) {
                    return Err(ConfigError::new(
                        &format!("{path}.key"),
                        "repeats another app's key",
                    ));
                }
                Ok(config)
            });
            match parsed {
                Ok(config) => configs.push(config),
                Err(error) => {
                    let running = app_id.as_deref().and_then(|id| self.by_id(id));
                    if let Some(app) = running.filter(|app| ids.insert(app.id().to_string())) {
                        keys.insert(app.config().key.clone());
                        configs.push(app.config().as_ref().clone());
                    }
                    refused.push(RefusedApp {
                        app_id,
                        key: error.key,
                        message: error.problem,
                    });
                }
            }
        }
        (self.replace(configs), refused)
    }

    /// Serves exactly `configs` from now on: new apps start, changed ones take their new
    /// configuration, and apps not listed, or listed as disabled, close their sockets.
    pub fn replace(&self, configs: Vec<AppConfig>) -> AppChanges {
        let _changing = self.changing.lock();
        let old = self.set.read().clone();
        let mut changes = AppChanges::default();
        let mut kept = Vec::new();
        let mut disabled = Vec::new();
        for config in configs {
            if !config.enabled {
                disabled.push(config.app_id);
                continue;
            }
            let running = old.by_id.get(&config.app_id);
            kept.push(self.updated(running, config, &mut changes));
        }
        let new = AppSet::of(kept);
        for (id, app) in &old.by_id {
            if !new.by_id.contains_key(id) {
                app.close(if disabled.contains(id) {
                    PusherError::ApplicationDisabled
                } else {
                    PusherError::ApplicationDoesNotExist
                });
                changes.removed.push(id.clone());
            }
        }
        self.looked_up
            .lock()
            .retain(|id, _| new.by_id.contains_key(id));
        *self.set.write() = new;
        changes
    }

    /// Adds (or updates) one app the host was asked for, kept until `expires` while no socket
    /// uses it; a disabled one is taken out instead.
    pub fn insert_looked_up(&self, config: AppConfig, expires: Instant) -> Option<Arc<App>> {
        let _changing = self.changing.lock();
        let id = config.app_id.clone();
        let running = self.by_id(&id);
        if !config.enabled {
            if let Some(gone) = running {
                gone.close(PusherError::ApplicationDisabled);
                self.set.write().remove(&gone);
            }
            self.looked_up.lock().remove(&id);
            return None;
        }
        let old_key = running.as_ref().map(|app| app.config().key.clone());
        let app = self.updated(running.as_ref(), config, &mut AppChanges::default());
        let mut set = self.set.write();
        if let Some(key) = old_key {
            set.by_key.remove(&key);
        }
        set.insert(app.clone());
        drop(set);
        self.looked_up.lock().insert(id, expires);
        Some(app)
    }

    /// Drops the looked-up apps whose time ran out and that no socket uses any more.
    pub fn drop_expired(&self, now: Instant) {
        let expired: Vec<String> = {
            let set = self.set.read();
            let looked_up = self.looked_up.lock();
            looked_up
                .iter()
                .filter(|(id, expires)| {
                    **expires <= now && set.by_id.get(*id).is_some_and(|a| a.connections() == 0)
                })
                .map(|(id, _)| id.clone())
                .collect()
        };
        if expired.is_empty() {
            return;
        }
        let _changing = self.changing.lock();
        let mut looked_up = self.looked_up.lock();
        let mut set = self.set.write();
        for id in &expired {
            looked_up.remove(id);
            if let Some(app) = set.by_id.get(id).cloned() {
                set.remove(&app);
            }
        }
    }

    /// The `running` app for `config`, changed to it, or a new one; `changes` says which.
    fn updated(
        &self,
        running: Option<&Arc<App>>,
        config: AppConfig,
        changes: &mut AppChanges,
    ) -> Arc<App> {
        match running {
            Some(app) if *app.config() == config => app.clone(),
            Some(app) => {
                changes.changed.push(config.app_id.clone());
                app.reconfigure(config);
                app.clone()
            }
            None => {
                changes.added.push(config.app_id.clone());
                self.factory.build(config)
            }
        }
    }
}

/// The `app_id` of an entry, when it is a string or a number.
fn entry_id(entry: &Value) -> Option<String> {
    match entry.get("app_id")? {
        Value::String(id) => Some(id.clone()),
        Value::Number(id) => Some(id.to_string()),
        _ => None,
    }
}

impl LocalNode for Apps {
    fn deliver(&self, app_id: &str, channel: &str, frame: &Frame, except: Option<&str>) {
        if let Some(app) = self.by_id(app_id) {
            app.deliver_local(channel, frame, except);
        }
    }

    fn deliver_presence(
        &self,
        app_id: &str,
        channel: &str,
        version: u64,
        frame: &Frame,
        except: Option<&str>,
    ) {
        if let Some(app) = self.by_id(app_id) {
            app.deliver_presence(channel, version, frame, except);
        }
    }

    fn terminate(&self, app_id: &str, user_id: &str) {
        if let Some(app) = self.by_id(app_id) {
            app.terminate_local(user_id);
        }
    }

    fn census(&self, app_id: &str, filter: &Filter) -> Census {
        self.by_id(app_id)
            .map(|app| app.local_census(filter))
            .unwrap_or_default()
    }

    fn presence_members(&self) -> Vec<LocalMember> {
        self.all()
            .iter()
            .flat_map(|app| {
                app.channels
                    .presence_members()
                    .into_iter()
                    .map(|(channel, member, sockets)| LocalMember {
                        app_id: app.id().to_string(),
                        channel,
                        member,
                        sockets,
                    })
            })
            .collect()
    }

    fn tracked_subjects(&self) -> Vec<(String, String)> {
        self.all()
            .iter()
            .flat_map(|app| {
                app.tracked_subjects()
                    .into_iter()
                    .map(|subject| (app.id().to_string(), subject))
            })
            .collect()
    }

    fn vacated(&self, app_id: &str, subject: &str) {
        if let Some(app) = self.by_id(app_id) {
            app.vacated(subject);
        }
    }
}
