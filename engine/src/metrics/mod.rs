//! Prometheus metrics: what a running server reports at every scrape, encoded by the
//! `prometheus-client` crate in the Prometheus text format, or in OpenMetrics for a scraper
//! that asks for it. `http` serves them on a listener of their own.
//!
//! Nothing on the fan-out path counts for the metrics alone: the figures the server already
//! keeps (each app's counters, the send-queue budget, the event queue, webhooks, the cluster)
//! are read at each scrape, and so are the gauges (sockets, channels, presence members). Only
//! HTTP requests are counted for the metrics, and only while they are on.
//!
//! - [`collector`]: the figures read from the running server at each scrape.
//! - [`requests`]: the HTTP requests of the public listener, by route, status and duration.

mod collector;
mod requests;

pub use requests::Requests;

use crate::state::ServerState;
use collector::ServerFigures;
use prometheus_client::encoding::{prometheus_text, text};
use prometheus_client::registry::Registry;
use std::fmt;
use std::sync::Arc;

/// The media type of an OpenMetrics exposition.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Every metric of one server, ready to be encoded.
pub struct Metrics {
    registry: Registry,
    requests: Requests,
}

impl Metrics {
    /// The metrics of the server whose state is `state`, every name under `reverb_`.
    pub fn new(state: Arc<ServerState>) -> Metrics {
        let mut registry = Registry::with_prefix("reverb");
        let requests = Requests::default();
        requests.register(&mut registry);
        registry.register_collector(Box::new(ServerFigures::new(state)));
        Metrics { registry, requests }
    }

    /// Where the public listener counts its requests.
    pub fn requests(&self) -> &Requests {
        &self.requests
    }

    /// The exposition now and its media type: OpenMetrics when `openmetrics`, the Prometheus
    /// text format otherwise.
    pub fn encode(&self, openmetrics: bool) -> Result<(&'static str, String), fmt::Error> {
        let mut body = String::new();
        if openmetrics {
            text::encode(&mut body, &self.registry)?;
            Ok((OPENMETRICS, body))
        } else {
            prometheus_text::encode(&mut body, &self.registry)?;
            Ok((prometheus_text::CONTENT_TYPE, body))
        }
    }
}
