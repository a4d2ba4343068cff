# Sourced by scripts/demo.sh and scripts/bench.sh: a private one-node chain under .cache/<name>/
# with its own chain id, ports, keyring and deployment file, so it never touches `just localnet`'s
# chain; a provider daemon on it; and one cleanup that stops both (call it from an EXIT trap).
#
# After `private_chain_start NAME BASE_PORT`: $PRIVATE_DIR, $OPENGPU_HOME, $DEPLOYMENT are set.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# What users run: optimized native builds (the `native` profile in Cargo.toml).
OPENGPU="$ROOT/target/native/opengpu"
PROVIDER="$ROOT/target/native/opengpu-provider"
PRIVATE_DIR=""
provider_pid=""

# Builds what is missing: tools and PoCL, wasmd, the contract wasm, the given cargo packages
# (optimized: `--profile native`).
build_everything() {
  "$ROOT/scripts/install-tools.sh"
  "$ROOT/localnet/build-wasmd.sh"
  local name
  for name in registry task_market staking_vault verification; do
    [ -f "$ROOT/artifacts/opengpu_$name.wasm" ] || { (cd "$ROOT" && just wasm); break; }
  done
  local packages=()
  for p in "$@"; do packages+=(-p "$p"); done
  (cd "$ROOT" && cargo build -q --profile native "${packages[@]}")
}

private_chain_start() {
  local name="$1" base_port="$2"
  PRIVATE_DIR="$ROOT/.cache/$name"
  export LOCALNET_CHAIN_ID="opengpu-$name" LOCALNET_HOME="$PRIVATE_DIR/chain" \
         LOCALNET_BASE_PORT="$base_port" OPENGPU_HOME="$PRIVATE_DIR/keys" \
         LOCALNET_ADDRESSES="$PRIVATE_DIR/deployment.json"
  DEPLOYMENT="$LOCALNET_ADDRESSES"
  rm -rf "$PRIVATE_DIR"; mkdir -p "$PRIVATE_DIR"
  "$ROOT/localnet/start.sh" 1
  "$ROOT/localnet/deploy.sh"
}

# og ARGS: the CLI on the private chain with its test keyring.
og() { "$OPENGPU" --home "$OPENGPU_HOME" --keyring-backend test --deployment "$DEPLOYMENT" "$@"; }

# start_provider ACCOUNT LOG [init flags...]: configure, register (bond) and run the daemon in
# the background; returns once it has caught up with the chain.
start_provider() {
  local account="$1" log="$2"; shift 2
  local config="$PRIVATE_DIR/$account.toml"
  "$PROVIDER" init "$config" --key "$account" --keyring-backend test \
    --keyring-home "$OPENGPU_HOME" --deployment "$DEPLOYMENT" \
    --state-dir "$PRIVATE_DIR/$account-state" --metrics-listen 127.0.0.1:0 \
    --moniker "$account" "$@" >/dev/null
  "$PROVIDER" --config "$config" register
  "$PROVIDER" --config "$config" ${PROVIDER_OUTPUT:+--output "$PROVIDER_OUTPUT"} run >"$log" 2>&1 &
  provider_pid=$!
  local _
  for _ in $(seq 300); do
    grep -q "caught up" "$log" && return 0
    kill -0 "$provider_pid" 2>/dev/null || { cat "$log" >&2; return 1; }
    sleep 0.2
  done
  echo "the provider did not catch up within 60 s; log: $log" >&2
  return 1
}

# Stops the daemon (SIGTERM: graceful) and the chain. KEEP=1 keeps $PRIVATE_DIR.
private_chain_cleanup() {
  if [ -n "$provider_pid" ] && kill -0 "$provider_pid" 2>/dev/null; then
    kill -TERM "$provider_pid" 2>/dev/null || true
    wait "$provider_pid" 2>/dev/null || true
  fi
  [ -z "$PRIVATE_DIR" ] || "$ROOT/localnet/stop.sh" >/dev/null 2>&1 || true
  if [ -n "$PRIVATE_DIR" ] && [ -z "${KEEP:-}" ]; then rm -rf "$PRIVATE_DIR"; fi
}
