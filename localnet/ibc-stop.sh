#!/usr/bin/env bash
# Stops what localnet/ibc-start.sh started: the relayer (only the pid in its pid file, and only
# while that pid is still `rly start <path> --home <relayer home>`), then both chains (stop.sh
# with each chain's LOCALNET_HOME). Idempotent; data is kept (ibc-start.sh resumes it all).
#
# Usage: localnet/ibc-stop.sh                  relayer and both chains
#        localnet/ibc-stop.sh --relayer-only   only the relayer: the chains keep producing blocks,
#                                              packets wait (an outage); `ibc-start.sh
#                                              --relayer-only` starts it again and it catches up
# Env:   the IBC_* variables of ibc-start.sh (IBC_RELAYER_HOME, IBC_MARKET_HOME, ...), so that a
#        private copy is stopped with the same settings it was started with.
set -euo pipefail
# shellcheck source=localnet/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
say() { printf '[ibc] %s\n' "$*" >&2; }
die() { printf '[ibc] error: %s\n' "$*" >&2; exit 1; }

RELAYER_ONLY=0
case "$*" in
  "") ;;
  --relayer-only) RELAYER_ONLY=1 ;;
  *) die "usage: ibc-stop.sh [--relayer-only]" ;;
esac
ibc_settings

pid="$(cat "$RLY_PID_FILE" 2>/dev/null || true)"
if stop_relayer "${LOCALNET_STOP_GRACE:-10}"; then
  say "stopped the relayer (pid $pid, $RLY_HOME)"
else
  say "no relayer running for $RLY_HOME"
fi
[ "$RELAYER_ONLY" -eq 0 ] || exit 0

for side in market home; do
  if [ -d "${IBC_DIR[$side]}" ]; then
    LOCALNET_HOME="${IBC_DIR[$side]}" "$LOCALNET_ROOT/localnet/stop.sh"
  else
    say "no $side chain in ${IBC_DIR[$side]}"
  fi
done
