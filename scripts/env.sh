# Sourced by the project's scripts: where caches and tools live. Everything here is a cache and
# may be deleted; scripts/setup.sh recreates it.
export RESERVATION_CACHE="${RESERVATION_CACHE:-$HOME/.cache/reservation-service}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$RESERVATION_CACHE/target}"
export RESERVATION_TOOLS="$RESERVATION_CACHE/tools"
export PATH="$RESERVATION_TOOLS/bin:$HOME/.cargo/bin:$PATH"
# The exact wasm-bindgen version of Cargo.lock (the CLI must match it).
RESERVATION_WASM_BINDGEN_VERSION="$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/"/, "", $3); print $3; exit}' "$(dirname "${BASH_SOURCE[0]}")/../Cargo.lock" 2>/dev/null || true)"
export RESERVATION_WASM_BINDGEN_VERSION
