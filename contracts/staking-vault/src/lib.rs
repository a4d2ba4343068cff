//! opengpu staking vault: bonds, unbonding claims, per-task collateral and slashing.
//!
//! Invariants kept by every execute path: the vault's bank balance equals
//! `totals.bonded + totals.unbonding`, and `locked <= bonded` for every provider and in total.

pub mod contract;
pub mod error;
mod execute;
mod query;
pub mod state;

pub use error::ContractError;

#[cfg(test)]
mod tests;
