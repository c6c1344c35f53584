//! `GET /apps/{id}/channels`, `/channels/{name}` and `/channels/{name}/users`.
//!
//! Each answers from a [`Census`]: this node's, or the whole cluster's when scaling is on.

use super::{ApiError, ApiRequest, ApiResult};
use crate::channels::census::{Census, ChannelCount, Filter};
use crate::channels::name::{self, ChannelKind};
use crate::http::response;
use hyper::StatusCode;
use serde_json::{Map, Value};

/// The `info` attributes of a channel, as Reverb reports them: `user_count` on presence
/// channels, `subscription_count` on the others, only those asked for, and none for a
/// channel nobody is subscribed to.
pub fn attributes(census: &Census, channel: &str, info: &[String]) -> Map<String, Value> {
    let mut attrs = Map::new();
    let Some(count) = census.channels.get(channel) else {
        return attrs;
    };
    let wants = |name: &str| info.iter().any(|i| i == name);
    match count.user_count(channel) {
        Some(users) if wants("user_count") => {
            attrs.insert("user_count".into(), users.into());
        }
        None if wants("subscription_count") => {
            attrs.insert("subscription_count".into(), count.subscription_count.into());
        }
        _ => {}
    }
    attrs
}

/// Occupied channels, optionally filtered by `filter_by_prefix`.
pub async fn index(request: &ApiRequest) -> ApiResult {
    let info = request.info();
    let filter = match request.param("filter_by_prefix") {
        Some(prefix) => Filter::Prefix(prefix.to_string()),
        None => Filter::All,
    };
    let census = request.app.census(filter).await;
    let channels: Map<String, Value> = census
        .channels
        .keys()
        .map(|name| {
            (
                name.clone(),
                Value::Object(attributes(&census, name, &info)),
            )
        })
        .collect();
    Ok(response::json(
        StatusCode::OK,
        &serde_json::json!({ "channels": channels }),
    ))
}

/// Refuses a channel name no socket could subscribe to, with the error a subscription gets.
fn validate(channel: &str) -> Result<(), ApiError> {
    ChannelKind::of(channel)
        .map(|_| ())
        .map_err(|error| ApiError::new(StatusCode::BAD_REQUEST, error.message()))
}

/// One channel: `occupied`, plus the requested `user_count`, `subscription_count`, `cache`.
pub async fn show(request: &ApiRequest, channel: &str) -> ApiResult {
    validate(channel)?;
    let info = request.info();
    let census = request
        .app
        .census(Filter::Channel(channel.to_string()))
        .await;
    let mut body = Map::new();
    body.insert(
        "occupied".into(),
        census.channels.contains_key(channel).into(),
    );
    body.extend(attributes(&census, channel, &info));
    if info.iter().any(|i| i == "cache") {
        if let Some((frame, _)) = request.app.cached_event(channel).await {
            let frame = serde_json::from_str(frame.as_str()).unwrap_or(Value::Null);
            body.insert("cache".into(), frame);
        }
    }
    Ok(response::json(StatusCode::OK, &Value::Object(body)))
}

/// The users of a presence channel: `{"users":[{"id":..},..]}`.
pub async fn users(request: &ApiRequest, channel: &str) -> ApiResult {
    validate(channel)?;
    if !name::is_presence(channel) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("{channel} is not a presence channel: only presence channels have users."),
        ));
    }
    let mut census = request
        .app
        .census(Filter::Channel(channel.to_string()))
        .await;
    let Some(ChannelCount { users, .. }) = census.channels.remove(channel) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("{channel} has no subscribers."),
        ));
    };
    let users: Vec<Value> = users
        .into_iter()
        .map(|id| serde_json::json!({ "id": id }))
        .collect();
    Ok(response::json(
        StatusCode::OK,
        &serde_json::json!({ "users": users }),
    ))
}
