#!/usr/bin/env bash
# Starts a wasmd localnet of N validators (default 1), each its own `wasmd` process on loopback,
# and returns once every node is past block 2 and has committed a new block. A chain already
# initialised in its home resumes (no re-init); nodes already running are left alone.
#
# Usage: localnet/start.sh [N]
# Env:   LOCALNET_CHAIN_ID   default opengpu-local (N=1) / opengpu-multi (N>1)
#        LOCALNET_HOME       default .cache/localnet/<chain-id>
#        LOCALNET_BASE_PORT  default 26657 (node 0's RPC; see the port scheme in lib.sh)
#        LOCALNET_BLOCK_TIME default 200ms (CometBFT timeout_commit)
#        LOCALNET_START_TIMEOUT seconds to wait for blocks, default 120
#        LOCALNET_LOG_LEVEL  wasmd log level, default info
#        LOCALNET_TOKEN      the second genesis token of each named account, default uatom
#                            (the IBC home chain uses uhome; fees and staking stay ustake)
#        OPENGPU_HOME        where the opengpu CLI keeps keys, default ~/.opengpu
set -euo pipefail
# shellcheck source=localnet/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N="${1:-1}"
[[ "$N" =~ ^[1-9][0-9]?$ ]] || die "the number of validators must be 1..99, got '$N'"
if [ "$N" -eq 1 ]; then default_id=opengpu-local; else default_id=opengpu-multi; fi
CHAIN_ID="${LOCALNET_CHAIN_ID:-$default_id}"
HOME_DIR="${LOCALNET_HOME:-$LOCALNET_DATA/$CHAIN_ID}"
BASE="${LOCALNET_BASE_PORT:-26657}"
BLOCK_TIME="${LOCALNET_BLOCK_TIME:-200ms}"
TIMEOUT="${LOCALNET_START_TIMEOUT:-120}"
LOG_LEVEL="${LOCALNET_LOG_LEVEL:-info}"
[[ "$BLOCK_TIME" =~ ^[0-9]+(ms|s)$ ]] || die "LOCALNET_BLOCK_TIME must look like 200ms or 1s, got '$BLOCK_TIME'"
if ! [[ "$BASE" =~ ^[0-9]+$ ]] || [ "$BASE" -lt 1024 ] || [ "$(port "$BASE" "$N" 0)" -gt 65535 ]; then
  die "LOCALNET_BASE_PORT must leave room for $N node(s) of 10 ports in 1024..65535, got '$BASE'"
fi
OPENGPU_HOME="${OPENGPU_HOME:-$HOME/.opengpu}"
DENOM=ustake
TOKEN="${LOCALNET_TOKEN:-uatom}"
[[ "$TOKEN" =~ ^[a-zA-Z][a-zA-Z0-9/:._-]{2,127}$ ]] && [ "$TOKEN" != "$DENOM" ] \
  || die "LOCALNET_TOKEN must be a plain denom other than $DENOM (like uatom), got '$TOKEN'"
# Genesis balances (in init_chain): 10^12 ustake + 10^12 $TOKEN per named account, 10^12 ustake
# per validator, which self-delegates 10^11 (100000 voting power each).
SELF_DELEGATION="100000000000$DENOM"
ENV_FILE="$HOME_DIR/localnet.env"   # written last by init: its presence marks a complete init
INIT_LOG="$HOME_DIR/init.log"
for tool in jq curl setsid; do command -v "$tool" >/dev/null || die "$tool is needed"; done
WASMD="$(wasmd_bin)"

run() { # run CMD...: wasmd's chatty output goes to init.log, shown when a step fails
  "$@" >>"$INIT_LOG" 2>&1 || { tail -n 20 "$INIT_LOG" >&2; die "failed: $*"; }
}
node_home() { echo "$HOME_DIR/node$1"; }
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
check_ports() { # check_ports I: node I's listening ports are free (else fail before doing anything)
  local off p
  for off in 0 1 2 3 4; do
    p="$(port "$BASE" "$1" "$off")"
    ! port_in_use "$p" || die "127.0.0.1:$p (node$1) is taken by another process; pick another LOCALNET_BASE_PORT"
  done
}

# A named account's mnemonic: reuse the one the opengpu CLI already holds, so that every local
# chain (and every reset) funds the same addresses; otherwise wasmd generates a new one.
add_account() { # add_account NAME -> prints {"name","address","mnemonic","hd_path"}
  local name="$1" keyfile="$OPENGPU_HOME/keyring-test/$1.json" mnemonic="" out
  local keyring=(--keyring-backend test --home "$(node_home 0)" --output json)
  [ -f "$keyfile" ] && mnemonic="$(jq -r '.mnemonic // empty' "$keyfile")"
  if [ -n "$mnemonic" ]; then
    out="$(printf '%s\n' "$mnemonic" | wasmd keys add "$name" --recover "${keyring[@]}" 2>>"$INIT_LOG")"
  else
    out="$(wasmd keys add "$name" "${keyring[@]}" 2>>"$INIT_LOG")"
    mnemonic="$(jq -r .mnemonic <<<"$out")"
  fi
  jq -n --arg name "$name" --arg address "$(jq -r .address <<<"$out")" \
    --arg mnemonic "$mnemonic" --arg hd_path "$LOCALNET_HD_PATH" \
    '{name: $name, address: $address, mnemonic: $mnemonic, hd_path: $hd_path}'
}

configure_node() { # configure_node I: loopback ports, peers, fast blocks, gas price, APIs
  local i="$1" h cfg app peers="" j
  h="$(node_home "$i")"; cfg="$h/config/config.toml"; app="$h/config/app.toml"
  for ((j = 0; j < N; j++)); do
    [ "$j" -eq "$i" ] || peers+="${peers:+,}${NODE_ID[$j]}@127.0.0.1:$(port "$BASE" "$j" 1)"
  done
  toml_set "$cfg" "" proxy_app "\"tcp://127.0.0.1:$(port "$BASE" "$i" 5)\""
  toml_set "$cfg" rpc laddr "\"tcp://127.0.0.1:$(port "$BASE" "$i" 0)\""
  toml_set "$cfg" rpc pprof_laddr "\"127.0.0.1:$(port "$BASE" "$i" 4)\""
  # The market explorer (web/) is a page that calls the RPC itself from its own origin; the node
  # listens on loopback only, so any origin may read it.
  toml_set "$cfg" rpc cors_allowed_origins '["*"]'
  toml_set "$cfg" p2p laddr "\"tcp://127.0.0.1:$(port "$BASE" "$i" 1)\""
  toml_set "$cfg" p2p external_address "\"127.0.0.1:$(port "$BASE" "$i" 1)\""
  toml_set "$cfg" p2p persistent_peers "\"$peers\""
  toml_set "$cfg" p2p addr_book_strict false   # peers are on 127.0.0.1, a "non-routable" address
  toml_set "$cfg" p2p allow_duplicate_ip true  # several peers share one IP
  toml_set "$cfg" consensus timeout_commit "\"$BLOCK_TIME\""
  # The market takes 1 MiB of kernel inputs: base64 in the message's JSON makes that a 1.4 MB
  # transaction, which reaches the RPC base64-encoded again in a JSON body (broadcast_tx_sync)
  # or hex-encoded in an abci_query (simulation, 2.8 MB). The defaults, 1 MiB per tx and 1 MB
  # per body, refuse both; the genesis block limit (21 MiB) already takes such a tx.
  toml_set "$cfg" mempool max_tx_bytes 4194304
  toml_set "$cfg" rpc max_body_bytes 8388608
  toml_set "$cfg" instrumentation prometheus_listen_addr "\"127.0.0.1:$(port "$BASE" "$i" 6)\""
  toml_set "$app" "" minimum-gas-prices "\"0.025$DENOM\""
  # A smart query pays 3 gas per byte it reads and 1 per byte of base64 it returns (measured:
  # 6.9M for the Task query of a kernel with 1 MiB of inputs, 3.1M for the Result query of
  # 512 KiB of outputs). wasmd's default limit, 3M, stops near 440 KiB of inputs, so a provider
  # could not even read a larger task.
  toml_set "$app" wasm query_gas_limit 20000000
  toml_set "$app" api enable true
  toml_set "$app" api address "\"tcp://127.0.0.1:$(port "$BASE" "$i" 3)\""
  toml_set "$app" grpc enable true
  toml_set "$app" grpc address "\"127.0.0.1:$(port "$BASE" "$i" 2)\""
}

init_chain() {
  say "initialising $CHAIN_ID: $N validator(s) in $HOME_DIR"
  rm -rf "$HOME_DIR"/node* "$HOME_DIR/accounts.json" "$INIT_LOG"
  mkdir -p "$HOME_DIR"
  local i h n0 accounts="[]" name val_addrs=() genesis_accounts="$HOME_DIR/genesis-accounts.json"
  n0="$(node_home 0)"
  NODE_ID=()
  for ((i = 0; i < N; i++)); do
    h="$(node_home "$i")"
    run wasmd init "node$i" --chain-id "$CHAIN_ID" --default-denom "$DENOM" --home "$h"
    NODE_ID[i]="$(wasmd comet show-node-id --home "$h")"
    val_addrs+=("$(wasmd keys add val --keyring-backend test --home "$h" --output json 2>>"$INIT_LOG" | jq -r .address)")
  done
  for name in "${LOCALNET_ACCOUNTS[@]}"; do
    accounts="$(jq --argjson a "$(add_account "$name")" '. + [$a]' <<<"$accounts")"
  done
  # Genesis balances, in one call: each named account, then each validator (for its gentx).
  jq -n --argjson accounts "$accounts" --arg stake "$DENOM" --arg token "$TOKEN" --args '
      [$accounts[] | {address, coins: [{denom: $stake, amount: "1000000000000"},
                                       {denom: $token, amount: "1000000000000"}] | sort_by(.denom)}]
      + [$ARGS.positional[] | {address: ., coins: [{denom: $stake, amount: "1000000000000"}]}]' \
    "${val_addrs[@]}" >"$genesis_accounts"
  run wasmd genesis bulk-add-genesis-account "$genesis_accounts" --home "$n0"
  rm -f "$genesis_accounts"
  # One gentx per validator, each signed in its own node home, collected by node 0.
  mkdir -p "$n0/config/gentx"
  for ((i = 0; i < N; i++)); do
    h="$(node_home "$i")"
    [ "$i" -eq 0 ] || cp "$n0/config/genesis.json" "$h/config/genesis.json"
    run wasmd genesis gentx val "$SELF_DELEGATION" --chain-id "$CHAIN_ID" --moniker "node$i" \
      --keyring-backend test --home "$h" --ip 127.0.0.1 --p2p-port "$(port "$BASE" "$i" 1)" \
      --output-document "$n0/config/gentx/gentx-node$i.json"
  done
  run wasmd genesis collect-gentxs --home "$n0"
  run wasmd genesis validate --home "$n0"
  for ((i = 0; i < N; i++)); do
    [ "$i" -eq 0 ] || cp "$n0/config/genesis.json" "$(node_home "$i")/config/genesis.json"
    configure_node "$i"
  done
  (umask 077 && jq . <<<"$accounts" >"$HOME_DIR/accounts.json")
  {
    printf 'CHAIN_ID=%q\nNODES=%q\nBASE_PORT=%q\n' "$CHAIN_ID" "$N" "$BASE"
    printf 'RPC=%q\nGRPC=%q\nREST=%q\n' "http://127.0.0.1:$(port "$BASE" 0 0)" \
      "http://127.0.0.1:$(port "$BASE" 0 2)" "http://127.0.0.1:$(port "$BASE" 0 3)"
  } >"$ENV_FILE"
}

# The opengpu CLI's test keyring: one file per account. An existing file with another mnemonic
# is kept (it may be the user's) and reported; accounts.json always has the chain's keys.
write_cli_keys() {
  local dir="$OPENGPU_HOME/keyring-test" name file
  mkdir -p "$dir" && chmod 700 "$dir"
  for name in "${LOCALNET_ACCOUNTS[@]}"; do
    file="$dir/$name.json"
    local key
    key="$(jq --arg n "$name" '.[] | select(.name == $n)' "$HOME_DIR/accounts.json")"
    if [ -z "$key" ]; then   # a chain initialised before this account joined the list
      say "warning: this chain has no '$name' account (initialised with an older list); 'just localnet-reset' funds it"
      continue
    fi
    if [ -f "$file" ] && [ "$(jq -r .mnemonic "$file")" != "$(jq -r .mnemonic <<<"$key")" ]; then
      say "warning: $file holds another key; this chain's '$name' is in $HOME_DIR/accounts.json"
      continue
    fi
    (umask 077 && printf '%s\n' "$key" >"$file")
  done
}

stop_started() { # on a failed start: stop the nodes this run started, show their logs
  local i pid
  for i in "${STARTED[@]}"; do
    echo "--- node$i log (last 25 lines): $(node_home "$i")/wasmd.log" >&2
    tail -n 25 "$(node_home "$i")/wasmd.log" >&2 || true
    pid="$(cat "$(node_home "$i")/wasmd.pid" 2>/dev/null || true)"
    if is_our_node "$pid" "$(node_home "$i")"; then kill "$pid" 2>/dev/null || true; fi
  done
  die "$1 (stopped the nodes this run started)"
}

# --- init, unless this home already holds a chain
if [ -f "$ENV_FILE" ]; then
  # shellcheck source=/dev/null
  source "$ENV_FILE"
  [ "$NODES" -eq "$N" ] || die "$HOME_DIR holds a $NODES-validator chain; run 'just localnet $NODES', or reset it"
  BASE="$BASE_PORT"
  say "resuming $CHAIN_ID ($NODES validator(s)) from $HOME_DIR"
else
  for ((i = 0; i < N; i++)); do check_ports "$i"; done
  init_chain
fi
write_cli_keys
[ -n "${LOCALNET_HOME:-}" ] || { mkdir -p "$LOCALNET_DATA" && ln -sfn "$HOME_DIR" "$LOCALNET_CURRENT"; }

# --- start each node that is not running yet
STARTED=()
start=$SECONDS
for ((i = 0; i < N; i++)); do
  h="$(node_home "$i")"
  if is_our_node "$(cat "$h/wasmd.pid" 2>/dev/null || true)" "$h"; then
    say "node$i already running (pid $(cat "$h/wasmd.pid"))"
    continue
  fi
  check_ports "$i"
  # setsid: the node outlives the caller's process group (just, a test harness); nohup: and its
  # terminal. The recorded pid is what stop.sh will signal, and nothing else.
  HOME="$WASMD_HOME_ENV" setsid nohup "$WASMD" start --home "$h" --log_no_color --log_level "$LOG_LEVEL" >>"$h/wasmd.log" 2>&1 </dev/null &
  echo $! >"$h/wasmd.pid"
  STARTED+=("$i")
done

# --- wait until every node is at height >= 2 and has committed a block since it first answered
# (a resumed chain answers with its old height at once: that alone proves nothing)
declare -A FIRST
deadline=$((SECONDS + TIMEOUT))
while :; do
  ready=0
  for ((i = 0; i < N; i++)); do
    h="$(node_home "$i")"
    pid="$(cat "$h/wasmd.pid")"
    if ! is_our_node "$pid" "$h"; then
      # A node launched a moment ago may not have exec'd into wasmd yet (its cmdline is still
      # this script's): only a pid that is gone means the node exited.
      kill -0 "$pid" 2>/dev/null || stop_started "node$i exited"
      continue
    fi
    height="$(rpc_height "$(port "$BASE" "$i" 0)")"
    [ -n "$height" ] || continue
    [ -n "${FIRST[$i]:-}" ] || FIRST[$i]="$height"
    if [ "$height" -ge 2 ] && [ "$height" -gt "${FIRST[$i]}" ]; then ready=$((ready + 1)); fi
  done
  [ "$ready" -eq "$N" ] && break
  [ "$SECONDS" -lt "$deadline" ] || stop_started "no blocks after ${TIMEOUT}s"
  sleep 0.3
done

say "$CHAIN_ID is producing blocks: height $(rpc_height "$BASE") after $((SECONDS - start))s"
for ((i = 0; i < N; i++)); do
  say "  node$i pid $(cat "$(node_home "$i")/wasmd.pid")  rpc http://127.0.0.1:$(port "$BASE" "$i" 0)  grpc 127.0.0.1:$(port "$BASE" "$i" 2)  rest http://127.0.0.1:$(port "$BASE" "$i" 3)"
done
say "accounts: $HOME_DIR/accounts.json (also in $OPENGPU_HOME/keyring-test/)"
say "wasmd CLI: $WASMD <cmd> --home $(node_home 0) --keyring-backend test --chain-id $CHAIN_ID --node tcp://127.0.0.1:$BASE"
say "stop: just localnet-stop"
