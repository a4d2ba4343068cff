//! opengpu provider registry: devices, prices, payout addresses, status and reputation
pub mod contract;
pub mod error;
mod execute;
mod profile;
mod query;
pub mod state;

pub use error::ContractError;

#[cfg(test)]
mod tests;
