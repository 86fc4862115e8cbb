#!/usr/bin/env bash
# Builds the npm package `reservation-wasm` into host-wasm/pkg/:
#   cargo (wasm32-unknown-unknown, profile wasm-release) -> wasm-bindgen (nodejs, web, bundler)
#   -> wasm-opt -Oz -> one package with an `exports` map, types and README.
# Installs what it needs, idempotently: the wasm32 target, wasm-bindgen-cli of the exact version
# in Cargo.lock (cached under $RESERVATION_CACHE/tools), and Debian's binaryen (when root).
# Exits 3 when the gzipped .wasm is over the budget (RESERVATION_WASM_BUDGET_BYTES, default
# 102400 = 100 KiB); the package is complete in that case too.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
CACHE=${RESERVATION_CACHE:-$HOME/.cache/reservation-service}
TOOLS=$CACHE/tools
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$CACHE/target-wasm}
BUDGET=${RESERVATION_WASM_BUDGET_BYTES:-102400}
PKG=$HERE/pkg
log() { printf '[build-wasm] %s\n' "$*" >&2; }

# --- tools -------------------------------------------------------------------------------
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock")
if [[ -z "$BINDGEN_VERSION" ]]; then
  log "wasm-bindgen is not in Cargo.lock yet: resolving"
  (cd "$ROOT" && cargo fetch -q)
  BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock")
fi
BINDGEN=$TOOLS/bin/wasm-bindgen
if ! "$BINDGEN" --version 2>/dev/null | grep -qx "wasm-bindgen $BINDGEN_VERSION"; then
  log "installing wasm-bindgen-cli $BINDGEN_VERSION into $TOOLS (takes several minutes, once)"
  # Not --locked: it fails on this registry (see shared/TOOLING.md).
  cargo install wasm-bindgen-cli --version "=$BINDGEN_VERSION" --root "$TOOLS" --force
fi

if ! command -v wasm-opt >/dev/null; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    log "installing binaryen (wasm-opt)"
    apt-get install -y binaryen >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y binaryen >/dev/null; }
  else
    log "wasm-opt is missing: install binaryen (apt-get install binaryen)"
    exit 1
  fi
fi

# --- build -------------------------------------------------------------------------------
log "cargo build -p reservation-wasm --target wasm32-unknown-unknown --profile wasm-release"
(cd "$ROOT" && cargo build -p reservation-wasm --target wasm32-unknown-unknown --profile wasm-release)
WASM=$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/reservation_wasm.wasm

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
# wasm-opt runs on cargo's output, before wasm-bindgen: Debian's binaryen 108 rewrites the
# export of wasm-bindgen's externref table to point at the function table, which breaks
# instantiation. Optimizing first is equivalent (wasm-bindgen keeps the optimized code as is).
wasm-opt -Oz "$WASM" -o "$STAGE/reservation_wasm.wasm"
for target in nodejs web bundler; do
  "$BINDGEN" --target "$target" --no-typescript --remove-name-section --remove-producers-section \
    --out-dir "$STAGE/$target" "$STAGE/reservation_wasm.wasm"
done

# --- assemble ----------------------------------------------------------------------------
rm -rf "$PKG"
mkdir -p "$PKG/node" "$PKG/web" "$PKG/bundler"
# `nodejs` output is CommonJS; the package is "type": "module", hence .cjs.
cp "$STAGE/nodejs/reservation_wasm.js" "$PKG/node/reservation_wasm.cjs"
cp "$STAGE/nodejs/reservation_wasm_bg.wasm" "$PKG/node/"
cp "$STAGE/web/reservation_wasm.js" "$STAGE/web/reservation_wasm_bg.wasm" "$PKG/web/"
cp "$STAGE/bundler/"reservation_wasm*.js "$STAGE/bundler/reservation_wasm_bg.wasm" "$PKG/bundler/"
for dir in nodejs web bundler; do
  if [[ -d "$STAGE/$dir/snippets" ]]; then
    log "unexpected wasm-bindgen snippets in $dir"
    exit 1
  fi
done
cp "$HERE/js/api.js" "$PKG/api.js"
cp "$HERE/js/node.js" "$PKG/node/index.js"
cp "$HERE/js/web.js" "$PKG/web/index.js"
cp "$HERE/js/bundler.js" "$PKG/bundler/index.js"
cp "$HERE/js/index.d.ts" "$PKG/index.d.ts"

VERSION=$(cd "$ROOT" && cargo pkgid -p reservation-wasm | sed 's/.*[@#]//')
RAW_BYTES=$(stat -c %s "$PKG/web/reservation_wasm_bg.wasm")
GZ_BYTES=0
for target in node web bundler; do
  bytes=$(gzip -9 -c "$PKG/$target/reservation_wasm_bg.wasm" | wc -c)
  (( bytes > GZ_BYTES )) && GZ_BYTES=$bytes
done
SIZE_TEXT="$(( (GZ_BYTES + 512) / 1024 )) KiB gzipped ($GZ_BYTES bytes, gzip -9; $(( (RAW_BYTES + 512) / 1024 )) KiB raw)"

VERSION=$VERSION SIZE_TEXT=$SIZE_TEXT node --input-type=module - "$HERE" "$PKG" <<'EOF'
import { readFileSync, writeFileSync } from 'node:fs';
const [here, pkg] = process.argv.slice(2);
const manifest = JSON.parse(readFileSync(`${here}/js/package.json`, 'utf8'));
manifest.version = process.env.VERSION;
writeFileSync(`${pkg}/package.json`, JSON.stringify(manifest, null, 2) + '\n');
const readme = readFileSync(`${here}/js/README.md`, 'utf8')
  .replaceAll('@VERSION@', process.env.VERSION)
  .replaceAll('@SIZE@', process.env.SIZE_TEXT);
writeFileSync(`${pkg}/README.md`, readme);
EOF

echo "$GZ_BYTES $BUDGET" > "$PKG/.wasm-size"
log "package: $PKG (version $VERSION)"
log "wasm size: $SIZE_TEXT; budget $BUDGET bytes"
if (( GZ_BYTES > BUDGET )); then
  log "OVER BUDGET: the gzipped .wasm is $GZ_BYTES bytes, the budget is $BUDGET bytes"
  exit 3
fi
