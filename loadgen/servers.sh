# Sourced by bench.sh and compare.sh: starts reservation-server binaries on fresh data
# directories under "$work" and stops them. The caller sets `work` and traps EXIT with
# `stop_servers`, so a failing run leaves no server behind.

running_servers=()

# start_server BINARY NAME: starts BINARY on "$work/data.NAME" (SQLite store, 127.0.0.1, a
# free port, JSON logs in "$work/server.NAME.log"); sets server_pid, url and token (an admin
# token for loadgen).
start_server() {
    local bin="$1" name="$2"
    local data="$work/data.$name" log="$work/server.$name.log"
    "$bin" --data-dir "$data" --listen 127.0.0.1:0 --log-format json >"$log" 2>&1 &
    server_pid=$!
    running_servers+=("$server_pid")
    local address=""
    for _ in $(seq 100); do
        address="$(grep -o '"address":"[^"]*"' "$log" | head -n 1 | cut -d'"' -f4 || true)"
        [ -n "$address" ] && break
        kill -0 "$server_pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
        sleep 0.1
    done
    [ -n "$address" ] || { echo "the server did not start listening" >&2; exit 1; }
    url="http://$address"
    token="$("$bin" token --data-dir "$data" --role admin --subject loadgen)"
}

# stop_server PID: SIGTERM (a graceful shutdown), then waits for it.
stop_server() {
    kill -TERM "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

stop_servers() {
    local pid
    for pid in "${running_servers[@]}"; do
        stop_server "$pid"
    done
    running_servers=()
}
