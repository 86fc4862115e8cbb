#!/usr/bin/env bash
# Builds the edge module: reservation-core for wasm32-unknown-unknown with the JSON ABI of ABI.md.
#
#   edge/build.sh            # -> edge/dist/reservation_edge.wasm, prints its size, fails over budget
#
# cargo (profile wasm-release: opt-level z, fat LTO, one codegen unit, panic = abort), then
# `wasm-opt -Oz` (Debian's binaryen), then checks that the module imports nothing (exit 1
# otherwise) and fits the budget: EDGE_BUDGET_GZIP bytes gzipped (default 100 KB = 102400).
# Over budget it exits 3, with the module built and complete (like host-wasm/build.sh), so that
# callers can tell "over budget" from "broken". Idempotent: cargo rebuilds only what changed,
# and wasm-opt runs only when cargo's output is newer than dist/.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
target_dir=${CARGO_TARGET_DIR:-$root/target}
budget=${EDGE_BUDGET_GZIP:-102400}
dist=$here/dist
out=$dist/reservation_edge.wasm

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
if ! command -v wasm-opt >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y --no-install-recommends binaryen >/dev/null || { apt-get update >/dev/null && apt-get install -y --no-install-recommends binaryen >/dev/null; }
  else
    echo "edge/build.sh: wasm-opt not found; install binaryen (apt-get install binaryen)" >&2
    exit 1
  fi
fi

(cd "$root" && cargo build -p reservation-edge --target wasm32-unknown-unknown --profile wasm-release)
built=$target_dir/wasm32-unknown-unknown/wasm-release/reservation_edge.wasm

mkdir -p "$dist"
if [ ! -f "$out" ] || [ "$built" -nt "$out" ]; then
  # wasm-opt reads the target features Rust used from the module's target_features section.
  wasm-opt -Oz --strip-debug --strip-producers "$built" -o "$out.tmp"
  mv "$out.tmp" "$out"
fi

# No imports at all: any runtime can instantiate it without glue.
imports=$(wasm-dis "$out" | grep -c '^ (import ' || true)
if [ "$imports" != 0 ]; then
  echo "edge/build.sh: $out has $imports imports; it must have none:" >&2
  wasm-dis "$out" | grep '^ (import ' >&2
  exit 1
fi

raw=$(stat -c %s "$out")
gz=$(gzip -9 -c "$out" | wc -c)
echo "edge module: $out"
echo "edge module size: ${raw} bytes raw, ${gz} bytes gzipped (budget ${budget} bytes gzipped)"
if [ "$gz" -gt "$budget" ]; then
  echo "edge/build.sh: OVER BUDGET by $((gz - budget)) bytes gzipped" >&2
  exit 3
fi
