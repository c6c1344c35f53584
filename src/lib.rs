//! The `reverb_rs` PHP extension: thin bindings from PHP to the `reverb-engine` crate.
//!
//! - [`server`]: the `ReverbRs\Server` class.
//! - [`client`]: the `ReverbRs\Client` class, a Pusher HTTP API client.
//! - [`exceptions`]: `ReverbRs\ConfigException`, `ReverbRs\ServerException`,
//!   `ReverbRs\ApiException`.
//! - [`convert`]: PHP values to JSON values and back.
//! - [`registry`]: servers started in this process, stopped at request and module shutdown.
//!
//! No PHP value ever reaches an engine thread; the engine runs on its own threads and talks
//! back through an event queue the PHP thread drains.

mod client;
mod convert;
mod exceptions;
mod registry;
mod server;

use ext_php_rs::prelude::*;
use ext_php_rs::zend::ModuleEntry;
use ext_php_rs::{info_table_end, info_table_row, info_table_start};
use std::panic::catch_unwind;
use std::time::Duration;

/// How long sockets get to close when PHP shuts down with a server still running.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// RSHUTDOWN: stop servers the script left running, so the request ends cleanly.
unsafe extern "C" fn request_shutdown(_type: i32, _module_number: i32) -> i32 {
    let _ = catch_unwind(|| registry::stop_all(SHUTDOWN_GRACE));
    0
}

/// MSHUTDOWN: the last chance to stop servers before the extension is unloaded.
unsafe extern "C" fn module_shutdown(_type: i32, _module_number: i32) -> i32 {
    let _ = catch_unwind(|| registry::stop_all(SHUTDOWN_GRACE));
    0
}

/// The `php --ri reverb_rs` table.
unsafe extern "C" fn module_info(_module: *mut ModuleEntry) {
    let _ = catch_unwind(|| {
        info_table_start!();
        info_table_row!("reverb_rs support", "enabled");
        info_table_row!("version", env!("CARGO_PKG_VERSION"));
        info_table_row!("engine", "reverb-engine (tokio, tokio-tungstenite, hyper)");
        info_table_row!("protocol", "Pusher Channels protocol 7");
        info_table_row!(
            "build",
            if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            }
        );
        info_table_end!();
    });
}

#[php_module]
pub fn get_module(module: ModuleBuilder) -> ModuleBuilder {
    module
        .name("reverb_rs")
        .class::<exceptions::ConfigException>()
        .class::<exceptions::ServerException>()
        .class::<exceptions::ApiException>()
        .class::<client::Client>()
        .class::<server::Server>()
        .request_shutdown_function(request_shutdown)
        .shutdown_function(module_shutdown)
        .info_function(module_info)
}
