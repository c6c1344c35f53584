#!/usr/bin/env bash
# What many apps cost reverb-rs, and what apps looked up on demand cost: bench/servers/apps.php
# with APPS apps (10,000 by default), app N being app-N / key-N / secret-N, the server pinned
# to core 1 and the load generator to core 0, loopback only, RUNS rounds (3 by default).
#
# Each round starts three servers in turn and runs the same churn (connect, subscribe, close,
# 100 at a time) against each: a first pass of APPS cycles, each cycle with the next key
# (`churn --keys`), so every key is named once, then CACHED_PASSES (5) passes over the same
# keys again.
# - preload, 1 app: the baseline for the start time and the RSS; every cycle uses its key;
# - preload, APPS apps: every app in `apps.apps` at construction: the time from `new Server`
#   to `start()` returning, the RSS growth, and the churn with no lookup;
# - lookup: `apps.lookup` on and no app at start, each lookup answered from an SQLite table of
#   the APPS apps. Every cycle of the first pass waits for PHP's answer; afterwards the app
#   is in the server's map.
# The last two swap places every other round.
#
# Prints one JSON line per measurement (also kept in bench/results/apps-<date>.jsonl) and, at
# the end, Markdown tables of the medians for docs/benchmarks.md.
#
#   bench/apps.sh                                    # 3 rounds: 3 to 12 minutes
#   RUNS=1 APPS=1000 CACHED_PASSES=1 bench/apps.sh   # a quick check that it works
#
# A pass stops after CHURN_SECONDS (120), which slow lookups can reach.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-3}
apps=${APPS:-10000}
cached_passes=${CACHED_PASSES:-5}
churn_seconds=${CHURN_SECONDS:-120}
target=$(realpath -m "${CARGO_TARGET_DIR:-target}")

cargo build --release --locked --quiet -p reverb-rs -p reverb-bench
ulimit -n "$(ulimit -Hn)"
mkdir -p bench/results
results="bench/results/apps-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
# The run's conditions, for the write-up: this machine is shared, so its load matters.
python3 -c 'import json, sys; print(json.dumps({"meta": dict(zip(
    ["date", "commit", "apps", "cached_passes", "load_average"], sys.argv[1:]))}))' \
    "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(git describe --always --dirty)" "$apps" \
    "$cached_passes" "$(cut -d' ' -f1-3 /proc/loadavg)" >"$results"

bench=(taskset -c 0 "$target/release/reverb-bench")
spread=(--processes 4 --sources 127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5)
extension="$target/release/libreverb_rs.so"
port=6401
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

# Stops the script with a message and what the server printed.
fail() {
    echo "$1" >&2
    cat "$work/server.log" >&2
    exit 1
}

# Appends one measurement to the results and prints its start; stops at anything but JSON
# (a server that died prints its error instead).
record() {
    python3 -c 'import json, sys; json.loads(sys.argv[1])' "$4" 2>/dev/null \
        || fail "$1 server, $2 apps, $3: not a result: $4"
    echo "{\"round\":$round,\"mode\":\"$1\",\"apps\":$2,\"name\":\"$3\",\"result\":$4}" \
        | tee -a "$results" | cut -c1-300
}

# Starts apps.php pinned to core 1 in mode $1 with $2 apps, records its start; sets server_pid.
start_server() {
    MODE=$1 APPS=$2 BENCH_PORT=$port taskset -c 1 php -d "extension=$extension" \
        bench/servers/apps.php >"$work/server.log" 2>&1 &
    server_pid=$!
    # Building 10,000 apps (or their SQLite table) takes a while: up to 60 s.
    for _ in $(seq 600); do
        if grep -q '^listening' "$work/server.log"; then
            record "$1" "$2" start "$(head -1 "$work/server.log")"
            return 0
        fi
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    fail "apps.php did not start:"
}

# Stops the server and records what it says on exit (lookups answered, events dropped).
stop_server() {
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    record "$1" "$2" exit "$(tail -1 "$work/server.log")"
    sleep 1
}

# Runs $1 churn cycles over $2 apps' keys in turn; prints the result line.
churn() {
    "${bench[@]}" churn --port "$port" --pid "$server_pid" --key key- --keys "$2" \
        "${spread[@]}" --cycles "$1" --concurrency 100 --max-seconds "$churn_seconds"
}

# Starts a server in mode $1 with $2 apps, runs the first pass and the passes again, stops it.
measure() {
    local line
    start_server "$1" "$2"
    line=$(churn "$apps" "$2") || fail "churn failed against the $1 server with $2 apps:"
    record "$1" "$2" first "$line"
    line=$(churn $((apps * cached_passes)) "$2") || fail "churn failed against the $1 server with $2 apps:"
    record "$1" "$2" cached "$line"
    stop_server "$1" "$2"
}

for round in $(seq "$runs"); do
    measure preload 1
    if [ $((round % 2)) = 1 ]; then
        measure preload "$apps"
        measure lookup "$apps"
    else
        measure lookup "$apps"
        measure preload "$apps"
    fi
done

python3 - "$results" <<'EOF'
import json, statistics, sys

lines = [json.loads(line) for line in open(sys.argv[1])]
meta = lines[0]["meta"]
apps, passes = int(meta["apps"]), int(meta["cached_passes"])
runs = [line for line in lines if "meta" not in line]
rounds = len({r["round"] for r in runs})
n = f"{apps:,}"

def median(mode, count, name, value):
    values = [value(r["result"]) for r in runs
              if r["mode"] == mode and r["apps"] == count and r["name"] == name]
    return statistics.median(values) if values else float("nan")

growth = lambda r: r["rss_after"] - r["rss_before"]
start = lambda count: median("preload", count, "start", lambda r: r["start_seconds"]) * 1e3
rss = lambda count: median("preload", count, "start", growth)
print(f"| preload (median of {rounds}) | 1 app | {n} apps |")
print("|---|---:|---:|")
print(f"| `new Server` to `start()` returning | {start(1):.1f} ms | {start(apps):.1f} ms |")
print(f"| RSS growth over the process before | {rss(1) / 2**20:.1f} MiB | {rss(apps) / 2**20:.1f} MiB |")
per_app = (rss(apps) - rss(1)) / (apps - 1) / 1024
print(f"| RSS per app (over the 1-app server) | | {per_app:.2f} KiB |")

columns = [("lookup", apps), ("preload", apps), ("preload", 1)]

def row(label, name, value, fmt="{:,.0f}"):
    cells = [fmt.format(median(mode, count, name, value)) for mode, count in columns]
    print(f"| {label} | " + " | ".join(cells) + " |")

field = lambda key: lambda r: r[key]
print()
print(f"| churn, 100 at a time (median of {rounds}) | lookup: {n} apps asked of PHP (SQLite) "
      f"| preload: {n} apps | preload: 1 app |")
print("|---|---:|---:|---:|")
row(f"first pass ({n} cycles, each key once): cycles per second", "first", field("cycles_per_second"))
row("first pass: cycles done in the time allowed", "first", field("cycles"))
row("first pass: cycles that failed", "first", field("failed"))
row(f"the same keys again ({apps * passes:,} cycles): cycles per second", "cached",
    field("cycles_per_second"))
row("again: cycles that failed", "cached", field("failed"))
row("lookups PHP answered", "exit", field("lookups"))
row("answers the server refused (came too late)", "exit", field("refused"))
row("engine events dropped (queue full)", "exit", field("dropped_events"))
row("server RSS at the end (MiB)", "cached", lambda r: r["rss_end"] / 2**20, "{:.1f}")
EOF
echo "Results: $results"
