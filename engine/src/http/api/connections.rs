//! `GET /apps/{id}/connections`: how many sockets the app has (Reverb's extension).

use super::ApiRequest;
use crate::http::response;
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};

/// `{"connections": N}`.
pub fn count(request: &ApiRequest) -> Response<Full<Bytes>> {
    let connections = request.app.stats().connections;
    response::json(
        StatusCode::OK,
        &serde_json::json!({ "connections": connections }),
    )
}
