//! Execute handlers, one file per action group.

pub mod collateral;
pub mod config;
pub mod slash;
pub mod staking;

use cosmwasm_std::{Addr, MessageInfo};
use opengpu_types::vault::VaultConfig;

use crate::ContractError;

/// Errors unless the market sent the message.
fn assert_market(config: &VaultConfig, info: &MessageInfo) -> Result<(), ContractError> {
    if info.sender == config.market_addr {
        Ok(())
    } else {
        Err(unauthorized(&info.sender, config.market_addr.to_string()))
    }
}

fn unauthorized(sender: &Addr, expected: String) -> ContractError {
    ContractError::Unauthorized {
        sender: sender.clone(),
        expected,
    }
}
