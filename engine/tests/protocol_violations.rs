//! WebSocket protocol violations, sent byte by byte after a real handshake: each must be
//! answered with the close code RFC 6455 gives it (1002 for framing, 1007 for payload data
//! that is not UTF-8, 1009 for a message that is too big), a close frame and no
//! `pusher:error`, and then the server must close the TCP connection.

mod raw_support;
mod support;

use raw_support::{masked_frame, unmasked_frame, RawSocket};
use serde_json::json;
use support::start_one;

/// FIN with the text opcode.
const TEXT: u8 = 0x81;

/// Sends `bytes` on a fresh socket and asserts the server closes it with `code`, a UTF-8
/// reason of at most 123 bytes, and then ends the connection.
async fn assert_closed_with(bytes: &[u8], code: u16) {
    let server = start_one(json!({}));
    let mut socket = RawSocket::connect(server.local_addr(), "key-1").await;
    socket.send(bytes).await;
    let (got, reason) = socket.expect_close().await;
    assert_eq!(
        got,
        code,
        "close reason {:?}",
        String::from_utf8_lossy(&reason)
    );
    assert!(reason.len() <= 123, "close reason too long: {reason:?}");
    assert!(
        std::str::from_utf8(&reason).is_ok(),
        "close reason is not UTF-8"
    );
    socket.expect_end().await;
}

#[tokio::test]
async fn unmasked_client_frame_is_closed_with_1002() {
    assert_closed_with(&unmasked_frame(TEXT, br#"{"event":"pusher:ping"}"#), 1002).await;
}

#[tokio::test]
async fn frame_with_a_reserved_bit_is_closed_with_1002() {
    for first in [0xc1, 0xa1, 0x91] {
        assert_closed_with(&masked_frame(first, br#"{"event":"pusher:ping"}"#), 1002).await;
    }
}

#[tokio::test]
async fn unknown_data_opcode_is_closed_with_1002() {
    assert_closed_with(&masked_frame(0x83, b"x"), 1002).await;
}

#[tokio::test]
async fn unknown_control_opcode_is_closed_with_1002() {
    assert_closed_with(&masked_frame(0x8b, b"x"), 1002).await;
}

#[tokio::test]
async fn fragmented_ping_is_closed_with_1002() {
    assert_closed_with(&masked_frame(0x09, b"ping"), 1002).await;
}

#[tokio::test]
async fn ping_over_125_bytes_is_closed_with_1002() {
    assert_closed_with(&masked_frame(0x89, &[b'p'; 126]), 1002).await;
}

#[tokio::test]
async fn lone_continuation_frame_is_closed_with_1002() {
    assert_closed_with(&masked_frame(0x80, b"{}"), 1002).await;
}

#[tokio::test]
async fn new_data_frame_inside_a_fragmented_message_is_closed_with_1002() {
    let mut bytes = masked_frame(0x01, br#"{"event":"#);
    bytes.extend(masked_frame(TEXT, br#"{"event":"pusher:ping"}"#));
    assert_closed_with(&bytes, 1002).await;
}

#[tokio::test]
async fn invalid_utf8_in_a_text_message_is_closed_with_1007() {
    assert_closed_with(&masked_frame(TEXT, b"{\"event\":\"\xff\xfe\"}"), 1007).await;
}

#[tokio::test]
async fn invalid_utf8_across_fragments_is_closed_with_1007() {
    let mut bytes = masked_frame(0x01, b"{\"event\":\"\xce");
    bytes.extend(masked_frame(0x80, b"\xff\"}"));
    assert_closed_with(&bytes, 1007).await;
}

#[tokio::test]
async fn close_frame_with_a_one_byte_payload_is_closed_with_1002() {
    assert_closed_with(&masked_frame(0x88, &[0x03]), 1002).await;
}

#[tokio::test]
async fn close_reason_that_is_not_utf8_is_closed_with_1007() {
    assert_closed_with(&masked_frame(0x88, &[0x03, 0xe8, 0xff, 0xfe]), 1007).await;
}

#[tokio::test]
async fn close_frame_with_an_invalid_code_is_closed_with_1002() {
    for code in [0u16, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] {
        let mut payload = code.to_be_bytes().to_vec();
        payload.extend_from_slice(b"bye");
        assert_closed_with(&masked_frame(0x88, &payload), 1002).await;
    }
}

#[tokio::test]
async fn valid_close_code_is_echoed() {
    for code in [1000u16, 1001, 3000, 4999] {
        let mut payload = code.to_be_bytes().to_vec();
        payload.extend_from_slice(b"bye");
        assert_closed_with(&masked_frame(0x88, &payload), code).await;
    }
}
