#!/usr/bin/env bash
# Builds the pinned IBC relayer (the Go relayer, `rly`) into .cache/relayer/<version>/bin/rly
# (git-ignored, project-owned) and prints that path on stdout. Idempotent: when the binary there
# already reports the pinned version, it returns at once. localnet/ibc-start.sh uses it to join
# two local wasmd chains (localnet/README.md, "IBC: two chains and a relayer").
#
# What is pinned, and why (the pin itself lives in localnet/relayer-build/go.mod + go.sum):
# - github.com/cosmos/relayer/v2 v2.6.0, the Go relayer. It is built on ibc-go v8 and SDK 0.50,
#   but IBC (classic ICS-02/03/04/20) is a wire protocol: it links, relays and times out for
#   wasmd v0.61.14 (ibc-go v10.5, SDK 0.53); checked by localnet/ibc-start.sh on every fresh
#   link, which sends an ICS-20 transfer and waits for it on the other chain.
# - Not Hermes: Hermes 1.13.2 (`ibc-relayer-cli` on crates.io) does not build offline, a build
#   script downloads Penumbra proof parameters.
# - `go install github.com/cosmos/relayer/v2@v2.6.0` asks the module proxy for the version list,
#   which is refused here; relayer-build/ is a wrapper module that requires the relayer as a
#   `tool` (no replace lines needed) and builds it with -mod=readonly from the committed go.sum.
# - Version info by -X, as the relayer's Makefile does, so that `rly version --json` reports
#   "version": "2.6.0": that is what makes a second run instant.
#
# Env: GO (default `go`). Module and build caches go to .cache/go/ (shared with build-wasmd.sh)
# so a fresh clone builds without touching the user's ~/go; GOFLAGS=-modcacherw keeps that cache
# deletable with rm -rf. Cold build: 4 to 6 min on 2 cores (0.5 min of it downloading modules).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WRAPPER="$ROOT/localnet/relayer-build"
VERSION="$(awk '$1 == "github.com/cosmos/relayer/v2" { print $2 }' "$WRAPPER/go.mod")"
[ -n "$VERSION" ] || { echo "no relayer require line in $WRAPPER/go.mod" >&2; exit 1; }
OUT_DIR="$ROOT/.cache/relayer/$VERSION/bin"
BIN="$OUT_DIR/rly"
# `rly` reads $HOME/.relayer/config/config.yaml unless --home: point it at an empty directory.
version_of() {
  "$1" version --json --home "$ROOT/.cache/relayer/version-home" 2>/dev/null | jq -r '.version // empty' 2>/dev/null
}

# Fast path: already built (version is checked, not just existence, so a half-written or
# differently pinned binary is rebuilt).
if [ -x "$BIN" ] && [ "$(version_of "$BIN")" = "${VERSION#v}" ]; then
  echo "$BIN"
  exit 0
fi

# One build at a time: CI starts a build early in the background, and a later `just ibc` (or a
# test) waits here for it instead of building a second copy.
mkdir -p "$ROOT/.cache/relayer"
exec 9>"$ROOT/.cache/relayer/.build.lock"
flock 9
if [ -x "$BIN" ] && [ "$(version_of "$BIN")" = "${VERSION#v}" ]; then
  echo "$BIN"
  exit 0
fi

GO="${GO:-go}"
command -v "$GO" >/dev/null || { echo "go not found (need Go >= 1.26)" >&2; exit 1; }
command -v jq >/dev/null || { echo "jq is needed" >&2; exit 1; }
export GOMODCACHE="$ROOT/.cache/go/mod" GOCACHE="$ROOT/.cache/go/build"
export GOFLAGS="-modcacherw -buildvcs=false -mod=readonly" GOTOOLCHAIN=local

echo "[build-relayer] building rly $VERSION with $("$GO" version) (cold: 4 to 6 min on 2 cores)" >&2
start=$SECONDS
mkdir -p "$OUT_DIR"
cd "$WRAPPER"
pkg=github.com/cosmos/relayer/v2/cmd
ldflags=(-s -w -X "$pkg.Version=${VERSION#v}" -X "$pkg.Dirty=0")
"$GO" build -trimpath -ldflags "${ldflags[*]}" -o "$BIN.tmp" github.com/cosmos/relayer/v2
mv "$BIN.tmp" "$BIN"   # only a finished binary ever sits at $BIN

got="$(version_of "$BIN")"
[ "$got" = "${VERSION#v}" ] || { echo "built rly reports '$got', expected ${VERSION#v}" >&2; exit 1; }
echo "[build-relayer] built $BIN in $((SECONDS - start))s" >&2
echo "$BIN"
