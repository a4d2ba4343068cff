# Sourced by scripts/web-check.sh, web-serve.sh and web-test.sh: node checks and the npm installs
# of web/ (the explorer) and ts/ (whose pinned @cosmwasm/ts-codegen and codegen.mjs generate
# the explorer's contract clients too: one generator config for both).
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WEB="$ROOT/web"

web_say() { printf '[web] %s\n' "$*"; }
web_die() { printf '[web] error: %s\n' "$*" >&2; exit 1; }

web_require_node() {
  command -v node >/dev/null || web_die "node not found: install Node.js 20.19 or newer (with npm)"
  command -v npm >/dev/null || web_die "npm not found: install npm (it comes with Node.js)"
  # Vite 8 needs node ^20.19 or >= 22.12.
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=12)||(a===20&&b>=19)?0:1)' \
    || web_die "node $(node --version) is too old for Vite 8: Node.js 20.19+ or 22.12+ is needed"
}

# npm_ci_stamped DIR: `npm ci` of DIR's lockfile unless DIR/node_modules already holds exactly
# that install for this node (the same stamp as scripts/ts-check.sh, so the two share ts/'s).
npm_ci_stamped() {
  local dir="$1" stamp want
  stamp="$dir/node_modules/.opengpu-installed"
  want="$(cat "$dir/package.json" "$dir/package-lock.json" | sha256sum | cut -d' ' -f1) node $(node --version)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    web_say "npm ci (${dir#"$ROOT"/}/package-lock.json)"
    # --ignore-scripts: nothing here needs an install script (Vite's native parts come as
    # per-platform packages, not postinstall downloads; playwright-core downloads no browser).
    (cd "$dir" && npm ci --ignore-scripts --prefer-offline --no-audit --no-fund --loglevel=error)
    echo "$want" >"$stamp"
  fi
}

web_install() {
  web_require_node
  npm_ci_stamped "$WEB"
}

# web_codegen OUT_DIR: the contract clients of schema/ as ts/codegen.mjs generates them.
web_codegen() {
  npm_ci_stamped "$ROOT/ts"
  node "$ROOT/ts/codegen.mjs" "$ROOT/schema" "$1" >/dev/null
}

web_build() {
  (cd "$WEB" && ./node_modules/.bin/vite build --logLevel warn)
}
