use cosmwasm_std::{DepsMut, MessageInfo, Response};
use opengpu_cw_utils::initialize_owner;
use opengpu_types::events::actions;
use opengpu_types::verification::{InstantiateMsg, VerificationConfig};

use crate::state::CONFIG;
use crate::ContractError;

/// The market and vault addresses are stored now for the checks that will act on them
/// (disputes, slashing); today's checks are pure queries.
pub fn instantiate(
    deps: DepsMut,
    info: MessageInfo,
    msg: InstantiateMsg,
) -> Result<Response, ContractError> {
    let owner = opengpu_cw_utils::owner_or_sender(deps.api, msg.owner, info.sender)?;
    let config = VerificationConfig {
        market_addr: deps.api.addr_validate(&msg.market)?,
        vault_addr: deps.api.addr_validate(&msg.vault)?,
    };
    CONFIG.save(deps.storage, &config)?;
    initialize_owner(deps.storage, owner.clone())?;
    Ok(Response::new()
        .add_attribute("action", actions::INSTANTIATE)
        .add_attribute("owner", owner)
        .add_attribute("market", config.market_addr)
        .add_attribute("vault", config.vault_addr))
}
