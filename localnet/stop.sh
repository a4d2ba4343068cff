#!/usr/bin/env bash
# Stops localnet nodes: only the pids that start.sh recorded (node*/wasmd.pid), and only while
# that pid is still a `wasmd start --home <that node>` (a reused pid is never signalled).
# SIGTERM first; SIGKILL for any node still alive after LOCALNET_STOP_GRACE seconds (default 10).
#
# Which chains: LOCALNET_HOME, or LOCALNET_CHAIN_ID's default home; with neither, every chain
# under .cache/localnet/.
set -euo pipefail
# shellcheck source=localnet/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
GRACE="${LOCALNET_STOP_GRACE:-10}"

if [ -n "${LOCALNET_HOME:-}${LOCALNET_CHAIN_ID:-}" ]; then
  homes=("$(resolve_home)")
else
  homes=()
  for d in "$LOCALNET_DATA"/*/; do
    [ -d "$d" ] && [ ! -L "${d%/}" ] && homes+=("${d%/}")   # skip the `current` symlink
  done
fi

pids=()
for home in "${homes[@]}"; do
  for pidfile in "$home"/node*/wasmd.pid; do
    [ -f "$pidfile" ] || continue
    pid="$(cat "$pidfile")"
    if is_our_node "$pid" "$(dirname "$pidfile")"; then
      say "stopping $(basename "$home")/$(basename "$(dirname "$pidfile")") (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid:$pidfile")
    else
      rm -f "$pidfile"   # stale: that node is not running
    fi
  done
done
[ "${#pids[@]}" -gt 0 ] || { say "no localnet node is running"; exit 0; }

deadline=$((SECONDS + GRACE))
for entry in "${pids[@]}"; do
  pid="${entry%%:*}"; pidfile="${entry#*:}"
  while is_our_node "$pid" "$(dirname "$pidfile")" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
  if is_our_node "$pid" "$(dirname "$pidfile")"; then
    say "pid $pid still alive after ${GRACE}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
done
say "stopped ${#pids[@]} node(s)"
