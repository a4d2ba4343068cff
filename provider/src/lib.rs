//! `opengpu-provider`: the daemon a compute provider runs.
//!
//! ```text
//! source (websocket + paginated catch-up) -> policy -> job: executor (OpenCL worker process)
//!   -> signer (one task owns the key: commit, then reveal) ; metrics (Prometheus)
//! ```
//!
//! - [`config`]: the TOML file; [`cli`]: the subcommands; [`daemon`]: the main loop;
//!   [`job`]: one task from slot to settlement; [`shared`]: what the loop and its jobs share;
//!   [`chain`]: the market as they see it (a trait, so that unit tests run them against an
//!   in-memory market); [`selfcheck`]: the task's own check, run on a result before it is
//!   committed; [`store`]: reveal plans and sealed bids kept across restarts; [`auction`]: an
//!   auction from bid to award; [`pricing`]: what it bids; [`inputs`]: off-chain inputs,
//!   fetched and checked against their hash before a run.

pub mod auction;
pub mod chain;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod executor;
#[cfg(test)]
mod fake;
pub mod inputs;
pub mod job;
pub mod logging;
pub mod metrics;
pub mod policy;
pub mod pricing;
pub mod selfcheck;
pub mod shared;
pub mod signer;
pub mod source;
pub mod store;
