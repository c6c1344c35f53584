//! Property-based fuzzing of the HTTP API's request handling, against a running server:
//! correctly signed requests with arbitrary extra query parameters, arbitrary channel names
//! in the path and arbitrary bodies are never refused as unsigned and never fail the server
//! (no 5xx, no panic on the engine's threads), and a body changed after signing is refused
//! with 401. Each case is one request, so a property runs 128 cases unless `PROPTEST_CASES`
//! says otherwise.

mod api_support;
mod support;

use api_support::{encode_query, now, Api};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use proptest::prelude::*;
use reverb_engine::sign_request;
use serde_json::{json, Value};
use std::future::Future;
use std::pin::Pin;
use support::fuzzing::{client_runtime, json_value, run_cases};
use support::{start_one, KEY, SECRET};

/// Cases per property unless `PROPTEST_CASES` is set.
const CASES: u32 = 128;

/// The query parameters that authenticate a request, which the fuzzed ones never repeat.
const AUTH_PARAMETERS: [&str; 5] = [
    "auth_key",
    "auth_signature",
    "auth_timestamp",
    "auth_version",
    "body_md5",
];

/// The path and query of a request to `path` signed with the default app's credentials.
fn signed(method: &str, path: &str, params: &[(String, String)], body: &[u8]) -> String {
    let signed = sign_request(KEY, SECRET, method, path, params, body, now());
    format!("{path}?{}", encode_query(&signed))
}

/// Query parameters besides the authentication ones: the API's own (`info`,
/// `filter_by_prefix`), plausible names and any, with any values.
fn extra_params() -> impl Strategy<Value = Vec<(String, String)>> {
    let name = prop_oneof![
        prop::sample::select(vec!["info", "filter_by_prefix", "socket_id", "AUTH_KEY"])
            .prop_map(String::from),
        "[a-z_]{1,10}",
        short_string(),
    ]
    .prop_filter("not an auth parameter", |name| {
        !AUTH_PARAMETERS.contains(&name.as_str())
    });
    let value = prop_oneof![
        prop::sample::select(vec![
            "user_count",
            "subscription_count,cache",
            "presence-",
            ""
        ])
        .prop_map(String::from),
        short_string(),
    ];
    prop::collection::vec((name, value), 0..6)
}

/// Any characters, few enough that a query of them fits the server's 16 KiB header cap.
fn short_string() -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 0..24).prop_map(String::from_iter)
}

/// Channel names: valid ones of every kind, near misses, and any string.
fn channel_name() -> impl Strategy<Value = String> {
    prop_oneof![
        "(private-|presence-|cache-|private-encrypted-)?[A-Za-z0-9_=@,.;-]{1,30}",
        "#server-to-user-.{0,10}",
        "[a-z]{160,170}",
        any::<String>(),
    ]
}

/// Whether Pusher's rules allow `name` (what a subscription to it would be told).
fn is_valid_channel(name: &str) -> bool {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_-=@,.;".contains(c);
    let length = name.chars().count();
    (1..=164).contains(&length)
        && match name.strip_prefix("#server-to-user-") {
            Some(user) => !user.is_empty(),
            None => name.chars().all(allowed),
        }
}

/// Bodies for `/events` and `/batch_events`: shaped like events (each field of any type
/// now and then), any JSON, and any bytes.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let field = || prop_oneof![3 => channel_name().prop_map(Value::String), 1 => json_value()];
    let event = (
        field(),
        field(),
        prop_oneof![
            prop::collection::vec(channel_name(), 0..4).prop_map(|names| json!(names)),
            json_value(),
        ],
        prop::option::of(field()),
        prop::option::of(field()),
    )
        .prop_map(|(name, data, channels, socket_id, info)| {
            let mut event = json!({"name": name, "data": data, "channels": channels});
            if let Some(socket_id) = socket_id {
                event["socket_id"] = socket_id;
            }
            if let Some(info) = info {
                event["info"] = info;
            }
            event
        })
        .boxed();
    prop_oneof![
        3 => event.clone().prop_map(|event| event.to_string().into_bytes()),
        1 => prop::collection::vec(event, 0..4)
            .prop_map(|batch| json!({"batch": batch}).to_string().into_bytes()),
        1 => json_value().prop_map(|value| value.to_string().into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..600),
    ]
}

/// Runs `property` on `strategy` against one server, on a runtime of the test's own; fails
/// if the engine panicked during any case.
fn run_against_server<S>(
    strategy: S,
    property: impl Fn(Api, S::Value) -> Pin<Box<dyn Future<Output = ()>>>,
) where
    S: Strategy,
    S::Value: std::fmt::Debug,
{
    let runtime = client_runtime();
    let server = start_one(json!({}));
    let api = Api::new(server.local_addr());
    run_cases(&runtime, strategy, CASES, |value| {
        property(api.clone(), value)
    });
}

#[test]
fn signed_reads_with_any_extra_parameters_are_never_refused_as_unsigned() {
    run_against_server(extra_params(), |api, params| {
        Box::pin(async move {
            let uri = signed("GET", &api.path("/channels"), &params, b"");
            let resp = api.send("GET", &uri, Vec::new()).await;
            assert!(
                [200, 400].contains(&resp.status),
                "{params:?}: {} {}",
                resp.status,
                resp.body
            );
        })
    });
}

#[test]
fn any_channel_name_in_the_path_is_answered_by_the_subscription_rules() {
    run_against_server(channel_name(), |api, name| {
        Box::pin(async move {
            let encoded = utf8_percent_encode(&name, NON_ALPHANUMERIC).to_string();
            for route in [
                format!("/channels/{encoded}"),
                format!("/channels/{encoded}/users"),
            ] {
                let uri = signed("GET", &api.path(&route), &[], b"");
                let resp = api.send("GET", &uri, Vec::new()).await;
                let expected: &[u16] = match (is_valid_channel(&name), route.ends_with("/users")) {
                    (false, _) => &[400],
                    (true, false) => &[200],
                    // Not a presence channel (400), or one nobody is in (404).
                    (true, true) => &[400, 404],
                };
                assert!(
                    expected.contains(&resp.status),
                    "{name:?} at {route}: {} {}",
                    resp.status,
                    resp.body
                );
            }
        })
    });
}

#[test]
fn signed_bodies_of_any_shape_are_judged_and_a_changed_body_gets_401() {
    let strategy = (body(), prop::bool::ANY, body());
    run_against_server(strategy, |api, (body, batch, other)| {
        Box::pin(async move {
            let path = api.path(if batch { "/batch_events" } else { "/events" });
            let uri = signed("POST", &path, &[], &body);
            let resp = api.send("POST", &uri, body.clone()).await;
            assert!(
                [200, 400, 413, 422].contains(&resp.status),
                "{}: {} {}",
                String::from_utf8_lossy(&body),
                resp.status,
                resp.body
            );
            // Within max_request_size, so that the signature is what refuses it.
            if other != body && other.len() <= 10_000 {
                let resp = api.send("POST", &uri, other).await;
                assert_eq!(resp.status, 401, "{}", resp.body);
            }
        })
    });
}
