use cosmwasm_std::{Addr, ConversionOverflowError, OverflowError, StdError, Uint128};
use cw_utils::PaymentError;
use opengpu_cw_utils::{MigrationError, OwnershipError};
use opengpu_types::TaskId;

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
    #[error(transparent)]
    Overflow(#[from] OverflowError),
    #[error(transparent)]
    ConversionOverflow(#[from] ConversionOverflowError),

    #[error("stake denom must not be empty")]
    EmptyStakeDenom,
    #[error("unbonding period of {seconds} s is out of range: it must be 1 to {max} s (60 days)")]
    UnbondingPeriodOutOfRange { seconds: u64, max: u64 },
    #[error("max claims per address must be at least 1")]
    ZeroMaxClaims,

    #[error("amount must be greater than zero")]
    ZeroAmount,
    #[error("{sender} may not do this; only {expected} may")]
    Unauthorized { sender: Addr, expected: String },
    #[error("requested {requested} but only {free} stake is free (bonded and not locked)")]
    InsufficientFreeStake { requested: Uint128, free: Uint128 },
    #[error("already {max} unbonding claims outstanding; claim matured ones first")]
    TooManyClaims { max: u32 },
    #[error("no unbonding claim has matured yet")]
    NothingToClaim,
    #[error("provider {provider} already has collateral locked for task {task_id}")]
    AlreadyLocked { provider: Addr, task_id: TaskId },
    #[error("provider {provider} has no collateral locked for task {task_id}")]
    NoLock { provider: Addr, task_id: TaskId },
}
