//! Frames the server sends, byte for byte as pusher-js parses them.
//!
//! Pusher double-encodes: `data` is a JSON *string* holding JSON for `connection_established`,
//! `pusher_internal:*` and `pusher:error`; channel events carry the publisher's data string as is.

use super::PusherError;
use serde::Serialize;

/// `{"event":..,"data":..,"channel":..}` in that key order, as Reverb sends it.
#[derive(Serialize)]
struct Frame<'a> {
    event: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    channel: Option<&'a str>,
}

fn frame(event: &str, data: Option<&str>, channel: Option<&str>) -> String {
    serde_json::to_string(&Frame {
        event,
        data,
        channel,
    })
    .expect("a frame of strings always serializes")
}

/// The first frame on every socket: its id and the activity timeout pusher-js must use.
pub fn connection_established(socket_id: &str, activity_timeout: u64) -> String {
    let data = serde_json::json!({"socket_id": socket_id, "activity_timeout": activity_timeout});
    frame(
        "pusher:connection_established",
        Some(&data.to_string()),
        None,
    )
}

/// A `pusher:error` frame for `error`.
pub fn error(error: &PusherError) -> String {
    let data = serde_json::json!({"code": error.code(), "message": error.message()});
    frame("pusher:error", Some(&data.to_string()), None)
}

/// The reply to `pusher:ping`.
pub fn pong() -> String {
    frame("pusher:pong", None, None)
}

/// The server's keep-alive probe for a silent socket.
pub fn ping() -> String {
    frame("pusher:ping", None, None)
}

/// Confirms a subscription; `data` is the JSON-encoded payload (`{}` for non-presence).
pub fn subscription_succeeded(channel: &str, data: &str) -> String {
    frame(
        "pusher_internal:subscription_succeeded",
        Some(data),
        Some(channel),
    )
}

/// An event published to a channel, delivered to its subscribers.
pub fn channel_event(event: &str, channel: &str, data: &str) -> String {
    frame(event, Some(data), Some(channel))
}

/// A client event relayed to the channel's other members; `data` stays a JSON object, and
/// `user_id` names the sender on presence channels.
pub fn client_event(
    event: &str,
    channel: &str,
    data: &serde_json::Value,
    user_id: Option<&serde_json::Value>,
) -> String {
    #[derive(Serialize)]
    struct ClientEventFrame<'a> {
        event: &'a str,
        channel: &'a str,
        data: &'a serde_json::Value,
        #[serde(skip_serializing_if = "Option::is_none")]
        user_id: Option<&'a serde_json::Value>,
    }
    serde_json::to_string(&ClientEventFrame {
        event,
        channel,
        data,
        user_id,
    })
    .expect("a JSON value always serializes")
}

/// Tells a presence channel's members that a user joined; `channel_data` is the joiner's.
pub fn member_added(channel: &str, channel_data: &str) -> String {
    frame(
        "pusher_internal:member_added",
        Some(channel_data),
        Some(channel),
    )
}

/// Tells a presence channel's members that a user's last socket left.
pub fn member_removed(channel: &str, user_id: &serde_json::Value) -> String {
    let data = serde_json::json!({ "user_id": user_id });
    frame(
        "pusher_internal:member_removed",
        Some(&data.to_string()),
        Some(channel),
    )
}

/// Tells a channel's subscribers how many they are (Pusher's subscription counting);
/// pusher-js re-emits it as `pusher:subscription_count`.
pub fn subscription_count(channel: &str, count: usize) -> String {
    let data = serde_json::json!({ "subscription_count": count });
    frame(
        "pusher_internal:subscription_count",
        Some(&data.to_string()),
        Some(channel),
    )
}

/// Tells a new subscriber of a cache channel that nothing is cached.
pub fn cache_miss(channel: &str) -> String {
    frame("pusher:cache_miss", None, Some(channel))
}

/// Confirms a user sign-in; pusher-js reads the user data back from it.
pub fn signin_success(user_data: &str) -> String {
    let data = serde_json::json!({ "user_data": user_data });
    frame("pusher:signin_success", Some(&data.to_string()), None)
}

/// Watchlist changes as pusher-js's `user.watchlist` expects them: one entry per
/// `online`/`offline` list, skipping empty ones.
pub fn watchlist_events(online: &[String], offline: &[String]) -> Option<String> {
    let events: Vec<serde_json::Value> = [("online", online), ("offline", offline)]
        .into_iter()
        .filter(|(_, ids)| !ids.is_empty())
        .map(|(name, ids)| serde_json::json!({"name": name, "user_ids": ids}))
        .collect();
    if events.is_empty() {
        return None;
    }
    let data = serde_json::json!({ "events": events });
    Some(frame(
        "pusher_internal:watchlist_events",
        Some(&data.to_string()),
        None,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_established_double_encodes_data() {
        assert_eq!(
            connection_established("123.456", 30),
            r#"{"event":"pusher:connection_established","data":"{\"socket_id\":\"123.456\",\"activity_timeout\":30}"}"#
        );
    }

    #[test]
    fn errors_carry_code_and_message() {
        assert_eq!(
            error(&PusherError::ApplicationDoesNotExist),
            r#"{"event":"pusher:error","data":"{\"code\":4001,\"message\":\"Application does not exist\"}"}"#
        );
    }

    #[test]
    fn presence_and_user_frames_match_what_pusher_js_parses() {
        assert_eq!(
            member_removed("presence-a", &serde_json::json!(3)),
            r#"{"event":"pusher_internal:member_removed","data":"{\"user_id\":3}","channel":"presence-a"}"#
        );
        assert_eq!(
            cache_miss("cache-a"),
            r#"{"event":"pusher:cache_miss","channel":"cache-a"}"#
        );
        assert_eq!(
            signin_success(r#"{"id":"1"}"#),
            r#"{"event":"pusher:signin_success","data":"{\"user_data\":\"{\\\"id\\\":\\\"1\\\"}\"}"}"#
        );
        assert_eq!(watchlist_events(&[], &[]), None);
        assert_eq!(
            watchlist_events(&["2".into()], &[]).unwrap(),
            r#"{"event":"pusher_internal:watchlist_events","data":"{\"events\":[{\"name\":\"online\",\"user_ids\":[\"2\"]}]}"}"#
        );
    }

    #[test]
    fn channel_events_keep_reverbs_key_order() {
        assert_eq!(
            channel_event("tick", "clock", r#"{"n":1}"#),
            r#"{"event":"tick","data":"{\"n\":1}","channel":"clock"}"#
        );
        assert_eq!(
            subscription_succeeded("news", "{}"),
            r#"{"event":"pusher_internal:subscription_succeeded","data":"{}","channel":"news"}"#
        );
    }
}
