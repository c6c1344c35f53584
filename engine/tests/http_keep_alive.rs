//! HTTP/1.1 connection handling: keep-alive across requests and error answers, pipelined
//! requests answered in order, and `Expect: 100-continue`.

mod api_support;
mod support;

use api_support::{raw_exchange, read_responses, Api, HttpConn, Resp};
use serde_json::json;
use support::{start_one, within, Client};
use tokio::io::AsyncWriteExt;

#[tokio::test]
async fn several_requests_on_one_connection_are_all_answered() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let api = Api::new(addr);
    let mut conn = HttpConn::open(addr).await;

    let check = |resp: &Resp| {
        assert_ne!(
            resp.header("connection").as_deref(),
            Some("close"),
            "the server asked to close: {resp:?}"
        );
    };
    let resp = conn.send("GET", "/up", Vec::new()).await;
    resp.assert_ok(&json!({"health": "OK"}));
    check(&resp);

    for _ in 0..3 {
        let body = br#"{"name":"e","data":"{}","channels":["news"]}"#.to_vec();
        let uri = api.signed_uri("POST", &api.path("/events"), &[], &body);
        let resp = conn.send("POST", &uri, body).await;
        resp.assert_ok(&json!({}));
        check(&resp);
        assert!(conn.is_open());
    }

    let uri = api.signed_uri("GET", &api.path("/channels"), &[], b"");
    conn.send("GET", &uri, Vec::new())
        .await
        .assert_ok(&json!({"channels": {}}));
    // Error answers keep the connection too.
    let resp = conn.send("GET", "/apps/app-1/channels", Vec::new()).await;
    resp.assert_error(401, &["auth_signature"]);
    check(&resp);
    conn.send("GET", "/nothing-here", Vec::new())
        .await
        .assert_error(404, &[]);
    let uri = api.signed_uri("GET", &api.path("/connections"), &[], b"");
    conn.send("GET", &uri, Vec::new())
        .await
        .assert_ok(&json!({"connections": 0}));
    assert!(conn.is_open());
}

#[tokio::test]
async fn pipelined_requests_are_answered_in_order() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let api = Api::new(addr);
    let body = r#"{"name":"e","data":"{}","channels":["news"]}"#;
    let events = api.signed_uri("POST", &api.path("/events"), &[], body.as_bytes());
    let connections = api.signed_uri("GET", &api.path("/connections"), &[], b"");
    let requests = format!(
        "GET /up HTTP/1.1\r\nHost: {addr}\r\n\r\n\
         POST {events} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}\
         GET {connections} HTTP/1.1\r\nHost: {addr}\r\n\r\n",
        body.len()
    );
    let (responses, mut stream) = raw_exchange(addr, requests.as_bytes(), 3).await;
    assert_eq!(responses[0].status, 200);
    assert_eq!(responses[0].json(), json!({"health": "OK"}));
    assert_eq!(responses[1].status, 200);
    assert_eq!(responses[1].json(), json!({}));
    assert_eq!(responses[2].status, 200);
    assert_eq!(responses[2].json(), json!({"connections": 0}));

    // Two more written at once on the same, still open, connection.
    let more =
        format!("GET /up HTTP/1.1\r\nHost: {addr}\r\n\r\nGET /up HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    let responses = within("two more pipelined responses", async {
        stream.write_all(more.as_bytes()).await.expect("write");
        read_responses(&mut stream, 2).await
    })
    .await;
    assert!(responses.iter().all(|r| r.status == 200));
}

/// curl (and so Guzzle, under pusher-http-php) sends `Expect: 100-continue` before a larger
/// body and waits for the interim response.
#[tokio::test]
async fn expect_100_continue_gets_an_interim_response_before_the_body() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut subscriber, _) = Client::subscribed(addr, "news").await;
    let api = Api::new(addr);
    let body = json!({"name": "e", "data": "x".repeat(2_000), "channels": ["news"]}).to_string();
    let uri = api.signed_uri("POST", &api.path("/events"), &[], body.as_bytes());
    let head = format!(
        "POST {uri} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        body.len()
    );
    let (interim, mut stream) = raw_exchange(addr, head.as_bytes(), 1).await;
    assert_eq!(interim[0].status, 100, "{:?}", interim[0]);
    let responses = within("the response after the body", async {
        stream.write_all(body.as_bytes()).await.expect("write body");
        read_responses(&mut stream, 1).await
    })
    .await;
    assert_eq!(responses[0].status, 200, "{:?}", responses[0]);
    assert_eq!(responses[0].json(), json!({}));
    assert_eq!(subscriber.next_json().await["event"], "e");
}
