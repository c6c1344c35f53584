//! The WebSocket close code that answers each way a client can break RFC 6455.
//!
//! tungstenite reports a broken frame or message as an error and stops reading. The socket
//! is then closed with the code RFC 6455 §7.4.1 gives the failure, in a close frame, so the
//! client learns why instead of seeing the TCP connection drop (1006). These are
//! WebSocket-level failures: no `pusher:error` goes with them.

use tokio_tungstenite::tungstenite::error::{CapacityError, Error, ProtocolError};

/// 1002: the client broke the framing rules.
pub const PROTOCOL_ERROR: u16 = 1002;

/// 1007: a text message or a close reason that is not UTF-8.
pub const INVALID_PAYLOAD: u16 = 1007;

/// 1009: a message over `max_message_size`; the reason is Reverb's.
pub const MESSAGE_TOO_BIG: (u16, &str) = (1009, "Maximum message size exceeded");

/// The close code and reason for a read that failed with `error`, or `None` when there is
/// nobody left to tell (the connection was reset or closed, or an I/O error).
pub fn close_for(error: &Error) -> Option<(u16, &'static str)> {
    let protocol = |reason| Some((PROTOCOL_ERROR, reason));
    match error {
        Error::Capacity(CapacityError::MessageTooLong { .. }) => Some(MESSAGE_TOO_BIG),
        Error::Utf8(_) => Some((
            INVALID_PAYLOAD,
            "Invalid UTF-8 in a text message or close reason",
        )),
        Error::Protocol(error) => match error {
            ProtocolError::ResetWithoutClosingHandshake => None,
            ProtocolError::UnmaskedFrameFromClient => protocol("Client frames must be masked"),
            ProtocolError::NonZeroReservedBits => protocol("Reserved bits must be 0"),
            ProtocolError::UnknownDataFrameType(_)
            | ProtocolError::UnknownControlFrameType(_)
            | ProtocolError::InvalidOpcode(_) => protocol("Unknown opcode"),
            ProtocolError::FragmentedControlFrame => {
                protocol("Control frames must not be fragmented")
            }
            ProtocolError::ControlFrameTooBig => {
                protocol("Control frames must carry at most 125 bytes")
            }
            ProtocolError::UnexpectedContinueFrame => {
                protocol("Continuation frame without a message to continue")
            }
            ProtocolError::ExpectedFragment(_) => {
                protocol("New data frame before the fragmented message ended")
            }
            ProtocolError::InvalidCloseSequence => {
                protocol("Close frame payload must be empty or hold a 2-byte code")
            }
            _ => protocol("Protocol error"),
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    #[test]
    fn framing_errors_are_1002_and_bad_utf8_is_1007() {
        let framing = [
            ProtocolError::UnmaskedFrameFromClient,
            ProtocolError::NonZeroReservedBits,
            ProtocolError::UnknownDataFrameType(3),
            ProtocolError::UnknownControlFrameType(11),
            ProtocolError::FragmentedControlFrame,
            ProtocolError::ControlFrameTooBig,
            ProtocolError::UnexpectedContinueFrame,
            ProtocolError::InvalidCloseSequence,
        ];
        for error in framing {
            let (code, reason) = close_for(&Error::Protocol(error)).expect("a close code");
            assert_eq!(code, 1002);
            assert!(reason.len() <= 123);
        }
        let utf8 = Error::Utf8("invalid utf-8 sequence".into());
        assert_eq!(close_for(&utf8).map(|(code, _)| code), Some(1007));
        let too_big = Error::Capacity(CapacityError::MessageTooLong {
            size: 2,
            max_size: 1,
        });
        assert_eq!(close_for(&too_big), Some(MESSAGE_TOO_BIG));
    }

    #[test]
    fn a_gone_peer_gets_no_close_frame() {
        let reset = Error::Protocol(ProtocolError::ResetWithoutClosingHandshake);
        assert_eq!(close_for(&reset), None);
        assert_eq!(close_for(&Error::ConnectionClosed), None);
        assert_eq!(
            close_for(&Error::Io(io::ErrorKind::BrokenPipe.into())),
            None
        );
    }
}
