#!/usr/bin/env bash
# Serves the demo chat from the fixture Laravel app:
#   php artisan reverb:start      the reverb-rs WebSocket server (REVERB_PORT, 8080 by default)
#   php -S ... public/index.php   the app itself (HTTP_PORT, 8000 by default)
# Both run with the reverb_rs extension loaded; Ctrl-C stops both.
#
#   tests/laravel-app/serve.sh                       # http://127.0.0.1:8000
#   HTTP_PORT=9000 REVERB_PORT=9080 tests/laravel-app/serve.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
root=$(cd ../.. && pwd)
extension=${REVERB_RS_EXTENSION:-$root/target/release/libreverb_rs.so}
host=${HOST:-127.0.0.1}
http_port=${HTTP_PORT:-8000}
# The app publishes to REVERB_HOST:REVERB_PORT and the page connects to REVERB_PORT, so one
# exported value keeps the server, the app and the page on the same port.
export REVERB_PORT=${REVERB_PORT:-8080}

if [[ ! -f $extension ]]; then
    echo "serve.sh: $extension is missing: run 'cargo build --release' in $root" >&2
    exit 1
fi
if [[ ! -f $root/node_modules/laravel-echo/dist/echo.iife.js || ! -f $root/node_modules/pusher-js/dist/web/pusher.min.js ]]; then
    echo "serve.sh: laravel-echo or pusher-js is missing: run 'npm install' in $root" >&2
    exit 1
fi

php=(php -d "extension=$extension")
pids=()
stop() {
    trap - EXIT INT TERM
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"${php[@]}" artisan reverb:start --host="$host" --port="$REVERB_PORT" &
pids+=("$!")
"${php[@]}" -S "$host:$http_port" -t public public/index.php 2>/dev/null &
pids+=("$!")

# Wait (10 s at most) until both ports accept connections.
for port in "$REVERB_PORT" "$http_port"; do
    for _ in $(seq 100); do
        if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
            continue 2
        fi
        sleep 0.1
    done
    echo "serve.sh: nothing listens on $host:$port after 10 s" >&2
    exit 1
done

echo
echo "  Chat demo:  http://$host:$http_port/   (or http://$host:$http_port/?name=Alice)"
echo "  WebSocket:  ws://$host:$REVERB_PORT    (php artisan reverb:start)"
echo "  Post from another process: REVERB_PORT=$REVERB_PORT php -d extension=$extension $PWD/artisan app:post-message hello"
echo "  Ctrl-C stops both."
echo

# Run until either process ends (or Ctrl-C); the EXIT trap stops the other.
wait -n
