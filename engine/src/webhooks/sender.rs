//! One webhook endpoint's delivery: a bounded queue that [`Sender::push`] fills without
//! waiting, and a task that sends the queued events in signed batches, one request at a
//! time and in order, retrying a failing batch before anything behind it.

use super::connection::Connection;
use crate::auth;
use crate::config::WebhookSettings;
use crate::events::{EngineEvent, EventQueue};
use bytes::Bytes;
use hyper::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE, USER_AGENT};
use parking_lot::Mutex;
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::{CancellationToken, DropGuard};
use tokio_util::task::TaskTracker;

/// The pause before a failed batch is first sent again; it doubles after every failure.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);

/// The longest pause between two attempts of a batch.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// The header that names the app, as Pusher's SDKs look it up.
const KEY_HEADER: HeaderName = HeaderName::from_static("x-pusher-key");

/// The header that carries the body's HMAC-SHA256, as Pusher's SDKs look it up.
const SIGNATURE_HEADER: HeaderName = HeaderName::from_static("x-pusher-signature");

/// Where one webhook goes and whose credentials sign it.
pub(crate) struct Endpoint {
    /// The app, for the host's `WebhookFailing` event.
    pub app_id: String,
    /// The app key, sent in `X-Pusher-Key`.
    pub key: String,
    /// The app secret, which signs the body.
    pub secret: String,
    /// The `http://` or `https://` URL that receives the `POST`s.
    pub url: String,
    /// Extra request headers, for an endpoint that wants its own token.
    pub headers: Vec<(String, String)>,
}

/// Per-app counters, shared by the app's endpoints and read by `stats()` and the metrics
/// endpoint; relaxed atomics, so counting costs a delivery nothing measurable.
#[derive(Default)]
pub(crate) struct WebhookCounters {
    /// Events delivered with a 2xx.
    pub sent: AtomicU64,
    /// Requests that failed (non-2xx, error, timeout).
    pub failed: AtomicU64,
    /// Requests sent again.
    pub retried: AtomicU64,
    /// Events given up: retry_for passed, or pushed out of a full queue, or left at shutdown.
    pub dropped: AtomicU64,
}

impl WebhookCounters {
    /// The counters' values now.
    pub fn snapshot(&self) -> WebhookStats {
        WebhookStats {
            sent: self.sent.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            retried: self.retried.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
        }
    }

    /// Adds `n` to `counter`.
    fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// An app's webhook counters at one moment, as the host reads them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookStats {
    /// Events delivered with a 2xx.
    pub sent: u64,
    /// Requests that failed (non-2xx, error, timeout).
    pub failed: u64,
    /// Requests sent again.
    pub retried: u64,
    /// Events given up: retries ran out, the queue was full, or the server stopped.
    pub dropped: u64,
}

/// The events waiting for one endpoint, shared by [`Sender::push`] and the delivery task.
struct Queue {
    /// The events, behind a lock held only to add or take some.
    waiting: Mutex<Waiting>,
    /// The most events that may wait.
    capacity: usize,
    /// Wakes the delivery task when an event is queued.
    ready: Notify,
    /// Where events pushed out of a full or closed queue are counted.
    counters: Arc<WebhookCounters>,
}

/// What the queue's lock guards.
struct Waiting {
    /// The serialized events, oldest first.
    events: VecDeque<String>,
    /// Set once the delivery task has ended: later events are dropped at once.
    closed: bool,
}

impl Queue {
    /// Queues an event, pushing the oldest out when full.
    fn push(&self, event: String) {
        let mut waiting = self.waiting.lock();
        if waiting.closed {
            WebhookCounters::add(&self.counters.dropped, 1);
            return;
        }
        if waiting.events.len() >= self.capacity {
            waiting.events.pop_front();
            WebhookCounters::add(&self.counters.dropped, 1);
        }
        waiting.events.push_back(event);
        drop(waiting);
        self.ready.notify_one();
    }

    /// How many events wait.
    fn len(&self) -> usize {
        self.waiting.lock().events.len()
    }

    /// Takes up to `max` events, oldest first.
    fn take(&self, max: usize) -> Vec<String> {
        let mut waiting = self.waiting.lock();
        let count = max.min(waiting.events.len());
        waiting.events.drain(..count).collect()
    }

    /// Takes every event and closes the queue, so nothing queued later waits unseen.
    fn close(&self) -> VecDeque<String> {
        let mut waiting = self.waiting.lock();
        waiting.closed = true;
        std::mem::take(&mut waiting.events)
    }
}

/// The handle to one endpoint's delivery: queues events for it. Dropping it ends the
/// delivery as shutdown does, after one last attempt to send what is queued.
pub(crate) struct Sender {
    /// The queue the delivery task reads.
    queue: Arc<Queue>,
    /// Stops the delivery task when the sender is dropped.
    _stop: DropGuard,
}

impl Sender {
    /// Must be called inside a tokio runtime: spawns the endpoint's delivery task on
    /// `tasks`, so that a stopping server waits (up to its grace period) for the last send.
    pub fn spawn(
        endpoint: Endpoint,
        settings: &WebhookSettings,
        counters: Arc<WebhookCounters>,
        events: Arc<EventQueue>,
        shutdown: CancellationToken,
        tasks: &TaskTracker,
    ) -> Sender {
        let queue = Arc::new(Queue {
            waiting: Mutex::new(Waiting {
                events: VecDeque::new(),
                closed: false,
            }),
            capacity: settings.queue_size.max(1),
            ready: Notify::new(),
            counters: counters.clone(),
        });
        let stop = shutdown.child_token();
        let delivery = Delivery {
            connection: Connection::new(&endpoint.url),
            headers: fixed_headers(&endpoint),
            endpoint,
            queue: queue.clone(),
            counters,
            events,
            stop: stop.clone(),
            batch_window: settings.batch_window,
            batch_size: settings.batch_size.max(1),
            timeout: settings.timeout,
            retry_for: settings.retry_for,
            healthy: true,
        };
        tasks.spawn(delivery.run());
        Sender {
            queue,
            _stop: stop.drop_guard(),
        }
    }

    /// Queues one event (the serialized JSON object of a WebhookEvent, e.g. from
    /// serde_json::to_string); never blocks, never awaits.
    pub fn push(&self, event: String) {
        self.queue.push(event);
    }
}

/// The headers every request carries but the signature: the configured ones, then
/// Pusher's, which win over a configured header of the same name. An unusable configured
/// header makes every request fail, with the header's name in the error.
fn fixed_headers(endpoint: &Endpoint) -> Result<HeaderMap, String> {
    let mut headers = HeaderMap::new();
    headers.insert(
        USER_AGENT,
        HeaderValue::from_static(concat!("reverb-rs/", env!("CARGO_PKG_VERSION"))),
    );
    for (name, value) in &endpoint.headers {
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("\"{name}\" is not a valid header name"))?;
        let value = HeaderValue::from_str(value)
            .map_err(|_| format!("the value of the header {name} is not a valid header value"))?;
        headers.insert(header, value);
    }
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let key = HeaderValue::from_str(&endpoint.key)
        .map_err(|_| "the app key is not a valid header value".to_string())?;
    headers.insert(KEY_HEADER, key);
    Ok(headers)
}

/// The delivery task of one endpoint and everything it keeps between requests.
struct Delivery {
    /// Where the webhooks go and whose credentials sign them.
    endpoint: Endpoint,
    /// What [`fixed_headers`] made of the endpoint's headers.
    headers: Result<HeaderMap, String>,
    /// The kept-alive connection to the endpoint.
    connection: Connection,
    /// The events waiting to be sent.
    queue: Arc<Queue>,
    /// The app's webhook counters.
    counters: Arc<WebhookCounters>,
    /// Where the host hears that the endpoint is failing.
    events: Arc<EventQueue>,
    /// Cancelled at shutdown, or when the [`Sender`] is dropped.
    stop: CancellationToken,
    /// How long the first event of a batch waits for others.
    batch_window: Duration,
    /// The most events in one request.
    batch_size: usize,
    /// How long one request may take.
    timeout: Duration,
    /// How long a failing batch is retried.
    retry_for: Duration,
    /// False from a failed request until a request succeeds: the host hears of a failing
    /// endpoint once per outage.
    healthy: bool,
}

impl Delivery {
    /// Sends batches until stopped, then sends what is left once.
    async fn run(mut self) {
        let interrupted = loop {
            let Some(batch) = self.next_batch().await else {
                break None;
            };
            if let Some(batch) = self.deliver(batch).await {
                break Some(batch);
            }
        };
        self.flush(interrupted).await;
    }

    /// Waits for an event, then up to the batch window for more, and takes a batch; `None`
    /// when stopped first, the events staying queued for [`Delivery::flush`].
    async fn next_batch(&self) -> Option<Vec<String>> {
        while self.queue.len() == 0 {
            tokio::select! {
                _ = self.queue.ready.notified() => {}
                _ = self.stop.cancelled() => return None,
            }
        }
        if !self.batch_window.is_zero() {
            let window = tokio::time::sleep(self.batch_window);
            tokio::pin!(window);
            while self.queue.len() < self.batch_size {
                tokio::select! {
                    _ = self.queue.ready.notified() => {}
                    _ = &mut window => break,
                    _ = self.stop.cancelled() => return None,
                }
            }
        }
        Some(self.queue.take(self.batch_size))
    }

    /// Sends a batch until it is delivered or `retry_for` has passed since its first
    /// attempt, pausing longer after each failure; returns the batch when stopped before
    /// its next attempt.
    async fn deliver(&mut self, batch: Vec<String>) -> Option<Vec<String>> {
        let first_attempt = Instant::now();
        let mut backoff = FIRST_BACKOFF;
        while !self.attempt(&batch).await {
            if first_attempt.elapsed().saturating_add(backoff) > self.retry_for {
                WebhookCounters::add(&self.counters.dropped, batch.len());
                return None;
            }
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = self.stop.cancelled() => return Some(batch),
            }
            backoff = backoff.saturating_mul(2).min(MAX_BACKOFF);
            WebhookCounters::add(&self.counters.retried, 1);
        }
        None
    }

    /// At shutdown: one attempt for the batch that was being retried, then for each batch
    /// of what is queued, stopping at the first failure; whatever is left is dropped.
    async fn flush(&mut self, interrupted: Option<Vec<String>>) {
        let mut left = self.queue.close();
        if let Some(batch) = interrupted {
            WebhookCounters::add(&self.counters.retried, 1);
            if !self.attempt(&batch).await {
                WebhookCounters::add(&self.counters.dropped, batch.len() + left.len());
                return;
            }
        }
        while !left.is_empty() {
            let batch: Vec<String> = left.drain(..self.batch_size.min(left.len())).collect();
            if !self.attempt(&batch).await {
                WebhookCounters::add(&self.counters.dropped, batch.len() + left.len());
                return;
            }
        }
    }

    /// Sends one request for `batch` and counts it; tells the host when a healthy endpoint
    /// starts failing.
    async fn attempt(&mut self, batch: &[String]) -> bool {
        match self.send(batch).await {
            Ok(()) => {
                WebhookCounters::add(&self.counters.sent, batch.len());
                self.healthy = true;
                true
            }
            Err(error) => {
                WebhookCounters::add(&self.counters.failed, 1);
                if self.healthy {
                    self.healthy = false;
                    self.events.push(EngineEvent::WebhookFailing {
                        app_id: self.endpoint.app_id.clone(),
                        url: self.endpoint.url.clone(),
                        error,
                    });
                }
                false
            }
        }
    }

    /// One signed `POST` of `batch`, within the timeout. The body is built for each attempt,
    /// so `time_ms` stays within the five minutes the official SDKs accept.
    async fn send(&mut self, batch: &[String]) -> Result<(), String> {
        let body = body(batch, unix_millis());
        let signature = auth::sign(&self.endpoint.secret, &body);
        let mut headers = self.headers.clone()?;
        let signature = HeaderValue::from_str(&signature).map_err(|error| error.to_string())?;
        headers.insert(SIGNATURE_HEADER, signature);
        let posted = tokio::time::timeout(
            self.timeout,
            self.connection.post(Bytes::from(body), headers),
        )
        .await;
        match posted {
            Err(_) => Err(format!("timed out after {}", duration_text(self.timeout))),
            Ok(Err(error)) => Err(error),
            Ok(Ok(status)) if status.is_success() => Ok(()),
            Ok(Ok(status)) => Err(format!("HTTP {}", status.as_u16())),
        }
    }
}

/// Pusher's webhook body, `{"time_ms":…,"events":[…]}`, joining the already serialized
/// events.
fn body(events: &[String], time_ms: u128) -> String {
    format!(
        "{{\"time_ms\":{time_ms},\"events\":[{}]}}",
        events.join(",")
    )
}

/// Now, in milliseconds since the Unix epoch.
fn unix_millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis())
}

/// A timeout as people read it: `4 s`, or `1500 ms` when it is not whole seconds.
fn duration_text(duration: Duration) -> String {
    if duration.subsec_nanos() == 0 {
        format!("{} s", duration.as_secs())
    } else {
        format!("{} ms", duration.as_millis())
    }
}

#[cfg(test)]
mod tests;
