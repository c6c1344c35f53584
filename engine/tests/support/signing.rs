//! Pusher signatures computed here, independently of the engine, the way a Laravel backend
//! computes them: channel auth for private and presence subscriptions, user auth for
//! `pusher:signin`.

use super::{KEY, SECRET};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Lowercase hex HMAC-SHA256 of `message` with `secret`: how Pusher signs everything.
pub fn sign(secret: &str, message: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// A channel auth `key:hex(HMAC(secret, "socket_id:channel[:channel_data]"))`.
pub fn channel_auth(
    key: &str,
    secret: &str,
    socket_id: &str,
    channel: &str,
    channel_data: Option<&str>,
) -> String {
    let message = match channel_data {
        Some(data) => format!("{socket_id}:{channel}:{data}"),
        None => format!("{socket_id}:{channel}"),
    };
    format!("{key}:{}", sign(secret, &message))
}

/// A sign-in auth `key:hex(HMAC(secret, "socket_id::user::user_data"))`.
pub fn user_auth(key: &str, secret: &str, socket_id: &str, user_data: &str) -> String {
    format!(
        "{key}:{}",
        sign(secret, &format!("{socket_id}::user::{user_data}"))
    )
}

/// A valid private-channel auth for the default app (no `channel_data`).
pub fn private_auth(socket_id: &str, channel: &str) -> String {
    channel_auth(KEY, SECRET, socket_id, channel, None)
}

/// A valid presence-channel auth for the default app, covering `channel_data`.
pub fn presence_auth(socket_id: &str, channel: &str, channel_data: &str) -> String {
    channel_auth(KEY, SECRET, socket_id, channel, Some(channel_data))
}

/// A valid sign-in auth for the default app.
pub fn signin_auth(socket_id: &str, user_data: &str) -> String {
    user_auth(KEY, SECRET, socket_id, user_data)
}
