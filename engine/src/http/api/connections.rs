//! `GET /apps/{id}/connections`: how many sockets the app has (Reverb's extension), on
//! every node of a cluster.

use super::ApiRequest;
use crate::channels::census::Filter;
use crate::http::response;
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};

/// `{"connections": N}`.
pub async fn count(request: &ApiRequest) -> Response<Full<Bytes>> {
    let census = request.app.census(Filter::None).await;
    response::json(
        StatusCode::OK,
        &serde_json::json!({ "connections": census.connections }),
    )
}
