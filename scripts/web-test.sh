#!/usr/bin/env bash
# Browser tests of the market explorer (`just web-test`, part of `just test`): a private wasmd
# chain on loopback (base port WEB_TEST_BASE_PORT, default 27600) with the contracts deployed,
# provider-1 registered and bonded, the built page served by `vite preview` on 127.0.0.1, and
# web/tests/explorer.test.mjs driving Debian's Chromium (/usr/bin/chromium) with playwright-core
# (no browser download). The test publishes tasks with the `opengpu` CLI, starts the provider
# daemon itself once the page shows the first task open, and stops the node at the end.
# Screenshots of every page go to web/dist/screenshots/; web/screenshots/market.png (the
# README's) is written when missing or with WEB_SCREENSHOTS_UPDATE=1. Cleans up on exit.
#
# Binaries: $OPENGPU_BIN / $PROVIDER_BIN, else target/debug (as `just e2e` leaves them), else
# target/native, else `cargo build -p opengpu-cli -p opengpu-provider`.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/private-chain.sh
source "$HERE/private-chain.sh"
# shellcheck source=scripts/web-lib.sh
source "$HERE/web-lib.sh"

BASE_PORT="${WEB_TEST_BASE_PORT:-27600}"
WEB_PORT="${WEB_TEST_PORT:-$((BASE_PORT + 90))}"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
[ -x "$CHROMIUM" ] || web_die "no Chromium at $CHROMIUM: run scripts/install-tools.sh (it installs Debian's chromium)"

pick() { # pick NAME: the first of target/debug, target/native holding NAME
  local d
  for d in debug native; do
    [ -x "$ROOT/target/$d/$1" ] && { echo "$ROOT/target/$d/$1"; return; }
  done
}
OPENGPU="${OPENGPU_BIN:-$(pick opengpu)}"
PROVIDER="${PROVIDER_BIN:-$(pick opengpu-provider)}"
if [ -z "$OPENGPU" ] || [ -z "$PROVIDER" ]; then
  web_say "building opengpu and opengpu-provider (debug)"
  (cd "$ROOT" && cargo build -q -p opengpu-cli -p opengpu-provider)
  OPENGPU="$ROOT/target/debug/opengpu"; PROVIDER="$ROOT/target/debug/opengpu-provider"
fi
"$ROOT/localnet/build-wasmd.sh" >/dev/null
for name in registry task_market staking_vault verification; do
  [ -f "$ROOT/artifacts/opengpu_$name.wasm" ] || { (cd "$ROOT" && just wasm); break; }
done

server_pid=""
on_exit() {
  local status=$?
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  # The daemon the test started (its pid file), stopped by private_chain_cleanup like its own.
  if [ -n "$PRIVATE_DIR" ] && [ -f "$PRIVATE_DIR/provider.pid" ]; then provider_pid="$(cat "$PRIVATE_DIR/provider.pid")"; fi
  if [ "$status" -ne 0 ] && [ -n "$PRIVATE_DIR" ] && [ -f "$PRIVATE_DIR/provider.log" ]; then
    echo "web-test failed (exit $status); provider log (last 20 lines):" >&2
    tail -n 20 "$PRIVATE_DIR/provider.log" >&2
  fi
  private_chain_cleanup
}
trap on_exit EXIT

start=$SECONDS
web_install
web_build
web_say "chain: one validator on 127.0.0.1:$BASE_PORT, contracts deployed"
chain_log="$(mktemp)"
if ! private_chain_start web-test "$BASE_PORT" >"$chain_log" 2>&1; then
  tail -n 30 "$chain_log" >&2; rm -f "$chain_log"; web_die "the private chain did not start"
fi
rm -f "$chain_log"
[ -f "$DEPLOYMENT" ] || web_die "deployment failed (no $DEPLOYMENT)"
cp "$DEPLOYMENT" "$WEB/dist/deployment.json"

# provider-1: configured, registered and bonded now; the test starts its daemon when it needs it.
PROVIDER_CONFIG="$PRIVATE_DIR/provider-1.toml"
"$PROVIDER" init "$PROVIDER_CONFIG" --key provider-1 --keyring-backend test \
  --keyring-home "$OPENGPU_HOME" --deployment "$DEPLOYMENT" \
  --state-dir "$PRIVATE_DIR/provider-1-state" --metrics-listen 127.0.0.1:0 \
  --moniker provider-1 --price 1000uatom --accept-unverified >/dev/null
"$PROVIDER" --config "$PROVIDER_CONFIG" register >/dev/null

(cd "$WEB" && exec ./node_modules/.bin/vite preview --host 127.0.0.1 --port "$WEB_PORT" --strictPort) \
  >"$PRIVATE_DIR/preview.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$WEB_PORT/deployment.json" >/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$PRIVATE_DIR/preview.log" >&2; web_die "vite preview exited"; }
  sleep 0.1
done
web_say "page at http://127.0.0.1:$WEB_PORT/ ($((SECONDS - start))s of setup)"

export WEB_URL="http://127.0.0.1:$WEB_PORT/" CHROMIUM OPENGPU PROVIDER PROVIDER_CONFIG \
  PROVIDER_LOG="$PRIVATE_DIR/provider.log" PROVIDER_PID_FILE="$PRIVATE_DIR/provider.pid" \
  DEPLOYMENT OPENGPU_HOME PRIVATE_DIR ROOT \
  SCREENSHOTS="$WEB/dist/screenshots" README_SCREENSHOTS="$WEB/screenshots"
node "$WEB/tests/explorer.test.mjs"
web_say "ok in $((SECONDS - start))s"
