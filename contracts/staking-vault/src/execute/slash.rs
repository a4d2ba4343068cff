//! Slashing: market or verification takes a provider's stake and pays it to a beneficiary.

use cosmwasm_std::{coins, BankMsg, DepsMut, Event, MessageInfo, Response, Uint128};
use opengpu_types::events::{actions, StakeSlashed};
use opengpu_types::TaskId;

use super::unauthorized;
use crate::state::{load_claims, load_stake, save_claims, save_stake, CONFIG, LOCKS, TOTALS};
use crate::ContractError;

/// Takes up to `amount`: first from the task's lock, then from free bonded stake, then from
/// unbonding claims, newest first, so unbonding is no escape. Slashes what there is when less
/// is available; other tasks' locks are never touched.
pub fn slash(
    deps: DepsMut,
    info: MessageInfo,
    provider: String,
    task_id: TaskId,
    amount: Uint128,
    beneficiary: String,
) -> Result<Response, ContractError> {
    cw_utils::nonpayable(&info)?;
    let config = CONFIG.load(deps.storage)?;
    if info.sender != config.market_addr && info.sender != config.verification_addr {
        return Err(unauthorized(
            &info.sender,
            format!("{} or {}", config.market_addr, config.verification_addr),
        ));
    }
    let provider = deps.api.addr_validate(&provider)?;
    let beneficiary = deps.api.addr_validate(&beneficiary)?;
    if amount.is_zero() {
        return Err(ContractError::ZeroAmount);
    }
    let mut stake = load_stake(deps.storage, &provider)?;
    let mut remaining = amount;

    // 1. The task's own lock: reduces the lock, the provider's locked and bonded stake.
    let lock_key = (&provider, task_id);
    let lock = LOCKS.may_load(deps.storage, lock_key)?.unwrap_or_default();
    let from_lock = lock.min(remaining);
    if !from_lock.is_zero() {
        let left = lock.checked_sub(from_lock)?;
        if left.is_zero() {
            LOCKS.remove(deps.storage, lock_key);
        } else {
            LOCKS.save(deps.storage, lock_key, &left)?;
        }
        stake.locked = stake.locked.checked_sub(from_lock)?;
        stake.bonded = stake.bonded.checked_sub(from_lock)?;
        remaining = remaining.checked_sub(from_lock)?;
    }

    // 2. Free bonded stake (never another task's collateral).
    let from_free = stake.free()?.min(remaining);
    stake.bonded = stake.bonded.checked_sub(from_free)?;
    remaining = remaining.checked_sub(from_free)?;
    save_stake(deps.storage, &provider, &stake)?;

    // 3. Unbonding claims, newest first; bounded by the claim count.
    let mut from_claims = Uint128::zero();
    if !remaining.is_zero() {
        let mut claims = load_claims(deps.storage, &provider)?;
        while let Some(newest) = claims.last_mut() {
            if remaining.is_zero() {
                break;
            }
            let take = newest.amount.min(remaining);
            newest.amount = newest.amount.checked_sub(take)?;
            remaining = remaining.checked_sub(take)?;
            from_claims = from_claims.checked_add(take)?;
            if newest.amount.is_zero() {
                claims.pop();
            }
        }
        save_claims(deps.storage, &provider, &claims)?;
    }

    let mut totals = TOTALS.load(deps.storage)?;
    totals.locked = totals.locked.checked_sub(from_lock)?;
    totals.bonded = totals
        .bonded
        .checked_sub(from_lock)?
        .checked_sub(from_free)?;
    totals.unbonding = totals.unbonding.checked_sub(from_claims)?;
    TOTALS.save(deps.storage, &totals)?;

    let slashed = amount.checked_sub(remaining)?;
    let mut response = Response::new()
        .add_attribute("action", actions::SLASH)
        .add_event(Event::from(StakeSlashed {
            provider: provider.into_string(),
            task_id,
            amount: slashed,
            beneficiary: beneficiary.to_string(),
        }));
    if !slashed.is_zero() {
        response = response.add_message(BankMsg::Send {
            to_address: beneficiary.into_string(),
            amount: coins(slashed.u128(), config.stake_denom),
        });
    }
    Ok(response)
}
