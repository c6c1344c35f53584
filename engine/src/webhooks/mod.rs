//! Webhooks: telling an app's endpoints (and, when asked, the host) that channels became
//! occupied or vacated, that presence members came and went, what clients whispered, and how
//! many sockets a channel has.
//!
//! - [`event`]: the events, in Pusher's format.
//! - [`sender`]: one endpoint's delivery: a bounded queue, signed batches, retries in order.
//! - [`connection`]: the kept-alive HTTP/1.1 connection a sender posts over.
//! - [`occupancy`]: which channels and members this node has, with the delay that absorbs a
//!   departure followed by a quick return.
//! - [`reporter`]: arrivals and departures counted with the peers and reported in order.
//! - [`counting`]: `subscription_count`, throttled per channel.

mod connection;
pub(crate) mod counting;
pub(crate) mod event;
pub(crate) mod occupancy;
pub(crate) mod reporter;
pub(crate) mod sender;

pub use event::WebhookEvent;
pub use sender::WebhookStats;

use crate::config::{AppConfig, WebhookConfig, WebhookKind, WebhookSettings};
use crate::events::{EngineEvent, EventQueue};
use arc_swap::ArcSwap;
use sender::{Endpoint, Sender, WebhookCounters};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Where one app's webhook events go: its endpoints that want them, and the host when it
/// asked for every event.
pub(crate) struct Webhooks {
    app_id: String,
    /// The endpoints and their senders, replaced as a whole when the app's webhooks change.
    endpoints: ArcSwap<Vec<(WebhookConfig, Sender)>>,
    host: Option<Arc<EventQueue>>,
    counters: Arc<WebhookCounters>,
    spawner: Spawner,
}

/// What starting an endpoint's sender needs from the server.
struct Spawner {
    settings: WebhookSettings,
    events: Arc<EventQueue>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
}

impl Spawner {
    /// One sender per webhook of `app`, signing with its key and secret.
    fn senders(
        &self,
        app: &AppConfig,
        counters: &Arc<WebhookCounters>,
    ) -> Vec<(WebhookConfig, Sender)> {
        app.webhooks
            .iter()
            .map(|webhook| {
                let endpoint = Endpoint {
                    app_id: app.app_id.clone(),
                    key: app.key.clone(),
                    secret: app.secret.clone(),
                    url: webhook.url.clone(),
                    headers: webhook.headers.clone(),
                };
                let sender = Sender::spawn(
                    endpoint,
                    &self.settings,
                    counters.clone(),
                    self.events.clone(),
                    self.shutdown.clone(),
                    &self.tasks,
                );
                (webhook.clone(), sender)
            })
            .collect()
    }
}

impl Webhooks {
    /// The webhooks of `app`; starts one delivery task per endpoint on `tasks`, so it must
    /// be called inside the server's runtime.
    pub(crate) fn start(
        app: &AppConfig,
        settings: &WebhookSettings,
        events: &Arc<EventQueue>,
        shutdown: &CancellationToken,
        tasks: &TaskTracker,
    ) -> Webhooks {
        let counters = Arc::new(WebhookCounters::default());
        let spawner = Spawner {
            settings: settings.clone(),
            events: events.clone(),
            shutdown: shutdown.clone(),
            tasks: tasks.clone(),
        };
        Webhooks {
            app_id: app.app_id.clone(),
            endpoints: ArcSwap::from_pointee(spawner.senders(app, &counters)),
            host: settings.dispatch_events.then(|| events.clone()),
            counters,
            spawner,
        }
    }

    /// Starts senders for the changed webhooks (or key, or secret) of `app`; the old senders
    /// stop once their queue is flushed.
    pub(crate) fn reconfigure(&self, app: &AppConfig) {
        self.endpoints
            .store(Arc::new(self.spawner.senders(app, &self.counters)));
    }

    /// Whether anyone hears about events of `kind` on `channel`, so the work of finding them
    /// out is skipped when nobody does. The host hears every kind but subscription counts,
    /// which cost a cluster-wide count per change: it hears those only when an endpoint or
    /// the app's subscribers have them counted anyway.
    pub(crate) fn wants(&self, kind: WebhookKind, channel: &str) -> bool {
        (self.host.is_some() && kind != WebhookKind::SubscriptionCount)
            || self
                .endpoints
                .load()
                .iter()
                .any(|(config, _)| config.wants(kind, channel))
    }

    /// Hands `event` to every endpoint that wants it and to the host, serialized once.
    pub(crate) fn send(&self, event: WebhookEvent) {
        let (kind, channel) = (event.kind(), event.channel());
        let endpoints = self.endpoints.load();
        let mut wanting = endpoints
            .iter()
            .filter(|(config, _)| config.wants(kind, channel))
            .peekable();
        if wanting.peek().is_some() {
            let json = serde_json::to_string(&event).unwrap_or_default();
            for (_, sender) in wanting {
                sender.push(json.clone());
            }
        }
        if let Some(host) = &self.host {
            host.push(EngineEvent::Webhook {
                app_id: self.app_id.clone(),
                event,
            });
        }
    }

    /// The app's delivery counters.
    pub(crate) fn stats(&self) -> WebhookStats {
        self.counters.snapshot()
    }
}
