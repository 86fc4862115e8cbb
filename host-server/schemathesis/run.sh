#!/usr/bin/env bash
# Schemathesis against the server's own /openapi.json: a real server (debug build) on a free
# loopback port, an admin token, and checks that no response is a 5xx, none violates the schema
# (status code, content type, headers, body), and no handler panicked.
#
#   host-server/schemathesis/run.sh [MAX_EXAMPLES_PER_OPERATION]   (default 25; CI runs 25)
#
# Schemathesis and everything it imports are pinned in requirements.txt (a fresh install once took a
# newer Hypothesis than the one tested) and installed into a venv under $RESERVATION_CACHE on first use.
# One worker: CPython 3.11 keeps the AST constructor's recursion depth per interpreter, so two threads
# running Hypothesis's ast.parse at once can fail with "AST constructor recursion depth mismatch"
# (python/cpython#106905); that made a CI run fail once.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../../scripts/env.sh"
examples="${1:-25}"
requirements="$here/requirements.txt"
venv="$RESERVATION_CACHE/schemathesis-venv"
if ! cmp -s "$requirements" "$venv/requirements.installed" 2>/dev/null; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet -r "$requirements"
    cp "$requirements" "$venv/requirements.installed"
fi

cargo build --quiet -p reservation-server
binary="$CARGO_TARGET_DIR/debug/reservation-server"
work="$(mktemp -d)"
log="$work/server.log"
server=""
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

"$binary" --listen 127.0.0.1:0 --data-dir "$work/data" --log-format json >"$log" 2>&1 &
server=$!
address=""
for _ in $(seq 1 300); do
    address="$(grep -o '"message":"listening","address":"[^"]*"' "$log" | head -1 | sed 's/.*"address":"\([^"]*\)"/\1/' || true)"
    [ -z "$address" ] && address="$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    try: e=json.loads(l)
    except Exception: continue
    f=e.get("fields",{})
    if f.get("message")=="listening": print(f["address"]); break' "$log" 2>/dev/null || true)"
    [ -n "$address" ] && break
    kill -0 "$server" 2>/dev/null || { cat "$log"; echo "the server did not start"; exit 1; }
    sleep 0.1
done
[ -n "$address" ] || { cat "$log"; echo "the server did not log its address"; exit 1; }
base="http://$address"
token="$("$binary" token --data-dir "$work/data" --role admin --subject schemathesis --ttl 2h)"

# A restaurant so that some generated requests reach real resources.
curl -fsS -o /dev/null -X POST "$base/restaurants" -H "Authorization: Bearer $token" -H 'content-type: application/json' \
    -d '{"id":"r1","name":"Schema Diner","timezone":"UTC","tables":[{"id":"T1","seats":4},{"id":"T2","seats":6}],
         "opening_hours":{"monday":["00:00-24:00"],"tuesday":["00:00-24:00"],"wednesday":["00:00-24:00"],
         "thursday":["00:00-24:00"],"friday":["00:00-24:00"],"saturday":["00:00-24:00"],"sunday":["00:00-24:00"]}}'

status=0
cd "$work"   # schemathesis keeps a cache directory in the working directory
"$venv/bin/schemathesis" run "$base/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,ignored_auth \
    --exclude-path /events/stream \
    --phases examples,coverage,fuzzing \
    --max-examples "$examples" \
    --workers 1 \
    --seed 7 \
    --generation-database none \
    --request-timeout 20 \
    --no-color \
    --warnings off \
    --report junit --report-junit-path "$work/junit.xml" || status=$?
if grep -q 'handler panicked' "$log"; then
    echo "schemathesis: a handler panicked:"; grep 'handler panicked' "$log" | head -5; status=1
fi
if grep -q '"level":"ERROR"' "$log"; then
    echo "schemathesis: the server logged errors:"; grep '"level":"ERROR"' "$log" | head -5
fi
python3 - "$work/junit.xml" <<'PY' || true
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    sys.exit(0)
suites = [root] if root.tag == "testsuite" else list(root)
tests = sum(int(s.get("tests", 0)) for s in suites)
failures = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
print(f"schemathesis: {tests} operations tested, {failures} failed")
PY
exit "$status"
