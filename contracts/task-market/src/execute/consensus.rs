//! Consensus tally: the agreeing group with a quorum shares the payment; valid results outside
//! it are slashed, their collateral split between the winners and the client; without a
//! quorum the client is refunded and nobody is slashed for disagreeing. Runs once, in the
//! reveal that answers last or in a `Finalize` after the reveal phase; every loop is over one
//! task's commitments (at most `replicas`).

use cosmwasm_std::{Addr, DepsMut, Env, Event, Response, Storage, Uint128};
use opengpu_types::consensus::{group, outputs_agree, winning_group};
use opengpu_types::events::{ConsensusTallied, TaskExpired};
use opengpu_types::market::{
    CommitmentInfo, CommitmentState, CompetitionModel, MarketConfig, TaskInfo, TaskStatus,
};
use opengpu_types::registry::{Outcome, RegistryContract};

use super::forfeit::{forfeit, Beneficiary};
use super::payment::{pay_payee, Payee};
use super::prune::close_task;
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
    mut deps: DepsMut,
    env: &Env,
    config: &MarketConfig,
    task: TaskInfo,
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
        return no_quorum(deps, env, config, task, group_count, response);
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
        response = slash_outvoted(deps.branch(), env, config, &task, entry, &winners, response)?;
    }
    let price = task.budget;
    settle(deps, env, config, task, &winners, price, response)
}

/// A valid result outside the agreeing group: its collateral is split equally between each
/// winner and the client (the client takes the remainder), and its reputation counts a slash.
fn slash_outvoted(
    mut deps: DepsMut,
    env: &Env,
    config: &MarketConfig,
    task: &TaskInfo,
    mut entry: CommitmentInfo,
    winners: &[u32],
    response: Response,
) -> Result<Response, ContractError> {
    let parts = Uint128::from(winners.len() as u128 + 1);
    let each = entry.collateral.checked_div(parts).unwrap_or_default();
    let winner_addrs = winners
        .iter()
        .map(|&seq| Ok(COMMITMENTS.load(deps.storage, (task.id, seq))?.provider))
        .collect::<Result<Vec<Addr>, ContractError>>()?;
    let to_winners = each.checked_mul(Uint128::from(winners.len() as u128))?;
    let mut shares: Vec<(Beneficiary, Uint128)> = winner_addrs
        .iter()
        .map(|w| (Beneficiary::Account(w), each))
        .collect();
    shares.push((
        Beneficiary::Client,
        entry.collateral.checked_sub(to_winners)?,
    ));
    let forfeiture = forfeit(deps.branch(), env, config, task, &entry.provider, &shares)?;
    entry.state = CommitmentState::Outvoted {};
    COMMITMENTS.save(deps.storage, (task.id, entry.seq), &entry)?;
    Ok(response.add_submessages(forfeiture.messages).add_message(
        RegistryContract(config.registry_addr.clone()).record_outcome(
            &entry.provider,
            task.id,
            Outcome::Slashed,
        )?,
    ))
}

/// No group reached the quorum: disagreement proves nobody wrong. The client gets its budget
/// back, revealers their collateral; committers who never revealed forfeit theirs as usual.
fn no_quorum(
    mut deps: DepsMut,
    env: &Env,
    config: &MarketConfig,
    mut task: TaskInfo,
    group_count: u32,
    response: Response,
) -> Result<Response, ContractError> {
    let closing = close_commitments(deps.branch(), env, config, &task, &[])?;
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
        .add_submessages(closing.messages)
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
