#!/usr/bin/env bash
# Every test of the npm package, against the package as built and packed:
#   1. build.sh when an input changed (fails the run at the end if the .wasm is over budget)
#   2. expected answers from the native core (examples/fixtures.rs); the demo's committed
#      snapshots must equal what the core makes now
#   3. node --test: every function and fixture, error shapes, misuse, every flavour, manifest
#   4. tsc --noEmit: the .d.ts against a consumer (with the DOM library, and with @types/node)
#   5. Chromium on the demo page (playwright-core), with a screenshot
#   6. clippy of the crate for wasm32 (the workspace's fmt/clippy/test cover the host build)
# Needs Rust (rustup), Node 20 and npm; installs the rest (wasm target, wasm-bindgen-cli,
# binaryen, and Debian's chromium when root). Screenshot: $RESERVATION_ARTIFACTS/wasm-demo.png,
# else demo/screenshot.png. Exit status 3: every test passed but the .wasm is over budget.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/scripts/lib.sh"
cd "$HERE"

ensure_node_modules
ensure_pkg
make_fixtures
if ! diff -r "$HERE/demo/snapshots" "$RESERVATION_WASM_FIXTURES/demo-snapshots" >/dev/null; then
  echo "demo/snapshots differ from what the core makes now; regenerate them with:" >&2
  echo "  cargo run -p reservation-wasm --example fixtures -- host-wasm/test/generated host-wasm/demo/snapshots" >&2
  exit 1
fi
install_pkg

step "node --test"
node --test test/*.test.mjs

step "tsc --noEmit"
npx --no-install tsc -p test/types/tsconfig.json
npx --no-install tsc -p test/types/tsconfig.node.json

step "browser (playwright-core + chromium)"
ensure_chromium
node test/browser.mjs

step "cargo clippy --target wasm32-unknown-unknown (reservation-wasm)"
(cd "$ROOT" && cargo clippy -q -p reservation-wasm --target wasm32-unknown-unknown -- -D warnings)

if (( BUDGET_OK == 0 )); then
  echo "[host-wasm] every test passed, but the .wasm is over its size budget: $(cat pkg/.wasm-size) (gzipped bytes, budget)" >&2
  exit 3
fi
echo "[host-wasm] all tests passed; .wasm $(cut -d' ' -f1 pkg/.wasm-size) bytes gzipped" >&2
