//! Publishes events through the Pusher HTTP API over one kept-alive connection, signed as
//! the official SDKs sign them. A server that closes connections (`Connection: close`) gets
//! a new connection for the next request, and the reconnects are counted.

use httparse::Status;
use reverb_engine::sign_request;
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
    stream: Option<TcpStream>,
    credentials: Credentials,
    host: String,
    port: u16,
    buffer: Vec<u8>,
    /// Connections opened after the first one, because the server closed the previous one.
    pub reconnects: u64,
}

impl Publisher {
    /// Connects to `host:port`.
    pub async fn connect(
        host: &str,
        port: u16,
        credentials: Credentials,
    ) -> Result<Publisher, String> {
        let mut publisher = Publisher {
            stream: None,
            credentials,
            host: host.to_string(),
            port,
            buffer: Vec::with_capacity(1024),
            reconnects: 0,
        };
        publisher.stream = Some(publisher.open().await?);
        Ok(publisher)
    }

    async fn open(&self) -> Result<TcpStream, String> {
        let stream = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| format!("cannot connect to {}:{}: {e}", self.host, self.port))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        Ok(stream)
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
            "POST {path}?{} HTTP/1.1\r\nHost: {}:{}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            query.join("&"),
            self.host,
            self.port,
            body.len()
        );
        let mut stream = match self.stream.take() {
            Some(stream) => stream,
            None => {
                self.reconnects += 1;
                self.open().await?
            }
        };
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| format!("publish failed: {e}"))?;
        let (status, keep_alive) = self.read_response(&mut stream).await?;
        if keep_alive {
            self.stream = Some(stream);
        }
        Ok(status)
    }

    /// Reads one response: its status, and whether the connection stays open.
    async fn read_response(&mut self, stream: &mut TcpStream) -> Result<(u16, bool), String> {
        self.buffer.clear();
        let mut chunk = [0u8; 4096];
        loop {
            let read = stream.read(&mut chunk).await.map_err(|e| e.to_string())?;
            if read == 0 {
                return Err("the server closed the API connection".into());
            }
            self.buffer.extend_from_slice(&chunk[..read]);
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut response = httparse::Response::new(&mut headers);
            let Status::Complete(head) = response.parse(&self.buffer).map_err(|e| e.to_string())?
            else {
                continue;
            };
            let header = |name: &str| {
                response
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case(name))
                    .map(|h| String::from_utf8_lossy(h.value).to_ascii_lowercase())
            };
            let length = header("content-length").and_then(|v| v.trim().parse::<usize>().ok());
            let keep_alive = response.version == Some(1)
                && header("connection").is_none_or(|v| !v.contains("close"));
            let status = response.code.unwrap_or(0);
            let end = head + length.unwrap_or(0);
            while self.buffer.len() < end {
                let read = stream.read(&mut chunk).await.map_err(|e| e.to_string())?;
                if read == 0 {
                    return Err("the server closed the API connection".into());
                }
                self.buffer.extend_from_slice(&chunk[..read]);
            }
            return Ok((status, keep_alive && length.is_some()));
        }
    }
}
