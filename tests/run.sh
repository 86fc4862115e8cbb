#!/usr/bin/env bash
# The whole conformance suite: setup (tests/setup.sh), then every test of it.
#
#   tests/run.sh                               # 10,000 generated sequences (the full count)
#   CONFORMANCE_SEQUENCES=500 tests/run.sh     # what CI runs (the default when CI=true)
#
# Runs the shared scenarios through the native core (core/tests/scenarios.rs) and then the
# conformance crate: scenarios, generated sequences and the edge module's ABI, on native,
# wasmtime, Node and Chromium. Extra arguments go to `cargo test` (e.g. `-- --nocapture`).
# Idempotent. The benchmark is separate: cargo bench -p reservation-conformance --bench decision
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")

"$here/setup.sh"

if [[ ${CI:-} == true && -z ${CONFORMANCE_SEQUENCES:-} ]]; then
  export CONFORMANCE_SEQUENCES=500
fi
echo "[conformance] generated sequences: ${CONFORMANCE_SEQUENCES:-10000}" >&2

cd "$root"
cargo test -p reservation-core --test scenarios
cargo test -p reservation-conformance "$@"
