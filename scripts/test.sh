#!/usr/bin/env bash
# The whole test suite, set-up included. This is the README's test command; .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/setup.sh

step() { printf '\n==> %s\n' "$*"; }

step "reservation-core builds for wasm32-unknown-unknown"
cargo build -p reservation-core --target wasm32-unknown-unknown

step "Rust tests: core (unit, given/when/then, properties), server"
cargo test --workspace
