# Shared by test.sh and bench.sh (sourced): paths, and making sure that the package is built,
# the native fixtures are written and the packed package is installed where the tests import it.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROOT=$(dirname "$HERE")
CACHE=${RESERVATION_CACHE:-$HOME/.cache/reservation-service}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$CACHE/target-wasm}
export RESERVATION_WASM_FIXTURES=$HERE/test/generated
step() { printf '\n[host-wasm] == %s\n' "$*" >&2; }

# npm devDependencies (typescript, playwright-core, @types/node), from package-lock.json.
ensure_node_modules() {
  if [[ ! -f "$HERE/node_modules/.package-lock.json" || "$HERE/package-lock.json" -nt "$HERE/node_modules/.package-lock.json" ]]; then
    step "npm ci"
    (cd "$HERE" && npm ci --no-audit --no-fund)
  fi
}

# Builds pkg/ unless it is newer than every input. Sets BUDGET_OK=0 when over the size budget.
ensure_pkg() {
  BUDGET_OK=1
  local stamp=$HERE/pkg/.wasm-size
  if [[ -f "$stamp" ]] && [[ -z $(find "$HERE/src" "$HERE/js" "$HERE/Cargo.toml" "$HERE/build.sh" \
        "$ROOT/core/src" "$ROOT/core/Cargo.toml" "$ROOT/Cargo.lock" "$ROOT/Cargo.toml" -newer "$stamp" -print -quit) ]]; then
    step "package is up to date: $(cat "$stamp")"
  else
    step "build.sh"
    local status=0
    "$HERE/build.sh" || status=$?
    if (( status == 3 )); then BUDGET_OK=0; elif (( status != 0 )); then return "$status"; fi
  fi
  read -r gz budget < "$stamp"
  (( gz <= budget )) || BUDGET_OK=0
}

# Expected answers, the demo's snapshots and the benchmark's snapshot, by the native core.
make_fixtures() {
  step "fixtures from the native core"
  (cd "$ROOT" && cargo run -q -p reservation-wasm --example fixtures -- "$RESERVATION_WASM_FIXTURES")
}

# The package as consumers get it: packed by npm (so `files` is honoured), then installed.
install_pkg() {
  step "npm pack + install"
  local dir
  dir=$(mktemp -d)
  (cd "$HERE" && npm pack ./pkg --pack-destination "$dir" --silent >/dev/null)
  (cd "$HERE" && npm install --no-save --no-audit --no-fund --silent "$dir"/reservation-wasm-*.tgz)
  rm -rf "$dir"
}

# Debian's chromium for the browser test (playwright-core cannot download browsers here).
ensure_chromium() {
  local chromium=${RESERVATION_CHROMIUM:-/usr/bin/chromium}
  if [[ ! -x "$chromium" ]]; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
      step "apt-get install chromium"
      apt-get install -y chromium >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y chromium >/dev/null; }
    else
      echo "no browser at $chromium: apt-get install chromium, or set RESERVATION_CHROMIUM" >&2
      return 1
    fi
  fi
}
