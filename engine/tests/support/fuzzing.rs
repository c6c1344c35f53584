//! What the fuzzing tests share: arbitrary JSON, how many cases a property that drives a
//! running server runs, and a count of panics on the engine's threads, which the server
//! survives (tokio catches a task's panic) but which must never happen.

use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use serde_json::Value;
use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;

/// Panics seen on the engine's threads since [`watch_engine_panics`].
static ENGINE_PANICS: AtomicUsize = AtomicUsize::new(0);

/// Counts every later panic on a thread the engine started (`reverb-rs`,
/// `reverb-rs-worker`), then reports it as before.
pub fn watch_engine_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current();
            if thread
                .name()
                .is_some_and(|name| name.starts_with("reverb-rs"))
            {
                ENGINE_PANICS.fetch_add(1, Ordering::SeqCst);
            }
            previous(info);
        }));
    });
}

/// How many times the engine's threads panicked since [`watch_engine_panics`].
pub fn engine_panics() -> usize {
    ENGINE_PANICS.load(Ordering::SeqCst)
}

/// The proptest settings of a property whose cases each cost a socket or a request:
/// `PROPTEST_CASES` cases when that is set, `default` otherwise.
pub fn cases(default: u32) -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = default;
    }
    config
}

/// Runs `property` on values of `strategy`, [`cases`]`(default_cases)` of them, each on
/// `runtime`; fails with the shrunk value when the property fails or an engine thread
/// panicked during a case.
pub fn run_cases<S>(
    runtime: &tokio::runtime::Runtime,
    strategy: S,
    default_cases: u32,
    property: impl Fn(S::Value) -> Pin<Box<dyn Future<Output = ()>>>,
) where
    S: Strategy,
    S::Value: Debug,
{
    watch_engine_panics();
    let mut runner = TestRunner::new(cases(default_cases));
    let result = runner.run(&strategy, |value| {
        runtime.block_on(property(value));
        prop_assert_eq!(engine_panics(), 0, "the engine panicked");
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

/// A runtime of the test's own, on which the properties' clients run.
pub fn client_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// Arbitrary JSON values, nested a few levels deep, with the strings PHP's `.env` values
/// become (numbers, boolean words, URLs) among them.
pub fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        (-5i64..70_000).prop_map(Value::from),
        (-5i64..70_000).prop_map(|n| Value::String(n.to_string())),
        prop::sample::select(vec![
            "true",
            "false",
            "on",
            "",
            "redis://r:1/2",
            "unix:///r"
        ])
        .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec(("[a-z_]{1,10}", inner), 0..5)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}
