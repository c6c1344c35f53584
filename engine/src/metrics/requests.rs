//! What the public listener counts of its HTTP requests: how many by route and status, and
//! how long each took to answer, by route. Kept only when metrics are on.

use hyper::StatusCode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use std::time::Duration;

/// Where the duration histogram's buckets end, in seconds: from an `/up` or a publish to a
/// few sockets to a cluster-wide read that waits up to a second for a silent node.
const DURATION_BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.25, 1.0, 2.5,
];

/// The labels of one request count.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RouteAndStatus {
    route: &'static str,
    status: u16,
}

/// The label of one duration histogram.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RouteOnly {
    route: &'static str,
}

/// The request counters of one listener.
pub struct Requests {
    total: Family<RouteAndStatus, Counter>,
    duration: Family<RouteOnly, Histogram, fn() -> Histogram>,
}

impl Default for Requests {
    fn default() -> Requests {
        Requests {
            total: Family::default(),
            duration: Family::new_with_constructor(|| Histogram::new(DURATION_BUCKETS)),
        }
    }
}

impl Requests {
    /// Counts a request to `route` answered with `status` after `elapsed`.
    pub fn record(&self, route: &'static str, status: StatusCode, elapsed: Duration) {
        let status = status.as_u16();
        self.total
            .get_or_create(&RouteAndStatus { route, status })
            .inc();
        self.duration
            .get_or_create(&RouteOnly { route })
            .observe(elapsed.as_secs_f64());
    }

    /// Adds the counters to `registry`, which encodes them at every scrape.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "http_requests",
            "HTTP requests answered on the public port, by route and status",
            self.total.clone(),
        );
        registry.register_with_unit(
            "http_request_duration",
            "How long HTTP requests on the public port took to answer, by route",
            Unit::Seconds,
            self.duration.clone(),
        );
    }
}
