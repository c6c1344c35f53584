#!/usr/bin/env bash
# Serves the demo page on :8000 and runs the demo server on :8080 until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

extension="$PWD/target/release/libreverb_rs.so"
php -S 127.0.0.1:8000 demo/router.php >/dev/null 2>&1 &
page_pid=$!
trap 'kill "$page_pid" 2>/dev/null || true' EXIT

echo "Open http://127.0.0.1:8000 to watch the clock ticks arrive over WebSocket."
php -d extension="$extension" demo/server.php
