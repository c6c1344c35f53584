#!/usr/bin/env bash
# Runs reverb-rs and sockudo side by side, alternately, with the same scenarios: each server
# pinned to core 1, the load generator on core 0, loopback only, RUNS rounds (3 by default).
# Raw results go to bench/results/<date>.jsonl, one JSON line per scenario run, each tagged
# with the server and the round; a summary of medians is printed at the end.
#
#   bench/compare.sh                         # all scenarios, 3 rounds
#   RUNS=1 SCENARIOS="fanout publish" bench/compare.sh
#
# sockudo 5.2.0 is installed with cargo when missing (about 13 minutes, needs protobuf-compiler).
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-3}
scenarios=${SCENARIOS:-"idle fanout fanout-saturated publish churn"}
mkdir -p bench/results
results="bench/results/$(date -u +%Y%m%dT%H%M%SZ).jsonl"

if ! command -v sockudo >/dev/null 2>&1; then
    echo "Installing sockudo 5.2.0 (cargo install; about 13 minutes)" >&2
    command -v protoc >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq protobuf-compiler >/dev/null
    cargo install sockudo --version 5.2.0 --locked --no-default-features --features local --quiet
fi
cargo build --release --locked --quiet
cargo build --release --locked --quiet -p reverb-bench
ulimit -n "$(ulimit -Hn)"

# The load generator, pinned to core 0.
bench=(taskset -c 0 target/release/reverb-bench)
extension="$PWD/target/release/libreverb_rs.so"
port=6101
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

# Starts a server pinned to core 1; sets server_pid and the credentials to use.
start_server() {
    case $1 in
        reverb-rs)
            BENCH_PORT=$port taskset -c 1 php -d "extension=$extension" bench/servers/reverb-rs.php >"$work/server.log" 2>&1 &
            app_id=bench-app key=bench-key secret=bench-secret ;;
        sockudo)
            sed "s/\"port\": 6001/\"port\": $port/" bench/servers/sockudo.json >"$work/sockudo.json"
            env -i PATH="$PATH" HOME="$HOME" taskset -c 1 sockudo --config "$work/sockudo.json" >"$work/server.log" 2>&1 &
            app_id=app-id key=app-key secret=app-secret ;;
    esac
    server_pid=$!
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "$1 did not start:" >&2
    cat "$work/server.log" >&2
    exit 1
}

stop_server() {
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    sleep 1
}

run_scenario() {
    local common=(--port "$port" --pid "$server_pid")
    case $1 in
        idle) "${bench[@]}" idle "${common[@]}" --key "$key" --connections 10000 ;;
        fanout) "${bench[@]}" fanout "${common[@]}" --app-id "$app_id" --key "$key" --secret "$secret" \
            --subscribers 1000 --rate 100 --duration 10 ;;
        fanout-saturated) "${bench[@]}" fanout "${common[@]}" --app-id "$app_id" --key "$key" --secret "$secret" \
            --subscribers 5000 --rate 100 --duration 10 ;;
        publish) "${bench[@]}" publish "${common[@]}" --app-id "$app_id" --key "$key" --secret "$secret" \
            --connections 8 --duration 10 ;;
        churn) "${bench[@]}" churn "${common[@]}" --key "$key" --cycles 100000 --concurrency 100 --max-seconds 120 ;;
    esac
}

for round in $(seq "$runs"); do
    for scenario in $scenarios; do
        for server in reverb-rs sockudo; do
            start_server "$server"
            line=$(run_scenario "$scenario")
            echo "{\"server\":\"$server\",\"round\":$round,\"name\":\"$scenario\",\"result\":$line}" | tee -a "$results"
            stop_server
        done
    done
done

echo "Results: $results"
python3 bench/summarize.py "$results"
