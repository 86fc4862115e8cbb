#!/usr/bin/env bash
# Fuzzes the core's decoding and decisions (`decode_and_decide`) and the edge module's JSON ABI
# (`edge_json_abi`): `core/fuzz/run.sh [SECONDS]` (default 60 per target; CI runs 20).
# Runs on stable Rust (RUSTC_BOOTSTRAP lets cargo-fuzz pass its -Z flags) with AddressSanitizer.
# Crashes land in core/fuzz/artifacts/; the growing corpus in $RESERVATION_CACHE/fuzz-corpus.
set -euo pipefail
cd "$(dirname "$0")"
source ../../scripts/env.sh
seconds="${1:-60}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --version =0.13.2 --root "$RESERVATION_TOOLS"
export RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$RESERVATION_CACHE/target-fuzz"
for target in $(cargo fuzz list); do
    corpus="$RESERVATION_CACHE/fuzz-corpus/core/$target"
    mkdir -p "$corpus"
    echo "fuzz: $target for ${seconds}s"
    cargo fuzz run "$target" "$corpus" "seeds/$target" -- \
        -max_total_time="$seconds" -dict=json.dict -max_len=16384 -rss_limit_mb=2048 -print_final_stats=1 2>&1 \
        | grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done|==[0-9]+==|SUMMARY|thread|panicked|.*deadly signal)' || true
    if [ -n "$(ls -A artifacts/"$target" 2>/dev/null)" ]; then
        echo "fuzz: $target found a crash: core/fuzz/artifacts/$target"; exit 1
    fi
done
