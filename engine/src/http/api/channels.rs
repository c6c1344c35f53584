//! `GET /apps/{id}/channels`, `/channels/{name}` and `/channels/{name}/users`.

use super::{ApiError, ApiRequest, ApiResult};
use crate::app::{App, UsersError};
use crate::http::response;
use hyper::StatusCode;
use serde_json::{Map, Value};

/// The `info` attributes of a channel, as Reverb reports them: `user_count` on presence
/// channels, `subscription_count` on the others, only those asked for, and none for a
/// channel nobody is subscribed to.
pub fn attributes(app: &App, channel: &str, info: &[String]) -> Map<String, Value> {
    let state = app.channel(channel);
    let mut attrs = Map::new();
    if !state.occupied {
        return attrs;
    }
    let wants = |name: &str| info.iter().any(|i| i == name);
    match state.user_count {
        Some(users) if wants("user_count") => {
            attrs.insert("user_count".into(), users.into());
        }
        None if wants("subscription_count") => {
            attrs.insert("subscription_count".into(), state.subscription_count.into());
        }
        _ => {}
    }
    attrs
}

/// Occupied channels, optionally filtered by `filter_by_prefix`.
pub fn index(request: &ApiRequest) -> ApiResult {
    let info = request.info();
    let channels: Map<String, Value> = request
        .app
        .channels(request.param("filter_by_prefix"))
        .into_iter()
        .map(|(name, _)| {
            let attrs = attributes(&request.app, &name, &info);
            (name, Value::Object(attrs))
        })
        .collect();
    Ok(response::json(
        StatusCode::OK,
        &serde_json::json!({ "channels": channels }),
    ))
}

/// One channel: `occupied`, plus the requested `user_count`, `subscription_count`, `cache`.
pub fn show(request: &ApiRequest, channel: &str) -> ApiResult {
    let info = request.info();
    let state = request.app.channel(channel);
    let mut body = Map::new();
    body.insert("occupied".into(), state.occupied.into());
    body.extend(attributes(&request.app, channel, &info));
    if info.iter().any(|i| i == "cache") {
        if let Some(cached) = state.cache {
            body.insert("cache".into(), cached.frame);
        }
    }
    Ok(response::json(StatusCode::OK, &Value::Object(body)))
}

/// The users of a presence channel: `{"users":[{"id":..},..]}`.
pub fn users(request: &ApiRequest, channel: &str) -> ApiResult {
    match request.app.presence_users(channel) {
        Ok(ids) => {
            let users: Vec<Value> = ids
                .into_iter()
                .map(|id| serde_json::json!({ "id": id }))
                .collect();
            Ok(response::json(
                StatusCode::OK,
                &serde_json::json!({ "users": users }),
            ))
        }
        Err(UsersError::NotPresence) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("{channel} is not a presence channel: only presence channels have users."),
        )),
        Err(UsersError::NotFound) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("{channel} has no subscribers."),
        )),
    }
}
