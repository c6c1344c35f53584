//! A socket's bytes in both directions, beneath the Pusher protocol.
//!
//! tungstenite reads and parses what the client sends. Everything the server sends goes
//! through the socket's [`Connection`] queue, in order: Pusher messages, and the control
//! frames tungstenite makes (pongs, close frames), which it writes into the [`ReadSide`] it
//! reads from and which are moved into the queue from there. tungstenite therefore never
//! holds a half-written frame, and other tasks can write to a plain TCP socket directly.

use crate::socket::{new_socket_id, Connection, Frame, QueueSettings};
use futures_util::{SinkExt, StreamExt};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::tcp::OwnedWriteHalf;
use tokio_tungstenite::tungstenite::error::Error as WsError;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// How long a closing socket waits for the client's close reply.
pub const CLOSE_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(1);

/// How many queued frames the socket task writes before one flush.
const FRAMES_PER_FLUSH: usize = 64;

/// A write side that only the socket task can use (TLS, which it must encrypt).
pub type StreamWrite = Box<dyn AsyncWrite + Send + Unpin>;

/// Where a socket's outgoing bytes go.
pub enum WriteSide {
    /// A plain TCP socket, which any task can write to.
    Tcp(OwnedWriteHalf),
    /// Anything else.
    Stream(StreamWrite),
}

/// The read half given to tungstenite. What tungstenite writes is kept here until it is
/// moved into the send queue.
pub struct ReadSide<R> {
    inner: R,
    written: Vec<u8>,
}

impl<R: AsyncRead + Unpin> AsyncRead for ReadSide<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<R: Unpin> AsyncWrite for ReadSide<R> {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().written.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// One socket's WebSocket session: tungstenite on the read side, the send queue on the
/// write side.
pub struct Transport<R> {
    ws: WebSocketStream<ReadSide<R>>,
    connection: Arc<Connection>,
    /// The write side when only the socket task writes; `None` when senders write directly.
    writer: Option<StreamWrite>,
}

impl<R: AsyncRead + Unpin> Transport<R> {
    /// Takes over an upgraded socket. `already_read` is what the HTTP server read past the
    /// handshake. Senders write to a TCP socket directly when `settings` allow it.
    pub async fn new(
        read: R,
        already_read: Vec<u8>,
        write: WriteSide,
        config: WebSocketConfig,
        settings: &QueueSettings,
    ) -> Transport<R> {
        let (direct, writer) = match write {
            WriteSide::Tcp(half) if settings.direct_writes => (Some(half), None),
            WriteSide::Tcp(half) => (None, Some(Box::new(half) as StreamWrite)),
            WriteSide::Stream(stream) => (None, Some(stream)),
        };
        let read_side = ReadSide {
            inner: read,
            written: Vec::new(),
        };
        let ws = WebSocketStream::from_partially_read(
            read_side,
            already_read,
            Role::Server,
            Some(config),
        )
        .await;
        Transport {
            ws,
            connection: Connection::new(new_socket_id(), settings, direct),
            writer,
        }
    }

    /// The handle other tasks use to reach this socket.
    pub fn connection(&self) -> &Arc<Connection> {
        &self.connection
    }

    /// The next message from the client; `None` once the socket is closed. Pongs and close
    /// replies tungstenite makes on the way are queued for sending.
    pub async fn next(&mut self) -> Option<Result<Message, WsError>> {
        let message = self.ws.next().await;
        if let Some(Ok(Message::Ping(_) | Message::Close(_))) = &message {
            let _ = self.ws.flush().await;
        }
        self.queue_written(false);
        message
    }

    /// Queues a control frame (a ping) encoded by tungstenite.
    pub async fn send_control(&mut self, message: Message) -> bool {
        self.ws.send(message).await.is_ok() && self.queue_written(false)
    }

    /// Moves what tungstenite wrote into the send queue, as the socket's last words when
    /// `last_words`; `false` when it was refused.
    fn queue_written(&mut self, last_words: bool) -> bool {
        let written = std::mem::take(&mut self.ws.get_mut().written);
        if written.is_empty() {
            return true;
        }
        let frame = Frame::encoded(written);
        match last_words {
            true => self.connection.send_last_words(frame),
            false => self.connection.send(frame),
        }
    }

    /// Writes everything queued, waiting for the client to take it; `written` sees each
    /// frame the socket task writes itself.
    pub async fn flush(&mut self, written: impl Fn(&Frame)) -> io::Result<()> {
        let Some(writer) = &mut self.writer else {
            return self.connection.write_queued().await;
        };
        let mut batch = Vec::new();
        loop {
            self.connection.take_frames(&mut batch, FRAMES_PER_FLUSH);
            if batch.is_empty() {
                return writer.flush().await;
            }
            for frame in batch.drain(..) {
                written(&frame);
                writer.write_all(frame.wire()).await?;
            }
        }
    }

    /// Sends a close frame and waits briefly for the client's reply; bounded in time even
    /// when the client reads nothing.
    pub async fn close(&mut self, code: u16, reason: &str) {
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: reason.into(),
        };
        let handshake = async {
            if self.ws.close(Some(frame)).await.is_ok()
                && self.queue_written(true)
                && self.flush(|_| {}).await.is_ok()
            {
                while let Some(Ok(_)) = self.next().await {
                    if self.flush(|_| {}).await.is_err() {
                        return;
                    }
                }
            }
        };
        let _ = tokio::time::timeout(CLOSE_HANDSHAKE_TIMEOUT, handshake).await;
    }
}
