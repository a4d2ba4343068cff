#!/usr/bin/env bash
# Builds the pinned wasmd into .cache/wasmd/<version>/bin/wasmd (git-ignored, project-owned) and
# prints that path on stdout. Idempotent: when the binary there already reports the pinned
# version, it returns at once.
#
# What is pinned, and why (the pin itself lives in localnet/wasmd-build/go.mod + go.sum):
# - wasmd v0.61.14: the newest v0.61.x (Cosmos SDK 0.53.6, CometBFT 0.38.21, ibc-go v10.5,
#   wasmvm v3.0.7). CometBFT 0.38 is what tendermint-rpc's compat mode and cosmrs speak; its VM
#   offers capabilities up to cosmwasm_2_2, which is what `just wasm` checks the contracts against.
# - `go install wasmd@version` refuses modules with `replace` directives, so wasmd-build/ is a
#   wrapper module that requires wasmd (as a `tool`) and repeats wasmd's own four replace lines
#   (keyring, jwt-go, gin, goleveldb: copied from wasmd v0.61.14's go.mod).
# - bytedance/sonic v1.15.5 (+ sonic/loader v0.5.3): wasmd pulls v1.14.2, which fails to compile
#   under Go 1.26 (`undefined: GoMapIterator`); >= v1.15 compiles. Nothing else differs from
#   wasmd's own go.mod.
# - The flags mirror wasmd's Makefile: tag netgo (no ledger: not needed for a localnet),
#   -checklinkname=0 (sonic/loader linknames runtime internals), version info via -X so that
#   `wasmd version` prints the pin (the idempotency check below reads it).
# - libwasmvm: wasmvm ships libwasmvm.x86_64.so inside its Go module and links it dynamically
#   (no muslc tag). We copy it next to the binary and add an rpath of $ORIGIN, so the binary
#   runs without LD_LIBRARY_PATH and keeps running after the Go module cache is wiped.
#
# Env: GO (default `go`). Module and build caches go to .cache/go/ so a fresh clone builds
# without touching the user's ~/go; GOFLAGS=-modcacherw keeps that cache deletable with rm -rf.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WRAPPER="$ROOT/localnet/wasmd-build"
VERSION="$(awk '$1 == "github.com/CosmWasm/wasmd" { print $2 }' "$WRAPPER/go.mod")"
[ -n "$VERSION" ] || { echo "no wasmd require line in $WRAPPER/go.mod" >&2; exit 1; }
OUT_DIR="$ROOT/.cache/wasmd/$VERSION/bin"
BIN="$OUT_DIR/wasmd"
# wasmd creates $HOME/.wasmd on any run, even `version`: keep that inside the project cache.
version_of() { HOME="$ROOT/.cache/wasmd/home" "$1" version 2>/dev/null; }

# Fast path: already built (version is checked, not just existence, so a half-written or
# differently pinned binary is rebuilt).
if [ -x "$BIN" ] && [ "$(version_of "$BIN")" = "${VERSION#v}" ]; then
  echo "$BIN"
  exit 0
fi

# One build at a time: CI starts a build early in the background, and `just e2e` then waits
# here for it instead of building a second copy.
mkdir -p "$ROOT/.cache/wasmd"
exec 9>"$ROOT/.cache/wasmd/.build.lock"
flock 9
if [ -x "$BIN" ] && [ "$(version_of "$BIN")" = "${VERSION#v}" ]; then
  echo "$BIN"
  exit 0
fi

GO="${GO:-go}"
command -v "$GO" >/dev/null || { echo "go not found (need Go >= 1.24 with cgo)" >&2; exit 1; }
command -v cc >/dev/null || { echo "a C compiler is needed (cgo links libwasmvm)" >&2; exit 1; }
export GOMODCACHE="$ROOT/.cache/go/mod" GOCACHE="$ROOT/.cache/go/build"
export GOFLAGS="-modcacherw -buildvcs=false -mod=readonly" GOTOOLCHAIN=local CGO_ENABLED=1

echo "[build-wasmd] building wasmd $VERSION with $("$GO" version) (cold: 13 to 20 min on 2 cores)" >&2
start=$SECONDS
mkdir -p "$OUT_DIR"
cd "$WRAPPER"
"$GO" mod download github.com/CosmWasm/wasmd github.com/CosmWasm/wasmvm/v3 >&2

# The shared library the binary needs at run time, next to it ($ORIGIN rpath below).
wasmvm_dir="$("$GO" list -m -f '{{.Dir}}' github.com/CosmWasm/wasmvm/v3)"
install -m 0644 "$wasmvm_dir/internal/api/libwasmvm.$(uname -m).so" "$OUT_DIR/"

sdk=github.com/cosmos/cosmos-sdk/version
ldflags=(-checklinkname=0 -s -w
  -X "$sdk.Name=wasm" -X "$sdk.AppName=wasmd" -X "$sdk.Version=${VERSION#v}"
  -X "$sdk.BuildTags=netgo" -X "github.com/CosmWasm/wasmd/app.Bech32Prefix=wasm"
  "-extldflags=-Wl,-rpath,\$ORIGIN")
"$GO" build -tags netgo -trimpath -ldflags "${ldflags[*]}" -o "$BIN.tmp" \
  github.com/CosmWasm/wasmd/cmd/wasmd
mv "$BIN.tmp" "$BIN"   # only a finished binary ever sits at $BIN

got="$(version_of "$BIN")"
[ "$got" = "${VERSION#v}" ] || { echo "built wasmd reports '$got', expected ${VERSION#v}" >&2; exit 1; }
echo "[build-wasmd] built $BIN in $((SECONDS - start))s" >&2
echo "$BIN"
