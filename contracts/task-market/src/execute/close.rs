//! Closing a task: the client's confirmation, and the permissionless finalize and expire that
//! keep a silent client or absent providers from stranding funds.

use cosmwasm_std::{DepsMut, Env, Event, MessageInfo, Response};
use opengpu_types::events::{actions, TaskExpired};
use opengpu_types::market::{CommitmentState, CompetitionModel, TaskInfo, TaskStatus};
use opengpu_types::TaskId;

use super::consensus;
use super::payment::{pay_payee, Payee};
use super::prune::close_task;
use super::settle::{self, cheapest_offer, close_commitments, first_response_winner};
use super::submit::ensure_open;
use crate::state::{load_commitments, load_task, save_task, COMMITMENTS, COMMIT_SEQ, CONFIG};
use crate::ContractError;

pub fn confirm(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    task_id: TaskId,
    provider: String,
) -> Result<Response, ContractError> {
    cw_utils::nonpayable(&info)?;
    let config = CONFIG.load(deps.storage)?;
    let task = load_task(deps.storage, task_id)?;
    ensure_open(&task)?;
    if info.sender != task.client {
        return Err(ContractError::NotClient {
            client: task.client.into_string(),
        });
    }
    ensure_model(&task, CompetitionModel::ManualConfirmation)?;
    let provider = deps.api.addr_validate(&provider)?;
    let no_offer = || ContractError::NoValidOffer {
        task_id,
        provider: provider.to_string(),
    };
    let seq = COMMIT_SEQ
        .may_load(deps.storage, (task_id, &provider))?
        .ok_or_else(no_offer)?;
    let CommitmentState::Revealed {
        price: Some(price), ..
    } = COMMITMENTS.load(deps.storage, (task_id, seq))?.state
    else {
        return Err(no_offer());
    };
    let response = Response::new().add_attribute("action", actions::CONFIRM);
    settle::settle(deps, &env, &config, task, &[seq], price, response)
}

pub fn finalize(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    task_id: TaskId,
) -> Result<Response, ContractError> {
    cw_utils::nonpayable(&info)?;
    let config = CONFIG.load(deps.storage)?;
    let task = load_task(deps.storage, task_id)?;
    ensure_open(&task)?;
    let height = env.block.height;
    let not_yet = |reason: String| ContractError::NothingToFinalize { task_id, reason };
    let (winner, price) = match task.model {
        CompetitionModel::FirstResponse => {
            let winner = first_response_winner(deps.storage, &task, height)?.ok_or_else(|| {
                not_yet("no valid result yet, or an earlier committer may still reveal".into())
            })?;
            (winner, task.budget)
        }
        CompetitionModel::ManualConfirmation => {
            if height <= task.confirm_deadline_height() {
                return Err(not_yet(format!(
                    "the client may confirm an offer until height {}",
                    task.confirm_deadline_height()
                )));
            }
            cheapest_offer(deps.storage, &task)?
                .ok_or_else(|| not_yet("no valid offer: call Expire".into()))?
        }
        CompetitionModel::Consensus { .. } => {
            if height <= task.reveals_close_height()
                && !consensus::all_answered(deps.storage, &task)?
            {
                return Err(not_yet(format!(
                    "committers may reveal until height {}",
                    task.reveals_close_height()
                )));
            }
            let response = Response::new().add_attribute("action", actions::FINALIZE);
            return consensus::tally(deps, &env, &config, task, response);
        }
        CompetitionModel::Auction { .. } => {
            return Err(not_yet(
                "an auction settles when its awardee delivers; send Advance to move it on".into(),
            ))
        }
    };
    let response = Response::new().add_attribute("action", actions::FINALIZE);
    settle::settle(deps, &env, &config, task, &[winner], price, response)
}

pub fn expire(
    mut deps: DepsMut,
    env: Env,
    info: MessageInfo,
    task_id: TaskId,
) -> Result<Response, ContractError> {
    cw_utils::nonpayable(&info)?;
    let config = CONFIG.load(deps.storage)?;
    let mut task = load_task(deps.storage, task_id)?;
    ensure_open(&task)?;
    if task.model.is_auction() {
        // An auction with nobody left to award expires through its own step.
        return super::auction::advance(deps, env, info, task_id);
    }
    let height = env.block.height;
    if height <= task.deadline_height {
        return Err(ContractError::DeadlineNotReached {
            task_id,
            deadline: task.deadline_height,
            height,
        });
    }
    for entry in load_commitments(deps.storage, &task)? {
        match entry.state {
            CommitmentState::Committed {} if height <= entry.reveal_deadline_height => {
                return Err(ContractError::RevealWindowOpen {
                    task_id,
                    until: entry.reveal_deadline_height,
                })
            }
            CommitmentState::Revealed { .. } => {
                return Err(ContractError::ValidResultExists { task_id })
            }
            _ => {}
        }
    }
    let closing = close_commitments(deps.branch(), &env, &config, &task, &[])?;
    close_task(
        deps.storage,
        &config,
        &mut task,
        TaskStatus::Expired,
        env.block.height,
    )?;
    save_task(deps.storage, &task)?;
    let refund = pay_payee(
        deps.storage,
        &env,
        &config,
        Payee::Client(&task),
        &task.denom,
        task.budget,
    )?;
    Ok(Response::new()
        .add_attribute("action", actions::EXPIRE)
        .add_submessages(refund)
        .add_submessages(closing.messages)
        .add_event(Event::from(TaskExpired {
            task_id,
            refund: task.budget,
            forfeited: closing.forfeited,
        })))
}

fn ensure_model(task: &TaskInfo, expected: CompetitionModel) -> Result<(), ContractError> {
    if task.model != expected {
        return Err(ContractError::WrongModel {
            task_id: task.id,
            expected,
            model: task.model,
        });
    }
    Ok(())
}
