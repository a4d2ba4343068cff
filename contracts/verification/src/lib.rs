//! opengpu verification: on-chain checks of revealed results
pub mod checks;
pub mod contract;
pub mod error;
mod execute;
mod query;
pub mod state;

pub use error::ContractError;

#[cfg(test)]
mod tests;
