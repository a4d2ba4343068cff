#!/usr/bin/env bash
# `just bench`: measures, then writes BENCHMARKS.md (never timed assertions in tests); a table
# of goals at the top gathers each section's "<!-- goal | ... -->" lines.
#   sgemm       SGEMM GFLOP/s: shipped OpenCL kernel vs the matrixmultiply crate, n = 256..1024
#   gas         gas of each message of every model, against cw20-base and bank transfers
#   latency     publish -> settled over 50 First Response and 10 Auction tasks, one daemon
#   offchain    off-chain inputs of 1, 64 and 256 MiB through the CLI and the daemon
#   gas-scale   gas of publish/commit/reveal from 10 to 10,000 open tasks, 1,000 providers
#   throughput  bank sends, then First Response lifecycles, from many funded accounts
# The first four share one private chain; gas-scale and throughput each start a fresh one.
# Env: BENCH_SECTIONS (a subset, e.g. "gas latency"), BENCH_TASKS (default 50), BENCH_CHAIN
#      and BENCH_BASE_PORT (default bench, 26857: two runs at once need two of each),
#      BENCH_OUT (default BENCHMARKS.md), BENCH_SCALE_PROVIDERS, BENCH_SCALE_TASKS,
#      BENCH_TP_SECS, KEEP=1 keeps .cache/<chain>/.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/private-chain.sh"
# Read before anything is written (BENCHMARKS.md and the plots are outputs of this run).
if git -C "$ROOT" diff --quiet HEAD -- 2>/dev/null; then TREE=clean; else TREE="with uncommitted changes"; fi
cd "$ROOT"
export PATH="$ROOT/.cache/tools/bin:$HOME/.cargo/bin:$PATH"
TASKS="${BENCH_TASKS:-50}"
OUT="${BENCH_OUT:-$ROOT/BENCHMARKS.md}"
# Every section in the order BENCHMARKS.md shows them; BENCH_SECTIONS picks a subset to run.
ALL_SECTIONS="sgemm gas latency offchain gas-scale throughput"
SECTIONS=" ${BENCH_SECTIONS:-$ALL_SECTIONS} "
# The private chain's directory (.cache/$CHAIN_NAME) and ports: two runs at once need two of each.
CHAIN_NAME="${BENCH_CHAIN:-bench}"
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
for s in $ALL_SECTIONS; do touch "$sections/$s.md"; done

if wants sgemm; then
  echo "[bench] SGEMM"
  "$BENCH" sgemm --sizes 256,512,1024 --runs 5 --plots "$PLOTS" >"$sections/sgemm.md"
  figure sgemm.svg "SGEMM GFLOP/s by size" >>"$sections/sgemm.md"
fi

if wants gas || wants latency || wants offchain; then
  echo "[bench] private chain"
  private_chain_start "$CHAIN_NAME" "${BENCH_BASE_PORT:-26857}"
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

if wants offchain; then
  echo "[bench] off-chain inputs (1, 64 and 256 MiB) through the CLI and the daemon"
  [ -n "$provider_pid" ] || start_provider provider-1 "$PRIVATE_DIR/provider.log" --price 1000uatom
  "$BENCH" offchain --deployment "$DEPLOYMENT" --keys "$OPENGPU_HOME" --opengpu "$OPENGPU" \
    --work "$PRIVATE_DIR/offchain" >"$sections/offchain.md"
fi

# (sections gas-scale, throughput and offchain are added here, each in its own `if wants` block)

if wants gas-scale; then
  # A fresh chain of its own: the section registers its providers and fills the market itself.
  # BENCH_SCALE_PROVIDERS (default 1000) and BENCH_SCALE_TASKS (default 10,100,1000,10000)
  # make a shorter run.
  scale_providers="${BENCH_SCALE_PROVIDERS:-1000}" scale_tasks="${BENCH_SCALE_TASKS:-10,100,1000,10000}"
  echo "[bench] gas at scale: $scale_providers providers, open tasks $scale_tasks (fresh private chain)"
  private_chain_cleanup
  private_chain_start "$CHAIN_NAME-scale" "$((${BENCH_BASE_PORT:-26857} + 200))"
  "$BENCH" gas-scale --deployment "$DEPLOYMENT" --keys "$OPENGPU_HOME" --providers "$scale_providers" \
    --open-tasks "$scale_tasks" --plots "$PLOTS" >"$sections/gas-scale.md"
  figure gas-scale.svg "Gas per message against open tasks" >>"$sections/gas-scale.md"
fi

if wants throughput; then
  # A fresh chain of its own: the section funds its load accounts and registers its providers.
  # BENCH_TP_SECS (measured seconds per phase, default 45, after a 10 s warm-up) makes a
  # shorter run; the node's pid gives its CPU time per phase.
  tp_secs="${BENCH_TP_SECS:-45}"
  echo "[bench] throughput: bank sends, then First Response lifecycles, ${tp_secs} s each (fresh private chain)"
  private_chain_cleanup
  private_chain_start "$CHAIN_NAME-throughput" "$((${BENCH_BASE_PORT:-26857} + 300))"
  "$BENCH" throughput --deployment "$DEPLOYMENT" --keys "$OPENGPU_HOME" --duration-secs "$tp_secs" \
    --node-pid "$(cat "$PRIVATE_DIR/chain/node0/wasmd.pid")" --plots "$PLOTS" >"$sections/throughput.md"
  figure throughput.svg "Successful transactions and settled lifecycles per second over time" \
    >>"$sections/throughput.md"
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
  # Every goal a section measured (its hidden "<!-- goal | ... -->" lines), in one table.
  goals="$(for s in $ALL_SECTIONS; do cat "$sections/$s.md"; done | grep '^<!-- goal |' || true)"
  if [ -n "$goals" ]; then
    echo "## Goals"
    echo
    echo "| figure | goal | measured | met | why not, and what would close it |"
    echo "|---|---|---|---|---|"
    sed -e 's/^<!-- goal | //' -e 's/ -->$//' -e 's/^/| /' -e 's/$/ |/' <<<"$goals"
    echo
  fi
  for s in $ALL_SECTIONS; do cat "$sections/$s.md"; done
} >"$OUT"
rm -rf "$sections"
echo "[bench] wrote $OUT"
