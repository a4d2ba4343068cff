//! Instantiation and owner-only configuration.

use cosmwasm_std::{DepsMut, MessageInfo, Response, Uint128};
use opengpu_cw_utils::{assert_owner, initialize_owner};
use opengpu_types::events::actions;
use opengpu_types::registry::{InstantiateMsg, RegistryConfig};

use crate::state::CONFIG;
use crate::ContractError;

pub fn instantiate(
    deps: DepsMut,
    info: MessageInfo,
    msg: InstantiateMsg,
) -> Result<Response, ContractError> {
    let owner = opengpu_cw_utils::owner_or_sender(deps.api, msg.owner, info.sender)?;
    let config = RegistryConfig {
        vault_addr: deps.api.addr_validate(&msg.vault)?,
        market_addr: deps.api.addr_validate(&msg.market)?,
        min_bond: msg.min_bond,
    };
    CONFIG.save(deps.storage, &config)?;
    initialize_owner(deps.storage, owner.clone())?;
    Ok(Response::new()
        .add_attribute("action", actions::INSTANTIATE)
        .add_attribute("owner", owner)
        .add_attribute("vault", config.vault_addr)
        .add_attribute("market", config.market_addr)
        .add_attribute("min_bond", config.min_bond))
}

/// Changing `min_bond` affects eligibility at once; registered providers are not removed, they
/// are simply not eligible (and cannot resume) until they bond enough.
pub fn update_config(
    deps: DepsMut,
    info: MessageInfo,
    min_bond: Option<Uint128>,
) -> Result<Response, ContractError> {
    assert_owner(deps.storage, &info.sender)?;
    let mut config = CONFIG.load(deps.storage)?;
    if let Some(min_bond) = min_bond {
        config.min_bond = min_bond;
    }
    CONFIG.save(deps.storage, &config)?;
    Ok(Response::new()
        .add_attribute("action", actions::UPDATE_CONFIG)
        .add_attribute("min_bond", config.min_bond))
}
