#!/usr/bin/env bash
# Decision time: the npm package in Node vs reservation-core native, on the same snapshot
# (60 tables, 500 bookings, made by the native core) and the same request, timed the same way
# (median over 9 runs of the mean time per call).
#   ./bench.sh           print the figures
#   ./bench.sh --check   also fail when Node's preview takes more than 2x native
# Native: `cargo run --release -p reservation-wasm --example bench_native` (the server's release
# profile); Node: bench/node.mjs against the installed package (wasm-release profile, wasm-opt -Oz).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/scripts/lib.sh"
cd "$HERE"

ensure_node_modules
ensure_pkg
make_fixtures
install_pkg

step "native (release)"
(cd "$ROOT" && cargo build -q --release -p reservation-wasm --example bench_native)
native=$("$CARGO_TARGET_DIR/release/examples/bench_native" "$RESERVATION_WASM_FIXTURES/bench.json")
step "node $(node --version) (npm package, node flavour)"
node=$(node bench/node.mjs "$RESERVATION_WASM_FIXTURES/bench.json")

NATIVE=$native NODE=$node CHECK=${1:-} node --input-type=module <<'EOF'
const parse = (text) => Object.fromEntries(text.trim().split('\n').map((l) => JSON.parse(l)).map((m) => [m.name, m.median_us]));
const native = parse(process.env.NATIVE);
const node = parse(process.env.NODE);
const rows = [
  ['preview (snapshot read once)', node.preview, native.preview],
  ['availability (snapshot read once)', node.availability, native.availability],
  ['preview from snapshot JSON', node.preview_from_json, native.preview_from_json],
];
console.log('| decision | Node (µs) | native (µs) | Node / native |\n|---|---:|---:|---:|');
for (const [name, n, r] of rows) console.log(`| ${name} | ${n.toFixed(0)} | ${r.toFixed(0)} | ${(n / r).toFixed(2)}× |`);
const ratio = node.preview / native.preview;
if (process.env.CHECK === '--check' && ratio > 2) {
  console.error(`Node's preview is ${ratio.toFixed(2)}× native: over the 2× target`);
  process.exit(1);
}
EOF
