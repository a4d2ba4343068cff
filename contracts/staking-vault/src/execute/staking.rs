//! A staker's own stake: bond, unbond into a claim, claim matured claims.

use cosmwasm_std::{
    coins, BankMsg, DepsMut, Env, Event, MessageInfo, Response, Timestamp, Uint128, Uint64,
};
use opengpu_types::events::{actions, StakeBonded, StakeClaimed, StakeUnbonded};
use opengpu_types::vault::Claim;

use crate::state::{load_claims, load_stake, save_claims, save_stake, CONFIG, TOTALS};
use crate::ContractError;

const NANOS_PER_SECOND: u64 = 1_000_000_000;

pub fn bond(deps: DepsMut, info: MessageInfo) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    // Exactly one coin, of the stake denom, non-zero.
    let amount = Uint128::try_from(cw_utils::must_pay(&info, &config.stake_denom)?)?;

    let mut stake = load_stake(deps.storage, &info.sender)?;
    stake.bonded = stake.bonded.checked_add(amount)?;
    save_stake(deps.storage, &info.sender, &stake)?;

    let mut totals = TOTALS.load(deps.storage)?;
    totals.bonded = totals.bonded.checked_add(amount)?;
    TOTALS.save(deps.storage, &totals)?;

    Ok(Response::new()
        .add_attribute("action", actions::BOND)
        .add_event(Event::from(StakeBonded {
            staker: info.sender.into_string(),
            amount,
            bonded: stake.bonded,
        })))
}

pub fn unbond(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    amount: Uint128,
) -> Result<Response, ContractError> {
    cw_utils::nonpayable(&info)?;
    if amount.is_zero() {
        return Err(ContractError::ZeroAmount);
    }
    let config = CONFIG.load(deps.storage)?;
    let mut stake = load_stake(deps.storage, &info.sender)?;
    // Locked collateral stays bonded: only free stake can leave.
    let free = stake.free()?;
    if amount > free {
        return Err(ContractError::InsufficientFreeStake {
            requested: amount,
            free,
        });
    }
    let mut claims = load_claims(deps.storage, &info.sender)?;
    if claims.len() >= config.max_claims_per_address as usize {
        return Err(ContractError::TooManyClaims {
            max: config.max_claims_per_address,
        });
    }
    let release_at = release_time(env.block.time, config.unbonding_period_seconds)?;

    stake.bonded = stake.bonded.checked_sub(amount)?;
    save_stake(deps.storage, &info.sender, &stake)?;
    claims.push(Claim { amount, release_at });
    save_claims(deps.storage, &info.sender, &claims)?;

    let mut totals = TOTALS.load(deps.storage)?;
    totals.bonded = totals.bonded.checked_sub(amount)?;
    totals.unbonding = totals.unbonding.checked_add(amount)?;
    TOTALS.save(deps.storage, &totals)?;

    Ok(Response::new()
        .add_attribute("action", actions::UNBOND)
        .add_event(Event::from(StakeUnbonded {
            staker: info.sender.into_string(),
            amount,
            release_at: release_at.seconds(),
        })))
}

pub fn claim(deps: DepsMut, env: Env, info: MessageInfo) -> Result<Response, ContractError> {
    cw_utils::nonpayable(&info)?;
    let config = CONFIG.load(deps.storage)?;
    // Bounded: at most `max_claims_per_address` claims (more only if the owner lowered it).
    let (matured, pending): (Vec<Claim>, Vec<Claim>) = load_claims(deps.storage, &info.sender)?
        .into_iter()
        .partition(|claim| claim.release_at <= env.block.time);
    let mut amount = Uint128::zero();
    for claim in &matured {
        amount = amount.checked_add(claim.amount)?;
    }
    if amount.is_zero() {
        return Err(ContractError::NothingToClaim);
    }
    save_claims(deps.storage, &info.sender, &pending)?;

    let mut totals = TOTALS.load(deps.storage)?;
    totals.unbonding = totals.unbonding.checked_sub(amount)?;
    TOTALS.save(deps.storage, &totals)?;

    Ok(Response::new()
        .add_attribute("action", actions::CLAIM)
        .add_event(Event::from(StakeClaimed {
            staker: info.sender.to_string(),
            amount,
        }))
        .add_message(BankMsg::Send {
            to_address: info.sender.into_string(),
            amount: coins(amount.u128(), config.stake_denom),
        }))
}

/// `now + period` with checked math: a period too long for the clock is an error, not a panic.
/// Computed once, when the claim is made, and stored in it: a later config change never moves
/// an existing claim's release time.
pub(crate) fn release_time(
    now: Timestamp,
    period_seconds: u64,
) -> Result<Timestamp, ContractError> {
    let period = Uint64::new(period_seconds).checked_mul(Uint64::new(NANOS_PER_SECOND))?;
    let nanos = Uint64::new(now.nanos()).checked_add(period)?;
    Ok(Timestamp::from_nanos(nanos.u64()))
}
