#!/usr/bin/env bash
# Delivery across nodes of a cluster: two reverb-rs servers sharing one redis-server, the
# servers and Redis pinned to core 1, the load generator on core 0, loopback only.
# Subscribers hold sockets on node B; the same fan-out runs twice, publishing through
# node B's HTTP API (same node) and through node A's (across nodes, through Redis). The
# difference is what crossing Redis costs; the highest rate still delivered in full is the
# cross-node throughput.
#
# All of it runs once per transport: over plain TCP to a Redis as Debian starts it, then over
# TLS to a Redis as managed services run it (TLS only, a certificate from an authority made
# here with openssl, an ACL user with a password and the default user off). Each step also
# records the CPU seconds Redis and both nodes used, which is where encryption costs.
# One JSON line per run goes to bench/results/scaling-<date>.jsonl.
#
#   bench/scaling.sh
#   SUBSCRIBERS=100 RATES=1000,5000,10000 bench/scaling.sh
set -euo pipefail
cd "$(dirname "$0")/.."

subscribers=${SUBSCRIBERS:-100}
rates=${RATES:-100,1000,2000,4000,8000}
seconds=${SECONDS_PER_RATE:-5}

command -v redis-server >/dev/null || { echo "redis-server is needed (apt-get install redis-server)" >&2; exit 1; }
command -v openssl >/dev/null || { echo "openssl is needed for the TLS Redis's certificate (apt-get install openssl)" >&2; exit 1; }
cargo build --release --locked --quiet
cargo build --release --locked --quiet -p reverb-bench
target=$(realpath "${CARGO_TARGET_DIR:-target}")/release
ulimit -n "$(ulimit -Hn)"
mkdir -p bench/results
results="bench/results/scaling-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
redis_port=6390 port_a=6111 port_b=6112
redis_user=bench redis_password=bench-redis-pass
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

# Runs openssl, showing what it says only when it fails.
openssl_quietly() {
    openssl "$@" 2>"$work/openssl.log" || { cat "$work/openssl.log" >&2; exit 1; }
}

# An authority, and a server certificate it signs for 127.0.0.1: the nodes check Redis's
# certificate against the authority, as they would a managed service's.
openssl_quietly req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj /CN=bench-redis-ca -keyout "$work/ca.key" -out "$work/ca.pem"
openssl_quietly req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=127.0.0.1 \
    -keyout "$work/redis.key" -out "$work/redis.csr"
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$work/redis.ext"
openssl_quietly x509 -req -in "$work/redis.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
    -days 1 -extfile "$work/redis.ext" -out "$work/redis.pem"

# Starts Redis and the two nodes for transport $1 (tcp or tls); sets pid_redis, pid_a, pid_b.
start_cluster() {
    local redis_args=(--bind 127.0.0.1 --save '' --appendonly no) node_env
    if [ "$1" = tls ]; then
        redis_args+=(--port 0 --tls-port "$redis_port" --tls-cert-file "$work/redis.pem"
            --tls-key-file "$work/redis.key" --tls-ca-cert-file "$work/ca.pem" --tls-auth-clients no
            --user default off --user "$redis_user" on ">$redis_password" '~*' '&*' '+@all')
        node_env=(BENCH_REDIS_URL="rediss://$redis_user:$redis_password@127.0.0.1:$redis_port/0"
            BENCH_REDIS_CAFILE="$work/ca.pem")
    else
        redis_args+=(--port "$redis_port")
        node_env=(BENCH_REDIS_PORT=$redis_port)
    fi
    taskset -c 1 redis-server "${redis_args[@]}" >"$work/redis-$1.log" 2>&1 &
    pid_redis=$!
    wait_for_port "$redis_port"
    for node in a b; do
        port_var="port_$node"
        env "${node_env[@]}" BENCH_PORT="${!port_var}" taskset -c 1 \
            php -d "extension=$target/libreverb_rs.so" bench/servers/reverb-rs.php >"$work/node-$node-$1.log" 2>&1 &
        eval "pid_$node=$!"
        wait_for_port "${!port_var}"
    done
    wait_for_redis "$port_a" "$1"
    wait_for_redis "$port_b" "$1"
}

# Waits until the node on port $1 is on Redis, over transport $2. Nothing may be published
# before: a node that cannot reach Redis still serves its own sockets, which would pass for a
# cross-node result.
wait_for_redis() {
    for _ in $(seq 100); do
        curl -s "http://127.0.0.1:$1/up" | grep -q '"redis":"connected"' && return 0
        sleep 0.1
    done
    echo "the node on port $1 did not reach Redis over $2:" >&2
    cat "$work"/*-"$2".log >&2
    exit 1
}

# Stops the three and waits for them, so the next transport finds its ports free.
stop_cluster() {
    kill -TERM "$pid_a" "$pid_b" "$pid_redis"
    wait "$pid_a" "$pid_b" "$pid_redis" || true
}

for transport in tcp tls; do
    start_cluster "$transport"
    for publish_to in same-node cross-node; do
        publish_port=$port_b
        [ "$publish_to" = cross-node ] && publish_port=$port_a
        line=$(taskset -c 0 "$target/reverb-bench" fanout --port "$port_b" --pid "$pid_b" \
            --key bench-key --app-id bench-app --secret bench-secret --publish-port "$publish_port" \
            --subscribers "$subscribers" --rates "$rates" --duration "$seconds" \
            --cpu-of "redis=$pid_redis" --cpu-of "node_a=$pid_a")
        echo "{\"name\":\"scaling\",\"transport\":\"$transport\",\"publish_to\":\"$publish_to\",\"result\":$line}" | tee -a "$results"
    done
    stop_cluster
done

# One table: same node first, the rows of one rate next to each other, TCP then TLS.
python3 - "$results" <<'PY'
import json, sys
rows = []
for line in open(sys.argv[1]):
    run = json.loads(line)
    for step in run["result"]["steps"]:
        rows.append((run["publish_to"], step["rate"], run["transport"], step))
print("\n| publishing through | transport | publishes/s asked | achieved | delivered | p50 | p99 | max "
      "| CPU s Redis / node A / node B |")
print("|---|---|---|---|---|---|---|---|---|")
for publish_to, rate, transport, step in sorted(rows, key=lambda row: (row[0] != "same-node", *row[1:3])):
    latency, cpu = step["latency_ms"], step["cpu_seconds_of"]
    print(f"| {publish_to} | {transport} | {rate:,} | {step['achieved_rate']:,.0f} | {step['delivery_ratio'] * 100:.1f} % "
          f"| {latency['p50']} ms | {latency['p99']} ms | {latency['max']} ms "
          f"| {cpu['redis']:.2f} / {cpu['node_a']:.2f} / {step['server_cpu_seconds']:.2f} |")
PY
