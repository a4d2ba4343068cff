#!/usr/bin/env bash
# Two wasmd chains on loopback joined by a real IBC relayer (the Go relayer, built by
# build-relayer.sh): the market chain (the normal localnet) and a "home" chain whose accounts
# hold a second token, uhome. Starts (or resumes) both chains with start.sh, configures the
# relayer in its own home, links an ICS-20 path (transfer <-> transfer, ics20-1), starts
# `rly start` in the background and writes IBC_FILE (channels, ibc/ denoms, relayer files).
# On a fresh link it sends 1000 uhome from `client` on the home chain to `client` on the market
# chain and waits until the market chain holds the computed ibc/ denom: proof that the relayer
# relays. A second run reuses whatever is already there (chains, relayer, channel).
#
# Usage: localnet/ibc-start.sh                  everything above
#        localnet/ibc-start.sh --relayer-only   only (re)start `rly start` for the linked path
#                                               (after `ibc-stop.sh --relayer-only`)
# Env:   IBC_MARKET_CHAIN_ID  default opengpu-local     IBC_HOME_CHAIN_ID  default opengpu-home
#        IBC_MARKET_BASE_PORT default 26657             IBC_HOME_BASE_PORT default 28657
#        IBC_MARKET_HOME      default .cache/localnet/<market chain id>
#        IBC_HOME_HOME        default .cache/localnet/<home chain id>
#        IBC_RELAYER_HOME     default .cache/relayer/home (config, keys, rly.pid, rly.log)
#        IBC_FILE             default localnet/addresses/ibc.json (the output)
#        OPENGPU_HOME         the CLI keys both chains fund (same addresses on both), ~/.opengpu
#        IBC_LINK_TIMEOUT     seconds for `rly tx link`, default 180
#        IBC_RELAY_TIMEOUT    seconds to wait for the check transfer to arrive, default 60
# Progress goes to stderr as `[ibc] ...` lines; nothing is printed on stdout.
set -euo pipefail
# shellcheck source=localnet/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
say() { printf '[ibc] %s\n' "$*" >&2; }
die() { printf '[ibc] error: %s\n' "$*" >&2; exit 1; }

RELAYER_ONLY=0
case "${1:-}" in
  "") ;;
  --relayer-only) RELAYER_ONLY=1 ;;
  *) die "usage: ibc-start.sh [--relayer-only]" ;;
esac
[ $# -le 1 ] || die "usage: ibc-start.sh [--relayer-only]"

ibc_settings
OPENGPU_HOME="$(realpath -m "${OPENGPU_HOME:-$HOME/.opengpu}")"
export OPENGPU_HOME
LINK_TIMEOUT="${IBC_LINK_TIMEOUT:-180}"
RELAY_TIMEOUT="${IBC_RELAY_TIMEOUT:-60}"
GAS_PRICE=0.025ustake   # both chains take fees in ustake (start.sh: minimum-gas-prices)
CHECK_AMOUNT=1000
STATE="$RLY_HOME/opengpu-ibc-state.json"   # which chains the relayer home was set up for
SIDES=(market home)
for tool in jq curl setsid sha256sum timeout; do command -v "$tool" >/dev/null || die "$tool is needed"; done
now_ms() { date +%s%3N; }
since() { local d=$(($(now_ms) - $1)); printf '%d.%ds' $((d / 1000)) $((d % 1000 / 100)); }  # since START_MS
start_all="$(now_ms)"

RLY="$("$LOCALNET_ROOT/localnet/build-relayer.sh")"
WASMD="$(wasmd_bin)"
rly() { "$RLY" --home "$RLY_HOME" "$@"; }

declare -A CHAIN_RPC NODE0
load_chain() { # load_chain SIDE: RPC and node0 home from the chain's localnet.env
  local env="${IBC_DIR[$1]}/localnet.env"
  [ -f "$env" ] || die "no $1 chain in ${IBC_DIR[$1]} (run localnet/ibc-start.sh without --relayer-only)"
  # shellcheck source=/dev/null
  CHAIN_RPC[$1]="$(. "$env" && [ "$CHAIN_ID" = "${IBC_CHAIN_ID[$1]}" ] && echo "$RPC")" \
    || die "${IBC_DIR[$1]} holds another chain than ${IBC_CHAIN_ID[$1]}"
  NODE0[$1]="${IBC_DIR[$1]}/node0"
}
node_of() { echo "tcp://${CHAIN_RPC[$1]#http://}"; }
q() { # q SIDE ARGS...: a wasmd query on that chain, JSON out
  local side="$1"; shift
  wasmd query "$@" --home "${NODE0[$side]}" --node "$(node_of "$side")" --output json
}
account() { # account SIDE NAME: the address of a funded account of that chain
  jq -r --arg n "$2" '.[] | select(.name == $n) | .address' "${IBC_DIR[$1]}/accounts.json"
}
ibc_denom() { # ibc_denom CHANNEL BASE_DENOM: ICS-20 voucher denom on the receiving chain
  echo "ibc/$(printf 'transfer/%s/%s' "$1" "$2" | sha256sum | cut -d' ' -f1 | tr a-f A-F)"
}
balance() { # balance SIDE ADDRESS DENOM
  q "$1" bank balance "$2" "$3" 2>/dev/null | jq -r '.balance.amount // "0"' || echo 0
}

# --- the two chains ------------------------------------------------------------------------
start_chain() { # start_chain SIDE [TOKEN]
  local side="$1" token="${2:-}" env=(LOCALNET_CHAIN_ID="${IBC_CHAIN_ID[$1]}"
    LOCALNET_BASE_PORT="${IBC_BASE[$1]}" OPENGPU_HOME="$OPENGPU_HOME")
  # The default market chain is the normal localnet: started like `just localnet`, so it also
  # becomes .cache/localnet/current (what `just deploy` acts on). Anything else gets its home.
  if [ "$side" = home ] || [ -n "${IBC_MARKET_HOME:-}" ] \
      || [ "${IBC_DIR[$side]}" != "$(realpath -m "$LOCALNET_DATA/${IBC_CHAIN_ID[$side]}")" ]; then
    env+=(LOCALNET_HOME="${IBC_DIR[$side]}")
  fi
  [ -z "$token" ] || env+=(LOCALNET_TOKEN="$token")
  say "$side chain ${IBC_CHAIN_ID[$side]}: localnet/start.sh (base port ${IBC_BASE[$side]}, ${IBC_DIR[$side]})"
  env -u LOCALNET_HOME -u LOCALNET_TOKEN "${env[@]}" "$LOCALNET_ROOT/localnet/start.sh" 1
  load_chain "$side"
}

if [ "$RELAYER_ONLY" -eq 0 ]; then
  start_chain market
  start_chain home "${IBC_TOKEN[home]}"
  # A home chain initialised before it had its own token (or with another one) cannot be used.
  jq -e --arg t "${IBC_TOKEN[home]}" '[.app_state.bank.balances[].coins[].denom] | index($t)' \
    "${NODE0[home]}/config/genesis.json" >/dev/null \
    || die "the home chain in ${IBC_DIR[home]} has no ${IBC_TOKEN[home]} in genesis: wipe it (LOCALNET_HOME=${IBC_DIR[home]} localnet/reset.sh) and run again"
else
  for side in "${SIDES[@]}"; do
    load_chain "$side"
    [ -n "$(rpc_height "${CHAIN_RPC[$side]##*:}")" ] || die "the $side chain does not answer at ${CHAIN_RPC[$side]}: run localnet/ibc-start.sh"
  done
fi

# --- relayer configuration, rebuilt whenever the chains are not the ones it was made for ------
# A chain's identity: chain id, RPC and its genesis file (a reset chain has a new one).
fingerprint() {
  local side out="{}"
  for side in "${SIDES[@]}"; do
    out="$(jq --arg s "$side" --arg id "${IBC_CHAIN_ID[$side]}" --arg rpc "${CHAIN_RPC[$side]}" \
      --arg g "$(sha256sum "${NODE0[$side]}/config/genesis.json" | cut -d' ' -f1)" \
      '.[$s] = {chain_id: $id, rpc: $rpc, genesis_sha256: $g}' <<<"$out")"
  done
  echo "$out"
}
FINGERPRINT="$(fingerprint)"
configured() { [ -f "$STATE" ] && [ "$(jq -c .chains "$STATE")" = "$(jq -c . <<<"$FINGERPRINT")" ]; }

chain_config() { # chain_config SIDE: `rly chains add --file` input (localnet facts: FACTS.md)
  jq -n --arg id "${IBC_CHAIN_ID[$1]}" --arg rpc "${CHAIN_RPC[$1]}" --arg gp "$GAS_PRICE" '{
    type: "cosmos",
    value: {key: "relayer", "chain-id": $id, "rpc-addr": $rpc, "account-prefix": "wasm",
            "keyring-backend": "test", "gas-adjustment": 1.5, "gas-prices": $gp,
            "coin-type": 118, debug: false, timeout: "20s", "output-format": "json",
            "sign-mode": "direct", "broadcast-mode": "batch",
            "min-loop-duration": 100000000}}'   # 100 ms in ns: see localnet/README.md
}

configure_relayer() {
  local side mnemonic want got
  mnemonic="$(jq -r '.mnemonic // empty' "$OPENGPU_HOME/keyring-test/relayer.json" 2>/dev/null || true)"
  [ -n "$mnemonic" ] || die "no relayer key in $OPENGPU_HOME/keyring-test/relayer.json (start.sh writes it)"
  say "configuring the relayer in $RLY_HOME"
  if stop_relayer; then say "stopped the relayer of the previous chains"; fi
  mkdir -p "$RLY_HOME"
  rm -rf "$RLY_HOME/config" "$RLY_HOME/keys" "$STATE"
  rly config init >/dev/null
  for side in "${SIDES[@]}"; do
    chain_config "$side" >"$RLY_HOME/chain-$side.json"
    rly chains add --file "$RLY_HOME/chain-$side.json" "$side" >/dev/null
    got="$(rly keys restore "$side" relayer "$mnemonic" 2>&1 | tail -n 1)"
    want="$(account "$side" relayer)"
    [ "$got" = "$want" ] || die "relayer key on $side: rly derived '$got', the chain funds '$want'"
  done
  rly paths new "${IBC_CHAIN_ID[market]}" "${IBC_CHAIN_ID[home]}" "$RLY_PATH_NAME" >/dev/null
  jq -n --argjson chains "$FINGERPRINT" '{chains: $chains, verified: null}' >"$STATE"
  say "relayer key $(account market relayer) on both chains; path $RLY_PATH_NAME"
}

if ! configured; then
  [ "$RELAYER_ONLY" -eq 0 ] || die "the relayer in $RLY_HOME is not set up for these chains: run localnet/ibc-start.sh"
  configure_relayer
fi

# --- the link: clients, connection and an open transfer channel on each chain ------------------
declare -A CONN CHANNEL
path_end() { # path_end src|dst FIELD: from the relayer's path config
  rly paths show "$RLY_PATH_NAME" --json | jq -r --arg e "$1" --arg f "$2" '.chains[$e][$f] // empty'
}
# The open transfer channel on the path's market connection whose counterparty, on the home
# chain, is open and points back at it. Sets CHANNEL[market], CHANNEL[home]; false if none.
find_channel() {
  local ch cp other
  CONN[market]="$(path_end src connection-id)"; CONN[home]="$(path_end dst connection-id)"
  [ -n "${CONN[market]}" ] && [ -n "${CONN[home]}" ] || return 1
  for ch in $(q market ibc channel connections "${CONN[market]}" 2>/dev/null | jq -r '
      [.channels[] | select(.state == "STATE_OPEN" and .port_id == "transfer"
                            and .counterparty.port_id == "transfer")]
      | sort_by(.channel_id | ltrimstr("channel-") | tonumber) | .[].channel_id'); do
    cp="$(q market ibc channel end transfer "$ch" | jq -r .channel.counterparty.channel_id)"
    other="$(q home ibc channel end transfer "$cp" 2>/dev/null || true)"
    if [ "$(jq -r '.channel.state // empty' <<<"$other")" = STATE_OPEN ] \
        && [ "$(jq -r '.channel.counterparty.channel_id // empty' <<<"$other")" = "$ch" ] \
        && [ "$(jq -r '.channel.connection_hops[0] // empty' <<<"$other")" = "${CONN[home]}" ]; then
      CHANNEL[market]="$ch"; CHANNEL[home]="$cp"
      return 0
    fi
  done
  return 1
}

if find_channel; then
  say "path $RLY_PATH_NAME already linked: market ${CHANNEL[market]} <-> home ${CHANNEL[home]}"
elif [ "$RELAYER_ONLY" -eq 1 ]; then
  die "path $RLY_PATH_NAME is not linked: run localnet/ibc-start.sh"
else
  # A relayer running on a half-made path (an earlier link that failed) would race the link.
  if stop_relayer; then say "stopped the running relayer for the link"; fi
  say "linking $RLY_PATH_NAME: clients, connection, transfer channel (rly tx link; log $RLY_HOME/link.log)"
  # Always a whole new link: a fresh path (no ids left by an earlier, partial link) and
  # --override. Without it rly reuses any client on the chain whose state names the other chain
  # id, e.g. the client of a home chain that was since reset, and fails ("height requested is
  # too high").
  rly paths delete "$RLY_PATH_NAME" >/dev/null
  rly paths new "${IBC_CHAIN_ID[market]}" "${IBC_CHAIN_ID[home]}" "$RLY_PATH_NAME" >/dev/null
  t="$(now_ms)"
  if ! timeout "$LINK_TIMEOUT" "$RLY" --home "$RLY_HOME" tx link "$RLY_PATH_NAME" --override \
      --src-port transfer --dst-port transfer --version ics20-1 >>"$RLY_HOME/link.log" 2>&1; then
    tail -n 30 "$RLY_HOME/link.log" >&2
    die "rly tx link failed or took more than ${LINK_TIMEOUT}s (log: $RLY_HOME/link.log)"
  fi
  find_channel || die "rly tx link succeeded but no open transfer channel pair was found"
  say "linked in $(since "$t"): market ${CONN[market]} ${CHANNEL[market]} <-> home ${CONN[home]} ${CHANNEL[home]}"
fi

# --- the relayer process ----------------------------------------------------------------------
relayer_pid() { cat "$RLY_PID_FILE" 2>/dev/null || true; }
if is_our_relayer "$(relayer_pid)"; then
  say "relayer already running (pid $(relayer_pid))"
else
  say "starting rly start $RLY_PATH_NAME (log $RLY_LOG)"
  offset="$(stat -c %s "$RLY_LOG" 2>/dev/null || echo 0)"
  # setsid + nohup: it outlives the caller (just, a test harness) until ibc-stop.sh. It opens no
  # port (its debug and metrics servers are off unless asked for): it only dials the two RPCs.
  setsid nohup "$RLY" start "$RLY_PATH_NAME" --home "$RLY_HOME" --log-format logfmt \
    >>"$RLY_LOG" 2>&1 </dev/null &
  echo $! >"$RLY_PID_FILE"
  # Ready when both chain processors report "Chain is in sync" (then packets flow).
  t="$(now_ms)"; deadline=$((SECONDS + 60))
  while :; do
    synced="$(tail -c +"$((offset + 1))" "$RLY_LOG" | grep -F 'Chain is in sync' \
      | grep -oE 'chain_id=[^ ]+' | sort -u | wc -l || true)"
    [ "$synced" -ge 2 ] && break
    if ! kill -0 "$(relayer_pid)" 2>/dev/null; then
      tail -c +"$((offset + 1))" "$RLY_LOG" | tail -n 30 >&2
      die "rly start exited (log: $RLY_LOG)"
    fi
    [ "$SECONDS" -lt "$deadline" ] || die "rly start is running but not in sync with both chains after 60s (log: $RLY_LOG)"
    sleep 0.2
  done
  say "relayer pid $(relayer_pid) in sync with both chains after $(since "$t")"
fi

# --- the ibc/ denoms, and once per channel a transfer that proves them (and the relaying) ------
HOME_ON_MARKET="$(ibc_denom "${CHANNEL[market]}" "${IBC_TOKEN[home]}")"
MARKET_ON_HOME="$(ibc_denom "${CHANNEL[home]}" "${IBC_TOKEN[market]}")"
verified_key="$(jq -nc --arg m "${CHANNEL[market]}" --arg h "${CHANNEL[home]}" '{market: $m, home: $h}')"
if [ "$RELAYER_ONLY" -eq 0 ] && [ "$(jq -c .verified "$STATE")" != "$verified_key" ]; then
  to="$(account market client)"
  say "check: $CHECK_AMOUNT${IBC_TOKEN[home]} from client on home to client on market over ${CHANNEL[home]}"
  before="$(balance market "$to" "$HOME_ON_MARKET")"
  err="$(mktemp)"
  if ! out="$(wasmd tx ibc-transfer transfer transfer "${CHANNEL[home]}" "$to" \
      "$CHECK_AMOUNT${IBC_TOKEN[home]}" --from client --keyring-backend test \
      --home "${NODE0[home]}" --node "$(node_of home)" --chain-id "${IBC_CHAIN_ID[home]}" \
      --gas auto --gas-adjustment 1.4 --gas-prices "$GAS_PRICE" -b sync -y --output json 2>"$err")"; then
    cat "$err" >&2; rm -f "$err"; die "the check transfer was not accepted by the home chain"
  fi
  rm -f "$err"
  [ "$(jq -r .code <<<"$out")" = 0 ] || die "the check transfer was rejected: $(jq -r .raw_log <<<"$out")"
  t="$(now_ms)"; deadline=$((SECONDS + RELAY_TIMEOUT))
  while :; do
    now="$(balance market "$to" "$HOME_ON_MARKET")"
    [ "$now" -lt $((before + CHECK_AMOUNT)) ] || break
    [ "$SECONDS" -lt "$deadline" ] \
      || die "timeout: after ${RELAY_TIMEOUT}s client on market holds $now $HOME_ON_MARKET (expected $((before + CHECK_AMOUNT))): the relayer did not deliver the packet (log: $RLY_LOG)"
    sleep 0.3
  done
  say "relayed in $(since "$t"): client on market holds $now $HOME_ON_MARKET"
  jq --argjson v "$verified_key" '.verified = $v' "$STATE" >"$STATE.tmp" && mv "$STATE.tmp" "$STATE"
fi

# --- the file the tests and ibc-configure.sh read ------------------------------------------------
mkdir -p "$(dirname "$IBC_OUT")"
jq -n --arg mid "${IBC_CHAIN_ID[market]}" --arg mrpc "${CHAIN_RPC[market]}" --arg mdir "${IBC_DIR[market]}" \
  --arg mch "${CHANNEL[market]}" --arg mtok "${IBC_TOKEN[market]}" \
  --arg hid "${IBC_CHAIN_ID[home]}" --arg hrpc "${CHAIN_RPC[home]}" --arg hdir "${IBC_DIR[home]}" \
  --arg hch "${CHANNEL[home]}" --arg htok "${IBC_TOKEN[home]}" \
  --arg hom "$HOME_ON_MARKET" --arg moh "$MARKET_ON_HOME" \
  --arg bin "$RLY" --arg rhome "$RLY_HOME" --arg path "$RLY_PATH_NAME" \
  --arg pid "$RLY_PID_FILE" --arg log "$RLY_LOG" '{
    market: {chain_id: $mid, rpc: $mrpc, home: $mdir, channel: $mch, token: $mtok},
    home: {chain_id: $hid, rpc: $hrpc, home: $hdir, channel: $hch, token: $htok},
    home_token_on_market: $hom,
    market_token_on_home: $moh,
    relayer: {binary: $bin, home: $rhome, path: $path, pid_file: $pid, log: $log}}' \
  >"$IBC_OUT.tmp" && mv "$IBC_OUT.tmp" "$IBC_OUT"

say "ready after $(since "$start_all"); wrote $IBC_OUT"
say "  market ${IBC_CHAIN_ID[market]} ${CHAIN_RPC[market]}  channel ${CHANNEL[market]}  ${IBC_TOKEN[home]} arrives as $HOME_ON_MARKET"
say "  home   ${IBC_CHAIN_ID[home]} ${CHAIN_RPC[home]}  channel ${CHANNEL[home]}  ${IBC_TOKEN[market]} arrives as $MARKET_ON_HOME"
say "  relayer pid $(relayer_pid), path $RLY_PATH_NAME, home $RLY_HOME, log $RLY_LOG"
say "stop: localnet/ibc-stop.sh (the relayer alone: --relayer-only; restart it: ibc-start.sh --relayer-only)"
