//! Publishes events through the Pusher HTTP API over one kept-alive connection, signed as
//! the official SDKs sign them.

use httparse::Status;
use reverb_engine::auth::sign_request;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The app a publisher publishes as.
#[derive(Clone)]
pub struct Credentials {
    /// App id.
    pub app_id: String,
    /// App key.
    pub key: String,
    /// App secret.
    pub secret: String,
}

/// One kept-alive HTTP connection to the server's API.
pub struct Publisher {
    stream: TcpStream,
    credentials: Credentials,
    host: String,
    buffer: Vec<u8>,
}

impl Publisher {
    /// Connects to `host:port`.
    pub async fn connect(
        host: &str,
        port: u16,
        credentials: Credentials,
    ) -> Result<Publisher, String> {
        let stream = TcpStream::connect((host, port))
            .await
            .map_err(|e| format!("cannot connect to {host}:{port}: {e}"))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        Ok(Publisher {
            stream,
            credentials,
            host: format!("{host}:{port}"),
            buffer: Vec::with_capacity(1024),
        })
    }

    /// Publishes `data` as `event` on `channel` and waits for the answer; returns the status.
    pub async fn publish(&mut self, channel: &str, event: &str, data: &str) -> Result<u16, String> {
        let body =
            serde_json::json!({"name": event, "channels": [channel], "data": data}).to_string();
        let path = format!("/apps/{}/events", self.credentials.app_id);
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let params = sign_request(
            &self.credentials.key,
            &self.credentials.secret,
            "POST",
            &path,
            &[],
            body.as_bytes(),
            timestamp,
        );
        let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let request = format!(
            "POST {path}?{} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            query.join("&"),
            self.host,
            body.len()
        );
        self.stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| format!("publish failed: {e}"))?;
        self.read_response().await
    }

    async fn read_response(&mut self) -> Result<u16, String> {
        self.buffer.clear();
        loop {
            let mut chunk = [0u8; 4096];
            let read = self
                .stream
                .read(&mut chunk)
                .await
                .map_err(|e| e.to_string())?;
            if read == 0 {
                return Err("the server closed the API connection".into());
            }
            self.buffer.extend_from_slice(&chunk[..read]);
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut response = httparse::Response::new(&mut headers);
            if let Status::Complete(head) =
                response.parse(&self.buffer).map_err(|e| e.to_string())?
            {
                let length = response
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                    .and_then(|h| {
                        std::str::from_utf8(h.value)
                            .ok()?
                            .trim()
                            .parse::<usize>()
                            .ok()
                    })
                    .unwrap_or(0);
                let status = response.code.unwrap_or(0);
                while self.buffer.len() < head + length {
                    let read = self
                        .stream
                        .read(&mut chunk)
                        .await
                        .map_err(|e| e.to_string())?;
                    if read == 0 {
                        return Err("the server closed the API connection".into());
                    }
                    self.buffer.extend_from_slice(&chunk[..read]);
                }
                return Ok(status);
            }
        }
    }
}
