# Shared by the localnet scripts (sourced, not run). Paths, the port scheme, small helpers.
# shellcheck shell=bash disable=SC2034  # (variables here are used by the scripts sourcing it)

shopt -s inherit_errexit   # a failing command inside $(...) fails the substitution too
LOCALNET_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCALNET_DATA="$LOCALNET_ROOT/.cache/localnet"      # default parent of chain homes
LOCALNET_CURRENT="$LOCALNET_DATA/current"            # symlink: the last chain started by default
# Accounts every chain funds. `admin` deploys the contracts; the rest are for the CLI and tests:
# four providers, so that Consensus (k of n) and Auction tasks can be run by hand.
LOCALNET_ACCOUNTS=(admin client provider-1 provider-2 provider-3 provider-4 relayer)
LOCALNET_HD_PATH="m/44'/118'/0'/0/0"

say() { printf '[localnet] %s\n' "$*" >&2; }
die() { printf '[localnet] error: %s\n' "$*" >&2; exit 1; }

# The wasmd binary, built on first use (an instant check afterwards).
wasmd_bin() { "$LOCALNET_ROOT/localnet/build-wasmd.sh"; }
# wasmd v0.61 reads (and creates) client.toml under $HOME/.wasmd on every run, whatever --home
# says, so client.toml settings never apply: we pass --chain-id/--node/--keyring-backend
# explicitly, and run wasmd with a project-owned HOME so that the user's ~/.wasmd is untouched.
WASMD_HOME_ENV="$LOCALNET_ROOT/.cache/wasmd/home"
wasmd() { HOME="$WASMD_HOME_ENV" "$WASMD" "$@"; }

# Port scheme: node i uses the block of ten ports starting at BASE + 10*i, all on 127.0.0.1.
#   +0 CometBFT RPC   +1 P2P   +2 gRPC   +3 REST (API)   +4 pprof   +5 ABCI proxy   +6 Prometheus
# The default base 26657 puts node 0's RPC where every Cosmos tool looks first.
port() { # port BASE NODE OFFSET
  echo $(($1 + 10 * $2 + $3))
}

# The chain home that deploy/stop act on: LOCALNET_HOME, else the default home of
# LOCALNET_CHAIN_ID, else the chain last started with default settings.
resolve_home() {
  if [ -n "${LOCALNET_HOME:-}" ]; then
    echo "$LOCALNET_HOME"
  elif [ -n "${LOCALNET_CHAIN_ID:-}" ]; then
    echo "$LOCALNET_DATA/$LOCALNET_CHAIN_ID"
  elif [ -L "$LOCALNET_CURRENT" ]; then
    readlink -f "$LOCALNET_CURRENT"
  else
    die "no localnet found: run 'just localnet' first (or set LOCALNET_HOME)"
  fi
}

# Sets `key = value` inside [section] of a TOML file ("" = top level); fails when the key is
# absent so that a format change in wasmd's generated configs is noticed, not ignored.
# VALUE is raw TOML: quote strings yourself.
toml_set() { # toml_set FILE SECTION KEY VALUE
  local file="$1" section="$2" key="$3" value="$4" tmp
  tmp="$(mktemp)"
  if ! awk -v sec="$section" -v key="$key" -v val="$value" '
      /^\[.*\]$/ { cur = substr($0, 2, length($0) - 2) }
      cur == sec && $1 == key && $2 == "=" && !done { print key " = " val; done = 1; next }
      { print }
      END { exit done ? 0 : 1 }' "$file" >"$tmp"; then
    rm -f "$tmp"; die "$file: no key '$key' in section [$section]"
  fi
  cat "$tmp" >"$file" && rm -f "$tmp"
}

# Latest block height a node's RPC reports (empty when it does not answer).
rpc_height() { # rpc_height RPC_PORT
  curl -sf --max-time 2 "http://127.0.0.1:$1/status" 2>/dev/null \
    | jq -r '.result.sync_info.latest_block_height // empty' 2>/dev/null || true
}

# True when PID is alive and is a wasmd started with this --home (guards against pid reuse).
is_our_node() { # is_our_node PID NODE_HOME
  [ -n "$1" ] && [ -r "/proc/$1/cmdline" ] \
    && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "wasmd start --home $2 "
}

# --- IBC: two chains and a relayer (ibc-start.sh, ibc-stop.sh, ibc-configure.sh)
# The settings every IBC script shares, from env (defaults: the normal localnet as the market
# chain, opengpu-home on base port 28657 as the home chain, the relayer's home in .cache/relayer).
# Chain data lives under IBC_DIR[market|home]; paths are made absolute (the relayer runs detached).
ibc_settings() {
  declare -gA IBC_CHAIN_ID IBC_BASE IBC_DIR IBC_TOKEN
  IBC_CHAIN_ID[market]="${IBC_MARKET_CHAIN_ID:-opengpu-local}"
  IBC_BASE[market]="${IBC_MARKET_BASE_PORT:-26657}"
  IBC_DIR[market]="$(realpath -m "${IBC_MARKET_HOME:-$LOCALNET_DATA/${IBC_CHAIN_ID[market]}}")"
  IBC_TOKEN[market]=ustake   # what the market chain sends: its staking and fee denom
  IBC_CHAIN_ID[home]="${IBC_HOME_CHAIN_ID:-opengpu-home}"
  IBC_BASE[home]="${IBC_HOME_BASE_PORT:-28657}"
  IBC_DIR[home]="$(realpath -m "${IBC_HOME_HOME:-$LOCALNET_DATA/${IBC_CHAIN_ID[home]}}")"
  IBC_TOKEN[home]=uhome      # the home chain's second genesis token (LOCALNET_TOKEN)
  [ "${IBC_DIR[market]}" != "${IBC_DIR[home]}" ] || die "the market and home chains need two homes, both are ${IBC_DIR[home]}"
  RLY_HOME="$(realpath -m "${IBC_RELAYER_HOME:-$LOCALNET_ROOT/.cache/relayer/home}")"
  RLY_PATH_NAME=market-home
  RLY_PID_FILE="$RLY_HOME/rly.pid"
  RLY_LOG="$RLY_HOME/rly.log"
  IBC_OUT="$(realpath -m "${IBC_FILE:-$LOCALNET_ROOT/localnet/addresses/ibc.json}")"
}

# True when PID is alive and is `rly start <path> --home RLY_HOME` (guards against pid reuse).
is_our_relayer() { # is_our_relayer PID
  [ -n "$1" ] && [ -r "/proc/$1/cmdline" ] \
    && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "rly start $RLY_PATH_NAME --home $RLY_HOME "
}

# Stops the relayer recorded in RLY_PID_FILE (that pid only): SIGTERM, SIGKILL after GRACE s.
stop_relayer() { # stop_relayer [GRACE]
  local pid deadline
  pid="$(cat "$RLY_PID_FILE" 2>/dev/null || true)"
  if ! is_our_relayer "$pid"; then
    rm -f "$RLY_PID_FILE"
    return 1
  fi
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + ${1:-10}))
  while is_our_relayer "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
  if is_our_relayer "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -f "$RLY_PID_FILE"
}
