//! The sealed-bid second-price auction (rules in `opengpu_types::auction`): the messages —
//! bids, bid reveals, `Advance`, the awardee's commit and its delivery. The award and hand-over
//! live in [`award`]. Nothing here waits for a keeper: whatever the heights decide is applied
//! by the first auction message after a window ends.

mod award;

use award::{hand_over, pay_held, step, waiting_for};

use cosmwasm_std::{Binary, DepsMut, Env, Event, HexBinary, MessageInfo, Response, Uint128};
use opengpu_types::auction::{bid_commitment, AuctionState, Award, BidInfo, BidState};
use opengpu_types::commitment::{MAX_SALT_BYTES, MIN_SALT_BYTES};
use opengpu_types::events::{actions, BidPlaced, BidRevealed, TaskCommitted, TaskRevealed};
use opengpu_types::market::{CommitmentInfo, CommitmentState, MarketConfig, TaskInfo, TaskStatus};
use opengpu_types::registry::RegistryContract;
use opengpu_types::vault::VaultContract;
use opengpu_types::verification::Verdict;
use opengpu_types::TaskId;

use super::settle::settle;
use super::submit::{check_hash_len, ensure_open, provider_may_take};
use crate::state::{
    load_task, save_outputs, save_task, BIDS, BID_SEQ, COMMITMENTS, COMMIT_SEQ, CONFIG,
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
    check_hash_len(&commitment)?;
    if BID_SEQ.has(deps.storage, (task_id, &provider)) {
        return Err(ContractError::AlreadyBid {
            task_id,
            provider: provider.into_string(),
        });
    }
    provider_may_take(deps.as_ref(), &config, &task, &provider)?;

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
    check_hash_len(&commitment)?;
    if COMMIT_SEQ.has(deps.storage, (task_id, &provider)) {
        return Err(ContractError::AlreadyCommitted {
            task_id,
            provider: provider.into_string(),
        });
    }
    let (payout, payout_route) = RegistryContract(config.registry_addr.clone())
        .provider(&deps.querier, &provider)
        .map(|registered| {
            let provider = registered.provider;
            (provider.payout().clone(), provider.payout_route)
        })
        .unwrap_or_else(|_| (provider.clone(), None));
    let seq = task.commit_count;
    let entry = CommitmentInfo {
        task_id,
        provider: provider.clone(),
        seq,
        commitment,
        collateral: task.collateral,
        payout,
        payout_route,
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
            // Collateral of earlier winners that failed goes to the one who delivered.
            let mut task = task;
            let mut response = response;
            pay_held(
                deps.branch(),
                env,
                config,
                &mut task,
                Some(&entry),
                &mut response,
            )?;
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

pub(super) fn auction_state(task: &mut TaskInfo) -> &mut AuctionState {
    task.auction.get_or_insert_with(AuctionState::default)
}

pub(super) fn state_handovers(task: &TaskInfo) -> u32 {
    task.auction.as_ref().map_or(0, |a| a.handovers)
}
