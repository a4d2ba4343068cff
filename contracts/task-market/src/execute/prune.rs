//! Bounded state: a closed task's kernel, outputs, commitments and bids are removed once its
//! retention (`MarketConfig::retention_blocks`) ends, so the market's storage does not grow
//! with every task ever run. A small `TaskRecord` (client, status, budget, winner, price)
//! replaces the task and its index entries.
//!
//! Closing a task queues it; the transaction that closes a task also prunes at most one task
//! whose retention ended, and anyone may send `Prune` to remove up to `MAX_PRUNE_PER_TX`. Each
//! pruned task is bounded by the market's limits (at most `max_committers` commitments and
//! bids, kernel and output blobs within the kernel limits), so every caller pays bounded gas.

use cosmwasm_std::{DepsMut, Env, MessageInfo, Order, Response, StdResult, Storage};
use opengpu_types::events::actions;
use opengpu_types::market::{MarketConfig, TaskInfo, TaskRecord, TaskStatus, MAX_PRUNE_PER_TX};
use opengpu_types::TaskId;

use crate::state::{load_task, remove_task_data, PRUNE_QUEUE, RECORDS};
use crate::ContractError;

/// Tasks a closing transaction prunes on the side.
const PRUNE_ON_CLOSE: u32 = 1;

/// Marks `task` closed with `status` at `height`, queues it for pruning after the retention,
/// and prunes up to one older task whose retention ended. The caller saves `task`.
pub fn close_task(
    storage: &mut dyn Storage,
    config: &MarketConfig,
    task: &mut TaskInfo,
    status: TaskStatus,
    height: u64,
) -> StdResult<()> {
    debug_assert!(status.is_final());
    task.status = status;
    let due = height.saturating_add(config.retention_blocks);
    PRUNE_QUEUE.save(storage, (due, task.id), &())?;
    prune_due(storage, height, PRUNE_ON_CLOSE)?;
    Ok(())
}

/// Anyone: prunes up to `limit` tasks whose retention ended.
pub fn prune(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    limit: Option<u32>,
) -> Result<Response, ContractError> {
    cw_utils::nonpayable(&info)?;
    let limit = limit.unwrap_or(MAX_PRUNE_PER_TX).min(MAX_PRUNE_PER_TX);
    let pruned = prune_due(deps.storage, env.block.height, limit)?;
    if pruned.is_empty() {
        return Err(ContractError::NothingToPrune {
            height: env.block.height,
        });
    }
    let ids: Vec<String> = pruned.iter().map(TaskId::to_string).collect();
    Ok(Response::new()
        .add_attribute("action", actions::PRUNE)
        .add_attribute("task_ids", ids.join(",")))
}

/// Prunes up to `limit` queued tasks due at `height`, oldest first; returns their ids.
fn prune_due(storage: &mut dyn Storage, height: u64, limit: u32) -> StdResult<Vec<TaskId>> {
    let due: Vec<(u64, TaskId)> = PRUNE_QUEUE
        .keys(storage, None, None, Order::Ascending)
        .take(limit as usize)
        .take_while(|key| key.as_ref().map_or(true, |(at, _)| *at <= height))
        .collect::<StdResult<_>>()?;
    let mut pruned = Vec::with_capacity(due.len());
    for (at, task_id) in due {
        PRUNE_QUEUE.remove(storage, (at, task_id));
        let task =
            load_task(storage, task_id).map_err(|e| cosmwasm_std::StdError::msg(e.to_string()))?;
        remove_task_data(storage, &task)?;
        RECORDS.save(storage, task_id, &record(&task, height))?;
        pruned.push(task_id);
    }
    Ok(pruned)
}

/// What stays of `task`.
fn record(task: &TaskInfo, pruned_height: u64) -> TaskRecord {
    let settlement = task.settlement.as_ref();
    TaskRecord {
        id: task.id,
        client: task.client.clone(),
        model: task.model.name().to_string(),
        status: task.status,
        denom: task.denom.clone(),
        budget: task.budget,
        winner: settlement.map(|s| s.winner.clone()),
        price: settlement.map(|s| s.price),
        created_height: task.created_height,
        pruned_height,
    }
}

/// Refuses to serve a pruned task's data, saying what happened to it.
pub fn ensure_not_pruned(storage: &dyn Storage, task_id: TaskId) -> Result<(), ContractError> {
    match RECORDS.may_load(storage, task_id)? {
        Some(record) => Err(ContractError::Pruned {
            task_id,
            height: record.pruned_height,
        }),
        None => Ok(()),
    }
}
