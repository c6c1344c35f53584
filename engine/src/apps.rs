//! Every app of a running server, found by key (WebSocket) or by id (HTTP API, host, peers).
//!
//! The set is also this node as its peers reach it: what other nodes hand over arrives
//! through [`LocalNode`] and is passed to the app it names.

use crate::app::App;
use crate::channels::census::{Census, Filter};
use crate::config::{AppConfig, WebhookSettings};
use crate::events::EventQueue;
use crate::peers::{LocalMember, LocalNode, Peers};
use crate::socket::Frame;
use crate::webhooks::Webhooks;
use std::collections::HashMap;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The apps of one server.
pub struct Apps {
    by_key: HashMap<String, Arc<App>>,
    by_id: HashMap<String, Arc<App>>,
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
        let apps: Vec<Arc<App>> = configs
            .iter()
            .map(|config| {
                let hooks = Webhooks::start(config, webhooks, events, shutdown, tasks);
                let app = App::new(config.clone(), peers.clone(), hooks, webhooks.delay);
                Arc::new(app)
            })
            .collect();
        Apps {
            by_key: apps
                .iter()
                .map(|a| (a.config.key.clone(), a.clone()))
                .collect(),
            by_id: apps
                .iter()
                .map(|a| (a.config.app_id.clone(), a.clone()))
                .collect(),
        }
    }

    /// The app with this public key.
    pub fn by_key(&self, key: &str) -> Option<&Arc<App>> {
        self.by_key.get(key)
    }

    /// The app with this id.
    pub fn by_id(&self, id: &str) -> Option<&Arc<App>> {
        self.by_id.get(id)
    }

    /// Every app.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<App>> {
        self.by_id.values()
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
        self.iter()
            .flat_map(|app| {
                app.channels
                    .presence_members()
                    .into_iter()
                    .map(|(channel, member, sockets)| LocalMember {
                        app_id: app.config.app_id.clone(),
                        channel,
                        member,
                        sockets,
                    })
            })
            .collect()
    }

    fn tracked_subjects(&self) -> Vec<(String, String)> {
        self.iter()
            .flat_map(|app| {
                app.tracked_subjects()
                    .into_iter()
                    .map(|subject| (app.config.app_id.clone(), subject))
            })
            .collect()
    }

    fn vacated(&self, app_id: &str, subject: &str) {
        if let Some(app) = self.by_id(app_id) {
            app.vacated(subject);
        }
    }
}
