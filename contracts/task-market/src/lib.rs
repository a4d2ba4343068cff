//! opengpu task market: tasks, escrow, commit/reveal, competition models and settlement.

pub mod contract;
pub mod error;
mod execute;
mod query;
pub mod state;

pub use error::ContractError;
