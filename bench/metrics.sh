#!/usr/bin/env bash
# What Prometheus metrics cost reverb-rs: the fan-out (1,000 subscribers of one channel,
# signed HTTP publishes at FANOUT_RATES) with the metrics off, and on and scraped every second,
# alternately (the order swapped every other round), RUNS rounds (3 by default), the server
# pinned to core 1 and the load generator and the scraper to core 0, loopback only. The
# figure is the server's CPU per delivery: the metrics should add at most 2 %.
#
# Prints one JSON line per run (also kept in bench/results/metrics-<date>.jsonl) and, at the
# end, a Markdown table of the medians for docs/benchmarks.md.
#
#   bench/metrics.sh                              # 3 rounds: about 3 minutes
#   RUNS=1 FANOUT_SECONDS=2 bench/metrics.sh      # a quick check that it works
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-3}
fanout_rates=${FANOUT_RATES:-100,400}
fanout_seconds=${FANOUT_SECONDS:-8}

cargo build --release --locked --quiet
cargo build --release --locked --quiet -p reverb-bench
ulimit -n "$(ulimit -Hn)"
mkdir -p bench/results
results="bench/results/metrics-$(date -u +%Y%m%dT%H%M%SZ).jsonl"

bench=(taskset -c 0 target/release/reverb-bench)
spread=(--processes 4 --sources 127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5)
extension="$PWD/target/release/libreverb_rs.so"
port=6301
metrics_port=6302
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

# Starts reverb-rs pinned to core 1, with metrics when $1 is "on"; sets server_pid.
start_server() {
    local env=(BENCH_PORT=$port)
    if [ "$1" = on ]; then env+=(BENCH_METRICS_PORT=$metrics_port); fi
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

# Scrapes the metrics once a second, as Prometheus would, until killed; counts each scrape
# that answered 200 with the fan-out's counter in it.
scrape_every_second() {
    : >"$work/scrapes"
    while true; do
        local body
        if body=$(taskset -c 0 curl -sf "http://127.0.0.1:$metrics_port/metrics") \
            && [[ $body == *$'\n'reverb_messages_sent_total* ]]; then
            echo ok >>"$work/scrapes"
        fi
        sleep 1
    done
}

for round in $(seq "$runs"); do
    order="off on"
    if [ $((round % 2)) -eq 0 ]; then order="on off"; fi
    for metrics in $order; do
        start_server "$metrics"
        scraper_pid=
        if [ "$metrics" = on ]; then
            scrape_every_second &
            scraper_pid=$!
        fi
        line=$("${bench[@]}" fanout --port "$port" --pid "$server_pid" --key bench-key --app-id bench-app \
            --secret bench-secret "${spread[@]}" --subscribers 1000 --rates "$fanout_rates" --duration "$fanout_seconds")
        scrapes=0
        if [ -n "$scraper_pid" ]; then
            kill "$scraper_pid" 2>/dev/null || true
            wait "$scraper_pid" 2>/dev/null || true
            scrapes=$(wc -l <"$work/scrapes")
        fi
        echo "{\"metrics\":\"$metrics\",\"round\":$round,\"scrapes\":$scrapes,\"result\":$line}" \
            | tee -a "$results" | cut -c1-300
        stop_server
    done
done

python3 - "$results" <<'EOF'
import json, statistics, sys

runs = [json.loads(line) for line in open(sys.argv[1])]

def median(metrics, value):
    values = [value(r) for r in runs if r["metrics"] == metrics]
    return statistics.median(values) if values else float("nan")

rows = []
rates = [s["rate"] for s in runs[0]["result"]["steps"]]
for i, rate in enumerate(rates):
    cpu = lambda m: median(m, lambda r: r["result"]["steps"][i]["server_cpu_us_per_delivery"])
    rows.append((f"fan-out to 1,000 at {rate} publishes/s: server CPU per delivery (µs)",
                 f"{cpu('off'):.3f}", f"{cpu('on'):.3f}", f"{(cpu('on') / cpu('off') - 1) * 100:+.1f} %"))
    ratio = lambda m: median(m, lambda r: r["result"]["steps"][i]["delivery_ratio"])
    rows.append((f"fan-out at {rate} publishes/s: deliveries made", f"{ratio('off'):.4f}",
                 f"{ratio('on'):.4f}", ""))
scrapes = median("on", lambda r: r["scrapes"])
rows.append(("scrapes answered per run", "", f"{scrapes:.0f}", ""))
print("| | metrics off | metrics on, scraped every second | change |")
print("|---|---:|---:|---:|")
for row in rows:
    print("| " + " | ".join(row) + " |")
EOF
echo "Results: $results"
