// LOCAL PLACEHOLDER, NOT COMMITTED
#![allow(dead_code)]
use crate::config::WebhookSettings;
use crate::events::EventQueue;
use serde::Serialize;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
pub(crate) struct Endpoint {
    pub app_id: String,
    pub key: String,
    pub secret: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
}
#[derive(Default)]
pub(crate) struct WebhookCounters {
    pub sent: AtomicU64,
    pub failed: AtomicU64,
    pub retried: AtomicU64,
    pub dropped: AtomicU64,
}
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct WebhookStats {
    pub sent: u64,
    pub failed: u64,
    pub retried: u64,
    pub dropped: u64,
}
impl WebhookCounters {
    pub fn snapshot(&self) -> WebhookStats {
        WebhookStats::default()
    }
}
pub(crate) struct Sender;
impl Sender {
    pub fn spawn(
        _e: Endpoint,
        _s: &WebhookSettings,
        _c: Arc<WebhookCounters>,
        _q: Arc<EventQueue>,
        _t: CancellationToken,
    ) -> Sender {
        Sender
    }
    pub fn push(&self, _event: String) {}
}
