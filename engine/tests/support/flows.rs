//! Multi-step protocol flows on the default app, each waiting for the server's confirmation:
//! private subscriptions, presence joins and user sign-in.

use super::{decode_data, presence_auth, private_auth, signin_auth, signin_frame};
use super::{subscribe_frame, Client};
use serde_json::{json, Value};

/// Waits for `subscription_succeeded` on `channel` and returns its decoded data.
pub async fn expect_subscribed(client: &mut Client, channel: &str) -> Value {
    let frame = client
        .expect_event("pusher_internal:subscription_succeeded")
        .await;
    assert_eq!(frame["channel"], channel, "unexpected frame {frame}");
    decode_data(&frame)
}

/// Subscribes to a private (or private-encrypted) channel with a valid auth and checks the
/// confirmation carries no data.
pub async fn subscribe_private(client: &mut Client, socket_id: &str, channel: &str) {
    let auth = private_auth(socket_id, channel);
    client
        .send_json(subscribe_frame(channel, Some(&auth), None))
        .await;
    let data = expect_subscribed(client, channel).await;
    assert_eq!(data, json!({}));
}

/// Joins a presence channel as `member` (the `channel_data` object); returns the `presence`
/// payload of the confirmation.
pub async fn join_presence(
    client: &mut Client,
    socket_id: &str,
    channel: &str,
    member: &Value,
) -> Value {
    let channel_data = member.to_string();
    let auth = presence_auth(socket_id, channel, &channel_data);
    client
        .send_json(subscribe_frame(channel, Some(&auth), Some(&channel_data)))
        .await;
    let data = expect_subscribed(client, channel).await;
    data["presence"].clone()
}

/// Joins a presence channel as `user_id` (a JSON id, its type kept) with a fixed
/// `user_info`; returns the `presence` payload.
pub async fn join_presence_as(
    client: &mut Client,
    socket_id: &str,
    channel: &str,
    user_id: Value,
) -> Value {
    let member = json!({"user_id": user_id, "user_info": {"name": "test"}});
    join_presence(client, socket_id, channel, &member).await
}

/// Signs in as `user_data` (`pusher:signin`) and checks `pusher:signin_success` echoes it.
pub async fn sign_in(client: &mut Client, socket_id: &str, user_data: &str) {
    let auth = signin_auth(socket_id, user_data);
    client.send_json(signin_frame(Some(&auth), user_data)).await;
    let frame = client.expect_event("pusher:signin_success").await;
    assert_eq!(decode_data(&frame), json!({ "user_data": user_data }));
}

/// Signs in as the user `user_id` with no other user data.
pub async fn sign_in_as(client: &mut Client, socket_id: &str, user_id: &str) {
    sign_in(client, socket_id, &json!({"id": user_id}).to_string()).await;
}
