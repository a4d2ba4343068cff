#!/usr/bin/env bash
# `just web`: builds the market explorer and serves web/dist/ on loopback for the running
# `just localnet`, with its deployment file (localnet/addresses/<chain-id>.json) as the page's
# default ./deployment.json. The page then talks to the node's RPC itself: no server of ours.
#
# usage: scripts/web-serve.sh [--no-build]
# env:   WEB_PORT (default 5173), LOCALNET_ADDRESSES (default localnet/addresses/opengpu-local.json
#        or the one file there), WEB_HOST (default 127.0.0.1)
set -euo pipefail
# shellcheck source=scripts/web-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/web-lib.sh"

PORT="${WEB_PORT:-5173}"
HOST="${WEB_HOST:-127.0.0.1}"
deployment="${LOCALNET_ADDRESSES:-$ROOT/localnet/addresses/${LOCALNET_CHAIN_ID:-opengpu-local}.json}"

web_install
[ "${1:-}" = "--no-build" ] && [ -f "$WEB/dist/index.html" ] || web_build
if [ -f "$deployment" ]; then
  cp "$deployment" "$WEB/dist/deployment.json"
  rpc="$(jq -r '.rpc // "http://127.0.0.1:26657"' "$deployment")"
  if ! curl -sf --max-time 2 "$rpc/status" >/dev/null; then
    web_say "warning: the node at $rpc does not answer (start it: just localnet); the page will say so and retry"
  elif ! curl -sf --max-time 2 -H "Origin: http://$HOST:$PORT" -D - -o /dev/null "$rpc/status" \
       | grep -qi '^access-control-allow-origin'; then
    web_say "warning: the node at $rpc does not allow other origins (CORS), so the page cannot read it."
    web_say "  Chains initialised by localnet/start.sh since the explorer allow any origin; for this one set"
    web_say "  cors_allowed_origins = [\"*\"] under [rpc] in its node's config/config.toml and restart it"
    web_say "  (just localnet-stop && just localnet), or start afresh: just localnet-reset && just localnet && just deploy"
  fi
else
  rm -f "$WEB/dist/deployment.json"
  web_say "warning: no deployment file $deployment (run just deploy); give one in the page's Settings"
fi
web_say "market explorer: http://$HOST:$PORT/  (Ctrl-C stops it)"
cd "$WEB" && exec ./node_modules/.bin/vite preview --host "$HOST" --port "$PORT" --strictPort
