//! `opengpu-client`: what an off-chain program needs to use opengpu on a real chain.
//!
//! - [`deployment`]: the addresses file `just deploy` writes, found from the working directory.
//! - [`keys`]: BIP-39 keys at m/44'/118'/0'/0/0 in a local keyring, encrypted at rest.
//! - [`chain`]: a CometBFT RPC client: smart, bank and auth queries, simulation, broadcast,
//!   waiting for inclusion.
//! - [`tx`]: the [`Signer`](tx::Signer) that owns a key and its account sequence, builds,
//!   simulates, signs and sends transactions, and retries a stale sequence.
//! - [`events`]: transaction events read back into `opengpu_types::events` structs.
//! - [`query`]: typed queries of the four contracts.
//! - [`ibc`]: the two chains of `just ibc` (the file it writes), ICS-20 transfers and how a
//!   packet ended, read from both chains' events.
//! - [`bid`]: sealed auction bids, placed and opened by the CLI and the daemon alike.
//! - [`reveal`]: commitments to results and the reveal plans kept until they are opened: the
//!   one recipe of the CLI, the daemon and the benchmarks.
//! - [`error`]: one error type; a failed contract call reads as the contract's own message.
//!
//! The `opengpu` command line (crate `opengpu-cli`, in `cli/`) is built on these; this crate
//! compiles no CLI code (clap, progress bars, example kernels, OpenCL).

pub mod bid;
pub mod chain;
pub mod config;
pub mod deployment;
mod durable;
pub mod error;
pub mod events;
pub mod ibc;
pub mod keys;
pub mod output;
pub mod query;
pub mod reveal;
pub mod tx;

pub use chain::{BlockTxResult, ChainClient, TxOutcome};
pub use config::{ChainConfig, GasPrice, GasSetting};
pub use deployment::Deployment;
pub use error::{Error, Result};
pub use output::{block_on, OutputFormat};
pub use query::{ContractAddrs, Opengpu};
pub use tx::Signer;
