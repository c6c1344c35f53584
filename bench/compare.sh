#!/usr/bin/env bash
# Runs reverb-rs and sockudo side by side, alternately, with the same scenarios: each server
# pinned to core 1, the load generator on core 0, loopback only, RUNS rounds (3 by default).
# Each round also measures the kernel alone ("floor": a round trip across the two cores, one
# write per socket), the least any server can cost here.
# Raw results go to bench/results/<date>.jsonl, one JSON line per scenario run, each tagged
# with the server and the round. At the end the medians are printed, written into
# docs/benchmarks.md (between its "compare.sh results" markers) and drawn as PNG charts in
# docs/img/ (WRITE_DOCS=0 only prints them).
#
#   bench/compare.sh                           # every scenario, 3 rounds: about 35 minutes
#   RUNS=1 SCENARIOS="fanout publish" WRITE_DOCS=0 bench/compare.sh
#   bench/compare.sh --summarize bench/results/<date>.jsonl   # redo the tables and charts
#
# The sizes can be changed for short trial runs (defaults in brackets): IDLE_STEPS
# [1000,5000,10000,19000], FANOUT_RATES [50,100,200,400], SATURATION_RATES [10,20,30,40,60],
# FANOUT_SECONDS [8] (seconds per rate), CHURN_CYCLES [1000000], CHURN_SECONDS [150],
# PHP_CALLS [20000], FLOOD_STUCK [100] (subscribers that never read), FLOOD_SECONDS [20],
# FLOOD_REST [60] (seconds before the resting RSS is read). The flood scenario (not in the
# default set) runs with SCENARIOS=flood.
#
# sockudo 5.2.0 is installed with cargo when missing (about 13 minutes, needs protobuf-compiler).
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-3}
scenarios=${SCENARIOS:-"floor idle fanout fanout-saturated publish php-publish churn"}
idle_steps=${IDLE_STEPS:-1000,5000,10000,19000}
fanout_rates=${FANOUT_RATES:-50,100,200,400}
saturation_rates=${SATURATION_RATES:-10,20,30,40,60}
fanout_seconds=${FANOUT_SECONDS:-8}
churn_cycles=${CHURN_CYCLES:-1000000}
churn_seconds=${CHURN_SECONDS:-150}
php_calls=${PHP_CALLS:-20000}
flood_stuck=${FLOOD_STUCK:-100}
flood_seconds=${FLOOD_SECONDS:-20}
flood_rest=${FLOOD_REST:-60}
write_docs=${WRITE_DOCS:-1}

cargo build --release --locked --quiet
cargo build --release --locked --quiet -p reverb-bench

# Tables in docs/benchmarks.md and charts in docs/img/ from a results file.
summarize() {
    local charts
    charts=$(mktemp)
    if [ "$write_docs" = 1 ]; then
        python3 bench/summarize.py "$1" --write docs/benchmarks.md --charts "$charts"
        target/release/bench-charts "$charts" docs/img
    else
        python3 bench/summarize.py "$1"
    fi
    rm -f "$charts"
}

if [ "${1:-}" = --summarize ]; then
    summarize "$2"
    exit 0
fi

if ! command -v sockudo >/dev/null 2>&1; then
    echo "Installing sockudo 5.2.0 (cargo install; about 13 minutes)" >&2
    command -v protoc >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq protobuf-compiler >/dev/null
    cargo install sockudo --version 5.2.0 --locked --no-default-features --features local --quiet
fi
ulimit -n "$(ulimit -Hn)"
mkdir -p bench/results
results="bench/results/$(date -u +%Y%m%dT%H%M%SZ).jsonl"
started=$(date +%s)
# The machine and the versions, for the write-up.
python3 -c 'import json, sys; print(json.dumps({"meta": dict(zip(
    ["date", "cpu", "cores", "kernel", "php", "sockudo", "commit"], sys.argv[1:]))}))' \
    "$(date -u '+%Y-%m-%d %H:%M UTC')" \
    "$(lscpu | sed -n 's/^Model name: *//p' | head -1)" "$(nproc)" "$(uname -r)" \
    "$(php -r 'echo "PHP ", PHP_VERSION;')" "$(sockudo --version 2>/dev/null | head -1 || echo sockudo)" \
    "$(git describe --always --dirty)" >"$results"

# The load generator, pinned to core 0; its worker processes connect from these addresses.
bench=(taskset -c 0 target/release/reverb-bench)
spread=(--processes 4 --sources 127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5)
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

# Runs one scenario against the running server ($1 names it); prints one JSON line.
run_scenario() {
    local common=(--port "$port" --pid "$server_pid" --key "$key")
    local api=(--app-id "$app_id" --secret "$secret")
    case $2 in
        idle) "${bench[@]}" idle "${common[@]}" "${spread[@]}" --steps "$idle_steps" ;;
        fanout) "${bench[@]}" fanout "${common[@]}" "${api[@]}" "${spread[@]}" \
            --subscribers 1000 --rates "$fanout_rates" --duration "$fanout_seconds" ;;
        fanout-saturated) "${bench[@]}" fanout "${common[@]}" "${api[@]}" "${spread[@]}" \
            --subscribers 5000 --rates "$saturation_rates" --duration "$fanout_seconds" ;;
        publish) "${bench[@]}" publish "${common[@]}" "${api[@]}" --connections 8 --duration 10 ;;
        php-publish)
            local php=(taskset -c 0 php -d "extension=$extension" bench/php-publish.php --calls "$php_calls"
                --port "$port" --app-id "$app_id" --key "$key" --secret "$secret")
            # The in-process case exists only for reverb-rs.
            if [ "$1" = sockudo ]; then php+=(--no-in-process); fi
            "${php[@]}" ;;
        flood) "${bench[@]}" flood "${common[@]}" --stuck "$flood_stuck" --seconds "$flood_seconds" \
            --rest "$flood_rest" ;;
        churn) "${bench[@]}" churn "${common[@]}" "${spread[@]}" --cycles "$churn_cycles" \
            --concurrency 100 --max-seconds "$churn_seconds" ;;
        *) echo "unknown scenario $2" >&2; exit 1 ;;
    esac
}

for round in $(seq "$runs"); do
    for scenario in $scenarios; do
        if [ "$scenario" = floor ]; then
            line=$("${bench[@]}" floor --peer-cpu 1)
            echo "{\"server\":\"kernel\",\"round\":$round,\"name\":\"floor\",\"result\":$line}" | tee -a "$results"
            continue
        fi
        for server in reverb-rs sockudo; do
            start_server "$server"
            line=$(run_scenario "$server" "$scenario")
            echo "{\"server\":\"$server\",\"round\":$round,\"name\":\"$scenario\",\"result\":$line}" | tee -a "$results" | cut -c1-300
            stop_server
        done
    done
done

minutes=$(( ($(date +%s) - started + 30) / 60 ))
echo "{\"meta\":{\"minutes\":$minutes}}" >>"$results"
echo "Results: $results ($minutes minutes)"
summarize "$results"
