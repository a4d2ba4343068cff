//! Instantiation and owner-only config changes.

use cosmwasm_std::{DepsMut, MessageInfo, Response};
use opengpu_types::events::actions;
use opengpu_types::vault::{InstantiateMsg, VaultConfig, MAX_UNBONDING_PERIOD_SECONDS};

use crate::state::{Totals, CONFIG, TOTALS};
use crate::ContractError;

pub fn instantiate(
    deps: DepsMut,
    info: MessageInfo,
    msg: InstantiateMsg,
) -> Result<Response, ContractError> {
    // Funds sent here would sit outside bonded + unbonding and break the balance invariant.
    cw_utils::nonpayable(&info)?;
    if msg.stake_denom.trim().is_empty() {
        return Err(ContractError::EmptyStakeDenom);
    }
    validate_period(msg.unbonding_period_seconds)?;
    validate_max_claims(msg.max_claims_per_address)?;
    let owner = opengpu_cw_utils::owner_or_sender(deps.api, msg.owner, info.sender)?;
    let config = VaultConfig {
        stake_denom: msg.stake_denom,
        unbonding_period_seconds: msg.unbonding_period_seconds,
        max_claims_per_address: msg.max_claims_per_address,
        market_addr: deps.api.addr_validate(&msg.market)?,
        verification_addr: deps.api.addr_validate(&msg.verification)?,
    };
    CONFIG.save(deps.storage, &config)?;
    TOTALS.save(deps.storage, &Totals::default())?;
    opengpu_cw_utils::initialize_owner(deps.storage, owner.clone())?;
    Ok(Response::new()
        .add_attribute("action", actions::INSTANTIATE)
        .add_attribute("owner", owner)
        .add_attribute("stake_denom", config.stake_denom)
        .add_attribute("market", config.market_addr)
        .add_attribute("verification", config.verification_addr))
}

pub fn update_config(
    deps: DepsMut,
    info: MessageInfo,
    unbonding_period_seconds: Option<u64>,
    max_claims_per_address: Option<u32>,
) -> Result<Response, ContractError> {
    cw_utils::nonpayable(&info)?;
    opengpu_cw_utils::assert_owner(deps.storage, &info.sender)?;
    let mut config = CONFIG.load(deps.storage)?;
    if let Some(period) = unbonding_period_seconds {
        validate_period(period)?;
        // Applies to new claims only; existing claims keep their release time.
        config.unbonding_period_seconds = period;
    }
    if let Some(max) = max_claims_per_address {
        validate_max_claims(max)?;
        // Lowering it keeps existing claims, which stay claimable when they mature; new unbonds
        // wait until enough are claimed. One claim can hold any amount, so a limit of 1 still
        // lets a provider take all its free stake out.
        config.max_claims_per_address = max;
    }
    CONFIG.save(deps.storage, &config)?;
    Ok(Response::new()
        .add_attribute("action", actions::UPDATE_CONFIG)
        .add_attribute(
            "unbonding_period_seconds",
            config.unbonding_period_seconds.to_string(),
        )
        .add_attribute(
            "max_claims_per_address",
            config.max_claims_per_address.to_string(),
        ))
}

/// 1 second to `MAX_UNBONDING_PERIOD_SECONDS` (60 days): the owner can neither let stake leave
/// at once nor freeze it (a period too long for the clock would make every unbond fail).
fn validate_period(seconds: u64) -> Result<(), ContractError> {
    if !(1..=MAX_UNBONDING_PERIOD_SECONDS).contains(&seconds) {
        return Err(ContractError::UnbondingPeriodOutOfRange {
            seconds,
            max: MAX_UNBONDING_PERIOD_SECONDS,
        });
    }
    Ok(())
}

fn validate_max_claims(max: u32) -> Result<(), ContractError> {
    if max == 0 {
        return Err(ContractError::ZeroMaxClaims);
    }
    Ok(())
}
