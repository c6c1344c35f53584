//! Every server started in this process, so request and module shutdown can stop the ones
//! PHP code left running.

use parking_lot::Mutex;
use reverb_engine::Server;
use std::sync::{Arc, Weak};
use std::time::Duration;

static STARTED: Mutex<Vec<Weak<Server>>> = Mutex::new(Vec::new());

/// Remembers a started server.
pub fn register(server: &Arc<Server>) {
    let mut started = STARTED.lock();
    started.retain(|weak| weak.strong_count() > 0);
    started.push(Arc::downgrade(server));
}

/// Stops every server still running, each with `grace` to close its sockets.
pub fn stop_all(grace: Duration) {
    let servers: Vec<Arc<Server>> = STARTED
        .lock()
        .drain(..)
        .filter_map(|w| w.upgrade())
        .collect();
    for server in servers {
        server.stop(grace);
    }
}
