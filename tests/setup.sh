#!/usr/bin/env bash
# Prepares everything the conformance suite needs; idempotent, quick when nothing changed.
#
#   tests/setup.sh
#
# - edge/dist/reservation_edge.wasm: the edge module (edge/build.sh; over its size budget it is
#   still built and tested, with a warning: edge/build.sh itself exits 3 for that);
# - host-wasm/pkg: the npm package, built by host-wasm/build.sh when missing or older than the
#   sources it is built from (core/, host-wasm/src, host-wasm/js);
# - tests/js/node_modules: playwright-core (pinned) and the package, linked (npm ci);
# - Node >= 20 and Chromium (apt-get install chromium when missing and running as root).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
log() { printf '[conformance setup] %s\n' "$*" >&2; }

# --- node and chromium -------------------------------------------------------------------
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if (( node_major < 20 )); then
  log "Node >= 20 is required (found: $(node --version 2>/dev/null || echo none))"
  exit 1
fi
chromium=${CHROMIUM:-/usr/bin/chromium}
if [[ ! -x $chromium ]]; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    log "installing chromium"
    apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 \
      || { apt-get update >/dev/null && apt-get install -y --no-install-recommends chromium >/dev/null; }
  else
    log "Chromium is missing at $chromium (apt-get install chromium, or set CHROMIUM)"
    exit 1
  fi
fi

# --- the edge module ---------------------------------------------------------------------
status=0
"$root/edge/build.sh" || status=$?
# 3: built and complete, but over its size budget; edge/build.sh on its own fails CI for that.
if (( status == 3 )); then
  log "warning: edge/dist/reservation_edge.wasm is over its size budget (edge/build.sh exit 3); testing it anyway"
elif (( status != 0 )); then
  exit "$status"
fi

# --- the npm package ---------------------------------------------------------------------
pkg=$root/host-wasm/pkg
stale=""
if [[ -f $pkg/package.json ]]; then
  stale=$(find "$root/core/src" "$root/core/Cargo.toml" "$root/host-wasm/src" "$root/host-wasm/js" "$root/host-wasm/Cargo.toml" \
    -newer "$pkg/package.json" -print -quit 2>/dev/null || true)
fi
if [[ ! -f $pkg/package.json || -n $stale ]]; then
  log "building the npm package (host-wasm/build.sh)${stale:+: $stale is newer than it}"
  status=0
  "$root/host-wasm/build.sh" || status=$?
  # 3: built and complete, but over its size budget; host-wasm's own checks report that.
  if (( status == 3 )); then
    log "warning: host-wasm/pkg is over its size budget (host-wasm/build.sh exit 3); using it anyway"
  elif (( status != 0 )); then
    exit "$status"
  fi
fi

# --- the JS harness's dependencies ---------------------------------------------------------
cd "$here/js"
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  log "npm ci in tests/js"
  npm ci --no-audit --no-fund --loglevel=error
fi
if [[ ! -e node_modules/reservation-wasm/package.json ]]; then
  log "tests/js/node_modules/reservation-wasm does not resolve to host-wasm/pkg"
  exit 1
fi
log "ready"
