//! The client side of the Pusher protocol the scenarios need: connect, subscribe, read frames.

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::time::Duration;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// A connected Pusher client socket.
pub type Socket = WebSocketStream<TcpStream>;

/// Where to connect: host, port, app key, and the local address to connect from (spreading
/// sockets over 127.0.0.x gives more source ports than one address has).
#[derive(Clone)]
pub struct Target {
    /// Server host (an IP address).
    pub host: String,
    /// Server port.
    pub port: u16,
    /// App key.
    pub key: String,
}

/// Opens a socket from `source` and waits for `pusher:connection_established`.
pub async fn connect(target: &Target, source: &str) -> Result<Socket, String> {
    connect_with_buffer(target, source, None).await
}

/// Like [`connect`], with the kernel's receive buffer for the socket set to `receive_buffer`
/// bytes when given.
pub async fn connect_with_buffer(
    target: &Target,
    source: &str,
    receive_buffer: Option<u32>,
) -> Result<Socket, String> {
    let address = format!("{}:{}", target.host, target.port);
    let remote = address
        .parse()
        .map_err(|e| format!("bad address {address}: {e}"))?;
    let socket = TcpSocket::new_v4().map_err(|e| e.to_string())?;
    let local = format!("{source}:0")
        .parse()
        .map_err(|e| format!("bad source address {source}: {e}"))?;
    socket.bind(local).map_err(|e| e.to_string())?;
    if let Some(bytes) = receive_buffer {
        socket
            .set_recv_buffer_size(bytes)
            .map_err(|e| e.to_string())?;
    }
    let stream = socket.connect(remote).await.map_err(|e| e.to_string())?;
    let url = format!(
        "ws://{address}/app/{}?protocol=7&client=reverb-bench",
        target.key
    );
    let (mut ws, _) = tokio_tungstenite::client_async(url, stream)
        .await
        .map_err(|e| e.to_string())?;
    next_event(&mut ws, "pusher:connection_established").await?;
    Ok(ws)
}

/// Subscribes to a public channel and waits for the confirmation.
pub async fn subscribe(ws: &mut Socket, channel: &str) -> Result<(), String> {
    let message = serde_json::json!({"event": "pusher:subscribe", "data": {"channel": channel}});
    ws.send(Message::text(message.to_string()))
        .await
        .map_err(|e| e.to_string())?;
    next_event(ws, "pusher_internal:subscription_succeeded").await?;
    Ok(())
}

/// Reads frames until one with `event` arrives (10 s at most).
pub async fn next_event(ws: &mut Socket, event: &str) -> Result<Value, String> {
    let wait = async {
        while let Some(message) = ws.next().await {
            let message = message.map_err(|e| e.to_string())?;
            if let Message::Text(text) = message {
                let value: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
                if value["event"] == event {
                    return Ok(value);
                }
            }
        }
        Err("the server closed the socket".to_string())
    };
    tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .map_err(|_| format!("no {event} within 10 s"))?
}
