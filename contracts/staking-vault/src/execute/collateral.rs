//! Per-task collateral: the market locks part of a provider's free stake and releases it.

use cosmwasm_std::{DepsMut, Event, MessageInfo, Response, Uint128};
use opengpu_types::events::{actions, CollateralLocked, CollateralUnlocked};
use opengpu_types::TaskId;

use super::assert_market;
use crate::state::{load_stake, save_stake, CONFIG, LOCKS, TOTALS};
use crate::ContractError;

pub fn lock(
    deps: DepsMut,
    info: MessageInfo,
    provider: String,
    task_id: TaskId,
    amount: Uint128,
) -> Result<Response, ContractError> {
    cw_utils::nonpayable(&info)?;
    let config = CONFIG.load(deps.storage)?;
    assert_market(&config, &info)?;
    let provider = deps.api.addr_validate(&provider)?;
    if amount.is_zero() {
        return Err(ContractError::ZeroAmount);
    }
    if LOCKS.has(deps.storage, (&provider, task_id)) {
        return Err(ContractError::AlreadyLocked { provider, task_id });
    }
    let mut stake = load_stake(deps.storage, &provider)?;
    // Only free stake can back a new task, so locked never exceeds bonded.
    let free = stake.free()?;
    if amount > free {
        return Err(ContractError::InsufficientFreeStake {
            requested: amount,
            free,
        });
    }
    stake.locked = stake.locked.checked_add(amount)?;
    save_stake(deps.storage, &provider, &stake)?;
    LOCKS.save(deps.storage, (&provider, task_id), &amount)?;

    let mut totals = TOTALS.load(deps.storage)?;
    totals.locked = totals.locked.checked_add(amount)?;
    TOTALS.save(deps.storage, &totals)?;

    Ok(Response::new()
        .add_attribute("action", actions::LOCK)
        .add_event(Event::from(CollateralLocked {
            provider: provider.into_string(),
            task_id,
            amount,
        })))
}

pub fn unlock(
    deps: DepsMut,
    info: MessageInfo,
    provider: String,
    task_id: TaskId,
) -> Result<Response, ContractError> {
    cw_utils::nonpayable(&info)?;
    let config = CONFIG.load(deps.storage)?;
    assert_market(&config, &info)?;
    let provider = deps.api.addr_validate(&provider)?;
    let Some(amount) = LOCKS.may_load(deps.storage, (&provider, task_id))? else {
        return Err(ContractError::NoLock { provider, task_id });
    };
    LOCKS.remove(deps.storage, (&provider, task_id));
    let mut stake = load_stake(deps.storage, &provider)?;
    stake.locked = stake.locked.checked_sub(amount)?;
    save_stake(deps.storage, &provider, &stake)?;

    let mut totals = TOTALS.load(deps.storage)?;
    totals.locked = totals.locked.checked_sub(amount)?;
    TOTALS.save(deps.storage, &totals)?;

    Ok(Response::new()
        .add_attribute("action", actions::UNLOCK)
        .add_event(Event::from(CollateralUnlocked {
            provider: provider.into_string(),
            task_id,
            amount,
        })))
}
