#!/usr/bin/env bash
# What webhooks cost reverb-rs: the same server with webhooks off and on (every kind sent to
# a sink that answers 200 at once), alternately, RUNS rounds (3 by default), the server
# pinned to core 1 and the load generator and the sink to core 0, loopback only.
#
# - fanout: 1,000 subscribers of one channel, signed HTTP publishes at FANOUT_RATES: server
#   CPU per delivery (webhooks must cost the delivery path nothing).
# - churn: connect, subscribe to a channel of its own, close: every cycle is a
#   channel_occupied, a channel_vacated and two subscription_count webhooks; cycles per
#   second and the server's RSS drift.
#
# Prints one JSON line per run (also kept in bench/results/webhooks-<date>.jsonl) and, at
# the end, a Markdown table of the medians for docs/benchmarks.md.
#
#   bench/webhooks.sh                     # 3 rounds: about 12 minutes
#   RUNS=1 CHURN_SECONDS=30 bench/webhooks.sh
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-3}
fanout_rates=${FANOUT_RATES:-100,400}
fanout_seconds=${FANOUT_SECONDS:-8}
churn_cycles=${CHURN_CYCLES:-500000}
churn_seconds=${CHURN_SECONDS:-60}

cargo build --release --locked --quiet
cargo build --release --locked --quiet -p reverb-bench
ulimit -n "$(ulimit -Hn)"
mkdir -p bench/results
results="bench/results/webhooks-$(date -u +%Y%m%dT%H%M%SZ).jsonl"

bench=(taskset -c 0 target/release/reverb-bench)
spread=(--processes 4 --sources 127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5)
extension="$PWD/target/release/libreverb_rs.so"
port=6201
sink_port=6202
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

"${bench[@]}" webhook-sink --port "$sink_port" >"$work/sink.log" 2>&1 &
sink_pid=$!
for _ in $(seq 50); do
    grep -q listening "$work/sink.log" && break
    sleep 0.1
done

# Events the sink has counted so far.
sink_events() {
    curl -s "http://127.0.0.1:$sink_port/count" | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])'
}

# Starts reverb-rs pinned to core 1, with webhooks when $1 is "on"; sets server_pid.
start_server() {
    local env=(BENCH_PORT=$port)
    if [ "$1" = on ]; then env+=(BENCH_WEBHOOK_URL="http://127.0.0.1:$sink_port/webhooks"); fi
    env "${env[@]}" taskset -c 1 php -d "extension=$extension" bench/servers/reverb-rs.php >"$work/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "reverb-rs did not start:" >&2
    cat "$work/server.log" >&2
    exit 1
}

stop_server() {
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    sleep 1
}

common() { echo --port "$port" --pid "$server_pid" --key bench-key; }

for round in $(seq "$runs"); do
    for scenario in fanout churn; do
        for webhooks in off on; do
            start_server "$webhooks"
            before=$(sink_events)
            case $scenario in
                fanout) line=$("${bench[@]}" fanout $(common) --app-id bench-app --secret bench-secret \
                    "${spread[@]}" --subscribers 1000 --rates "$fanout_rates" --duration "$fanout_seconds") ;;
                churn) line=$("${bench[@]}" churn $(common) "${spread[@]}" --unique-channels \
                    --cycles "$churn_cycles" --concurrency 100 --max-seconds "$churn_seconds") ;;
            esac
            # Departures are reported after the 3 s delay: give them time to arrive.
            sleep 4
            events=$(( $(sink_events) - before ))
            echo "{\"webhooks\":\"$webhooks\",\"round\":$round,\"name\":\"$scenario\",\"sink_events\":$events,\"result\":$line}" \
                | tee -a "$results" | cut -c1-300
            stop_server
        done
    done
done
kill "$sink_pid" 2>/dev/null || true

python3 - "$results" <<'EOF'
import json, statistics, sys

runs = [json.loads(line) for line in open(sys.argv[1])]

def median(name, webhooks, value):
    values = [value(r) for r in runs if r["name"] == name and r["webhooks"] == webhooks]
    return statistics.median(values) if values else float("nan")

rows = []
rates = [s["rate"] for s in next(r for r in runs if r["name"] == "fanout")["result"]["steps"]]
for i, rate in enumerate(rates):
    cpu = lambda w: median("fanout", w, lambda r: r["result"]["steps"][i]["server_cpu_us_per_delivery"])
    rows.append((f"fan-out to 1,000 at {rate} publishes/s: server CPU per delivery (µs)",
                 f"{cpu('off'):.3f}", f"{cpu('on'):.3f}", f"{(cpu('on') / cpu('off') - 1) * 100:+.1f} %"))
cps = lambda w: median("churn", w, lambda r: r["result"]["cycles_per_second"])
rows.append(("churn, a channel of its own per cycle: cycles per second",
             f"{cps('off'):,.0f}", f"{cps('on'):,.0f}", f"{(cps('on') / cps('off') - 1) * 100:+.1f} %"))
drift = lambda w: median("churn", w, lambda r: r["result"]["drift_percent"])
rows.append(("churn: RSS drift after the first 100,000 cycles",
             f"{drift('off'):+.2f} %", f"{drift('on'):+.2f} %", ""))
rss = lambda w: median("churn", w, lambda r: r["result"]["rss_end"] / 2**20)
rows.append(("churn: RSS at the end (MiB)", f"{rss('off'):.1f}", f"{rss('on'):.1f}", ""))
per_cycle = median("churn", "on", lambda r: r["sink_events"] / max(r["result"]["cycles"], 1))
rows.append(("churn: webhook events received per cycle", "0", f"{per_cycle:.2f}", ""))
print("| | webhooks off | webhooks on | change |")
print("|---|---:|---:|---:|")
for row in rows:
    print("| " + " | ".join(row) + " |")
EOF
echo "Results: $results"
