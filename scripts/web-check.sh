#!/usr/bin/env bash
# The market explorer's checks (`just web-check`, part of `just test`): npm ci when the lockfile
# changed; the contract clients in web/src/contracts/ are what ts/codegen.mjs generates from
# schema/ now (else: run `scripts/web-check.sh --regen`, i.e. `just web-codegen`); tsc --strict
# on the app and on the browser tests; eslint; vite build into web/dist/.
#
# usage: scripts/web-check.sh [--regen]   (--regen: rewrite web/src/contracts/ first)
set -euo pipefail
# shellcheck source=scripts/web-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/web-lib.sh"

web_install
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
web_codegen "$tmp/contracts"
if [ "${1:-}" = "--regen" ]; then
  rm -rf "$WEB/src/contracts" && cp -r "$tmp/contracts" "$WEB/src/contracts"
  web_say "web/src/contracts/ regenerated from schema/"
elif ! diff -r "$WEB/src/contracts" "$tmp/contracts" >"$tmp/diff"; then
  head -n 40 "$tmp/diff" >&2
  web_die "web/src/contracts/ is stale (schema/ changed): run just web-codegen"
fi
cd "$WEB"
./node_modules/.bin/tsc --noEmit -p tsconfig.json
./node_modules/.bin/tsc --noEmit -p tsconfig.tests.json
./node_modules/.bin/eslint --max-warnings 0 .
web_build
web_say "ok: contract clients current, tsc --strict, eslint, vite build into web/dist/"
