//! The shared vocabulary of opengpu: every contract's messages and responses, the event names
//! and typed events, the commit/reveal scheme, and typed helpers for calling each contract.
//!
//! Contracts, tests and off-chain programs all use this crate, so a message has one definition.

pub mod auction;
pub mod commitment;
pub mod consensus;
pub mod denom;
pub mod events;
pub mod freivalds;
pub mod ibc;
pub mod kernel;
pub mod market;
pub mod ownership;
pub mod pagination;
pub mod publish;
pub mod registry;
pub mod vault;
pub mod verification;

pub use ownership::{Ownership, OwnershipAction};

/// Tasks are numbered from 1 by the market.
pub type TaskId = u64;

/// Every contract migrates with an empty message; state changes ride on code changes.
#[cosmwasm_schema::cw_serde]
pub struct MigrateMsg {}
