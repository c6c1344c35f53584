//! One kept-alive HTTP/1.1 connection to a webhook endpoint, over hyper: `POST` a body and
//! read the status. A connection the endpoint closed is replaced, and `https` is verified
//! against Mozilla's roots, as the HTTP API client verifies it.

use crate::client::tls::Verification;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{HeaderMap, HeaderValue, HOST};
use hyper::{Method, Request, Response, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use std::error::Error;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// Where the requests go, read once from the endpoint's URL.
struct Target {
    /// The host to connect to, without the brackets of an IPv6 address.
    host: String,
    /// The port, the scheme's when the URL names none.
    port: u16,
    /// The `Host` header: the URL's host and port, without any credentials.
    authority: HeaderValue,
    /// The path and query, as the request line carries them.
    path: Uri,
    /// For `https`: the TLS settings and the name the certificate must carry.
    tls: Option<(TlsConnector, ServerName<'static>)>,
}

/// The connection to one endpoint, opened when first needed and kept between requests.
pub(super) struct Connection {
    /// The parsed URL, or why it cannot be used (every request then fails with that).
    target: Result<Target, String>,
    /// The open connection, when the last request left it usable.
    open: Option<SendRequest<Full<Bytes>>>,
}

impl Connection {
    /// A connection to `url`, not yet opened.
    pub(super) fn new(url: &str) -> Connection {
        Connection {
            target: target(url),
            open: None,
        }
    }

    /// Sends `body` as a `POST` with `headers` (and `Host`) and returns the status, or why
    /// no response came. Dropping the future midway closes the connection, and the next
    /// request opens another.
    pub(super) async fn post(
        &mut self,
        body: Bytes,
        headers: HeaderMap,
    ) -> Result<StatusCode, String> {
        let target = self.target.as_ref().map_err(Clone::clone)?;
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = target.path.clone();
        *request.headers_mut() = headers;
        request.headers_mut().insert(HOST, target.authority.clone());
        if let Some(mut kept) = self.open.take() {
            if kept.ready().await.is_ok() {
                match kept.try_send_request(request).await {
                    Ok(response) => {
                        let status = finish(response).await?;
                        self.open = Some(kept);
                        return Ok(status);
                    }
                    // The endpoint closed the kept-alive connection before the request went
                    // out: it is sent on a new one.
                    Err(mut error) => match error.take_message() {
                        Some(unsent) => request = unsent,
                        None => return Err(describe("request failed", &error.into_error())),
                    },
                }
            }
        }
        let mut fresh = connect(target).await?;
        let response = fresh
            .send_request(request)
            .await
            .map_err(|error| describe("request failed", &error))?;
        let status = finish(response).await?;
        self.open = Some(fresh);
        Ok(status)
    }
}

/// Reads the URL: scheme, host, port, path and query.
fn target(url: &str) -> Result<Target, String> {
    let uri: Uri = url
        .parse()
        .map_err(|error| format!("the URL cannot be used: {error}"))?;
    let https = match uri.scheme_str() {
        Some("http") => false,
        Some("https") => true,
        _ => return Err("the URL must start with http:// or https://".to_string()),
    };
    let authority = uri.authority().ok_or("the URL names no host")?;
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = authority.port_u16().unwrap_or(if https { 443 } else { 80 });
    let without_credentials = authority.as_str().rsplit('@').next().unwrap_or_default();
    let authority = HeaderValue::from_str(without_credentials)
        .map_err(|error| format!("the URL's host cannot be sent: {error}"))?;
    let path = match uri.path_and_query() {
        Some(path) => Uri::builder().path_and_query(path.clone()).build(),
        None => Uri::builder().path_and_query("/").build(),
    }
    .map_err(|error| format!("the URL's path cannot be sent: {error}"))?;
    let tls = if https {
        let config = Verification::WebPki
            .client_config()
            .map_err(|error| format!("TLS cannot be set up: {error}"))?;
        let name = ServerName::try_from(host.clone())
            .map_err(|error| format!("{host} cannot be verified by TLS: {error}"))?;
        Some((TlsConnector::from(config), name))
    } else {
        None
    };
    Ok(Target {
        host,
        port,
        authority,
        path,
        tls,
    })
}

/// Opens a connection, with TLS for `https`, and runs it on its own task.
async fn connect(target: &Target) -> Result<SendRequest<Full<Bytes>>, String> {
    let address = format!("{}:{}", target.host, target.port);
    let tcp = TcpStream::connect((target.host.as_str(), target.port))
        .await
        .map_err(|error| format!("connection to {address} failed: {error}"))?;
    tcp.set_nodelay(true)
        .map_err(|error| format!("connection to {address} failed: {error}"))?;
    match &target.tls {
        None => handshake(tcp).await,
        Some((connector, name)) => {
            let tls = connector
                .connect(name.clone(), tcp)
                .await
                .map_err(|error| format!("TLS handshake with {address} failed: {error}"))?;
            handshake(tls).await
        }
    }
}

/// Starts HTTP/1.1 over an open stream; the connection's task ends when the connection
/// closes or the [`SendRequest`] is dropped. Header names go out title-cased
/// (`X-Pusher-Key`), as Pusher sends them: the PHP SDK looks them up in that case in
/// `getallheaders()`, which keeps the case it received under Apache.
async fn handshake<S>(stream: S) -> Result<SendRequest<Full<Bytes>>, String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = http1::Builder::new()
        .title_case_headers(true)
        .handshake(TokioIo::new(stream))
        .await
        .map_err(|error| describe("HTTP handshake failed", &error))?;
    tokio::spawn(connection);
    Ok(sender)
}

/// The response's status, once its body is read (and thrown away, a frame at a time) so
/// the connection can carry the next request.
async fn finish(response: Response<Incoming>) -> Result<StatusCode, String> {
    let status = response.status();
    let mut body = response.into_body();
    while let Some(frame) = body.frame().await {
        frame.map_err(|error| describe("reading the response failed", &error))?;
    }
    Ok(status)
}

/// `what`, then the error and its causes: hyper's own message rarely says which system
/// error was behind it.
fn describe(what: &str, error: &(dyn Error + 'static)) -> String {
    let mut text = format!("{what}: {error}");
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(&format!(": {inner}"));
        cause = inner.source();
    }
    text
}
