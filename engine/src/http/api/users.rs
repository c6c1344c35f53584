//! `POST /apps/{id}/users/{user_id}/terminate_connections`: disconnect a user everywhere.

use super::ApiRequest;
use crate::http::response;
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};

/// Closes every socket of the user and answers `{}`.
pub fn terminate(request: &ApiRequest, user_id: &str) -> Response<Full<Bytes>> {
    request.app.terminate_user(user_id);
    response::json(StatusCode::OK, &serde_json::json!({}))
}
