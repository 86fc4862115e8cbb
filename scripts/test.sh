#!/usr/bin/env bash
# The whole test suite, set-up included. This is the README's test command; .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

step() { printf '\n==> %s\n' "$*"; }

# Exit 3 from the wasm builds means "built and working, but over the 100 KB gzipped budget"
# (issue #5, still open): reported loudly, not hidden, and not a reason to skip the tests.
over_budget=()
tolerate_budget() {
    local status=0
    "$@" || status=$?
    if [ "$status" = 3 ]; then over_budget+=("$1"); elif [ "$status" != 0 ]; then exit "$status"; fi
}

step "set-up: Rust targets, Debian packages, wasm-bindgen-cli, DynamoDB Local"
scripts/setup.sh
host-server/dynamodb-local/setup.sh

step "set-up: the npm package"
tolerate_budget host-wasm/build.sh

step "set-up: the edge module and the conformance suite's JS harness (tests/setup.sh)"
tolerate_budget tests/setup.sh
# The full 10,000 generated sequences are `tests/run.sh`; CI runs a smaller count.
if [ "${CI:-}" = true ] && [ -z "${CONFORMANCE_SEQUENCES:-}" ]; then
    export CONFORMANCE_SEQUENCES=500
fi

step "reservation-core builds for wasm32-unknown-unknown"
cargo build -p reservation-core --target wasm32-unknown-unknown

step "Rust tests: core, server (HTTP, event stores incl. DynamoDB Local, read models), npm wrapper, cross-host conformance"
cargo test --workspace

step "npm package: node --test, tsc, Chromium"
tolerate_budget host-wasm/test.sh

if [ ${#over_budget[@]} -gt 0 ]; then
    printf '\nWARNING: over the 100 KB gzipped wasm budget (issue #5 open): %s\n' "${over_budget[*]}"
fi
