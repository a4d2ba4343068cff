#!/usr/bin/env bash
# Stops and wipes localnet data. With LOCALNET_HOME (or LOCALNET_CHAIN_ID): that chain's home
# only. Otherwise all of .cache/localnet/ and the addresses files of the chains it held
# (their contracts are gone with the chain). The opengpu CLI's keys in $OPENGPU_HOME are kept:
# the next `just localnet` funds the same accounts again.
set -euo pipefail
# shellcheck source=localnet/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

"$LOCALNET_ROOT/localnet/stop.sh"
if [ -n "${LOCALNET_HOME:-}${LOCALNET_CHAIN_ID:-}" ]; then
  home="$(resolve_home)"
  [ "$(readlink -f "$LOCALNET_CURRENT" 2>/dev/null)" != "$(readlink -f "$home")" ] || rm -f "$LOCALNET_CURRENT"
  rm -rf "$home"
  [ -n "${LOCALNET_HOME:-}" ] || rm -f "$LOCALNET_ROOT/localnet/addresses/$LOCALNET_CHAIN_ID.json"
  say "wiped $home"
else
  for env in "$LOCALNET_DATA"/*/localnet.env; do
    [ -f "$env" ] || continue
    # shellcheck source=/dev/null
    rm -f "$LOCALNET_ROOT/localnet/addresses/$(. "$env" && echo "$CHAIN_ID").json"
  done
  rm -rf "$LOCALNET_DATA"
  say "wiped $LOCALNET_DATA"
fi
