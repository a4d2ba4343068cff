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
cd "$ROOT"
export PATH="$ROOT/.cache/tools/bin:$HOME/.cargo/bin:$PATH"
TASKS="${BENCH_TASKS:-50}"
OUT="${BENCH_OUT:-$ROOT/BENCHMARKS.md}"
trap private_chain_cleanup EXIT

build_everything opengpu-cli opengpu-provider opengpu-bench
BENCH="$ROOT/target/debug/opengpu-bench"
sections="$(mktemp -d)"

echo "[bench] SGEMM"
"$BENCH" sgemm --sizes 256,512,1024 --runs 5 >"$sections/sgemm.md"

echo "[bench] private chain"
private_chain_start bench "${BENCH_BASE_PORT:-26857}"
echo "[bench] gas (provider-2 and provider-3 registered by hand, no daemon running)"
for p in provider-2 provider-3; do
  og --from "$p" stake bond 1000000ustake >/dev/null
  og --from "$p" provider register --moniker "bench-$p" \
    --device type=cpu,compute-units=2,global-mem=1GiB,max-work-group=1024,fp64=false --price 1uatom >/dev/null
done
"$BENCH" gas --deployment "$DEPLOYMENT" --keys "$OPENGPU_HOME" --provider provider-2 \
  --second-provider provider-3 >"$sections/gas.md"

echo "[bench] latency over $TASKS tasks"
PROVIDER_OUTPUT=json start_provider provider-1 "$PRIVATE_DIR/provider.log" --price 1000uatom
"$BENCH" latency --deployment "$DEPLOYMENT" --keys "$OPENGPU_HOME" --tasks "$TASKS" \
  --provider-log "$PRIVATE_DIR/provider.log" >"$sections/latency.md"

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
pocl="$(dpkg-query -W -f '${Version}' pocl-opencl-icd 2>/dev/null || echo unknown)"
{
  echo "# Benchmarks"
  echo
  echo "Written by \`just bench\` (scripts/bench.sh) on $(date -u +%Y-%m-%d) at commit"
  echo "\`$(git rev-parse --short HEAD 2>/dev/null || echo unknown)\`. Machine: $(nproc) cores ($cpu), no GPU;"
  echo "OpenCL through PoCL $pocl on the CPU. Chain: one wasmd v0.61.14 validator on loopback,"
  echo "200 ms blocks (\`timeout_commit\`). Debug builds of the Rust programs (the kernels run in PoCL,"
  echo "the CPU SGEMM crate is built at opt-level 3)."
  echo
  cat "$sections/sgemm.md" "$sections/gas.md" "$sections/latency.md"
} >"$OUT"
rm -rf "$sections"
echo "[bench] wrote $OUT"
