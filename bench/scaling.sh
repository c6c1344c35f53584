#!/usr/bin/env bash
# Delivery across nodes of a cluster: two reverb-rs servers sharing one redis-server, the
# servers and Redis pinned to core 1, the load generator on core 0, loopback only.
# Subscribers hold sockets on node B; the same fan-out runs twice, publishing through
# node B's HTTP API (same node) and through node A's (across nodes, through Redis). The
# difference is what crossing Redis costs; the highest rate still delivered in full is the
# cross-node throughput. One JSON line per run goes to bench/results/scaling-<date>.jsonl.
#
#   bench/scaling.sh
#   SUBSCRIBERS=100 RATES=1000,5000,10000 bench/scaling.sh
set -euo pipefail
cd "$(dirname "$0")/.."

subscribers=${SUBSCRIBERS:-100}
rates=${RATES:-100,1000,2000,4000,8000}
seconds=${SECONDS_PER_RATE:-5}

cargo build --release --locked --quiet
cargo build --release --locked --quiet -p reverb-bench
command -v redis-server >/dev/null || { echo "redis-server is needed (apt-get install redis-server)" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)"
mkdir -p bench/results
results="bench/results/scaling-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
extension="$PWD/target/release/libreverb_rs.so"
redis_port=6390 port_a=6111 port_b=6112
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

wait_for_port() {
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing listens on port $1:" >&2
    cat "$work"/*.log >&2
    exit 1
}

taskset -c 1 redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$work/redis.log" 2>&1 &
wait_for_port "$redis_port"
for node in a b; do
    port_var="port_$node"
    BENCH_PORT=${!port_var} BENCH_REDIS_PORT=$redis_port taskset -c 1 \
        php -d "extension=$extension" bench/servers/reverb-rs.php >"$work/node-$node.log" 2>&1 &
    eval "pid_$node=$!"
    wait_for_port "${!port_var}"
done
# Both nodes must be on Redis before anything is published.
for port in "$port_a" "$port_b"; do
    for _ in $(seq 100); do
        curl -s "http://127.0.0.1:$port/up" | grep -q '"redis":"connected"' && break
        sleep 0.1
    done
done

for publish_to in same-node cross-node; do
    publish_port=$port_b
    [ "$publish_to" = cross-node ] && publish_port=$port_a
    line=$(taskset -c 0 target/release/reverb-bench fanout --port "$port_b" --pid "$pid_b" \
        --key bench-key --app-id bench-app --secret bench-secret --publish-port "$publish_port" \
        --subscribers "$subscribers" --rates "$rates" --duration "$seconds")
    echo "{\"name\":\"scaling\",\"publish_to\":\"$publish_to\",\"result\":$line}" | tee -a "$results"
done

python3 - "$results" <<'PY'
import json, sys
print(f"\n| publishing through | publishes/s asked | achieved | delivered | p50 | p99 | max |")
print("|---|---|---|---|---|---|---|")
for line in open(sys.argv[1]):
    run = json.loads(line)
    for step in run["result"]["steps"]:
        latency = step["latency_ms"]
        print(f"| {run['publish_to']} | {step['rate']:,} | {step['achieved_rate']:,.0f} | {step['delivery_ratio'] * 100:.1f} % "
              f"| {latency['p50']} ms | {latency['p99']} ms | {latency['max']} ms |")
PY
