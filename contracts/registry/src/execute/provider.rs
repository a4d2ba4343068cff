//! What a provider does to itself: register, update its profile, pause, resume, deregister.

use cosmwasm_std::{DepsMut, Env, Event, MessageInfo, Response};
use opengpu_types::events::{
    actions, ProviderDeregistered, ProviderRegistered, ProviderStatusChanged, ProviderUpdated,
};
use opengpu_types::registry::{Provider, ProviderProfile, ProviderStatus};

use crate::profile::validate_profile;
use crate::state::{CONFIG, PAST_REPUTATION, PROVIDERS};
use crate::ContractError;

use super::{load_provider, require_bond, vault_stake};

pub fn register(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    profile: ProviderProfile,
) -> Result<Response, ContractError> {
    let address = info.sender;
    if PROVIDERS.has(deps.storage, &address) {
        return Err(ContractError::AlreadyRegistered {
            address: address.into_string(),
        });
    }
    let profile = validate_profile(deps.api, profile)?;
    let config = CONFIG.load(deps.storage)?;
    require_bond(deps.as_ref(), &config, &address)?;
    let reputation = PAST_REPUTATION
        .may_load(deps.storage, &address)?
        .unwrap_or_default();
    PAST_REPUTATION.remove(deps.storage, &address);
    let provider = Provider {
        address: address.clone(),
        moniker: profile.moniker,
        device: profile.device,
        prices: profile.prices,
        payout_addr: profile.payout_addr,
        payout_route: profile.payout_route,
        status: ProviderStatus::Active,
        reputation,
        registered_height: env.block.height,
    };
    PROVIDERS.save(deps.storage, &address, &provider)?;
    Ok(Response::new()
        .add_attribute("action", actions::REGISTER)
        .add_event(Event::from(ProviderRegistered {
            provider: address.into_string(),
            moniker: provider.moniker,
        })))
}

/// Replaces the whole profile; status, reputation and registration height stay.
pub fn update(
    deps: DepsMut,
    info: MessageInfo,
    profile: ProviderProfile,
) -> Result<Response, ContractError> {
    let address = info.sender;
    let mut provider = load_provider(deps.storage, &address)?;
    let profile = validate_profile(deps.api, profile)?;
    provider.moniker = profile.moniker;
    provider.device = profile.device;
    provider.prices = profile.prices;
    provider.payout_addr = profile.payout_addr;
    provider.payout_route = profile.payout_route;
    PROVIDERS.save(deps.storage, &address, &provider)?;
    Ok(Response::new()
        .add_attribute("action", actions::UPDATE_PROVIDER)
        .add_event(Event::from(ProviderUpdated {
            provider: address.into_string(),
        })))
}

pub fn pause(deps: DepsMut, info: MessageInfo) -> Result<Response, ContractError> {
    set_status(deps, info, ProviderStatus::Paused, actions::PAUSE)
}

/// Needs `min_bond` again: a provider that unbonded while paused does not come back
/// eligible-looking without stake.
pub fn resume(deps: DepsMut, info: MessageInfo) -> Result<Response, ContractError> {
    set_status(deps, info, ProviderStatus::Active, actions::RESUME)
}

fn set_status(
    deps: DepsMut,
    info: MessageInfo,
    status: ProviderStatus,
    action: &str,
) -> Result<Response, ContractError> {
    let address = info.sender;
    let mut provider = load_provider(deps.storage, &address)?;
    if provider.status == status {
        return Err(ContractError::AlreadyInStatus { status });
    }
    if status == ProviderStatus::Active {
        let config = CONFIG.load(deps.storage)?;
        require_bond(deps.as_ref(), &config, &address)?;
    }
    provider.status = status;
    // IndexedMap::save moves the provider from the old status index entry to the new one.
    PROVIDERS.save(deps.storage, &address, &provider)?;
    Ok(Response::new()
        .add_attribute("action", action)
        .add_event(Event::from(ProviderStatusChanged {
            provider: address.into_string(),
            status: status.to_string(),
        })))
}

/// Only with nothing locked in the vault, so that every task the provider committed to can
/// still record its outcome here.
pub fn deregister(deps: DepsMut, info: MessageInfo) -> Result<Response, ContractError> {
    let address = info.sender;
    let provider = load_provider(deps.storage, &address)?;
    let config = CONFIG.load(deps.storage)?;
    let locked = vault_stake(deps.as_ref(), &config, &address)?.locked;
    if !locked.is_zero() {
        return Err(ContractError::CollateralLocked { locked });
    }
    PROVIDERS.remove(deps.storage, &address)?;
    PAST_REPUTATION.save(deps.storage, &address, &provider.reputation)?;
    Ok(Response::new()
        .add_attribute("action", actions::DEREGISTER)
        .add_event(Event::from(ProviderDeregistered {
            provider: address.into_string(),
        })))
}
