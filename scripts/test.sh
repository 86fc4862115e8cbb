#!/usr/bin/env bash
# The whole test suite, set-up included. This is the README's test command; .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

step() { printf '\n==> %s\n' "$*"; }

step "set-up: Rust targets, Debian packages, wasm-bindgen-cli, DynamoDB Local"
scripts/setup.sh
host-server/dynamodb-local/setup.sh

step "cargo fmt --check"
cargo fmt --all --check
step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

# Both builds fail (exit 3) when their .wasm is over the 100 KB gzipped budget.
step "set-up: the npm package (host-wasm/build.sh) and the edge module (edge/build.sh)"
host-wasm/build.sh
edge/build.sh

step "set-up: the conformance suite's JS harness (tests/setup.sh)"
tests/setup.sh
# The full 10,000 generated sequences are `tests/run.sh`; CI runs a smaller count.
if [ "${CI:-}" = true ] && [ -z "${CONFORMANCE_SEQUENCES:-}" ]; then
    export CONFORMANCE_SEQUENCES=500
fi

step "reservation-core builds for wasm32-unknown-unknown"
cargo build -p reservation-core --target wasm32-unknown-unknown

step "Rust tests: core, server (HTTP, auth, limits, crash, event stores incl. DynamoDB Local, read models, replicas), npm wrapper, cross-host conformance"
cargo test --workspace

step "the server benchmark's command runs (loadgen/bench.sh with debug builds, 2 s)"
bench_out="$(mktemp)"
BENCH_PROFILE=dev BENCH_ROUNDS=1 BENCH_CONNECTIONS=4 BENCH_DURATION=2s BENCH_PRIOR=100 \
    BENCH_OUT="$bench_out" bash loadgen/bench.sh | tail -n 6
python3 scripts/check_bench.py "$bench_out"
rm -f "$bench_out"

step "the side-by-side comparison runs (loadgen/compare.sh, one debug build against itself, 2 s)"
COMPARE_PROFILE=dev COMPARE_ROUNDS=1 COMPARE_CONNECTIONS=2 COMPARE_DURATION=2s \
    bash loadgen/compare.sh "$CARGO_TARGET_DIR/debug/reservation-server" \
    "$CARGO_TARGET_DIR/debug/reservation-server" | tail -n 4

step "npm package: node --test, tsc, Chromium"
host-wasm/test.sh

step "fuzzing: core decoding and decisions, the edge JSON ABI (${FUZZ_SECONDS:=20} s each)"
core/fuzz/run.sh "$FUZZ_SECONDS"

step "Schemathesis against /openapi.json (${SCHEMATHESIS_EXAMPLES:=25} examples per operation)"
host-server/schemathesis/run.sh "$SCHEMATHESIS_EXAMPLES"
