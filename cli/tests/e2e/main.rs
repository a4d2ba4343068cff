//! End-to-end tests: real `wasmd` chains on this machine, driven only through the `opengpu`
//! binary, as a client and as providers operating by hand.
//!
//! Each test starts its own chain (`localnet/start.sh` + `localnet/deploy.sh`) in a temporary
//! directory on free loopback ports, and stops it when it ends, pass or fail
//! ([`localnet::Localnet`]). They need the pinned wasmd (`localnet/build-wasmd.sh`) and the
//! contract artifacts (`just wasm`), and are behind the `e2e` feature so that
//! `cargo test --workspace` stays chain-free:
//!
//! ```sh
//! just e2e                                   # builds what is missing, one chain at a time
//! cargo test -p opengpu-cli --features e2e --test e2e -- --test-threads=1
//! OPENGPU_E2E_KEEP=1 just e2e                # keep a failed test's chain directory
//! ```

mod cli;
mod daemon;
mod localnet;
mod steps;
mod vector_add;

mod auction;
mod bad_input;
mod first_response;
mod ibc;
mod manual_confirmation;
mod offchain;
mod provider_daemon;
mod reveal_safety;
mod trustless;
