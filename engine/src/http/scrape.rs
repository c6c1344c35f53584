//! `GET /metrics` on the metrics listener: the exposition in the Prometheus text format, or in
//! OpenMetrics when the scraper's `Accept` names it (as Prometheus itself does).

use super::response::{self, Reply};
use crate::metrics::Metrics;
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, ACCEPT, ALLOW, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};

/// Answers one request to the metrics listener.
pub fn answer<B>(request: &Request<B>, metrics: &Metrics) -> Reply {
    if request.uri().path() != "/metrics" {
        return response::error(
            StatusCode::NOT_FOUND,
            "Not found: metrics are served at /metrics.",
        );
    }
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        let mut refused = response::error(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method not allowed: /metrics accepts GET only.",
        );
        refused
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return refused;
    }
    let openmetrics = request
        .headers()
        .get_all(ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.contains("application/openmetrics-text"));
    let Ok((media_type, body)) = metrics.encode(openmetrics) else {
        return response::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The metrics could not be encoded.",
        );
    };
    let mut reply = Response::new(Full::new(Bytes::from(body)));
    reply
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(media_type));
    reply
}
