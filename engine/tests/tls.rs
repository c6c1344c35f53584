//! `wss://` and `https://` with a self-signed certificate generated for the test.

mod support;

use futures_util::{SinkExt, StreamExt};
use reverb_engine::{Config, Server};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;
use support::{app, within};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use tokio_tungstenite::tungstenite::Message;

/// A certificate for `localhost`, written as PEM files into a fresh directory.
struct TestCertificate {
    dir: PathBuf,
    der: CertificateDer<'static>,
}

impl TestCertificate {
    fn new(name: &str) -> TestCertificate {
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()])
            .expect("rcgen makes a certificate");
        let dir = std::env::temp_dir().join(format!("reverb-rs-tls-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("cert.pem"), certified.cert.pem()).unwrap();
        std::fs::write(dir.join("key.pem"), certified.signing_key.serialize_pem()).unwrap();
        std::fs::write(
            dir.join("both.pem"),
            format!(
                "{}{}",
                certified.cert.pem(),
                certified.signing_key.serialize_pem()
            ),
        )
        .unwrap();
        TestCertificate {
            dir,
            der: certified.cert.der().clone(),
        }
    }

    fn path(&self, file: &str) -> String {
        self.dir.join(file).display().to_string()
    }

    fn connector(&self) -> TlsConnector {
        let mut roots = RootCertStore::empty();
        roots.add(self.der.clone()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        TlsConnector::from(Arc::new(config))
    }

    async fn connect(&self, server: &Server) -> TlsStream<TcpStream> {
        let tcp = TcpStream::connect(server.local_addr()).await.unwrap();
        let name = ServerName::try_from("localhost").unwrap();
        within("the TLS handshake", self.connector().connect(name, tcp))
            .await
            .expect("the handshake succeeds")
    }
}

impl Drop for TestCertificate {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start_tls(tls: Value) -> Result<Server, reverb_engine::StartError> {
    let value = json!({
        "servers": {"reverb": {"host": "127.0.0.1", "port": 0, "options": {"tls": tls}}},
        "apps": {"apps": [app("app-1", "key-1", json!({}))]},
    });
    Server::start(Config::from_value(&value).expect("valid config"))
}

#[tokio::test]
async fn websocket_clients_connect_over_wss() {
    let cert = TestCertificate::new("wss");
    let server =
        start_tls(json!({"local_cert": cert.path("cert.pem"), "local_pk": cert.path("key.pem")}))
            .expect("the server starts with TLS");
    let stream = cert.connect(&server).await;
    let url = format!("wss://localhost:{}/app/key-1", server.local_addr().port());
    let (mut ws, _) = within(
        "the WebSocket handshake",
        tokio_tungstenite::client_async(url, stream),
    )
    .await
    .expect("the upgrade succeeds");

    let first = within("connection_established", ws.next())
        .await
        .unwrap()
        .unwrap();
    let frame: Value = serde_json::from_str(first.to_text().unwrap()).unwrap();
    assert_eq!(frame["event"], "pusher:connection_established");

    ws.send(Message::text(
        r#"{"event":"pusher:subscribe","data":{"channel":"news"}}"#,
    ))
    .await
    .unwrap();
    let reply = within("subscription_succeeded", ws.next())
        .await
        .unwrap()
        .unwrap();
    assert!(reply.to_text().unwrap().contains("subscription_succeeded"));
    server
        .publish("app-1", &["news".into()], "e", "{}", None)
        .unwrap();
    let event = within("the event", ws.next()).await.unwrap().unwrap();
    assert_eq!(
        event.to_text().unwrap(),
        r#"{"event":"e","data":"{}","channel":"news"}"#
    );
}

#[tokio::test]
async fn the_http_api_answers_over_https_with_a_pem_holding_cert_and_key() {
    let cert = TestCertificate::new("https");
    let server = start_tls(json!({"local_cert": cert.path("both.pem"), "local_pk": null}))
        .expect("a PEM with certificate and key is enough");
    let mut stream = cert.connect(&server).await;
    stream
        .write_all(b"GET /up HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    within("the response", stream.read_to_string(&mut response))
        .await
        .unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with(r#"{"health":"OK"}"#), "{response}");
}

#[tokio::test]
async fn plain_clients_are_refused_on_a_tls_port() {
    let cert = TestCertificate::new("plain");
    let server =
        start_tls(json!({"local_cert": cert.path("cert.pem"), "local_pk": cert.path("key.pem")}))
            .unwrap();
    let mut stream = TcpStream::connect(server.local_addr()).await.unwrap();
    stream
        .write_all(b"GET /up HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = within("the server to hang up", stream.read_to_end(&mut answer)).await;
    assert!(
        !answer.starts_with(b"HTTP/"),
        "a plain HTTP request got an HTTP answer on the TLS port"
    );
}

#[test]
fn unusable_tls_settings_fail_with_the_reason() {
    let cert = TestCertificate::new("errors");
    let missing = start_tls(json!({"local_cert": "/nonexistent/cert.pem"}))
        .err()
        .unwrap();
    assert!(
        missing.to_string().contains("/nonexistent/cert.pem"),
        "{missing}"
    );

    let no_key = start_tls(json!({"local_cert": cert.path("cert.pem")}))
        .err()
        .unwrap();
    assert!(no_key.to_string().contains("private key"), "{no_key}");

    let passphrase = Config::from_value(&json!({
        "servers": {"reverb": {"options": {"tls": {"local_cert": cert.path("cert.pem"), "passphrase": "x"}}}},
        "apps": {"apps": [app("app-1", "key-1", json!({}))]},
    }))
    .unwrap_err();
    assert_eq!(passphrase.key, "servers.reverb.options.tls.passphrase");
}
