"""Prints the medians of a bench/compare.sh results file as a Markdown table per scenario."""

import json
import statistics
import sys
from collections import defaultdict

METRICS = {
    "idle": [("bytes_per_socket", "RSS per socket (bytes)"), ("connect_per_second", "connects/s")],
    "fanout": [("delivery_ratio", "delivered"), ("latency_ms.p99", "p99 ms"),
               ("deliveries_per_second", "deliveries/s"), ("server_cpu_us_per_delivery", "server CPU µs/delivery")],
    "fanout-saturated": [("delivery_ratio", "delivered"), ("latency_ms.p99", "p99 ms"),
                         ("deliveries_per_second", "deliveries/s"),
                         ("server_cpu_us_per_delivery", "server CPU µs/delivery")],
    "publish": [("requests_per_second", "req/s"), ("requests_per_server_cpu_second", "req per server CPU-s"),
                ("reconnects", "reconnects")],
    "churn": [("cycles_per_second", "cycles/s"), ("drift_after_first_tenth_percent", "RSS drift %")],
}


def value(result, path):
    for part in path.split("."):
        result = result[part]
    return result


def main(path):
    runs = defaultdict(list)
    with open(path) as lines:
        for line in lines:
            record = json.loads(line)
            runs[(record["name"], record["server"])].append(record["result"])
    for scenario, metrics in METRICS.items():
        servers = [server for (name, server) in runs if name == scenario]
        if not servers:
            continue
        print(f"\n### {scenario} (median of {len(runs[(scenario, servers[0])])})\n")
        print("| server | " + " | ".join(label for _, label in metrics) + " |")
        print("|---|" + "---|" * len(metrics))
        for server in sorted(set(servers)):
            cells = [statistics.median(value(r, key) for r in runs[(scenario, server)]) for key, _ in metrics]
            print(f"| {server} | " + " | ".join(f"{c:.4g}" for c in cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1])
