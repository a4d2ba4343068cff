#!/usr/bin/env bash
# `just provider NAME`: runs opengpu-provider in the foreground as localnet account NAME.
# Writes a default config under .cache/provider/NAME/ (test keyring, the localnet's deployment),
# registers and bonds the account when needed, then runs until Ctrl-C. The daemon is an
# optimized build (`--profile native`: target/native/opengpu-provider): a debug build is several
# times slower to verify and hash results, which a First Response race feels.
#
# Env: OPENGPU_HOME (keyring, default ~/.opengpu, where `just localnet` puts the accounts),
#      LOCALNET_CHAIN_ID (default opengpu-local), PROVIDER_METRICS_PORT (default 9464, plus N
#      for a NAME ending in a digit N), PROVIDER_FLAGS (extra `opengpu-provider init` flags).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NAME="${1:?usage: just provider NAME   (a localnet account, e.g. provider-1)}"
CHAIN_ID="${LOCALNET_CHAIN_ID:-opengpu-local}"
DEPLOYMENT="$ROOT/localnet/addresses/$CHAIN_ID.json"
KEYS="${OPENGPU_HOME:-$HOME/.opengpu}"
DIR="$ROOT/.cache/provider/$NAME"
[[ "$NAME" =~ ([0-9]+)$ ]] && offset="${BASH_REMATCH[1]}" || offset=0
PORT="${PROVIDER_METRICS_PORT:-$((9464 + offset))}"

[ -f "$DEPLOYMENT" ] || { echo "no deployment at $DEPLOYMENT: run \`just localnet\` and \`just deploy\` first" >&2; exit 1; }
[ -f "$KEYS/keyring-test/$NAME.json" ] || { echo "no test key $NAME in $KEYS/keyring-test (accounts: ls $KEYS/keyring-test)" >&2; exit 1; }

cd "$ROOT"
cargo build -q --profile native -p opengpu-provider
BIN="$ROOT/target/native/opengpu-provider"
mkdir -p "$DIR"
# shellcheck disable=SC2086  # PROVIDER_FLAGS is a list of flags
"$BIN" init "$DIR/provider.toml" --force --key "$NAME" --keyring-backend test \
  --keyring-home "$KEYS" --deployment "$DEPLOYMENT" --state-dir "$DIR/state" \
  --metrics-listen "127.0.0.1:$PORT" --moniker "$NAME" ${PROVIDER_FLAGS:-} >/dev/null
"$BIN" --config "$DIR/provider.toml" register
exec "$BIN" --config "$DIR/provider.toml" run
