//! The award and the hand-over: what the heights decide, applied by the first auction message
//! after a window ends. Every loop runs over one task's bids, at most `max_committers`.

use cosmwasm_std::{Addr, DepsMut, Env, Event, Response, Uint128};
use opengpu_types::auction::{self, award_order, Award, BidInfo, BidState};
use opengpu_types::events::{AuctionAwarded, AuctionDefaulted, HeldCollateralPaid, TaskExpired};
use opengpu_types::market::{
    CommitmentInfo, CommitmentState, CompetitionModel, MarketConfig, TaskInfo, TaskStatus,
};
use opengpu_types::registry::{Outcome, RegistryContract};
use opengpu_types::vault::VaultContract;

use super::super::forfeit::{forfeit, Beneficiary};
use super::super::payment::{pay_payee, Payee};
use super::super::prune::close_task;
use super::{auction_state, current_award, state_handovers};
use crate::state::{load_bids, save_task, BIDS, COMMITMENTS, COMMIT_SEQ};
use crate::ContractError;

/// One step of the auction, if the heights call for one: the award once bids are all open or
/// the bid-reveal phase is over; a hand-over once the execution window passed undelivered.
/// Returns whether anything happened, with `response` extended.
pub(super) fn step(
    deps: DepsMut,
    env: &Env,
    config: &MarketConfig,
    task: TaskInfo,
    response: Response,
) -> Result<(bool, Response), ContractError> {
    let height = env.block.height;
    if task.status.is_final() {
        return Ok((false, response));
    }
    match current_award(&task) {
        None => {
            let state = task.auction.clone().unwrap_or_default();
            let all_open = state.bid_count > 0 && state.revealed_count == state.bid_count;
            let due = task.bids_closed(height) && (all_open || height > task.bid_reveal_end());
            if !due {
                return Ok((false, response));
            }
            Ok((true, award(deps, env, config, task, response)?))
        }
        Some(award) if height > award.execute_deadline => {
            let reason = format!("no result by height {}", award.execute_deadline);
            Ok((
                true,
                hand_over(deps, env, config, task, reason, true, response)?,
            ))
        }
        Some(_) => Ok((false, response)),
    }
}

/// The first award: bids never opened are forfeited to the client, the lowest open bid wins at
/// the next price up, and the other open bids are released (they stay in line for a hand-over).
fn award(
    mut deps: DepsMut,
    env: &Env,
    config: &MarketConfig,
    mut task: TaskInfo,
    mut response: Response,
) -> Result<Response, ContractError> {
    let vault = VaultContract(config.vault_addr.clone());
    let registry = RegistryContract(config.registry_addr.clone());
    let mut forfeited = Uint128::zero();
    let mut bids = load_bids(deps.storage, &task)?;
    for bid in bids.iter_mut() {
        if matches!(bid.state, BidState::Sealed {}) {
            let forfeiture = forfeit(
                deps.branch(),
                env,
                config,
                &task,
                &bid.provider,
                &[(Beneficiary::Client, bid.collateral)],
            )?;
            forfeited = forfeited.checked_add(forfeiture.taken)?;
            response = response
                .add_submessages(forfeiture.messages)
                .add_message(registry.record_outcome(&bid.provider, task.id, Outcome::Expired)?);
            bid.state = BidState::Forfeited {};
            BIDS.save(deps.storage, (task.id, bid.seq), bid)?;
        }
    }
    let state = auction_state(&mut task);
    state.forfeited = state.forfeited.checked_add(forfeited)?;

    let line = award_order(&bids);
    let Some(&(winner_seq, _)) = line.first() else {
        return close_unawarded(deps, env, config, task, response);
    };
    for &(seq, _) in line.iter().skip(1) {
        let bid = &bids[seq as usize];
        response = response.add_message(vault.unlock(&bid.provider, task.id)?);
    }
    let (award, event) = award_to(&task, &bids[winner_seq as usize], &line, 0, env)?;
    save_award(deps.branch(), &mut task, award)?;
    Ok(response.add_event(event))
}

/// The awardee failed: its bid is marked defaulted (slashed when `slash`) or refused, and the
/// next bid in line that can still take the task is awarded it with a fresh window and its
/// collateral locked again. Slashed collateral is held by the market for whoever delivers (see
/// [`pay_held`]), so a chain of defaulting sybils loses every link's collateral.
pub(super) fn hand_over(
    mut deps: DepsMut,
    env: &Env,
    config: &MarketConfig,
    mut task: TaskInfo,
    reason: String,
    slash: bool,
    mut response: Response,
) -> Result<Response, ContractError> {
    let failed = current_award(&task).ok_or(ContractError::NoWinner { task_id: task.id })?;
    let vault = VaultContract(config.vault_addr.clone());
    let registry = RegistryContract(config.registry_addr.clone());
    let mut bids = load_bids(deps.storage, &task)?;
    let failed_bid = &mut bids[failed.bid_seq as usize];
    failed_bid.state = if slash {
        BidState::Defaulted {
            price: failed.bid,
            reason: reason.clone(),
        }
    } else {
        BidState::Refused {
            price: failed.bid,
            reason: reason.clone(),
        }
    };
    BIDS.save(deps.storage, (task.id, failed.bid_seq), failed_bid)?;
    // A result committed and never revealed is settled here, not again at close.
    if let Some(seq) = COMMIT_SEQ.may_load(deps.storage, (task.id, &failed.provider))? {
        let mut entry = COMMITMENTS.load(deps.storage, (task.id, seq))?;
        if matches!(entry.state, CommitmentState::Committed {}) {
            entry.state = CommitmentState::Forfeited {};
            COMMITMENTS.save(deps.storage, (task.id, seq), &entry)?;
        }
    }

    // The next bid in line able to take the task: still eligible, with free stake to lock.
    let line = award_order(&bids);
    let mut next = None;
    for (index, &(seq, price)) in line.iter().enumerate() {
        let bid = &mut bids[seq as usize];
        match unable_to_take(&deps, config, &bid.provider, task.collateral) {
            Some(why) => {
                bid.state = BidState::Skipped { price, reason: why };
                BIDS.save(deps.storage, (task.id, seq), bid)?;
            }
            None => {
                next = Some(index);
                break;
            }
        }
    }
    let mut slashed = Uint128::zero();
    if slash {
        // At most the task's lock, into the market, which holds it (the vault would fail the
        // whole transaction on a refused send; the market pays through claims).
        slashed = task
            .collateral
            .min(vault.locked(&deps.querier, &failed.provider, task.id)?);
        if !slashed.is_zero() {
            response = response.add_message(vault.slash(
                &failed.provider,
                task.id,
                slashed,
                &env.contract.address,
            )?);
        }
        response = response.add_message(registry.record_outcome(
            &failed.provider,
            task.id,
            Outcome::Slashed,
        )?);
        let state = auction_state(&mut task);
        state.held = state.held.checked_add(slashed)?;
    } else {
        response = response
            .add_message(vault.unlock(&failed.provider, task.id)?)
            .add_message(registry.record_outcome(&failed.provider, task.id, Outcome::Lost)?);
    }
    response = response.add_event(Event::from(AuctionDefaulted {
        task_id: task.id,
        provider: failed.provider.to_string(),
        reason,
        slashed,
    }));
    let state = auction_state(&mut task);
    state.handovers += 1;
    state.award = None;

    let Some(index) = next else {
        return close_unawarded(deps, env, config, task, response);
    };
    let (award, event) = award_to(&task, &bids[line[index].0 as usize], &line, index, env)?;
    let winner = award.provider.clone();
    save_award(deps.branch(), &mut task, award)?;
    Ok(response
        .add_message(vault.lock(&winner, task.id, task.collateral)?)
        .add_event(event))
}

/// Why `provider` cannot take a hand-over now, if it cannot: a lock it cannot back would fail
/// the whole transaction, and an unregistered provider could not have its outcome recorded.
fn unable_to_take(
    deps: &DepsMut,
    config: &MarketConfig,
    provider: &Addr,
    collateral: Uint128,
) -> Option<String> {
    match RegistryContract(config.registry_addr.clone()).provider(&deps.querier, provider) {
        Ok(registered) if registered.eligible => {}
        Ok(_) => return Some("not eligible (paused or under-bonded)".into()),
        Err(_) => return Some("no longer registered".into()),
    }
    match VaultContract(config.vault_addr.clone()).stake(&deps.querier, provider) {
        Ok(stake) if stake.free >= collateral => None,
        Ok(stake) => Some(format!(
            "free stake {} below the collateral {collateral}",
            stake.free
        )),
        Err(err) => Some(format!("stake unknown: {err}")),
    }
}

/// The award to `bid`, at `index` in `line`, and its event.
fn award_to(
    task: &TaskInfo,
    bid: &BidInfo,
    line: &[(u32, Uint128)],
    index: usize,
    env: &Env,
) -> Result<(Award, AuctionAwarded), ContractError> {
    let CompetitionModel::Auction { execute_blocks, .. } = task.model else {
        return Err(ContractError::NotAnAuction { task_id: task.id });
    };
    let height = env.block.height;
    let award = Award {
        provider: bid.provider.clone(),
        bid_seq: bid.seq,
        bid: line[index].1,
        price: auction::clearing_price(line, index, task.budget),
        awarded_height: height,
        execute_deadline: height.saturating_add(execute_blocks),
    };
    let event = AuctionAwarded {
        task_id: task.id,
        provider: award.provider.to_string(),
        bid: award.bid,
        price: award.price,
        execute_deadline: award.execute_deadline,
        round: state_handovers(task),
    };
    Ok((award, event))
}

fn save_award(deps: DepsMut, task: &mut TaskInfo, award: Award) -> Result<(), ContractError> {
    let mut bid = BIDS.load(deps.storage, (task.id, award.bid_seq))?;
    bid.state = BidState::Awarded {
        price: award.bid,
        clearing: award.price,
        execute_deadline: award.execute_deadline,
    };
    BIDS.save(deps.storage, (task.id, award.bid_seq), &bid)?;
    auction_state(task).award = Some(award);
    save_task(deps.storage, task)?;
    Ok(())
}

/// Nobody to award: the client gets the whole budget back, plus the collateral held from
/// winners that failed (unopened bids' went to it at the award), and the task expires.
fn close_unawarded(
    mut deps: DepsMut,
    env: &Env,
    config: &MarketConfig,
    mut task: TaskInfo,
    mut response: Response,
) -> Result<Response, ContractError> {
    let held = pay_held(deps.branch(), env, config, &mut task, None, &mut response)?;
    let state = auction_state(&mut task);
    state.forfeited = state.forfeited.checked_add(held)?;
    let forfeited = state.forfeited;
    close_task(
        deps.storage,
        config,
        &mut task,
        TaskStatus::Expired,
        env.block.height,
    )?;
    save_task(deps.storage, &task)?;
    let refund = pay_payee(
        deps.storage,
        env,
        config,
        Payee::Client(&task),
        &task.denom,
        task.budget,
    )?;
    Ok(response
        .add_submessages(refund)
        .add_event(Event::from(TaskExpired {
            task_id: task.id,
            refund: task.budget,
            forfeited,
        })))
}

/// Pays the collateral held from failed winners (stake denom) to the provider who delivered
/// (`winner`, paid as its winnings are) or, when nobody did, to the client, and clears it;
/// returns the amount. A failed payment becomes the payee's claim.
pub(super) fn pay_held(
    deps: DepsMut,
    env: &Env,
    config: &MarketConfig,
    task: &mut TaskInfo,
    winner: Option<&CommitmentInfo>,
    response: &mut Response,
) -> Result<Uint128, ContractError> {
    let state = auction_state(task);
    let held = std::mem::take(&mut state.held);
    if held.is_zero() {
        return Ok(held);
    }
    let stake_denom = VaultContract(config.vault_addr.clone())
        .config(&deps.querier)?
        .stake_denom;
    let (payee, beneficiary) = match winner {
        Some(entry) => (
            Payee::Provider {
                task_id: task.id,
                provider: &entry.provider,
                paid_to: &entry.payout,
                route: entry.payout_route.as_ref(),
            },
            entry.provider.to_string(),
        ),
        None => (Payee::Client(task), task.client.to_string()),
    };
    let payment = pay_payee(deps.storage, env, config, payee, &stake_denom, held)?;
    *response = std::mem::take(response)
        .add_submessages(payment)
        .add_event(Event::from(HeldCollateralPaid {
            task_id: task.id,
            beneficiary,
            amount: held,
        }));
    Ok(held)
}

/// What the auction waits for at `height`, for errors and the CLI.
pub(super) fn waiting_for(task: &TaskInfo, height: u64) -> String {
    if task.status.is_final() {
        return format!("it is {}", task.status);
    }
    match current_award(task) {
        Some(award) => format!(
            "{} may deliver until height {}",
            award.provider, award.execute_deadline
        ),
        None if !task.bids_closed(height) => {
            format!("bids are open until height {}", task.deadline_height)
        }
        None => format!(
            "bids may be revealed until height {}",
            task.bid_reveal_end()
        ),
    }
}
