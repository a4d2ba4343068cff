#!/usr/bin/env bash
# Deploys the four opengpu contracts to a running localnet with the wasmd CLI and writes
# localnet/addresses/<chain-id>.json. Each contract is instantiated knowing the others'
# addresses: all four are predicted with instantiate2 (checksum + creator + salt) first.
# A chain that already has them (the file exists and the market answers at its address) is
# left alone unless --force, which stores and instantiates a fresh set.
# The admin account stays the contracts' wasmd admin (it may migrate them, the only way trusted
# addresses change) unless --immutable, which instantiates with no wasmd admin: nobody can ever
# migrate them. Each contract's admin (or null) is recorded in the addresses file.
#
# Usage: localnet/deploy.sh [--force] [--immutable]
# Env:   LOCALNET_HOME / LOCALNET_CHAIN_ID select the chain (default: the one last started),
#        LOCALNET_ADDRESSES overrides the output file.
set -euo pipefail
# shellcheck source=localnet/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FORCE=0
IMMUTABLE=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    --immutable) IMMUTABLE=1 ;;
    *) die "usage: deploy.sh [--force] [--immutable]" ;;
  esac
done

HOME_DIR="$(resolve_home)"
[ -f "$HOME_DIR/localnet.env" ] || die "no localnet in $HOME_DIR: run 'just localnet' first"
# shellcheck source=/dev/null
source "$HOME_DIR/localnet.env"   # CHAIN_ID, RPC, GRPC, REST
NODE0="$HOME_DIR/node0"
NODE="tcp://${RPC#http://}"
OUT="${LOCALNET_ADDRESSES:-$LOCALNET_ROOT/localnet/addresses/$CHAIN_ID.json}"
ARTIFACTS="$LOCALNET_ROOT/artifacts"
GAS_PRICE=0.025ustake
# contract key in the addresses file : artifact name : instantiate2 salt
CONTRACTS=(registry:opengpu_registry:registry task_market:opengpu_task_market:task-market
  staking_vault:opengpu_staking_vault:staking-vault verification:opengpu_verification:verification)
WASMD="$(wasmd_bin)"
[ -n "$(rpc_height "${RPC##*:}")" ] || die "$CHAIN_ID does not answer at $RPC: run 'just localnet' first"

q() { wasmd query "$@" --home "$NODE0" --node "$NODE" --output json; }
smart() { q wasm contract-state smart "$1" "$2" 2>/dev/null; }  # smart ADDR MSG
hex() { printf %s "$1" | od -An -tx1 | tr -d ' \n'; }

# Broadcast one tx as admin (gas by simulation), wait for inclusion, print its result JSON.
# Simulation runs the contract, so a bad message fails here with the contract's own error.
tx() {
  local out err hash res i
  err="$(mktemp)"
  if ! out="$(wasmd tx "$@" --from admin --keyring-backend test --home "$NODE0" --node "$NODE" \
      --chain-id "$CHAIN_ID" --gas auto --gas-adjustment 1.4 --gas-prices "$GAS_PRICE" \
      -b sync -y --output json 2>"$err")"; then
    cat "$err" >&2; rm -f "$err"; die "tx $1 $2 failed"
  fi
  rm -f "$err"
  [ "$(jq -r .code <<<"$out")" = 0 ] || die "tx $1 $2 rejected: $(jq -r .raw_log <<<"$out")"
  hash="$(jq -r .txhash <<<"$out")"
  for ((i = 0; i < 150; i++)); do   # 30 s at 0.2 s: a few blocks at most on a localnet
    if res="$(q tx "$hash" 2>/dev/null)"; then
      [ "$(jq -r .code <<<"$res")" = 0 ] || die "tx $hash failed in block: $(jq -r .raw_log <<<"$res")"
      echo "$res"
      return
    fi
    sleep 0.2
  done
  die "tx $hash not included after 30s"
}
event_attr() { # event_attr TX_JSON EVENT_TYPE KEY
  jq -r --arg t "$2" --arg k "$3" \
    '[.events[] | select(.type == $t) | .attributes[] | select(.key == $k) | .value][0] // empty' <<<"$1"
}

# --- already deployed?
if [ "$FORCE" -eq 0 ] && [ -f "$OUT" ]; then
  market="$(jq -r '.contracts.task_market.address // empty' "$OUT")"
  if [ "$(jq -r .chain_id "$OUT")" = "$CHAIN_ID" ] && [ -n "$market" ] && smart "$market" '{"config":{}}' >/dev/null; then
    say "$CHAIN_ID already has the contracts ($OUT); use --force to deploy a fresh set"
    # Not a silent no-op when the existing set does not have the admin asked for.
    admin="$(q wasm contract "$market" 2>/dev/null | jq -r '.contract_info.admin // ""' || true)"
    if [ "$IMMUTABLE" -eq 1 ] && [ -n "$admin" ]; then
      say "warning: the deployed market has wasmd admin $admin (not immutable); add --force for an immutable set"
    elif [ "$IMMUTABLE" -eq 0 ] && [ -z "$admin" ]; then
      say "note: the deployed set is immutable (no wasmd admin)"
    fi
    exit 0
  fi
fi

start=$SECONDS
for c in "${CONTRACTS[@]}"; do
  IFS=: read -r _ art _ <<<"$c"
  if [ ! -f "$ARTIFACTS/$art.wasm" ]; then
    say "artifacts missing: running 'just wasm'"
    (cd "$LOCALNET_ROOT" && PATH="$LOCALNET_ROOT/.cache/tools/bin:$PATH" just wasm)
    break
  fi
done

ADMIN="$(wasmd keys show admin -a --keyring-backend test --home "$NODE0")"
if [ "$IMMUTABLE" -eq 1 ]; then
  ADMIN_FLAGS=(--no-admin)
  WASM_ADMIN=""
  say "deploying to $CHAIN_ID at $RPC as admin $ADMIN; immutable: no wasmd admin, no migration ever"
else
  ADMIN_FLAGS=(--admin "$ADMIN")
  WASM_ADMIN="$ADMIN"
  say "deploying to $CHAIN_ID at $RPC as admin $ADMIN (also the contracts' wasmd admin: may migrate)"
fi

# --- store the code
declare -A CODE_ID CHECKSUM SALT ADDR
for c in "${CONTRACTS[@]}"; do
  IFS=: read -r key art salt <<<"$c"
  res="$(tx wasm store "$ARTIFACTS/$art.wasm")"
  CODE_ID[$key]="$(event_attr "$res" store_code code_id)"
  CHECKSUM[$key]="$(event_attr "$res" store_code code_checksum)"
  local_sum="$(sha256sum "$ARTIFACTS/$art.wasm" | cut -d' ' -f1)"
  [ "${CHECKSUM[$key]}" = "$local_sum" ] || die "$art: chain checksum ${CHECKSUM[$key]} != file $local_sum"
  SALT[$key]="$salt"
  say "stored $art.wasm: code id ${CODE_ID[$key]}, checksum ${CHECKSUM[$key]}"
done

# --- predict the four addresses. An instantiate2 address is fixed by (checksum, creator, salt),
# so redeploying unchanged code (--force) needs new salts: add the same "-N" suffix to all four
# until none of the predicted addresses holds a contract yet.
for ((n = 1; ; n++)); do
  suffix=""; [ "$n" -eq 1 ] || suffix="-$n"
  taken=0
  for c in "${CONTRACTS[@]}"; do
    IFS=: read -r key _ salt <<<"$c"
    SALT[$key]="$salt$suffix"
    ADDR[$key]="$(wasmd query wasm build-address "${CHECKSUM[$key]}" "$ADMIN" "$(hex "${SALT[$key]}")")"
    if q wasm contract "${ADDR[$key]}" >/dev/null 2>&1; then taken=1; fi
  done
  [ "$taken" -eq 1 ] || break
done

# --- instantiate messages (packages/opengpu-types/src/{registry,market,vault,verification}.rs)
declare -A MSG
MSG[registry]="$(jq -nc --arg vault "${ADDR[staking_vault]}" --arg market "${ADDR[task_market]}" \
  '{owner: null, vault: $vault, market: $market, min_bond: "1000000"}')"
MSG[task_market]="$(jq -nc --arg registry "${ADDR[registry]}" --arg vault "${ADDR[staking_vault]}" \
  --arg verification "${ADDR[verification]}" '{
    owner: null, registry: $registry, vault: $vault, verification: $verification,
    allowed_denoms: ["ustake", "uatom"], fee_bps: 100, fee_collector: null,
    params: {
      kernel_limits: {max_source_bytes: 65536, max_args: 32,
                      max_input_bytes: 1048576, max_output_bytes: 1048576},
      max_committers: 5, min_deadline_blocks: 5, max_deadline_blocks: 100000,
      reveal_window_blocks: 50, confirm_window_blocks: 50, min_collateral: "1"}}')"
MSG[staking_vault]="$(jq -nc --arg market "${ADDR[task_market]}" --arg verification "${ADDR[verification]}" \
  '{owner: null, stake_denom: "ustake", unbonding_period_seconds: 60, max_claims_per_address: 10,
    market: $market, verification: $verification}')"
MSG[verification]="$(jq -nc --arg market "${ADDR[task_market]}" --arg vault "${ADDR[staking_vault]}" \
  '{owner: null, market: $market, vault: $vault}')"

# --- instantiate; the wasmd admin may migrate (the only way trusted addresses ever change);
# --immutable leaves none. The predicted address depends on the creator (admin), not on this.
for c in "${CONTRACTS[@]}"; do
  IFS=: read -r key _ _ <<<"$c"
  res="$(tx wasm instantiate2 "${CODE_ID[$key]}" "${MSG[$key]}" "$(hex "${SALT[$key]}")" --hex \
    --label "opengpu-${SALT[$key]}" "${ADMIN_FLAGS[@]}")"
  got="$(event_attr "$res" instantiate _contract_address)"
  [ "$got" = "${ADDR[$key]}" ] || die "$key instantiated at $got, predicted ${ADDR[$key]}"
  say "instantiated $key at $got"
done

# --- each contract answers its config query and has the wasmd admin asked for
for c in "${CONTRACTS[@]}"; do
  IFS=: read -r key _ _ <<<"$c"
  smart "${ADDR[$key]}" '{"config":{}}' >/dev/null || die "$key at ${ADDR[$key]} does not answer {\"config\":{}}"
  admin="$(q wasm contract "${ADDR[$key]}" | jq -r '.contract_info.admin // ""')"
  [ "$admin" = "$WASM_ADMIN" ] || die "$key at ${ADDR[$key]} has wasmd admin '$admin', expected '$WASM_ADMIN'"
done

contracts="{}"
for c in "${CONTRACTS[@]}"; do
  IFS=: read -r key _ _ <<<"$c"
  # admin: the wasmd admin, null when immutable (readers ignore fields they do not know)
  contracts="$(jq --arg k "$key" --argjson id "${CODE_ID[$key]}" --arg sum "${CHECKSUM[$key]}" \
    --arg addr "${ADDR[$key]}" --arg admin "$WASM_ADMIN" \
    '.[$k] = {code_id: $id, checksum: $sum, address: $addr,
              admin: (if $admin == "" then null else $admin end)}' <<<"$contracts")"
done
mkdir -p "$(dirname "$OUT")"
jq -n --arg chain_id "$CHAIN_ID" --arg rpc "$RPC" --arg grpc "$GRPC" --arg rest "$REST" \
  --argjson contracts "$contracts" '{chain_id: $chain_id, rpc: $rpc, grpc: $grpc, rest: $rest,
    bech32_prefix: "wasm", stake_denom: "ustake", gas_price: "0.025ustake", contracts: $contracts}' \
  >"$OUT.tmp" && mv "$OUT.tmp" "$OUT"
if [ "$IMMUTABLE" -eq 1 ]; then mode="immutable (no wasmd admin)"; else mode="wasmd admin $ADMIN"; fi
say "deployed in $((SECONDS - start))s, $mode; every contract answers its config query; wrote $OUT"
