#!/usr/bin/env bash
# Compares two server builds on a noisy machine. Each round starts both on fresh data
# directories and drives them at the same time, each with its own loadgen, so that both share
# the machine's state of the moment; it prints each round and the medians of the ratios B/A.
# Run one after the other, a build's bookings/s varies by 10-20 % between runs here; run side by
# side, two copies of one build agree within about 2 % (host-server/PERFORMANCE.md, section 11).
# Each server gets about half the machine, so its absolute figures are not the README's.
# Each also books about half as much as alone, so after COMPARE_DURATION its databases are
# about half the size a single run leaves: for a change whose cost depends on the log's size,
# give it a COMPARE_DURATION about twice the run it stands for (PERFORMANCE.md, section 15).
#
#   bash loadgen/compare.sh OLD_SERVER_BINARY NEW_SERVER_BINARY
#   COMPARE_ROUNDS=5 COMPARE_CONNECTIONS=32 COMPARE_DURATION=15s bash loadgen/compare.sh A B
#
# Copy a build's target/release/reservation-server aside before building the other one.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

if [ $# -ne 2 ] || [ ! -x "$1" ] || [ ! -x "$2" ]; then
    echo "usage: bash loadgen/compare.sh OLD_SERVER_BINARY NEW_SERVER_BINARY" >&2
    exit 2
fi
a="$(realpath "$1")"
b="$(realpath "$2")"
rounds="${COMPARE_ROUNDS:-3}"
connections="${COMPARE_CONNECTIONS:-32}"
duration="${COMPARE_DURATION:-15s}"

# COMPARE_PROFILE=dev builds loadgen without optimisation: the test suite's smoke run only.
case "${COMPARE_PROFILE:-release}" in
    release) cargo build --release --quiet -p loadgen; loadgen="$CARGO_TARGET_DIR/release/loadgen" ;;
    dev) cargo build --quiet -p loadgen; loadgen="$CARGO_TARGET_DIR/debug/loadgen" ;;
    *) echo "COMPARE_PROFILE is release or dev" >&2; exit 2 ;;
esac

work="$(mktemp -d)"
source loadgen/servers.sh
trap 'stop_servers; rm -rf "$work"' EXIT

for round in $(seq "$rounds"); do
    start_server "$a" "a$round"
    pid_a=$server_pid url_a=$url token_a=$token
    start_server "$b" "b$round"
    pid_b=$server_pid url_b=$url token_b=$token
    "$loadgen" --url "$url_a" --token "$token_a" --connections "$connections" \
        --duration "$duration" --server-pid "$pid_a" --json >"$work/a$round.out" &
    loadgen_a=$!
    "$loadgen" --url "$url_b" --token "$token_b" --connections "$connections" \
        --duration "$duration" --server-pid "$pid_b" --json >"$work/b$round.out" &
    loadgen_b=$!
    wait "$loadgen_a"
    wait "$loadgen_b"
    stop_servers
    python3 - "$work/a$round.out" "$work/b$round.out" "$round" <<'PY' | tee -a "$work/rounds.jsonl"
import json, sys
a, b = (json.loads(open(f).read().splitlines()[-1])["main"] for f in sys.argv[1:3])
print(json.dumps({"round": int(sys.argv[3]), "a": a, "b": b}))
PY
done

python3 - "$work/rounds.jsonl" "$a" "$b" <<'PY'
import json, statistics, sys

rounds = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
print(f"\nA = {sys.argv[2]}\nB = {sys.argv[3]}\n")
print("| round | A confirmed/s | B confirmed/s | B/A | A server CPU / booking | B | B/A | A p99 | B p99 | A RSS (peak) | B |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
rate, cpu = [], []
for r in rounds:
    a, b = r["a"], r["b"]
    rate.append(b["confirmed_per_s"] / a["confirmed_per_s"])
    cpu.append(b["server_cpu_us_per_booking"] / a["server_cpu_us_per_booking"])
    print(f"| {r['round']} | {a['confirmed_per_s']:,.0f} | {b['confirmed_per_s']:,.0f} | {rate[-1]:.3f} "
          f"| {a['server_cpu_us_per_booking']:.0f} µs | {b['server_cpu_us_per_booking']:.0f} µs | {cpu[-1]:.3f} "
          f"| {a['latency']['p99_ms']:.1f} ms | {b['latency']['p99_ms']:.1f} ms "
          f"| {a['server_vm_hwm_kib'] / 1024:.1f} MiB | {b['server_vm_hwm_kib'] / 1024:.1f} MiB |")
print(f"\nmedian B/A: confirmed/s {statistics.median(rate):.3f}, server CPU per booking {statistics.median(cpu):.3f}")
PY
