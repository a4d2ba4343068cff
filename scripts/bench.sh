#!/usr/bin/env bash
# `just bench`: measures, then writes BENCHMARKS.md (never timed assertions in tests).
#   1. SGEMM GFLOP/s: shipped OpenCL kernel vs the matrixmultiply crate, n = 256, 512, 1024
#   2. gas of each message (First Response, Freivalds SGEMM, sealed offer, Consensus) and of a
#      bank transfer, on a private wasmd chain
#   3. publish -> settled latency over 50 tasks (200 ms blocks) with one opengpu-provider
# Env: BENCH_TASKS (default 50), BENCH_BASE_PORT (default 26857), BENCH_OUT (default
#      BENCHMARKS.md), KEEP=1 keeps .cache/bench/.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/private-chain.sh"
# Read before anything is written (BENCHMARKS.md and the plots are outputs of this run).
if git -C "$ROOT" diff --quiet HEAD -- 2>/dev/null; then TREE=clean; else TREE="with uncommitted changes"; fi
cd "$ROOT"
export PATH="$ROOT/.cache/tools/bin:$HOME/.cargo/bin:$PATH"
TASKS="${BENCH_TASKS:-50}"
OUT="${BENCH_OUT:-$ROOT/BENCHMARKS.md}"
SECTIONS=" ${BENCH_SECTIONS:-sgemm gas latency} "
PLOTS="$(dirname "$OUT")/bench/plots"   # linked from $OUT as bench/plots/*.svg
trap private_chain_cleanup EXIT
wants() { [[ "$SECTIONS" == *" $1 "* ]]; }
# figure FILE ALT: the Markdown image link of a figure in $PLOTS.
figure() { printf '![%s](bench/plots/%s)\n\n' "$2" "$1"; }

# The gas yardstick: cw20-base 2.0.0 from crates.io through bench/cw20-anchor (its own
# workspace), built like scripts/build-wasm.sh builds the contracts (same wasm-opt flags and
# checks), cached in .cache/cw20-anchor/ until the wrapper changes.
CW20_DIR="$ROOT/.cache/cw20-anchor"
CW20_WASM="$CW20_DIR/cw20_anchor.wasm"
build_cw20() {
  local src="$ROOT/bench/cw20-anchor" f
  if [ -f "$CW20_WASM" ]; then
    local stale=0
    for f in "$src/Cargo.toml" "$src/Cargo.lock" "$src/src/lib.rs"; do
      if [ "$f" -nt "$CW20_WASM" ]; then stale=1; fi
    done
    [ "$stale" = 1 ] || return 0
  fi
  echo "[bench] building cw20-base 2.0.0 (bench/cw20-anchor)"
  CARGO_TARGET_DIR="$CW20_DIR/target" RUSTFLAGS="${RUSTFLAGS:-} -C link-arg=-s" \
    cargo build -q --locked --release --lib --target wasm32-unknown-unknown --manifest-path "$src/Cargo.toml"
  wasm-opt -Oz --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int \
    --enable-reference-types --enable-multivalue --llvm-memory-copy-fill-lowering \
    "$CW20_DIR/target/wasm32-unknown-unknown/release/cw20_anchor.wasm" -o "$CW20_WASM.tmp"
  cosmwasm-check --available-capabilities iterator,staking,stargate,cosmwasm_1_1,cosmwasm_1_2,cosmwasm_1_3,cosmwasm_1_4,cosmwasm_2_0,cosmwasm_2_1,cosmwasm_2_2,ibc2 \
    "$CW20_WASM.tmp" >/dev/null
  mv "$CW20_WASM.tmp" "$CW20_WASM"
}

build_everything opengpu-cli opengpu-provider opengpu-bench
wants gas && build_cw20
BENCH="$ROOT/target/native/opengpu-bench"
sections="$(mktemp -d)"
mkdir -p "$PLOTS"
touch "$sections/sgemm.md" "$sections/gas.md" "$sections/latency.md"

if wants sgemm; then
  echo "[bench] SGEMM"
  "$BENCH" sgemm --sizes 256,512,1024 --runs 5 --plots "$PLOTS" >"$sections/sgemm.md"
  figure sgemm.svg "SGEMM GFLOP/s by size" >>"$sections/sgemm.md"
fi

if wants gas || wants latency; then
  echo "[bench] private chain"
  private_chain_start bench "${BENCH_BASE_PORT:-26857}"
fi
if wants gas; then
  echo "[bench] gas (provider-2 and provider-3 registered by hand, no daemon running)"
  for p in provider-2 provider-3; do
    og --from "$p" stake bond 1000000ustake >/dev/null
    og --from "$p" provider register --moniker "bench-$p" \
      --device type=cpu,compute-units=2,global-mem=1GiB,max-work-group=1024,fp64=false --price 1uatom >/dev/null
  done
  "$BENCH" gas --deployment "$DEPLOYMENT" --keys "$OPENGPU_HOME" --provider provider-2 \
    --second-provider provider-3 --cw20-wasm "$CW20_WASM" --plots "$PLOTS" >"$sections/gas.md"
  figure gas.svg "Gas used per message against a cw20-base transfer" >>"$sections/gas.md"
fi

if wants latency; then
  echo "[bench] latency over $TASKS tasks"
  PROVIDER_OUTPUT=json start_provider provider-1 "$PRIVATE_DIR/provider.log" --price 1000uatom
  "$BENCH" latency --deployment "$DEPLOYMENT" --keys "$OPENGPU_HOME" --tasks "$TASKS" \
    --provider-log "$PRIVATE_DIR/provider.log" --plots "$PLOTS" >"$sections/latency.md"
  figure latency.svg "Publish -> settled latency distribution" >>"$sections/latency.md"
fi

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
pocl="$(dpkg-query -W -f '${Version}' pocl-opencl-icd 2>/dev/null || echo unknown)"
{
  echo "# Benchmarks"
  echo
  echo "Written by \`just bench\` (scripts/bench.sh) on $(date -u +%Y-%m-%d) at commit"
  echo "\`$(git rev-parse --short HEAD 2>/dev/null || echo unknown)\`. Machine: $(nproc) cores ($cpu), no GPU;"
  echo "OpenCL through PoCL $pocl on the CPU. Chain: one wasmd v0.61.14 validator on loopback,"
  echo "200 ms blocks (\`timeout_commit\`). The Rust programs (daemon, CLI, benchmark, the CPU SGEMM"
  echo "crate) are optimized builds, as \`just demo\` and \`just provider\` run them (\`--profile native\`);"
  echo "the kernels run in PoCL. Working tree $TREE."
  echo
  cat "$sections/sgemm.md" "$sections/gas.md" "$sections/latency.md"
} >"$OUT"
rm -rf "$sections"
echo "[bench] wrote $OUT"
