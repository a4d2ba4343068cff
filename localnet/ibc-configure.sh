#!/usr/bin/env bash
# Configures a deployed market for IBC, as `admin` (the market's owner on a localnet): adds the
# home chain's token, as it arrives on the market chain (`home_token_on_market`, an ibc/ denom),
# to `allowed_denoms` (keeping the others) and sets the market's IBC settings to the market
# chain's end of the transfer channel that localnet/ibc-start.sh linked:
#   {"update_config":{"allowed_denoms":[..., "<home_token_on_market>"],
#     "ibc":{"channels":[{"channel_id":"<market channel>","denoms":["<home_token_on_market>"]}],
#            "transfer_timeout_seconds":600}}}
# Nothing is sent when the market is configured so already.
#
# Usage: localnet/ibc-configure.sh
# Env:   IBC_FILE            what ibc-start.sh wrote, default localnet/addresses/ibc.json
#        LOCALNET_ADDRESSES  the market chain's deployment (deploy.sh), default
#                            localnet/addresses/<market chain id>.json
#        IBC_TRANSFER_TIMEOUT_SECONDS  how long the market's transfers wait for a relayer, 600
set -euo pipefail
# shellcheck source=localnet/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
say() { printf '[ibc] %s\n' "$*" >&2; }
die() { printf '[ibc] error: %s\n' "$*" >&2; exit 1; }
[ $# -eq 0 ] || die "usage: ibc-configure.sh (settings by env, see the header)"

IBC_IN="${IBC_FILE:-$LOCALNET_ROOT/localnet/addresses/ibc.json}"
[ -f "$IBC_IN" ] || die "no $IBC_IN: run localnet/ibc-start.sh (or just ibc) first"
CHAIN_ID="$(jq -r .market.chain_id "$IBC_IN")"
RPC="$(jq -r .market.rpc "$IBC_IN")"
NODE0="$(jq -r .market.home "$IBC_IN")/node0"
CHANNEL="$(jq -r .market.channel "$IBC_IN")"
DENOM="$(jq -r .home_token_on_market "$IBC_IN")"
TIMEOUT="${IBC_TRANSFER_TIMEOUT_SECONDS:-600}"
[[ "$TIMEOUT" =~ ^[0-9]+$ ]] || die "IBC_TRANSFER_TIMEOUT_SECONDS must be a number of seconds, got '$TIMEOUT'"
DEPLOYMENT="${LOCALNET_ADDRESSES:-$LOCALNET_ROOT/localnet/addresses/$CHAIN_ID.json}"
[ -f "$DEPLOYMENT" ] || die "no $DEPLOYMENT: deploy the contracts to $CHAIN_ID first (localnet/deploy.sh)"
[ "$(jq -r .chain_id "$DEPLOYMENT")" = "$CHAIN_ID" ] \
  || die "$DEPLOYMENT is a deployment on $(jq -r .chain_id "$DEPLOYMENT"), not on the market chain $CHAIN_ID"
MARKET="$(jq -r '.contracts.task_market.address // empty' "$DEPLOYMENT")"
[ -n "$MARKET" ] || die "$DEPLOYMENT has no .contracts.task_market.address"
NODE="tcp://${RPC#http://}"
GAS_PRICE=0.025ustake
WASMD="$(wasmd_bin)"
[ -n "$(rpc_height "${RPC##*:}")" ] || die "$CHAIN_ID does not answer at $RPC: run localnet/ibc-start.sh"

q() { wasmd query "$@" --home "$NODE0" --node "$NODE" --output json; }
config="$(q wasm contract-state smart "$MARKET" '{"config":{}}' 2>/dev/null | jq -c .data)" \
  || die "the market at $MARKET does not answer {\"config\":{}} on $CHAIN_ID (redeploy: localnet/deploy.sh --force)"
# A market built before the contract had IBC settings answers without an `ibc` field (and would
# ignore the field in update_config).
jq -e 'has("ibc")' <<<"$config" >/dev/null \
  || die "the market at $MARKET has no IBC settings (its config answer has no 'ibc'): its code predates them; rebuild (just wasm) and redeploy (localnet/deploy.sh --force)"

want_ibc="$(jq -nc --arg ch "$CHANNEL" --arg d "$DENOM" --argjson t "$TIMEOUT" \
  '{channels: [{channel_id: $ch, denoms: [$d]}], transfer_timeout_seconds: $t}')"
denoms="$(jq -c --arg d "$DENOM" '.allowed_denoms + [$d] | unique' <<<"$config")"
if [ "$(jq -c '.allowed_denoms | sort' <<<"$config")" = "$denoms" ] \
    && [ "$(jq -c '.ibc // null' <<<"$config")" = "$want_ibc" ]; then
  say "the market $MARKET already takes $DENOM and sends over $CHANNEL; nothing to do"
  exit 0
fi
# Keep the order of the existing denoms, append the new one.
denoms="$(jq -c --arg d "$DENOM" '.allowed_denoms | if index([$d]) then . else . + [$d] end' <<<"$config")"
msg="$(jq -nc --argjson denoms "$denoms" --argjson ibc "$want_ibc" \
  '{update_config: {allowed_denoms: $denoms, ibc: $ibc}}')"
say "update_config on $CHAIN_ID market $MARKET as admin: $msg"

err="$(mktemp)"
if ! out="$(wasmd tx wasm execute "$MARKET" "$msg" --from admin --keyring-backend test \
    --home "$NODE0" --node "$NODE" --chain-id "$CHAIN_ID" --gas auto --gas-adjustment 1.4 \
    --gas-prices "$GAS_PRICE" -b sync -y --output json 2>"$err")"; then
  cat "$err" >&2; rm -f "$err"; die "update_config failed (simulation runs the contract: its error is above)"
fi
rm -f "$err"
[ "$(jq -r .code <<<"$out")" = 0 ] || die "update_config rejected: $(jq -r .raw_log <<<"$out")"
hash="$(jq -r .txhash <<<"$out")"
included=0
for ((i = 0; i < 150; i++)); do   # 30 s at 0.2 s
  if res="$(q tx "$hash" 2>/dev/null)"; then
    [ "$(jq -r .code <<<"$res")" = 0 ] || die "update_config $hash failed in block: $(jq -r .raw_log <<<"$res")"
    included=1
    break
  fi
  sleep 0.2
done
[ "$included" -eq 1 ] || die "update_config $hash not included after 30s"

config="$(q wasm contract-state smart "$MARKET" '{"config":{}}' | jq -c .data)"
jq -e --arg d "$DENOM" '.allowed_denoms | index([$d])' <<<"$config" >/dev/null \
  || die "after update_config the market does not list $DENOM in allowed_denoms"
[ "$(jq -c '.ibc // null' <<<"$config")" = "$want_ibc" ] \
  || die "after update_config the market's ibc settings are $(jq -c '.ibc // null' <<<"$config"), not $want_ibc"
say "market $MARKET: allowed_denoms $(jq -c .allowed_denoms <<<"$config"); ibc $(jq -c .ibc <<<"$config")"
