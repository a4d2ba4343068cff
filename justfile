# opengpu tasks. Tools (just, wasm-opt, cosmwasm-check) live in .cache/tools: `just tools`.
set shell := ["bash", "-euo", "pipefail", "-c"]

export PATH := justfile_directory() / ".cache/tools/bin" + ":" + env_var("PATH")

# list recipes
default:
    @just --list

# install/update the pinned build tools into .cache/tools (idempotent)
tools:
    scripts/install-tools.sh

# everything CI runs: fmt check, clippy, unit tests, wasm build + check, schema check, TypeScript check, explorer check, e2e tests, explorer browser tests
test:
    #!/usr/bin/env bash
    set -euo pipefail
    for step in fmt-check lint unit wasm schema-check ts-check web-check e2e web-test; do
        echo "==> just $step"
        start=$SECONDS
        {{ just_executable() }} "$step"
        echo "<== just $step ok ($((SECONDS - start))s)"
    done

# format all code in place
fmt:
    cargo fmt --all

# fail if any code is not formatted
fmt-check:
    cargo fmt --all -- --check

# clippy on every target, the e2e tests and fail points included; warnings are errors
lint:
    cargo clippy --workspace --all-targets --features opengpu-cli/e2e,opengpu-provider/failpoints -- -D warnings

# unit and multi-test tests
unit:
    cargo test --workspace

# optimized, checked contract wasm in artifacts/ (pass crate names to build a subset)
wasm *crates:
    scripts/build-wasm.sh {{ crates }}

# regenerate the committed JSON schemas in schema/
schema:
    #!/usr/bin/env bash
    set -euo pipefail
    tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
    cargo run -q -p opengpu-types --bin schema -- "$tmp"
    rm -rf schema && cp -r "$tmp" schema   # replace whole dir: removed messages leave no files
    echo "schema/ regenerated"

# fail if schema/ differs from what the code generates
schema-check:
    #!/usr/bin/env bash
    set -euo pipefail
    tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
    cargo run -q -p opengpu-types --bin schema -- "$tmp"
    if ! diff -r schema "$tmp"; then
        echo "error: schema/ is stale: run just schema" >&2
        exit 1
    fi
    echo "schema/ is up to date"

# generate TypeScript clients from schema/ with the pinned @cosmwasm/ts-codegen and check them with tsc --strict
ts-check:
    scripts/ts-check.sh

# ---------------------------------------------------------------------------------------------
# market explorer (web/): a static page that reads the chain itself (web/README.md)
# ---------------------------------------------------------------------------------------------

# build the market explorer and serve it on http://127.0.0.1:5173 for the running localnet (WEB_PORT=N for another port)
web *flags:
    scripts/web-serve.sh {{flags}}

# the explorer's checks: contract clients current with schema/, tsc --strict, eslint, vite build
web-check:
    scripts/web-check.sh

# regenerate the explorer's contract clients (web/src/contracts/) from schema/ with ts/codegen.mjs
web-codegen:
    scripts/web-check.sh --regen

# browser tests of the explorer: private chain + daemon, headless Chromium; screenshots in web/dist/screenshots/
web-test:
    scripts/web-test.sh

# ---------------------------------------------------------------------------------------------
# localnet: a real wasmd chain on 127.0.0.1 (scripts and docs in localnet/)
# ---------------------------------------------------------------------------------------------

# build the pinned wasmd into .cache/wasmd/ (idempotent; 13 to 20 min cold on 2 cores)
wasmd:
    localnet/build-wasmd.sh

# start N validators (default 1) on loopback; returns once blocks are produced
localnet n="1":
    localnet/start.sh {{n}}

# stop the nodes `just localnet` started (only their recorded pids)
localnet-stop:
    localnet/stop.sh

# stop and wipe the localnet data (the CLI keys in $OPENGPU_HOME stay)
localnet-reset:
    localnet/reset.sh

# store and instantiate the four contracts, write localnet/addresses/<chain-id>.json
deploy *flags:
    localnet/deploy.sh {{flags}}

# run opengpu-provider in the foreground as localnet account NAME (registers and bonds it first)
provider name:
    scripts/provider.sh {{name}}

# the main job on a private chain: provider + client SGEMM task end to end, then stop
demo:
    scripts/demo.sh

# measure SGEMM throughput, gas per message and publish->settled latency into BENCHMARKS.md
bench:
    scripts/bench.sh

# ---------------------------------------------------------------------------------------------
# IBC: the localnet (market chain) and a home chain (token uhome) joined by a real relayer
# (localnet/README.md, "IBC: two chains and a relayer")
# ---------------------------------------------------------------------------------------------

# build the pinned IBC relayer (Go relayer v2.6.0) into .cache/relayer/ (idempotent; 4 to 6 min cold)
relayer:
    localnet/build-relayer.sh

# both chains + relayer, contracts on the market chain, market takes the home token over IBC; writes localnet/addresses/ibc.json
ibc:
    #!/usr/bin/env bash
    set -euo pipefail
    localnet/ibc-start.sh
    LOCALNET_HOME="$(jq -r .market.home "${IBC_FILE:-localnet/addresses/ibc.json}")" localnet/deploy.sh
    localnet/ibc-configure.sh

# stop the relayer and both chains of `just ibc` (data kept); `--relayer-only`: just the relayer
ibc-stop *flags:
    localnet/ibc-stop.sh {{flags}}

# ---------------------------------------------------------------------------------------------
# end-to-end tests: private wasmd chains on free loopback ports, driven through `opengpu`
# (client/tests/e2e/; each test starts its own chain and stops it, pass or fail)
# ---------------------------------------------------------------------------------------------

# end-to-end tests; builds wasmd and artifacts/ first when missing (args go to the test binary)
e2e *args:
    #!/usr/bin/env bash
    set -euo pipefail
    localnet/build-wasmd.sh >/dev/null
    localnet/build-relayer.sh >/dev/null   # the IBC test's relayer (ibc.rs)
    for name in registry task_market staking_vault verification; do
        if [ ! -f "artifacts/opengpu_$name.wasm" ]; then
            {{ just_executable() }} wasm
            break
        fi
    done
    # One chain at a time: on 2 cores two chains (one of them the 4-validator net) share the CPU
    # and slow each other's blocks; measured 115 s serial vs 83 s with 2 threads, the margin is
    # worth more than the 30 s.
    # The daemon the tests run, with fail points (FAILPOINTS stops it before a reveal in one test).
    cargo build -p opengpu-provider --features failpoints
    cargo test -p opengpu-cli --features e2e --test e2e -- --test-threads=1 {{ args }}

# on the running `just ibc` setup: uhome moved to the market chain, a payout home, a task published from the home chain and its unspent budget back home, with balances on both chains
ibc-demo:
    scripts/ibc-demo.sh
