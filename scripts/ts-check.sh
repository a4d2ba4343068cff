#!/usr/bin/env bash
# Generates the TypeScript contract clients from the JSON schemas with the pinned
# @cosmwasm/ts-codegen (ts/package.json, ts/package-lock.json) and type-checks them with
# `tsc --strict`: a schema that outside tools cannot use (e.g. an execute and a query variant
# of one contract with the same name, one method with two signatures) fails here.
#
# usage: scripts/ts-check.sh [SCHEMA_DIR]   (default: schema/; clients go to ts/generated/)
# npm packages install into ts/node_modules/ (gitignored) with `npm ci`, only when the lockfile
# or node changed since the last install, so a second run skips the install.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TS="$ROOT/ts"
schema_dir="$(realpath "${1:-$ROOT/schema}")"

say() { printf '[ts-check] %s\n' "$*"; }
die() { printf '[ts-check] error: %s\n' "$*" >&2; exit 1; }

command -v node >/dev/null || die "node not found: install Node.js 20 or newer (with npm) to check the TypeScript clients"
command -v npm >/dev/null || die "npm not found: install npm (it comes with Node.js) to check the TypeScript clients"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || die "node $(node --version) is too old: Node.js 20 or newer is needed"

# Install exactly the lockfile, unless ts/node_modules already holds that install for this node.
stamp="$TS/node_modules/.opengpu-installed"
want="$(cat "$TS/package.json" "$TS/package-lock.json" | sha256sum | cut -d' ' -f1) node $(node --version)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "npm ci (ts/package-lock.json)"
    # --ignore-scripts: nothing here needs an install script (a transitive one only prints).
    (cd "$TS" && npm ci --ignore-scripts --prefer-offline --no-audit --no-fund --loglevel=error)
    echo "$want" >"$stamp"
fi

node "$TS/codegen.mjs" "$schema_dir" "$TS/generated"
"$TS/node_modules/.bin/tsc" --noEmit -p "$TS/tsconfig.json"
say "TypeScript clients of $schema_dir compile under tsc --strict"
