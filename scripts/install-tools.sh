#!/usr/bin/env bash
# Installs the build tools the justfile needs into .cache/tools/ (gitignored, project-owned).
# Idempotent: each tool is checked by version first, so a second run takes about a second.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.cache/tools"
JUST_VERSION=1.59.0            # PyPI rust-just ships a prebuilt `just` binary
BINARYEN_VERSION=132.0.0       # Debian's binaryen (v108) is too old for --llvm-memory-copy-fill-lowering
COSMWASM_CHECK_VERSION=3.0.10  # 3.0.11 needs rustc 1.96
mkdir -p "$TOOLS/bin"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"   # rustup's default home, for shells that lack it

say() { printf '[install-tools] %s\n' "$*"; }

# Toolchain: the channel, components and wasm target come from rust-toolchain.toml.
# --no-self-update: without it rustup may replace the machine's own rustup binary.
command -v rustup >/dev/null || { say "rustup not found: install Rust via rustup first"; exit 1; }
installed="$(RUSTUP_AUTO_INSTALL=0 rustup component list --installed 2>/dev/null || true)"
if ! grep -q '^rust-std-wasm32-unknown-unknown' <<<"$installed" \
   || ! grep -q '^clippy' <<<"$installed" || ! grep -q '^rustfmt' <<<"$installed"; then
  say "rustup: installing toolchain, components and target from rust-toolchain.toml"
  rustup toolchain install --no-self-update
  rustup component add rustfmt clippy
  rustup target add wasm32-unknown-unknown
fi

# OpenCL on the CPU (PoCL) and the ICD loader the provider links against, from Debian.
if [ ! -e /etc/OpenCL/vendors/pocl.icd ] || ! ldconfig -p | grep -q 'libOpenCL\.so '; then
  say "installing PoCL and the OpenCL ICD loader (apt)"
  sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo -n)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get install -y -q pocl-opencl-icd ocl-icd-opencl-dev >/dev/null \
    || { "${sudo_cmd[@]}" apt-get update -q >/dev/null \
         && "${sudo_cmd[@]}" apt-get install -y -q pocl-opencl-icd ocl-icd-opencl-dev >/dev/null; }
fi

# Chromium from Debian, for the market explorer's browser tests (scripts/web-test.sh drives it
# with playwright-core; no browser download).
if [ ! -x /usr/bin/chromium ]; then
  say "installing Chromium (apt)"
  sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo -n)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get install -y -q chromium >/dev/null \
    || { "${sudo_cmd[@]}" apt-get update -q >/dev/null \
         && "${sudo_cmd[@]}" apt-get install -y -q chromium >/dev/null; }
fi

# just, from PyPI (wheel contains the native binary); installed into its own --target dir.
if [ "$("$TOOLS/bin/just" --version 2>/dev/null)" != "just $JUST_VERSION" ]; then
  say "installing just $JUST_VERSION (PyPI rust-just)"
  rm -rf "$TOOLS/just"
  if python3 -m pip install --quiet --no-input --disable-pip-version-check --root-user-action=ignore \
       --target "$TOOLS/just" "rust-just==$JUST_VERSION" && [ -x "$TOOLS/just/bin/just" ]; then
    ln -sf ../just/bin/just "$TOOLS/bin/just"
  else
    say "pip failed; building just from crates.io instead"
    cargo install just --version "$JUST_VERSION" --locked --root "$TOOLS"
  fi
fi

# wasm-opt from npm binaryen (the package runs binaryen compiled to wasm under node).
if [ "$("$TOOLS/bin/wasm-opt" --version 2>/dev/null | awk '{print $3}')" != "${BINARYEN_VERSION%%.*}" ]; then
  say "installing binaryen $BINARYEN_VERSION (npm)"
  npm install --silent --no-audit --no-fund --no-save --prefix "$TOOLS/binaryen" "binaryen@$BINARYEN_VERSION"
  ln -sf ../binaryen/node_modules/.bin/wasm-opt "$TOOLS/bin/wasm-opt"
fi

# cosmwasm-check: the same validator wasmd runs on upload (capabilities, imports, exports).
# (its --version prints "Contract checking 3.0.10")
if [ "$("$TOOLS/bin/cosmwasm-check" --version 2>/dev/null | awk '{print $NF}')" != "$COSMWASM_CHECK_VERSION" ]; then
  say "installing cosmwasm-check $COSMWASM_CHECK_VERSION (cargo install, several minutes cold)"
  # A checker run takes well under a second, so trade its speed for build time: without LTO,
  # at opt-level 1 with parallel codegen, the cold build needs about 20% less CPU.
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_DEBUG=0 \
    cargo install "cosmwasm-check@$COSMWASM_CHECK_VERSION" --locked --root "$TOOLS"
fi

say "ok: $("$TOOLS/bin/just" --version), wasm-opt $("$TOOLS/bin/wasm-opt" --version | awk '{print $3}'), cosmwasm-check $("$TOOLS/bin/cosmwasm-check" --version | awk '{print $NF}')"
