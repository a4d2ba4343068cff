//! Who wins, and closing a task: pay the winner, refund the client, release or forfeit every
//! committer's collateral and record each outcome, all in the transaction that closes it.
//! Every loop here runs over one task's commitments, at most `max_committers` of them.

use cosmwasm_std::{DepsMut, Env, Event, Response, Storage, SubMsg, Uint128};
use opengpu_types::events::TaskSettled;
use opengpu_types::market::{
    CommitmentState, MarketConfig, Settlement, Share, TaskInfo, TaskStatus,
};
use opengpu_types::registry::{Outcome, RegistryContract};
use opengpu_types::vault::VaultContract;

use super::forfeit::{forfeit, Beneficiary};
use super::payment::{ibc_route, pay_payee, pay_to, Payee};
use super::prune::close_task;
use crate::state::{load_commitments, save_task, COMMITMENTS};
use crate::ContractError;

/// First Response: the earliest commitment with a valid reveal, once every earlier commitment
/// is resolved (rejected, or its reveal window over). `None` while that is not yet known.
pub fn first_response_winner(
    storage: &dyn Storage,
    task: &TaskInfo,
    height: u64,
) -> Result<Option<u32>, ContractError> {
    for entry in load_commitments(storage, task)? {
        match entry.state {
            CommitmentState::Revealed { .. } => return Ok(Some(entry.seq)),
            CommitmentState::Committed {} if height <= entry.reveal_deadline_height => {
                return Ok(None)
            }
            _ => continue,
        }
    }
    Ok(None)
}

/// Manual Confirmation: the cheapest valid offer, the earliest among equals.
pub fn cheapest_offer(
    storage: &dyn Storage,
    task: &TaskInfo,
) -> Result<Option<(u32, Uint128)>, ContractError> {
    Ok(load_commitments(storage, task)?
        .into_iter()
        .filter_map(|entry| match entry.state {
            CommitmentState::Revealed {
                price: Some(price), ..
            } => Some((entry.seq, price)),
            _ => None,
        })
        .min_by_key(|(seq, price)| (*price, *seq)))
}

/// Collateral released or forfeited when a task closes.
pub struct Closing {
    pub messages: Vec<SubMsg>,
    /// Stake-denom collateral of non-revealers sent to the client.
    pub forfeited: Uint128,
}

/// Releases the collateral of revealers and of committers whose window is still open (they lost
/// the race, through no fault), forfeits it to the client for committers whose window closed
/// unrevealed, and records each committer's outcome. Rejected reveals were handled at reveal.
pub fn close_commitments(
    mut deps: DepsMut,
    env: &Env,
    config: &MarketConfig,
    task: &TaskInfo,
    winners: &[u32],
) -> Result<Closing, ContractError> {
    let height = env.block.height;
    let vault = VaultContract(config.vault_addr.clone());
    let registry = RegistryContract(config.registry_addr.clone());
    let mut closing = Closing {
        messages: vec![],
        forfeited: Uint128::zero(),
    };
    for mut entry in load_commitments(deps.storage, task)? {
        let outcome = match entry.state {
            CommitmentState::Revealed { .. } => {
                closing
                    .messages
                    .push(SubMsg::new(vault.unlock(&entry.provider, task.id)?));
                if winners.contains(&entry.seq) {
                    Outcome::Won
                } else {
                    Outcome::Lost
                }
            }
            CommitmentState::Committed {} if height > entry.reveal_deadline_height => {
                let forfeiture = forfeit(
                    deps.branch(),
                    env,
                    config,
                    task,
                    &entry.provider,
                    &[(Beneficiary::Client, entry.collateral)],
                )?;
                closing.messages.extend(forfeiture.messages);
                closing.forfeited = closing.forfeited.checked_add(forfeiture.taken)?;
                entry.state = CommitmentState::Forfeited {};
                COMMITMENTS.save(deps.storage, (task.id, entry.seq), &entry)?;
                Outcome::Expired
            }
            CommitmentState::Committed {} => {
                closing
                    .messages
                    .push(SubMsg::new(vault.unlock(&entry.provider, task.id)?));
                entry.state = CommitmentState::Released {};
                COMMITMENTS.save(deps.storage, (task.id, entry.seq), &entry)?;
                Outcome::Lost
            }
            CommitmentState::Rejected { .. }
            | CommitmentState::Refused { .. }
            | CommitmentState::Outvoted {}
            | CommitmentState::Forfeited {}
            | CommitmentState::Released {} => continue,
        };
        closing.messages.push(SubMsg::new(registry.record_outcome(
            &entry.provider,
            task.id,
            outcome,
        )?));
    }
    Ok(closing)
}

/// Pays `price` (less the task's protocol fee) to the commitments `winners`, in equal shares to
/// each one's payout address fixed at commit; refunds the rest of the budget to the client
/// (with any indivisible remainder); closes every commitment and marks the task settled.
pub fn settle(
    mut deps: DepsMut,
    env: &Env,
    config: &MarketConfig,
    mut task: TaskInfo,
    winners: &[u32],
    price: Uint128,
    response: Response,
) -> Result<Response, ContractError> {
    let height = env.block.height;
    let closing = close_commitments(deps.branch(), env, config, &task, winners)?;
    let fee = price.multiply_ratio(u128::from(task.fee_bps), 10_000u128);
    let each = price
        .checked_sub(fee)?
        .checked_div(Uint128::from(winners.len() as u128))
        .map_err(|_| ContractError::NoWinner { task_id: task.id })?;
    let mut shares = Vec::with_capacity(winners.len());
    for &seq in winners {
        let entry = COMMITMENTS.load(deps.storage, (task.id, seq))?;
        let route = ibc_route(config, entry.payout_route.as_ref(), &task.denom).cloned();
        shares.push(Share {
            // Over IBC a failed transfer becomes the provider's own claim.
            paid_to: match route {
                Some(_) => entry.provider.clone(),
                None => entry.payout.clone(),
            },
            provider: entry.provider,
            amount: each,
            route,
        });
    }
    let paid = each.checked_mul(Uint128::from(shares.len() as u128))?;
    let refund = task.budget.checked_sub(fee)?.checked_sub(paid)?;

    let denom = &task.denom;
    let mut payments = vec![];
    for share in &shares {
        // The route as filtered above: only denoms the market lets travel on its channel.
        let payee = Payee::Provider {
            task_id: task.id,
            provider: &share.provider,
            paid_to: &share.paid_to,
            route: share.route.as_ref(),
        };
        payments.extend(pay_payee(
            deps.storage,
            env,
            config,
            payee,
            denom,
            share.amount,
        )?);
    }
    payments.extend(pay_to(&config.fee_collector, denom, fee)?);
    let client = Payee::Client(&task);
    payments.extend(pay_payee(deps.storage, env, config, client, denom, refund)?);

    let first = &shares[0];
    let (winner, paid_to) = (first.provider.clone(), first.paid_to.clone());
    close_task(deps.storage, config, &mut task, TaskStatus::Settled, height)?;
    task.settlement = Some(Settlement {
        winner: winner.clone(),
        paid_to,
        price,
        paid,
        fee,
        refund,
        height,
        shares,
    });
    save_task(deps.storage, &task)?;
    Ok(response
        .add_submessages(payments)
        .add_submessages(closing.messages)
        .add_event(Event::from(TaskSettled {
            task_id: task.id,
            winner: winner.into_string(),
            amount: paid,
            fee,
            refund,
        })))
}
