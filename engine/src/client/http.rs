//! One kept-alive HTTP/1.1 connection: write a whole request at once, read one response.
//!
//! Responses are parsed with `httparse`; bodies come with `Content-Length`, chunked, or until
//! the server closes. Socket timeouts are set once per connection, not per request, so a
//! request over a kept-alive connection costs one write and usually one read.

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

/// The most response headers read.
const MAX_HEADERS: usize = 64;

/// The largest response accepted, headers and body.
const MAX_RESPONSE: usize = 16 * 1024 * 1024;

/// A plain or TLS byte stream to the server.
enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// A response: status, body, and whether the connection may be used again.
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// The body bytes.
    pub body: Vec<u8>,
    /// False when the server closes the connection after this response.
    pub keep_alive: bool,
}

/// Why a round trip failed, and whether it is safe to retry on a new connection.
pub enum RoundTripError {
    /// The connection was already closed by the server (nothing was answered): retry.
    Stale(io::Error),
    /// Anything else.
    Failed(io::Error),
}

/// One connection to `host:port`.
pub struct Connection {
    stream: Stream,
    buffer: Vec<u8>,
}

impl Connection {
    /// Connects (TLS with `tls` settings when given), with `timeout` for connecting and for
    /// every read and write.
    pub fn open(
        host: &str,
        port: u16,
        tls: Option<Arc<ClientConfig>>,
        timeout: Duration,
    ) -> io::Result<Connection> {
        let mut last_error =
            io::Error::new(io::ErrorKind::NotFound, format!("{host} has no address"));
        let mut connected = None;
        for address in (host, port).to_socket_addrs()? {
            match TcpStream::connect_timeout(&address, timeout) {
                Ok(stream) => {
                    connected = Some(stream);
                    break;
                }
                Err(error) => last_error = error,
            }
        }
        let tcp = connected.ok_or(last_error)?;
        tcp.set_nodelay(true)?;
        tcp.set_read_timeout(Some(timeout))?;
        tcp.set_write_timeout(Some(timeout))?;
        let stream = match tls {
            Some(config) => {
                let name = ServerName::try_from(host.to_string())
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
                let session = ClientConnection::new(config, name)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                Stream::Tls(Box::new(StreamOwned::new(session, tcp)))
            }
            None => Stream::Plain(tcp),
        };
        Ok(Connection {
            stream,
            buffer: Vec::with_capacity(1024),
        })
    }

    /// Sends a complete request and reads its response.
    pub fn round_trip(&mut self, request: &[u8]) -> Result<Response, RoundTripError> {
        self.buffer.clear();
        if let Err(error) = self
            .stream
            .write_all(request)
            .and_then(|_| self.stream.flush())
        {
            return Err(match error.kind() {
                io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset => {
                    RoundTripError::Stale(error)
                }
                _ => RoundTripError::Failed(error),
            });
        }
        match self.read_response() {
            Err(error) if self.buffer.is_empty() && is_closed(&error) => {
                Err(RoundTripError::Stale(error))
            }
            other => other.map_err(RoundTripError::Failed),
        }
    }

    fn read_response(&mut self) -> io::Result<Response> {
        loop {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut response = httparse::Response::new(&mut headers);
            let parsed = response
                .parse(&self.buffer)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            if let httparse::Status::Complete(head_length) = parsed {
                let status = response.code.unwrap_or(0);
                let header = |name: &str| {
                    response
                        .headers
                        .iter()
                        .find(|h| h.name.eq_ignore_ascii_case(name))
                        .map(|h| String::from_utf8_lossy(h.value).to_ascii_lowercase())
                };
                let keep_alive = header("connection").is_none_or(|v| !v.contains("close"))
                    && response.version == Some(1);
                let length = header("content-length").and_then(|v| v.trim().parse::<usize>().ok());
                let chunked = header("transfer-encoding").is_some_and(|v| v.contains("chunked"));
                let body = if let Some(length) = length {
                    self.read_to(head_length + length)?;
                    self.buffer[head_length..head_length + length].to_vec()
                } else if chunked {
                    self.read_chunked(head_length)?
                } else {
                    self.read_to_end()?;
                    return Ok(Response {
                        status,
                        body: self.buffer[head_length..].to_vec(),
                        keep_alive: false,
                    });
                };
                return Ok(Response {
                    status,
                    body,
                    keep_alive,
                });
            }
            self.fill()?;
        }
    }

    /// Reads more bytes; a closed connection is an error.
    fn fill(&mut self) -> io::Result<usize> {
        if self.buffer.len() > MAX_RESPONSE {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "response too large",
            ));
        }
        let mut chunk = [0u8; 8192];
        let read = self.stream.read(&mut chunk)?;
        if read == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the connection",
            ));
        }
        self.buffer.extend_from_slice(&chunk[..read]);
        Ok(read)
    }

    fn read_to(&mut self, length: usize) -> io::Result<()> {
        while self.buffer.len() < length {
            self.fill()?;
        }
        Ok(())
    }

    fn read_to_end(&mut self) -> io::Result<()> {
        loop {
            match self.fill() {
                Ok(_) => {}
                Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
                Err(error) => return Err(error),
            }
        }
    }

    /// Decodes a chunked body that starts at `start` in the buffer.
    fn read_chunked(&mut self, start: usize) -> io::Result<Vec<u8>> {
        let mut body = Vec::new();
        let mut position = start;
        loop {
            let line_end = loop {
                if let Some(i) = find_crlf(&self.buffer[position..]) {
                    break position + i;
                }
                self.fill()?;
            };
            let size_text = String::from_utf8_lossy(&self.buffer[position..line_end]);
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
            let data_start = line_end + 2;
            self.read_to(data_start + size + 2)?;
            if size == 0 {
                return Ok(body);
            }
            body.extend_from_slice(&self.buffer[data_start..data_start + size]);
            position = data_start + size + 2;
        }
    }
}

fn find_crlf(bytes: &[u8]) -> Option<usize> {
    bytes.windows(2).position(|w| w == b"\r\n")
}

fn is_closed(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
    )
}
