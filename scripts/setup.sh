#!/usr/bin/env bash
# Installs what the build and the tests need, once: Rust targets, Debian packages (wasm-opt,
# Chromium, Java for DynamoDB Local, make for jemalloc's C build), wasm-bindgen-cli pinned to
# Cargo.lock's version. Safe to run again: each step is skipped when its result is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

log() { echo "setup: $*" >&2; }

rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown \
    || { log "adding the wasm32-unknown-unknown target"; rustup target add wasm32-unknown-unknown; }
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt

missing=()
command -v wasm-opt >/dev/null || missing+=(binaryen)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
command -v make >/dev/null || missing+=(make)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        log "installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        log "missing Debian packages: ${missing[*]} (run as root or install them)"; exit 1
    fi
fi

if [ -n "${RESERVATION_WASM_BINDGEN_VERSION:-}" ]; then
    have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
    if [ "$have" != "$RESERVATION_WASM_BINDGEN_VERSION" ]; then
        log "installing wasm-bindgen-cli $RESERVATION_WASM_BINDGEN_VERSION (a few minutes, once)"
        # Without --locked: one of its locked dependency versions is not on this registry.
        cargo install wasm-bindgen-cli --version "=$RESERVATION_WASM_BINDGEN_VERSION" \
            --root "$RESERVATION_TOOLS" --force
    fi
fi
