#!/usr/bin/env bash
# `just demo`, the main job end to end on this machine: builds what is missing, starts a private
# one-node wasmd chain on loopback, deploys the contracts, registers and bonds a provider, runs
# opengpu-provider, publishes an SGEMM task with the `opengpu` CLI, watches it settle, checks
# the result against a CPU reference, shows winner, price and balances, and stops what it
# started (also on failure or Ctrl-C). `opengpu` and `opengpu-provider` are optimized builds
# (`--profile native`, target/native/).
#
# Env: DEMO_SIZE (SGEMM n, default 256), DEMO_BASE_PORT (default 26757), KEEP=1 keeps
#      .cache/demo/ (chain data, provider log) afterwards.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/private-chain.sh"
cd "$ROOT"
export PATH="$ROOT/.cache/tools/bin:$HOME/.cargo/bin:$PATH"
SIZE="${DEMO_SIZE:-256}"
SEED=42
step=0
say() { step=$((step + 1)); printf '\n\033[1m[demo %d/7] %s\033[0m\n' "$step" "$*"; }
on_exit() {
  local status=$?
  if [ "$status" -ne 0 ] && [ -n "$PRIVATE_DIR" ] && [ -f "$PRIVATE_DIR/provider.log" ]; then
    echo "demo failed (exit $status); provider log:" >&2
    tail -n 30 "$PRIVATE_DIR/provider.log" >&2
  fi
  private_chain_cleanup
}
trap on_exit EXIT

say "build what is missing: tools and PoCL, wasmd, contracts, opengpu, opengpu-provider"
build_everything opengpu-cli opengpu-provider

say "chain: one wasmd validator on 127.0.0.1:${DEMO_BASE_PORT:-26757}, contracts deployed"
private_chain_start demo "${DEMO_BASE_PORT:-26757}"

say "provider: this machine's OpenCL device; register and bond provider-1, start the daemon"
"$PROVIDER" devices
start_provider provider-1 "$PRIVATE_DIR/provider.log" --price 1000uatom
echo "opengpu-provider running (pid $provider_pid), log $PRIVATE_DIR/provider.log"

say "balances before"
og balance client
og balance provider-1
uatom_of() { og -o json balance "$1" | jq -r '[.balances[] | select(.denom=="uatom") | .amount][0] // "0"'; }
client_uatom_before="$(uatom_of client)"
provider_uatom_before="$(uatom_of provider-1)"

say "client publishes a ${SIZE}x${SIZE} SGEMM (seed $SEED): 100000uatom budget, First Response"
published="$(og -o json --from client task publish --example sgemm --size "$SIZE" --seed "$SEED" \
  --model first-response --payment 100000uatom --collateral 1000ustake --deadline-blocks 100)"
id="$(jq -r '.task_id' <<<"$published")"
echo "published task $id (tx $(jq -r '.txhash' <<<"$published"))"
og task watch "$id"

say "verify the result against the CPU reference"
og example check "$id" --example sgemm --size "$SIZE" --seed "$SEED"

say "winner, price and balances after"
og -o json task show "$id" | jq '.task | {task: .id, status, denom, winner: .settlement.winner,
  price: .settlement.price, paid_to_provider: .settlement.paid, protocol_fee: .settlement.fee,
  refunded_to_client: .settlement.refund, settled_at_height: .settlement.height}'
og balance client
og balance provider-1
client_uatom_after="$(uatom_of client)"
provider_uatom_after="$(uatom_of provider-1)"
echo "client uatom:     $client_uatom_before -> $client_uatom_after ($((client_uatom_after - client_uatom_before)))"
echo "provider-1 uatom: $provider_uatom_before -> $provider_uatom_after (+$((provider_uatom_after - provider_uatom_before)))"
echo
echo "demo done: task $id was computed by opengpu-provider on $("$PROVIDER" --output json devices | jq -r '.[0].devices[0].info.name'), checked against the CPU reference, and paid on chain."
