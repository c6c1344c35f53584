//! JSON responses with the status codes and error bodies the HTTP side returns.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Response, StatusCode};
use serde_json::Value;

/// Every response the HTTP side sends.
pub type Reply = Response<Full<Bytes>>;

/// A response with a JSON body.
pub fn json(status: StatusCode, body: &Value) -> Reply {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// An error response: `{"error": message}`.
pub fn error(status: StatusCode, message: &str) -> Reply {
    json(status, &serde_json::json!({ "error": message }))
}

/// 404 for a path no route serves.
pub fn not_found() -> Reply {
    error(StatusCode::NOT_FOUND, "Not found.")
}
