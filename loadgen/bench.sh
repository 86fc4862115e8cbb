#!/usr/bin/env bash
# The server benchmark of the README, in one command: builds the release server and loadgen,
# then for each round and each connection count starts the server on a fresh data directory
# (SQLite store, 127.0.0.1, a free port), books for BENCH_DURATION after loadgen's 2 s warm-up,
# and stops it; then compares booking latency with 10,000 prior reservations against none on
# one more fresh server. Prints every run and a table of medians.
#
#   bash loadgen/bench.sh                      # 3 rounds of 16 and 64 connections, 15 s each
#   BENCH_ROUNDS=5 BENCH_CONNECTIONS="64" BENCH_DURATION=30s bash loadgen/bench.sh
#
# BENCH_OUT=FILE keeps loadgen's JSON summaries (one line per run). BENCH_PROFILE=dev runs debug
# builds (the test suite's smoke run of this script; their figures mean nothing). The machine
# running it is also running loadgen: the two share its cores, as the README's figures do.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

rounds="${BENCH_ROUNDS:-3}"
duration="${BENCH_DURATION:-15s}"
connections="${BENCH_CONNECTIONS:-16 64}"
prior="${BENCH_PRIOR:-10000}"

case "${BENCH_PROFILE:-release}" in
    release) cargo build --release --quiet -p reservation-server -p loadgen; bin="$CARGO_TARGET_DIR/release" ;;
    dev) cargo build --quiet -p reservation-server -p loadgen; bin="$CARGO_TARGET_DIR/debug" ;;
    *) echo "BENCH_PROFILE is release or dev" >&2; exit 2 ;;
esac

work="$(mktemp -d)"
results="${BENCH_OUT:-$work/results.jsonl}"
: >"$results"
source loadgen/servers.sh
trap 'stop_servers; rm -rf "$work"' EXIT

run=0
for round in $(seq "$rounds"); do
    for conns in $connections; do
        run=$((run + 1))
        start_server "$bin/reservation-server" "$run"
        echo "== round $round, $conns connections"
        "$bin/loadgen" --url "$url" --token "$token" --connections "$conns" \
            --duration "$duration" --server-pid "$server_pid" --json | tee "$work/loadgen.out"
        tail -n 1 "$work/loadgen.out" >>"$results"
        stop_servers
    done
done

if [ "$prior" -gt 0 ]; then
    run=$((run + 1))
    start_server "$bin/reservation-server" "$run"
    echo "== $prior prior reservations vs none, 16 connections"
    "$bin/loadgen" --url "$url" --token "$token" --skip-main --prior "$prior" \
        --compare-requests 3000 --connections 16 --json | tee "$work/loadgen.out"
    tail -n 1 "$work/loadgen.out" >>"$results"
    stop_servers
fi

python3 - "$results" <<'EOF'
import json, statistics, sys

runs = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
by_conns = {}
for r in runs:
    if "main" in r:
        by_conns.setdefault(r["main"]["connections"], []).append(r["main"])
med = lambda xs: statistics.median(xs) if xs else float("nan")
print("\n| connections | runs | confirmed/s | p50 | p99 | server RSS (peak) | server CPU / booking | loadgen CPU / booking |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|")
for conns, ms in sorted(by_conns.items()):
    cpu = [m["server_cpu_us_per_booking"] for m in ms if m.get("server_cpu_us_per_booking")]
    own = [m["loadgen_cpu_us_per_booking"] for m in ms if m.get("loadgen_cpu_us_per_booking")]
    print(f"| {conns} | {len(ms)} | {med([m['confirmed_per_s'] for m in ms]):,.0f} "
          f"| {med([m['latency']['p50_ms'] for m in ms]):.1f} ms "
          f"| {med([m['latency']['p99_ms'] for m in ms]):.1f} ms "
          f"| {med([m['server_vm_hwm_kib'] / 1024 for m in ms]):.1f} MiB "
          f"| {med(cpu):.0f} µs | {med(own):.0f} µs |")
for r in runs:
    p = r.get("prior_comparison")
    if p:
        print(f"\n{p['prior']} prior reservations vs none: p50 {p['ratio_p50']:.2f}x, "
              f"p90 {p['ratio_p90']:.2f}x, p99 {p['ratio_p99']:.2f}x, mean {p['ratio_mean']:.2f}x")
EOF
