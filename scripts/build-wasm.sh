#!/usr/bin/env bash
# Builds the contracts to optimized wasm in artifacts/, writes checksums, and validates each
# artifact with cosmwasm-check (the same static checks wasmd runs on upload).
# Usage: scripts/build-wasm.sh [crate ...]   (default: the four contract crates)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$ROOT/.cache/tools/bin:$PATH"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
OUT="$ROOT/artifacts"
CRATES=("$@")
[ ${#CRATES[@]} -gt 0 ] || CRATES=(opengpu-registry opengpu-task-market opengpu-staking-vault opengpu-verification)
# What the chain (wasmd v0.61) offers; a contract requiring more fails the check.
CAPABILITIES=iterator,staking,stargate,cosmwasm_1_1,cosmwasm_1_2,cosmwasm_1_3,cosmwasm_1_4,cosmwasm_2_0,cosmwasm_2_1,cosmwasm_2_2,ibc2
# rustc's wasm32 std emits bulk-memory ops (memory.copy/fill) that the CosmWasm VM rejects;
# --llvm-memory-copy-fill-lowering rewrites them into plain loops. The --enable-* flags only
# tell wasm-opt which features the input already uses.
WASM_OPT_FLAGS=(-Oz --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int
  --enable-reference-types --enable-multivalue --llvm-memory-copy-fill-lowering)

for tool in wasm-opt cosmwasm-check; do
  command -v "$tool" >/dev/null || { echo "$tool not found: run scripts/install-tools.sh" >&2; exit 1; }
done
mkdir -p "$OUT"
rm -f "$OUT"/*.wasm "$OUT/checksums.txt"   # no stale artifact survives a rebuild

declare -A RAW_SIZE
for crate in "${CRATES[@]}"; do
  lib="${crate//-/_}"
  echo "--- $crate"
  # One cargo call per crate: building them together would unify features across crates
  # (e.g. a dependent's `library` feature would strip another contract's entry points).
  # -s strips the custom sections at link time; RUSTFLAGS with --target does not touch host builds.
  RUSTFLAGS="${RUSTFLAGS:-} -C link-arg=-s" \
    cargo build --release --lib --target wasm32-unknown-unknown -p "$crate"
  raw="$TARGET_DIR/wasm32-unknown-unknown/release/$lib.wasm"
  RAW_SIZE[$lib]=$(stat -c %s "$raw")
  wasm-opt "${WASM_OPT_FLAGS[@]}" "$raw" -o "$OUT/$lib.wasm"
done

(cd "$OUT" && sha256sum -- *.wasm > checksums.txt)
cosmwasm-check --available-capabilities "$CAPABILITIES" "$OUT"/*.wasm

echo
printf '%-32s %12s %12s\n' artifact "cargo bytes" "final bytes"
for f in "$OUT"/*.wasm; do
  lib="$(basename "$f" .wasm)"
  printf '%-32s %12s %12s\n' "$lib.wasm" "${RAW_SIZE[$lib]:--}" "$(stat -c %s "$f")"
done
