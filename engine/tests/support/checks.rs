//! Assertions on what a socket sees and on the server's state.
//!
//! Negative checks ("X does not reach socket S") never sleep: after the thing that must not
//! be delivered, a marker is published to a channel S is in, through the same ordered send
//! queue, and the next frame S sees must be that marker.

use super::{decode_data, event_frame, names, Client, APP_ID};
use reverb_engine::{EngineEvent, Server};
use serde_json::Value;

/// Publishes `event` with `data` to `channels` of the default app through
/// `Server::publish`; returns how many sockets it was queued for.
pub fn publish(server: &Server, channels: &[&str], event: &str, data: &str) -> usize {
    server
        .publish(APP_ID, &names(channels), event, data, None)
        .expect("the default app exists")
}

/// Publishes a marker event (data `marker`) to `channel` of the default app.
pub fn publish_marker(server: &Server, channel: &str, marker: &str) {
    publish(server, &[channel], "marker", marker);
}

/// Asserts the next frame `client` sees is the marker published to `channel`, which proves
/// nothing else was queued for it before.
pub async fn expect_marker(client: &mut Client, channel: &str, marker: &str) {
    assert_eq!(
        client.next_json().await,
        event_frame("marker", marker, channel),
        "expected only the marker, got an earlier frame"
    );
}

/// Publishes a marker to `channel` and asserts it is the next frame `client` sees.
pub async fn assert_next_is_marker(
    server: &Server,
    client: &mut Client,
    channel: &str,
    marker: &str,
) {
    publish_marker(server, channel, marker);
    expect_marker(client, channel, marker).await;
}

/// Asserts that `channel` of the default app is occupied by `sockets` sockets of `users`
/// users.
pub fn assert_presence_counts(server: &Server, channel: &str, sockets: usize, users: usize) {
    let state = server.channel(APP_ID, channel).unwrap();
    assert!(state.occupied, "{channel} is not occupied");
    assert_eq!(state.subscription_count, sockets, "sockets in {channel}");
    assert_eq!(state.user_count, Some(users), "users in {channel}");
}

/// The occupied channels of the default app, by name.
pub fn occupied_channels(server: &Server) -> Vec<String> {
    server.channels(APP_ID, None).unwrap().into_keys().collect()
}

/// The channels `events` reports as created.
pub fn created_channels(events: &[EngineEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|event| match event {
            EngineEvent::ChannelCreated { channel, .. } => Some(channel.clone()),
            _ => None,
        })
        .collect()
}

/// The `message` of a decoded `pusher:error`.
pub fn message_of(error: &Value) -> &str {
    error["message"]
        .as_str()
        .expect("error message is a string")
}

/// What the message of a refusal's `pusher:error` must be.
#[derive(Debug, Clone, Copy)]
pub enum Refusal<'a> {
    /// Exactly this message.
    Exactly(&'a str),
    /// A message starting with this.
    StartsWith(&'a str),
    /// Any message: only the code is checked.
    AnyMessage,
}

/// Sends each frame and asserts the answer to each is `pusher:error` with `code` and a
/// message as `refusal` says; the frame is named on failure. Then checks with a ping that
/// the socket is still served.
pub async fn expect_each_refused(
    client: &mut Client,
    frames: impl IntoIterator<Item = Value>,
    code: u64,
    refusal: Refusal<'_>,
) {
    for frame in frames {
        client.send_json(frame.clone()).await;
        let answer = client.next_json().await;
        assert_eq!(answer["event"], "pusher:error", "{frame} -> {answer}");
        let error = decode_data(&answer);
        assert_eq!(error["code"], code, "{frame} -> {answer}");
        match refusal {
            Refusal::Exactly(message) => {
                assert_eq!(error["message"], message, "{frame} -> {answer}")
            }
            Refusal::StartsWith(prefix) => assert!(
                message_of(&error).starts_with(prefix),
                "{frame} -> {answer}"
            ),
            Refusal::AnyMessage => {}
        }
    }
    client.ping_pong().await;
}

/// Asserts `client` is told `pusher:error` 4009 "Connection terminated by the server" and is
/// then closed with 4009.
pub async fn assert_terminated(client: &mut Client) {
    let error = client.expect_error(4009).await;
    assert_eq!(error["message"], "Connection terminated by the server");
    assert_eq!(client.expect_close().await.0, 4009);
}

/// The name of one case of a table-driven test, held while the case runs: if the case
/// panics, dropping it prints which case failed.
pub struct CaseName<'a>(&'a str);

/// Names the case that runs until the returned guard is dropped.
pub fn case(name: &str) -> CaseName<'_> {
    CaseName(name)
}

impl Drop for CaseName<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("failing case: {}", self.0);
        }
    }
}
