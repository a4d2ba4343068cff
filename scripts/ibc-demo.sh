#!/usr/bin/env bash
# `just ibc-demo`: cross-chain payments on the running `just ibc` setup (the market chain with the
# contracts, the home chain with its token uhome, the relayer between them), with the balances on
# both chains at each step:
#   1. the client moves uhome to the market chain (`opengpu ibc transfer`);
#   2. it publishes a First Response task paid in the uhome voucher; a provider daemon whose
#      payout route points at its own address on the home chain wins and is paid there;
#   3. a client on the home chain publishes an auction with one ICS-20 transfer (`task publish
#      --from-chain home`); two daemons bid, the cheaper wins at the second price and is paid
#      home, and the unspent budget travels back to the client on the home chain.
# The daemons run as IBC_DEMO_PROVIDER (default provider-1, payout route home) and
# IBC_DEMO_RIVAL (default provider-2, a dearer bid), and are stopped on exit.
#
# Env: IBC_FILE (default localnet/addresses/ibc.json), LOCALNET_ADDRESSES (default
#      localnet/addresses/<market chain id>.json), OPENGPU_HOME (keys, default ~/.opengpu),
#      KEEP=1 keeps .cache/ibc-demo/ (daemon configs and logs).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$ROOT/.cache/tools/bin:$HOME/.cargo/bin:$PATH"
IBC_FILE="${IBC_FILE:-$ROOT/localnet/addresses/ibc.json}"
OPENGPU_HOME="${OPENGPU_HOME:-$HOME/.opengpu}"
PROVIDER_KEY="${IBC_DEMO_PROVIDER:-provider-1}"
RIVAL_KEY="${IBC_DEMO_RIVAL:-provider-2}"
DIR="$ROOT/.cache/ibc-demo"
MOVED=500000        # uhome the client moves to the market chain
BUDGET=100000       # the First Response task, in the voucher
MAX_PRICE=100000    # the auction from the home chain, in uhome
CHEAP=30000         # the two daemons' flat prices (the cheaper wins at the dearer one)
DEAR=45000
step=0
say() { step=$((step + 1)); printf '\n\033[1m[ibc-demo %d/6] %s\033[0m\n' "$step" "$*"; }
die() { printf 'ibc-demo: error: %s\n' "$*" >&2; exit 1; }

[ -f "$IBC_FILE" ] || die "no $IBC_FILE: run \`just ibc\` first"
MARKET_ID="$(jq -r .market.chain_id "$IBC_FILE")"
HOME_ID="$(jq -r .home.chain_id "$IBC_FILE")"
CHANNEL="$(jq -r .market.channel "$IBC_FILE")"
VOUCHER="$(jq -r .home_token_on_market "$IBC_FILE")"
DEPLOYMENT="${LOCALNET_ADDRESSES:-$ROOT/localnet/addresses/$MARKET_ID.json}"
[ -f "$DEPLOYMENT" ] || die "no deployment $DEPLOYMENT: run \`just ibc\` (it deploys) first"

cargo build -q --profile native -p opengpu-cli -p opengpu-provider
OPENGPU="$ROOT/target/native/opengpu"
PROVIDER="$ROOT/target/native/opengpu-provider"
og() { "$OPENGPU" --home "$OPENGPU_HOME" --keyring-backend test --deployment "$DEPLOYMENT" \
  --ibc-file "$IBC_FILE" "$@"; }
# amount SIDE WHO DENOM: one bank balance (0 when none)
amount() { og -o json --chain "$1" balance "$2" | jq -r --arg d "$3" \
  '[.balances[] | select(.denom == $d) | .amount][0] // "0"'; }
# wait_amount SIDE WHO DENOM WANT WHAT: until the balance is WANT (90 s at most)
wait_amount() {
  local got i
  for ((i = 0; i < 180; i++)); do
    got="$(amount "$1" "$2" "$3")"
    [ "$got" = "$4" ] && return 0
    sleep 0.5
  done
  die "$5: $2 holds $got $3 on the $1 chain, expected $4 (is the relayer running? opengpu ibc status)"
}
short() { local d="$1"; [ "${#d}" -gt 20 ] && echo "${d:0:12}...${d: -4}" || echo "$d"; }
# show LABEL: the demo's accounts on both chains
show() {
  printf '%-9s %-14s %-16s %s\n' "$1" "account" "chain" "balance"
  printf '%-9s %-14s %-16s %s\n' "" client "$HOME_ID" "$(amount home client uhome)uhome"
  printf '%-9s %-14s %-16s %s\n' "" client "$MARKET_ID" "$(amount market client "$VOUCHER")$(short "$VOUCHER")"
  printf '%-9s %-14s %-16s %s\n' "" "$PROVIDER_KEY" "$HOME_ID" "$(amount home "$PROVIDER_KEY" uhome)uhome"
  printf '%-9s %-14s %-16s %s\n' "" "$PROVIDER_KEY" "$MARKET_ID" "$(amount market "$PROVIDER_KEY" "$VOUCHER")$(short "$VOUCHER")"
}

pids=()
on_exit() {
  local status=$? pid
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ "$status" -ne 0 ]; then
    for log in "$DIR"/*.log; do [ -f "$log" ] && { echo "--- $log" >&2; tail -n 20 "$log" >&2; }; done
  fi
  if [ -z "${KEEP:-}" ]; then rm -rf "$DIR"; fi
}
trap on_exit EXIT
# start_daemon ACCOUNT [init flags...]: register (bond) and run opengpu-provider in the background
start_daemon() {
  local account="$1"; shift
  local config="$DIR/$account.toml" log="$DIR/$account.log" i
  "$PROVIDER" init "$config" --force --key "$account" --keyring-backend test \
    --keyring-home "$OPENGPU_HOME" --deployment "$DEPLOYMENT" --state-dir "$DIR/$account-state" \
    --metrics-listen 127.0.0.1:0 --moniker "$account" "$@" >/dev/null
  "$PROVIDER" --config "$config" register
  "$PROVIDER" --config "$config" run >"$log" 2>&1 &
  pids+=($!)
  for ((i = 0; i < 300; i++)); do
    grep -q "caught up" "$log" && return 0
    kill -0 "${pids[-1]}" 2>/dev/null || { cat "$log" >&2; die "opengpu-provider for $account exited"; }
    sleep 0.2
  done
  die "opengpu-provider for $account did not catch up within 60 s (log $log)"
}
rm -rf "$DIR"; mkdir -p "$DIR"

say "the two chains and the relayer"
og ibc status
[ "$(og -o json ibc status | jq -r .relayer.running)" = true ] \
  || die "the relayer is not running: \`just ibc\` starts it"
show before

say "the client moves ${MOVED}uhome from $HOME_ID to $MARKET_ID (ICS-20, waits for the coins)"
og --chain home --from client ibc transfer --to client --amount "${MOVED}uhome"

say "$PROVIDER_KEY runs a daemon paid home: payout route $CHANNEL -> itself on $HOME_ID"
PROVIDER_ADDR="$(og -o json keys show "$PROVIDER_KEY" | jq -r .address)"
start_daemon "$PROVIDER_KEY" --price "$CHEAP$VOUCHER" \
  --payout-channel "$CHANNEL" --payout-receiver "$PROVIDER_ADDR"
og provider show "$PROVIDER_KEY" | grep -E '^(address|payout route):'

say "a First Response task paid ${BUDGET} of the voucher on $MARKET_ID; the winner is paid on $HOME_ID"
provider_home="$(amount home "$PROVIDER_KEY" uhome)"
id="$(og -o json --from client task publish --example vector-add --size 1024 --payment "$BUDGET$VOUCHER" \
  --collateral 1000ustake --deadline-blocks 100 | jq -r .task_id)"
og task watch "$id" >/dev/null
paid="$(og -o json task show "$id" | jq -r .task.settlement.paid)"
echo "task $id settled: $paid of the voucher to $PROVIDER_KEY over $CHANNEL (IBC)"
wait_amount home "$PROVIDER_KEY" uhome "$((provider_home + paid))" "the payout home"
echo "$PROVIDER_KEY on $HOME_ID: ${provider_home}uhome -> $((provider_home + paid))uhome (+$paid)"
show after

say "a client on $HOME_ID publishes an auction (max ${MAX_PRICE}uhome) with one transfer; $RIVAL_KEY bids too"
start_daemon "$RIVAL_KEY" --model auction --price "$DEAR$VOUCHER"
client_home="$(amount home client uhome)"
provider_home="$(amount home "$PROVIDER_KEY" uhome)"
published="$(og -o json --from client task publish --example vector-add --size 1024 --model auction \
  --max-price "${MAX_PRICE}uhome" --collateral 1000ustake --bid-blocks 30 --bid-reveal-blocks 10 \
  --execute-blocks 100 --from-chain home)"
id="$(jq -r .task_id <<<"$published")"
echo "sent ${MAX_PRICE}uhome from client on $HOME_ID with the task in the memo: task $id on $MARKET_ID (its client: the market, for $(jq -r .remote.sender <<<"$published") over $CHANNEL)"
og task watch "$id" >/dev/null
og -o json task show "$id" | jq '.task | {task: .id, status, remote_client, winner: .settlement.winner,
  price: .settlement.price, paid_to_provider: .settlement.paid, protocol_fee: .settlement.fee,
  refunded_to_client: .settlement.refund}'
settlement="$(og -o json task show "$id" | jq .task.settlement)"
refund="$(jq -r .refund <<<"$settlement")"
paid="$(jq -r .paid <<<"$settlement")"
wait_amount home client uhome "$((client_home - MAX_PRICE + refund))" "the refund home"
wait_amount home "$PROVIDER_KEY" uhome "$((provider_home + paid))" "the winner's pay home"
echo "client on $HOME_ID:    ${client_home}uhome -> $((client_home - MAX_PRICE + refund))uhome (-$MAX_PRICE sent, +$refund unspent budget back)"
echo "$PROVIDER_KEY on $HOME_ID: ${provider_home}uhome -> $((provider_home + paid))uhome (+$paid)"

say "balances after, on both chains"
show after
# The refund's acknowledgement travels back to the market after the coins arrived home.
for ((i = 0; i < 60; i++)); do
  [ "$(og -o json ibc status | jq '.pending_transfers | length')" = 0 ] && break
  sleep 0.5
done
og ibc status | tail -n 3
echo
echo "ibc-demo done: a payout home, a task published from $HOME_ID with one transfer, its unspent budget back on $HOME_ID."
