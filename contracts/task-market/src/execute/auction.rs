//! The sealed-bid second-price auction (rules in `opengpu_types::auction`): bids, bid reveals,
//! the award, delivery and hand-over. Nothing here waits for a keeper: whatever the heights
//! decide is applied by the first auction message after a window ends ([`advance`]), and every
//! loop runs over one task's bids, at most `max_committers` of them.

use cosmwasm_std::{Addr, Binary, DepsMut, Env, Event, HexBinary, MessageInfo, Response, Uint128};
use opengpu_types::auction::{
    self, award_order, bid_commitment, AuctionState, Award, BidInfo, BidState,
};
use opengpu_types::commitment::{MAX_SALT_BYTES, MIN_SALT_BYTES};
use opengpu_types::events::{
    actions, AuctionAwarded, AuctionDefaulted, BidPlaced, BidRevealed, TaskCommitted, TaskExpired,
    TaskRevealed,
};
use opengpu_types::market::{
    CommitmentInfo, CommitmentState, CompetitionModel, MarketConfig, TaskInfo, TaskStatus,
};
use opengpu_types::registry::{Outcome, RegistryContract};
use opengpu_types::vault::VaultContract;
use opengpu_types::TaskId;

use opengpu_types::verification::Verdict;

use super::forfeit::forfeit;
use super::payment::pay_to;
use super::settle::settle;
use super::submit::ensure_open;
use crate::state::{
    load_bids, load_task, save_outputs, save_task, BIDS, BID_SEQ, COMMITMENTS, COMMIT_SEQ, CONFIG,
    WORK_GROUP_SIZES,
};
use crate::ContractError;

pub fn bid(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    task_id: TaskId,
    commitment: HexBinary,
) -> Result<Response, ContractError> {
    cw_utils::nonpayable(&info)?;
    let config = CONFIG.load(deps.storage)?;
    let mut task = load_auction(deps.storage, task_id)?;
    let provider = info.sender;
    let height = env.block.height;
    if task.bids_closed(height) {
        return Err(ContractError::BidsClosed {
            task_id,
            deadline: task.deadline_height,
            height,
        });
    }
    if commitment.len() != 32 {
        return Err(ContractError::BadCommitment {
            len: commitment.len(),
        });
    }
    if BID_SEQ.has(deps.storage, (task_id, &provider)) {
        return Err(ContractError::AlreadyBid {
            task_id,
            provider: provider.into_string(),
        });
    }
    let registered = RegistryContract(config.registry_addr.clone())
        .provider(&deps.querier, &provider)
        .map_err(|_| ContractError::ProviderNotRegistered {
            provider: provider.to_string(),
        })?;
    if !registered.eligible {
        return Err(ContractError::ProviderNotEligible {
            provider: provider.into_string(),
        });
    }
    let work_group_size = WORK_GROUP_SIZES.load(deps.storage, task_id)?;
    if let Some(reason) = task
        .requirements
        .unmet_by(&registered.provider.device, work_group_size)
    {
        return Err(ContractError::RequirementsNotMet { reason });
    }

    let state = task.auction.get_or_insert_with(AuctionState::default);
    let seq = state.bid_count;
    state.bid_count += 1;
    BIDS.save(
        deps.storage,
        (task_id, seq),
        &BidInfo {
            task_id,
            provider: provider.clone(),
            seq,
            commitment,
            collateral: task.collateral,
            height,
            state: BidState::Sealed {},
        },
    )?;
    BID_SEQ.save(deps.storage, (task_id, &provider), &seq)?;
    task.status = TaskStatus::Committed;
    save_task(deps.storage, &task)?;

    // The vault refuses the lock when free stake is short, which undoes this whole bid.
    let lock = VaultContract(config.vault_addr).lock(&provider, task_id, task.collateral)?;
    Ok(Response::new()
        .add_attribute("action", actions::BID)
        .add_message(lock)
        .add_event(Event::from(BidPlaced {
            task_id,
            provider: provider.into_string(),
            seq,
        })))
}

pub fn reveal_bid(
    mut deps: DepsMut,
    env: Env,
    info: MessageInfo,
    task_id: TaskId,
    price: Uint128,
    salt: HexBinary,
) -> Result<Response, ContractError> {
    cw_utils::nonpayable(&info)?;
    let config = CONFIG.load(deps.storage)?;
    let mut task = load_auction(deps.storage, task_id)?;
    let provider = info.sender;
    let height = env.block.height;
    let seq = BID_SEQ
        .may_load(deps.storage, (task_id, &provider))?
        .ok_or_else(|| ContractError::NoBid {
            task_id,
            provider: provider.to_string(),
        })?;
    let mut bid = BIDS.load(deps.storage, (task_id, seq))?;
    if !matches!(bid.state, BidState::Sealed {}) {
        return Err(ContractError::BidAlreadyRevealed {
            task_id,
            provider: provider.into_string(),
        });
    }
    if !task.bids_closed(height) {
        return Err(ContractError::BidsStillOpen {
            task_id,
            deadline: task.deadline_height,
        });
    }
    if height <= bid.height {
        return Err(ContractError::RevealTooEarly {
            earliest: bid.height + 1,
        });
    }
    if height > task.bid_reveal_end() {
        return Err(ContractError::BidRevealClosed {
            task_id,
            end: task.bid_reveal_end(),
            height,
        });
    }
    if !(MIN_SALT_BYTES..=MAX_SALT_BYTES).contains(&salt.len()) {
        return Err(ContractError::BadSalt {
            len: salt.len(),
            min: MIN_SALT_BYTES,
            max: MAX_SALT_BYTES,
        });
    }
    if bid.commitment.as_slice() != bid_commitment(task_id, provider.as_str(), price, &salt) {
        return Err(ContractError::BidMismatch {});
    }

    let valid = !price.is_zero() && price <= task.budget;
    let mut response = Response::new().add_attribute("action", actions::REVEAL_BID);
    if valid {
        bid.state = BidState::Revealed { price, height };
    } else {
        // Outside 1..=maximum: no part in the auction, and no fault either.
        bid.state = BidState::Void { price };
        response = response
            .add_message(VaultContract(config.vault_addr.clone()).unlock(&provider, task_id)?);
    }
    BIDS.save(deps.storage, (task_id, seq), &bid)?;
    auction_state(&mut task).revealed_count += 1;
    save_task(deps.storage, &task)?;
    response = response.add_event(Event::from(BidRevealed {
        task_id,
        provider: provider.into_string(),
        price,
        valid,
    }));
    // The last bid opened decides the award at once.
    let (_, response) = step(deps.branch(), &env, &config, task, response)?;
    Ok(response)
}

/// `Advance`: applies what the heights decide, or says why nothing is due.
pub fn advance(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    task_id: TaskId,
) -> Result<Response, ContractError> {
    cw_utils::nonpayable(&info)?;
    let config = CONFIG.load(deps.storage)?;
    let task = load_auction(deps.storage, task_id)?;
    let response = Response::new().add_attribute("action", actions::ADVANCE);
    let (advanced, response) = step(deps, &env, &config, task.clone(), response)?;
    if !advanced {
        return Err(ContractError::NothingToAdvance {
            task_id,
            reason: waiting_for(&task, env.block.height),
        });
    }
    Ok(response)
}

/// The awardee's result commitment: the common commit, open only to the awardee within its
/// execution window. Its collateral is already locked by the award.
pub fn commit_result(
    mut deps: DepsMut,
    env: Env,
    info: MessageInfo,
    task_id: TaskId,
    commitment: HexBinary,
) -> Result<Response, ContractError> {
    cw_utils::nonpayable(&info)?;
    let config = CONFIG.load(deps.storage)?;
    let task = load_auction(deps.storage, task_id)?;
    let height = env.block.height;
    // The awardee too late: say so, rather than the error of the hand-over its commit would
    // carry (the award passing on, or the task expiring), which this refusal rolls back.
    if let Some(award) = current_award(&task) {
        if award.provider == info.sender && height > award.execute_deadline {
            return Err(ContractError::ExecutionWindowClosed {
                task_id,
                deadline: award.execute_deadline,
                height,
            });
        }
    }
    // An award or hand-over that is due happens first, so the next bidder's commit is enough.
    let (_, response) = step(deps.branch(), &env, &config, task, Response::new())?;
    let mut task = load_task(deps.storage, task_id)?;
    ensure_open(&task)?;
    let provider = info.sender;
    let award = current_award(&task).ok_or_else(|| ContractError::NothingToAdvance {
        task_id,
        reason: waiting_for(&task, height),
    })?;
    if award.provider != provider {
        return Err(ContractError::NotAwarded {
            task_id,
            awardee: award.provider.to_string(),
            sender: provider.into_string(),
        });
    }
    if commitment.len() != 32 {
        return Err(ContractError::BadCommitment {
            len: commitment.len(),
        });
    }
    if COMMIT_SEQ.has(deps.storage, (task_id, &provider)) {
        return Err(ContractError::AlreadyCommitted {
            task_id,
            provider: provider.into_string(),
        });
    }
    let payout = RegistryContract(config.registry_addr.clone())
        .provider(&deps.querier, &provider)
        .map(|registered| registered.provider.payout().clone())
        .unwrap_or_else(|_| provider.clone());
    let seq = task.commit_count;
    let entry = CommitmentInfo {
        task_id,
        provider: provider.clone(),
        seq,
        commitment,
        collateral: task.collateral,
        payout,
        committed_height: height,
        reveal_deadline_height: award.execute_deadline,
        state: CommitmentState::Committed {},
    };
    COMMITMENTS.save(deps.storage, (task_id, seq), &entry)?;
    COMMIT_SEQ.save(deps.storage, (task_id, &provider), &seq)?;
    task.commit_count += 1;
    save_task(deps.storage, &task)?;
    Ok(response
        .add_attribute("action", actions::COMMIT)
        .add_event(Event::from(TaskCommitted {
            task_id,
            provider: provider.into_string(),
            seq,
            reveal_deadline: award.execute_deadline,
        })))
}

/// A revealed result with its verdict.
pub struct Delivery {
    pub entry: CommitmentInfo,
    pub verdict: Verdict,
    pub outputs: Vec<Binary>,
    pub digest: [u8; 32],
}

/// The awardee's verified result: a valid one settles the task at the clearing price; one
/// proven wrong is slashed and one refused (no match with the client's reference hash) is
/// released, and either way the award passes on in this transaction.
pub fn deliver(
    mut deps: DepsMut,
    env: &Env,
    config: &MarketConfig,
    task: TaskInfo,
    delivery: Delivery,
) -> Result<Response, ContractError> {
    let Delivery {
        mut entry,
        verdict,
        outputs,
        digest,
    } = delivery;
    let award = current_award(&task).ok_or(ContractError::NoWinner { task_id: task.id })?;
    let outcome = verdict.outcome_name();
    let response = Response::new()
        .add_attribute("action", actions::REVEAL)
        .add_event(Event::from(TaskRevealed {
            task_id: task.id,
            provider: entry.provider.to_string(),
            valid: verdict.is_valid(),
            price: Uint128::zero(),
            outcome: outcome.to_string(),
        }));
    let (reason, slash) = match verdict {
        Verdict::Valid {} => {
            entry.state = CommitmentState::Revealed {
                outputs_digest: HexBinary::from(digest),
                price: None,
                height: env.block.height,
            };
            COMMITMENTS.save(deps.storage, (task.id, entry.seq), &entry)?;
            save_outputs(deps.storage, task.id, entry.seq, &outputs)?;
            let mut bid = BIDS.load(deps.storage, (task.id, award.bid_seq))?;
            bid.state = BidState::Won {
                price: award.bid,
                clearing: award.price,
            };
            BIDS.save(deps.storage, (task.id, award.bid_seq), &bid)?;
            return settle(deps, env, config, task, &[entry.seq], award.price, response);
        }
        Verdict::Invalid { reason } => {
            entry.state = CommitmentState::Rejected {
                reason: reason.clone(),
            };
            (reason, true)
        }
        Verdict::Unmatched { reason } => {
            entry.state = CommitmentState::Refused {
                reason: reason.clone(),
            };
            (reason, false)
        }
    };
    COMMITMENTS.save(deps.storage, (task.id, entry.seq), &entry)?;
    hand_over(deps.branch(), env, config, task, reason, slash, response)
}

/// The award price, when `task` is an auction with an award.
pub fn current_award(task: &TaskInfo) -> Option<Award> {
    task.auction.as_ref().and_then(|a| a.award.clone())
}

/// One step of the auction, if the heights call for one: the award once bids are all open or
/// the bid-reveal phase is over; a hand-over once the execution window passed undelivered.
/// Returns whether anything happened, with `response` extended.
fn step(
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
                &deps.querier,
                config,
                &env.contract.address,
                &bid.provider,
                task.id,
                &[(&task.client, bid.collateral)],
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
        return close_unawarded(deps, task, response);
    };
    for &(seq, _) in line.iter().skip(1) {
        let bid = &bids[seq as usize];
        response = response.add_message(vault.unlock(&bid.provider, task.id)?);
    }
    let (award, event) = award_to(&task, &bids[winner_seq as usize], &line, 0, env)?;
    save_award(deps.branch(), &mut task, award)?;
    Ok(response.add_event(event))
}

/// The awardee failed: its bid is marked defaulted (slashed when `slash`, to the next awardee,
/// or to the client when nobody is left) or refused, and the next bid in line that can still
/// take the task is awarded it with a fresh window and its collateral locked again.
fn hand_over(
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
    let beneficiary = match next {
        Some(index) => bids[line[index].0 as usize].provider.clone(),
        None => task.client.clone(),
    };

    let mut slashed = Uint128::zero();
    if slash {
        let forfeiture = forfeit(
            &deps.querier,
            config,
            &env.contract.address,
            &failed.provider,
            task.id,
            &[(&beneficiary, task.collateral)],
        )?;
        slashed = forfeiture.taken;
        response = response
            .add_submessages(forfeiture.messages)
            .add_message(registry.record_outcome(&failed.provider, task.id, Outcome::Slashed)?);
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
        let state = auction_state(&mut task);
        state.forfeited = state.forfeited.checked_add(slashed)?;
        return close_unawarded(deps, task, response);
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

/// Nobody to award: the client gets the whole budget back (forfeited collateral went to it as
/// it was taken) and the task expires.
fn close_unawarded(
    deps: DepsMut,
    mut task: TaskInfo,
    response: Response,
) -> Result<Response, ContractError> {
    task.status = TaskStatus::Expired;
    save_task(deps.storage, &task)?;
    let forfeited = state_forfeited(&task);
    Ok(response
        .add_submessages(pay_to(&task.client, &task.denom, task.budget)?)
        .add_event(Event::from(TaskExpired {
            task_id: task.id,
            refund: task.budget,
            forfeited,
        })))
}

/// What the auction waits for at `height`, for errors and the CLI.
fn waiting_for(task: &TaskInfo, height: u64) -> String {
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

fn load_auction(
    storage: &dyn cosmwasm_std::Storage,
    task_id: TaskId,
) -> Result<TaskInfo, ContractError> {
    let task = load_task(storage, task_id)?;
    if !task.model.is_auction() {
        return Err(ContractError::NotAnAuction { task_id });
    }
    ensure_open(&task)?;
    Ok(task)
}

fn auction_state(task: &mut TaskInfo) -> &mut AuctionState {
    task.auction.get_or_insert_with(AuctionState::default)
}

fn state_forfeited(task: &TaskInfo) -> Uint128 {
    task.auction
        .as_ref()
        .map_or(Uint128::zero(), |a| a.forfeited)
}

fn state_handovers(task: &TaskInfo) -> u32 {
    task.auction.as_ref().map_or(0, |a| a.handovers)
}
