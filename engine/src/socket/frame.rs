//! A text frame encoded once and shared by every socket it is sent to.
//!
//! A publish reaches many sockets with the same bytes. The WebSocket encoding (a server's
//! frames are not masked) is done when the frame is made, so sending it is a reference count
//! and a write, never a copy.

use bytes::Bytes;
use std::fmt;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::FrameHeader;

/// One unfragmented text frame, header and payload, ready for the wire.
#[derive(Clone)]
pub struct Frame {
    wire: Bytes,
    header_len: usize,
}

impl Frame {
    /// Encodes `text` as a final text frame.
    pub fn text(text: &str) -> Frame {
        let header = FrameHeader {
            opcode: OpCode::Data(Data::Text),
            ..FrameHeader::default()
        };
        let length = text.len() as u64;
        let header_len = header.len(length);
        let mut wire = Vec::with_capacity(header_len + text.len());
        header
            .format(length, &mut wire)
            .expect("writing to a Vec cannot fail");
        wire.extend_from_slice(text.as_bytes());
        Frame {
            wire: wire.into(),
            header_len,
        }
    }

    /// A frame already encoded by tungstenite (a ping, a pong, a close): sent as is.
    pub fn encoded(wire: Vec<u8>) -> Frame {
        Frame {
            wire: wire.into(),
            header_len: 0,
        }
    }

    /// The bytes to write to the socket.
    pub fn wire(&self) -> &Bytes {
        &self.wire
    }

    /// Whether this is a text frame (not a control frame already encoded).
    pub fn is_text(&self) -> bool {
        self.header_len > 0
    }

    /// The text the frame carries (empty for a frame that was already encoded).
    pub fn as_str(&self) -> &str {
        if self.header_len == 0 {
            return "";
        }
        std::str::from_utf8(&self.wire[self.header_len..]).unwrap_or_default()
    }
}

impl From<String> for Frame {
    fn from(text: String) -> Frame {
        Frame::text(&text)
    }
}

impl From<&str> for Frame {
    fn from(text: &str) -> Frame {
        Frame::text(text)
    }
}

impl fmt::Debug for Frame {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_tuple("Frame")
            .field(&self.as_str())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_tungstenite::tungstenite::protocol::frame::FrameHeader;

    fn decoded(frame: &Frame) -> (FrameHeader, u64, Vec<u8>) {
        let mut cursor = std::io::Cursor::new(frame.wire().to_vec());
        let (header, length) = FrameHeader::parse(&mut cursor).unwrap().unwrap();
        let start = cursor.position() as usize;
        (header, length, frame.wire()[start..].to_vec())
    }

    #[test]
    fn a_text_frame_is_final_unmasked_and_carries_its_text() {
        for size in [0, 125, 126, 65_535, 65_536] {
            let text = "x".repeat(size);
            let frame = Frame::from(text.as_str());
            let (header, length, payload) = decoded(&frame);
            assert!(header.is_final);
            assert!(header.mask.is_none());
            assert_eq!(header.opcode, OpCode::Data(Data::Text));
            assert_eq!(length, size as u64);
            assert_eq!(payload, text.as_bytes());
            assert_eq!(frame.as_str(), text);
        }
    }
}
