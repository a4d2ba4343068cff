use cosmwasm_std::StdError;
use cw_utils::PaymentError;
use opengpu_cw_utils::{MigrationError, OwnershipError};

/// Errors of execute, instantiate and migrate. A result that fails a check is not an error:
/// the `Check` query answers `Verdict::Invalid` for it.
#[derive(thiserror::Error, Debug)]
pub enum ContractError {
    #[error(transparent)]
    Std(#[from] StdError),
    #[error(transparent)]
    Ownership(#[from] OwnershipError),
    #[error(transparent)]
    Migration(#[from] MigrationError),
    #[error(transparent)]
    Payment(#[from] PaymentError),
}
