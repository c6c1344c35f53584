//! Helpers for tests that speak WebSocket and HTTP byte by byte: a real handshake over a
//! `TcpStream`, then hand-built frames (masked or not, any bits and opcode) and the server's
//! frames read back one by one, so that protocol violations can be sent exactly as written.
//! Every wait is bounded by [`crate::support::within`].

#![allow(dead_code)]

use crate::support::within;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A valid `Sec-WebSocket-Key`: the base64 of 16 bytes (RFC 6455's example).
pub const VALID_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// The mask every client frame built here is masked with.
const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// A client frame: `first` is the byte with FIN, RSV1-3 and the opcode; the payload is
/// masked as RFC 6455 requires of clients.
pub fn masked_frame(first: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = header(first, payload.len(), true);
    frame.extend_from_slice(&MASK);
    frame.extend(
        payload
            .iter()
            .enumerate()
            .map(|(i, byte)| byte ^ MASK[i % 4]),
    );
    frame
}

/// A frame without a mask, which no client may send.
pub fn unmasked_frame(first: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = header(first, payload.len(), false);
    frame.extend_from_slice(payload);
    frame
}

fn header(first: u8, length: usize, masked: bool) -> Vec<u8> {
    let mask_bit = if masked { 0x80 } else { 0 };
    let mut header = vec![first];
    match length {
        0..=125 => header.push(mask_bit | length as u8),
        126..=0xffff => {
            header.push(mask_bit | 126);
            header.extend_from_slice(&(length as u16).to_be_bytes());
        }
        _ => {
            header.push(mask_bit | 127);
            header.extend_from_slice(&(length as u64).to_be_bytes());
        }
    }
    header
}

/// One frame the server sent.
#[derive(Debug)]
pub struct ServerFrame {
    /// The first byte: FIN, RSV1-3 and the opcode.
    pub first: u8,
    /// Whether the frame carried a mask (a server must never mask).
    pub masked: bool,
    /// The payload.
    pub payload: Vec<u8>,
}

/// A WebSocket spoken byte by byte, after a real handshake.
pub struct RawSocket {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl RawSocket {
    /// Opens `/app/{key}`, checks the 101, and reads `pusher:connection_established`.
    pub async fn connect(addr: SocketAddr, key: &str) -> RawSocket {
        within("a raw WebSocket handshake", async {
            let mut stream = TcpStream::connect(addr).await.expect("tcp connect");
            let request = format!(
                "GET /app/{key}?protocol=7 HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\n\
                 Connection: Upgrade\r\nSec-WebSocket-Key: {VALID_KEY}\r\n\
                 Sec-WebSocket-Version: 13\r\n\r\n"
            );
            stream
                .write_all(request.as_bytes())
                .await
                .expect("write handshake");
            let mut socket = RawSocket {
                stream,
                buffer: Vec::new(),
            };
            let head = socket.read_head().await;
            assert!(
                head.starts_with("HTTP/1.1 101"),
                "expected 101, got {head:?}"
            );
            let frame = socket.next_frame().await.expect("connection_established");
            assert_eq!(frame.first, 0x81, "expected a text frame, got {frame:?}");
            let text = String::from_utf8_lossy(&frame.payload);
            assert!(
                text.contains("pusher:connection_established"),
                "unexpected first frame {text}"
            );
            socket
        })
        .await
    }

    async fn read_head(&mut self) -> String {
        loop {
            if let Some(end) = self.buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buffer[..end]).into_owned();
                self.buffer.drain(..end + 4);
                return head;
            }
            assert!(self.fill().await, "connection closed during the handshake");
        }
    }

    /// Reads more bytes; `false` at the end of the stream (or a reset).
    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 4096];
        match self.stream.read(&mut chunk).await {
            Ok(0) | Err(_) => false,
            Ok(read) => {
                self.buffer.extend_from_slice(&chunk[..read]);
                true
            }
        }
    }

    /// Writes raw bytes, one or several frames.
    pub async fn send(&mut self, bytes: &[u8]) {
        within("writing raw frames", self.stream.write_all(bytes))
            .await
            .expect("write frames");
    }

    /// Writes raw bytes the server may cut short by closing: a failed write is ignored.
    pub async fn send_lossy(&mut self, bytes: &[u8]) {
        let _ = within("writing raw bytes", self.stream.write_all(bytes)).await;
    }

    /// Ends what this side sends (a TCP half-close); the server's frames can still be read.
    pub async fn finish_writing(&mut self) {
        let _ = within("half-closing the connection", self.stream.shutdown()).await;
    }

    /// The next whole frame from the server, or `None` when the connection ended first.
    pub async fn next_frame(&mut self) -> Option<ServerFrame> {
        loop {
            if let Some((frame, used)) = parse_frame(&self.buffer) {
                self.buffer.drain(..used);
                return Some(frame);
            }
            if !self.fill().await {
                return None;
            }
        }
    }

    /// Reads until a close frame and returns its code and reason bytes. Fails if a data frame
    /// comes first (a `pusher:error`, say) or the connection ends without a close frame.
    pub async fn expect_close(&mut self) -> (u16, Vec<u8>) {
        within("a close frame", async {
            loop {
                let Some(frame) = self.next_frame().await else {
                    panic!("the connection ended without a close frame");
                };
                assert!(!frame.masked, "the server masked a frame: {frame:?}");
                match frame.first {
                    0x88 => {
                        assert!(
                            frame.payload.len() >= 2,
                            "close frame without a code: {frame:?}"
                        );
                        let code = u16::from_be_bytes([frame.payload[0], frame.payload[1]]);
                        return (code, frame.payload[2..].to_vec());
                    }
                    0x89 | 0x8a => continue,
                    _ => panic!(
                        "expected a close frame, got {frame:?} ({})",
                        String::from_utf8_lossy(&frame.payload)
                    ),
                }
            }
        })
        .await
    }

    /// Waits until the server closes the TCP connection, ignoring what it still sends.
    pub async fn expect_end(&mut self) {
        within("the end of the connection", async {
            while self.fill().await {
                self.buffer.clear();
            }
        })
        .await;
    }
}

/// One whole server frame at the start of `buffer` and how many bytes it takes.
fn parse_frame(buffer: &[u8]) -> Option<(ServerFrame, usize)> {
    let [first, second, ..] = *buffer else {
        return None;
    };
    let masked = second & 0x80 != 0;
    let (length, mut at) = match second & 0x7f {
        126 => (
            u16::from_be_bytes(buffer.get(2..4)?.try_into().ok()?) as usize,
            4,
        ),
        127 => (
            u64::from_be_bytes(buffer.get(2..10)?.try_into().ok()?) as usize,
            10,
        ),
        short => (short as usize, 2),
    };
    let mask = if masked {
        let mask: [u8; 4] = buffer.get(at..at + 4)?.try_into().ok()?;
        at += 4;
        Some(mask)
    } else {
        None
    };
    let mut payload = buffer.get(at..at + length)?.to_vec();
    if let Some(mask) = mask {
        for (i, byte) in payload.iter_mut().enumerate() {
            *byte ^= mask[i % 4];
        }
    }
    Some((
        ServerFrame {
            first,
            masked,
            payload,
        },
        at + length,
    ))
}

/// Writes `request` (ignoring a write the server cuts short) and reads until the response's
/// head has arrived or the server closes; returns the response's status, if one came.
pub async fn status_of(addr: SocketAddr, request: &[u8]) -> Option<u16> {
    within("an HTTP response", async {
        let mut stream = TcpStream::connect(addr).await.expect("tcp connect");
        let _ = stream.write_all(request).await;
        let mut response = Vec::new();
        let mut chunk = [0u8; 4096];
        while !response.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(read) => response.extend_from_slice(&chunk[..read]),
            }
        }
        let head = String::from_utf8_lossy(&response).into_owned();
        head.split(' ').nth(1).and_then(|code| code.parse().ok())
    })
    .await
}
