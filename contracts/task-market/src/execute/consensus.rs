//! Consensus tally: the agreeing group with a quorum shares the payment; valid results outside
//! it are slashed, their collateral split between the winners and the client; without a
//! quorum the client is refunded and nobody is slashed for disagreeing. Runs once, in the
//! reveal that answers last or in a `Finalize` after the reveal phase; every loop is over one
//! task's commitments (at most `replicas`).

use cosmwasm_std::{DepsMut, Event, Response, Storage, Uint128};
use opengpu_types::consensus::{group, outputs_agree, winning_group};
use opengpu_types::events::{ConsensusTallied, TaskExpired};
use opengpu_types::market::{
    CommitmentInfo, CommitmentState, CompetitionModel, MarketConfig, TaskInfo, TaskStatus,
};
use opengpu_types::registry::{Outcome, RegistryContract};
use opengpu_types::vault::VaultContract;

use super::payment::pay_to;
use super::settle::{close_commitments, settle};
use crate::state::{load_commitments, load_outputs, save_task, COMMITMENTS};
use crate::ContractError;

/// Whether commits have closed and every committer has revealed (or been resolved), so the
/// tally need not wait for the reveal phase to end.
pub fn all_answered(storage: &dyn Storage, task: &TaskInfo) -> Result<bool, ContractError> {
    Ok(task.commit_count >= task.max_committers
        && load_commitments(storage, task)?
            .iter()
            .all(|entry| !matches!(entry.state, CommitmentState::Committed {})))
}

pub fn tally(
    deps: DepsMut,
    config: &MarketConfig,
    task: TaskInfo,
    height: u64,
    response: Response,
) -> Result<Response, ContractError> {
    let CompetitionModel::Consensus {
        quorum, tolerance, ..
    } = task.model
    else {
        return Err(ContractError::NoWinner { task_id: task.id });
    };
    let valid: Vec<CommitmentInfo> = load_commitments(deps.storage, &task)?
        .into_iter()
        .filter(|entry| matches!(entry.state, CommitmentState::Revealed { .. }))
        .collect();
    let groups = match tolerance {
        None => {
            let digests: Vec<_> = valid.iter().map(revealed_digest).collect();
            group(valid.len(), |i, j| digests[i] == digests[j])
        }
        Some(tolerance) => {
            let outputs = valid
                .iter()
                .map(|entry| load_outputs(deps.storage, task.id, entry.seq))
                .collect::<Result<Vec<_>, _>>()?;
            group(valid.len(), |i, j| {
                outputs_agree(&tolerance, &outputs[i], &outputs[j])
            })
        }
    };
    let group_count = groups.iter().copied().max().map_or(0, |g| g + 1) as u32;
    let Some(winner_group) = winning_group(&groups, quorum) else {
        return no_quorum(deps, config, task, height, group_count, response);
    };

    let winners: Vec<u32> = valid
        .iter()
        .zip(&groups)
        .filter(|(_, g)| **g == winner_group)
        .map(|(entry, _)| entry.seq)
        .collect();
    let outvoted: Vec<CommitmentInfo> = valid
        .into_iter()
        .zip(&groups)
        .filter(|(_, g)| **g != winner_group)
        .map(|(entry, _)| entry)
        .collect();
    let mut response = response.add_event(Event::from(ConsensusTallied {
        task_id: task.id,
        groups: group_count,
        winners: winners.len() as u32,
        outvoted: outvoted.len() as u32,
    }));
    for entry in outvoted {
        response = slash_outvoted(deps.storage, config, &task, entry, &winners, response)?;
    }
    let price = task.budget;
    settle(deps, config, task, &winners, price, height, response)
}

/// A valid result outside the agreeing group: its collateral is split equally between each
/// winner and the client (the client takes the remainder), and its reputation counts a slash.
fn slash_outvoted(
    storage: &mut dyn Storage,
    config: &MarketConfig,
    task: &TaskInfo,
    mut entry: CommitmentInfo,
    winners: &[u32],
    mut response: Response,
) -> Result<Response, ContractError> {
    let vault = VaultContract(config.vault_addr.clone());
    let parts = Uint128::from(winners.len() as u128 + 1);
    let each = entry.collateral.checked_div(parts).unwrap_or_default();
    let mut left = entry.collateral;
    for &seq in winners {
        if each.is_zero() {
            break;
        }
        let winner = COMMITMENTS.load(storage, (task.id, seq))?.provider;
        response = response.add_message(vault.slash(&entry.provider, task.id, each, &winner)?);
        left = left.checked_sub(each)?;
    }
    response = response
        .add_message(vault.slash(&entry.provider, task.id, left, &task.client)?)
        .add_message(RegistryContract(config.registry_addr.clone()).record_outcome(
            &entry.provider,
            task.id,
            Outcome::Slashed,
        )?);
    entry.state = CommitmentState::Outvoted {};
    COMMITMENTS.save(storage, (task.id, entry.seq), &entry)?;
    Ok(response)
}

/// No group reached the quorum: disagreement proves nobody wrong. The client gets its budget
/// back, revealers their collateral; committers who never revealed forfeit theirs as usual.
fn no_quorum(
    deps: DepsMut,
    config: &MarketConfig,
    mut task: TaskInfo,
    height: u64,
    group_count: u32,
    response: Response,
) -> Result<Response, ContractError> {
    let closing = close_commitments(deps.storage, config, &task, &[], height)?;
    task.status = TaskStatus::Expired;
    save_task(deps.storage, &task)?;
    Ok(response
        .add_submessages(pay_to(&task.client, &task.denom, task.budget)?)
        .add_messages(closing.messages)
        .add_event(Event::from(ConsensusTallied {
            task_id: task.id,
            groups: group_count,
            winners: 0,
            outvoted: 0,
        }))
        .add_event(Event::from(TaskExpired {
            task_id: task.id,
            refund: task.budget,
            forfeited: closing.forfeited,
        })))
}

fn revealed_digest(entry: &CommitmentInfo) -> Vec<u8> {
    match &entry.state {
        CommitmentState::Revealed { outputs_digest, .. } => outputs_digest.to_vec(),
        _ => vec![],
    }
}
