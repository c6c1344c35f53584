//! Protocol frames the tests send and the frames they expect back.

use serde_json::{json, Value};

/// A `pusher:subscribe` frame with optional `auth` and `channel_data`.
pub fn subscribe_frame(channel: &str, auth: Option<&str>, channel_data: Option<&str>) -> Value {
    let mut data = json!({ "channel": channel });
    if let Some(auth) = auth {
        data["auth"] = json!(auth);
    }
    if let Some(channel_data) = channel_data {
        data["channel_data"] = json!(channel_data);
    }
    json!({"event": "pusher:subscribe", "data": data})
}

/// A `pusher:signin` frame with an optional `auth`.
pub fn signin_frame(auth: Option<&str>, user_data: &str) -> Value {
    let mut data = json!({ "user_data": user_data });
    if let Some(auth) = auth {
        data["auth"] = json!(auth);
    }
    json!({"event": "pusher:signin", "data": data})
}

/// The frame a channel event is delivered as: `{"event","data","channel"}`.
pub fn event_frame(event: &str, data: &str, channel: &str) -> Value {
    json!({"event": event, "data": data, "channel": channel})
}

/// Owned copies of `list`, as `Server::publish` and the API client take channel names.
pub fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|name| name.to_string()).collect()
}

/// The confirmation of a subscription without presence data.
pub fn subscribed_frame(channel: &str) -> Value {
    json!({
        "event": "pusher_internal:subscription_succeeded",
        "data": "{}",
        "channel": channel,
    })
}
