//! The `webhook-sink` helper: an HTTP endpoint that answers every webhook `POST` with 200 at
//! once and counts the requests and the events in them, so that a benchmark measures what
//! sending webhooks costs the server, not what a slow receiver does to it. `GET /count`
//! answers `{"requests": n, "events": n}`.

use bytes::Bytes;
use clap::Args;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use std::cell::Cell;
use std::convert::Infallible;
use std::rc::Rc;

/// Options of the sink.
#[derive(Args)]
pub struct SinkArgs {
    /// The loopback port to listen on.
    #[arg(long)]
    port: u16,
}

/// Requests and events received so far.
#[derive(Default)]
struct Counts {
    requests: Cell<u64>,
    events: Cell<u64>,
}

/// Serves until killed.
pub async fn run(args: SinkArgs) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", args.port))?;
    println!("listening on 127.0.0.1:{}", args.port);
    let counts = Rc::new(Counts::default());
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let counts = counts.clone();
                tokio::task::spawn_local(async move {
                    let service = service_fn(move |request| answer(request, counts.clone()));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        })
        .await
}

/// Counts a webhook request, or reports the counts.
async fn answer(
    request: Request<hyper::body::Incoming>,
    counts: Rc<Counts>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if request.method() == Method::GET {
        let body = serde_json::json!({
            "requests": counts.requests.get(),
            "events": counts.events.get(),
        });
        return Ok(Response::new(Full::new(Bytes::from(body.to_string()))));
    }
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let events = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["events"].as_array().map(Vec::len))
        .unwrap_or(0);
    counts.requests.set(counts.requests.get() + 1);
    counts.events.set(counts.events.get() + events as u64);
    Ok(Response::new(Full::new(Bytes::new())))
}
