use cosmwasm_std::{OverflowError, StdError, Uint128};
use cw_utils::PaymentError;
use opengpu_cw_utils::{MigrationError, OwnershipError};
use opengpu_types::denom::InvalidDenom;
use opengpu_types::registry::ProviderStatus;

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

    #[error("only the market {market} may do this; sender was {sender}")]
    Unauthorized { sender: String, market: String },
    #[error("{address} is already registered")]
    AlreadyRegistered { address: String },
    #[error("{address} is not registered")]
    NotRegistered { address: String },
    #[error("provider needs {needed} bonded in the vault, has {bonded}")]
    InsufficientBond { needed: Uint128, bonded: Uint128 },
    #[error(
        "provider has {locked} collateral locked in the vault; deregister once it is released"
    )]
    CollateralLocked { locked: Uint128 },
    #[error("provider is already {status}")]
    AlreadyInStatus { status: ProviderStatus },

    #[error("moniker has {len} characters; 1 to {max} are allowed")]
    InvalidMoniker { len: usize, max: usize },
    #[error("device name has {len} characters; at most {max} are allowed")]
    DeviceNameTooLong { len: usize, max: usize },
    #[error("device {field} is zero; it must be at least 1")]
    ZeroDeviceField { field: &'static str },
    #[error("profile lists {got} prices; at most {max} are allowed")]
    TooManyPrices { got: usize, max: usize },
    #[error("payout route: {0}")]
    InvalidPayoutRoute(#[from] opengpu_types::ibc::IbcError),
    #[error("price denom {0}")]
    InvalidDenom(#[from] InvalidDenom),
    #[error("profile lists more than one price in {denom}")]
    DuplicatePriceDenom { denom: String },
}
