//! Property-based fuzzing of the WebSocket frame handling, against a running server after a
//! real handshake: whole frames with any first byte, mask or payload (Pusher messages among
//! them), and arbitrary bytes. The server must never panic, must answer a ping sent after
//! whole frames or close the connection, and must end a connection whose client stopped
//! sending halfway through a frame. Each case opens a socket, so a property runs 64 cases
//! unless `PROPTEST_CASES` says otherwise.

mod raw_support;
mod support;

use proptest::prelude::*;
use raw_support::{masked_frame, unmasked_frame, RawSocket};
use serde_json::json;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use support::fuzzing::{client_runtime, run_cases};
use support::{start_one, within, KEY};

/// Cases per property unless `PROPTEST_CASES` is set.
const CASES: u32 = 64;

/// The `pusher:ping` every case ends its frames with, as a masked text frame.
fn ping() -> Vec<u8> {
    masked_frame(0x81, br#"{"event":"pusher:ping","data":{}}"#)
}

/// Payloads: Pusher messages (valid or not), JSON-looking text, bytes that are not UTF-8,
/// and anything.
fn payload() -> impl Strategy<Value = Vec<u8>> {
    let channel = prop_oneof![
        "[a-z-]{1,20}",
        Just("presence-room".to_string()),
        Just("private-room".to_string()),
        any::<String>(),
    ];
    let message = (
        prop::sample::select(vec![
            "pusher:subscribe",
            "pusher:unsubscribe",
            "pusher:ping",
            "pusher:signin",
            "pusher:bogus",
            "client-typing",
            "other",
        ]),
        channel,
    )
        .prop_map(|(event, channel)| {
            json!({"event": event, "channel": channel, "data": {"channel": channel}})
                .to_string()
                .into_bytes()
        });
    prop_oneof![
        3 => message,
        1 => "[{}\":a-z0-9,]{0,40}".prop_map(String::into_bytes),
        1 => Just(vec![0xc3, 0x28, 0xff]),
        1 => prop::collection::vec(any::<u8>(), 0..300),
    ]
}

/// One whole frame: common first bytes (text, binary, continuation, the control frames,
/// with and without FIN) or any, masked as clients must or, now and then, not.
fn frame() -> impl Strategy<Value = Vec<u8>> {
    let first = prop_oneof![
        3 => prop::sample::select(vec![0x81u8, 0x82, 0x01, 0x80, 0x00, 0x88, 0x89, 0x8a, 0x09]),
        1 => any::<u8>(),
    ];
    let masked = prop::bool::weighted(0.9);
    (first, payload(), masked).prop_map(|(first, payload, masked)| {
        if masked {
            masked_frame(first, &payload)
        } else {
            unmasked_frame(first, &payload)
        }
    })
}

/// How the server met a case's frames and the ping after them.
#[derive(Debug)]
enum Outcome {
    /// It answered the ping.
    Answered,
    /// It sent a close frame.
    Closed,
    /// It ended the connection without a close frame.
    Ended,
}

/// Reads the server's frames until the pong, a close frame or the end of the connection;
/// every close frame must carry nothing, or a code and a UTF-8 reason of at most 123 bytes.
async fn answer_or_close(socket: &mut RawSocket) -> Outcome {
    within("an answer or a close", async {
        loop {
            let Some(frame) = socket.next_frame().await else {
                return Outcome::Ended;
            };
            assert!(!frame.masked, "the server masked a frame: {frame:?}");
            match frame.first {
                0x88 => {
                    let payload = &frame.payload;
                    assert!(payload.len() != 1, "a close payload of one byte");
                    if payload.len() >= 2 {
                        assert!(payload.len() <= 125, "a close payload over 125 bytes");
                        assert!(std::str::from_utf8(&payload[2..]).is_ok(), "close reason");
                    }
                    return Outcome::Closed;
                }
                0x81 if frame.payload.starts_with(br#"{"event":"pusher:pong""#) => {
                    return Outcome::Answered;
                }
                _ => continue,
            }
        }
    })
    .await
}

/// Runs `property` on `strategy` with [`CASES`] cases against one server, on a runtime of
/// the test's own; fails if the engine panicked during any case.
fn run_against_server<S>(
    strategy: S,
    property: impl Fn(SocketAddr, S::Value) -> Pin<Box<dyn Future<Output = ()>>>,
) where
    S: Strategy,
    S::Value: std::fmt::Debug,
{
    let runtime = client_runtime();
    // A small message limit, so that 1009 is reachable too.
    let server = start_one(json!({"max_message_size": 1_000}));
    let addr = server.local_addr();
    run_cases(&runtime, strategy, CASES, |value| property(addr, value));
    runtime.block_on(async {
        let mut socket = RawSocket::connect(addr, KEY).await;
        socket.send(&ping()).await;
        assert!(matches!(
            answer_or_close(&mut socket).await,
            Outcome::Answered
        ));
    });
}

#[test]
fn whole_frames_of_any_kind_are_answered_or_closed() {
    let frames = prop::collection::vec(frame(), 0..4);
    run_against_server(frames, |addr, frames| {
        Box::pin(async move {
            let mut socket = RawSocket::connect(addr, KEY).await;
            let mut bytes = frames.concat();
            bytes.extend(ping());
            socket.send_lossy(&bytes).await;
            // Any of the three will do (a server that closes with frames still unread may
            // reset the connection before its close frame is read); silence will not.
            answer_or_close(&mut socket).await;
        })
    });
}

#[test]
fn arbitrary_bytes_then_silence_end_the_connection() {
    let bytes = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..400),
        (frame(), 1usize..64).prop_map(|(mut frame, cut)| {
            // A whole frame cut short: the server waits for the rest until the client leaves.
            let keep = frame.len().saturating_sub(cut).max(1);
            frame.truncate(keep);
            frame
        }),
    ];
    run_against_server(bytes, |addr, bytes| {
        Box::pin(async move {
            let mut socket = RawSocket::connect(addr, KEY).await;
            socket.send_lossy(&bytes).await;
            socket.finish_writing().await;
            socket.expect_end().await;
        })
    });
}
