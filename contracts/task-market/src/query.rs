use cosmwasm_std::{to_json_binary, Binary, Deps, Order, StdError, StdResult};
use cw_storage_plus::Bound;
use opengpu_types::commitment::outputs_digest;
use opengpu_types::market::{
    CommitmentState, CommitmentsResponse, Offer, OffersResponse, QueryMsg, ResultResponse,
    TaskFilter, TaskResponse, TasksResponse,
};
use opengpu_types::pagination::page_limit;
use opengpu_types::TaskId;

use crate::state::{load_commitments, tasks, COMMITMENTS, COMMIT_SEQ, CONFIG, KERNELS, OUTPUTS};

pub fn dispatch(deps: Deps, msg: QueryMsg) -> StdResult<Binary> {
    match msg {
        QueryMsg::Config {} => to_json_binary(&CONFIG.load(deps.storage)?),
        QueryMsg::Task { task_id } => to_json_binary(&task(deps, task_id)?),
        QueryMsg::Tasks {
            filter,
            start_after,
            limit,
        } => to_json_binary(&list_tasks(
            deps,
            filter.unwrap_or_default(),
            start_after,
            limit,
        )?),
        QueryMsg::Commitments {
            task_id,
            start_after,
            limit,
        } => to_json_binary(&commitments(deps, task_id, start_after, limit)?),
        QueryMsg::Offers { task_id } => to_json_binary(&offers(deps, task_id)?),
        QueryMsg::Result { task_id, provider } => to_json_binary(&result(deps, task_id, provider)?),
        QueryMsg::Ownership {} => to_json_binary(&opengpu_cw_utils::get_ownership(deps.storage)?),
    }
}

fn task(deps: Deps, task_id: TaskId) -> StdResult<TaskResponse> {
    let task = tasks()
        .may_load(deps.storage, task_id)?
        .ok_or_else(|| StdError::msg(format!("task {task_id} does not exist")))?;
    let kernel = KERNELS.load(deps.storage, task_id)?;
    Ok(TaskResponse { task, kernel })
}

fn list_tasks(
    deps: Deps,
    filter: TaskFilter,
    start_after: Option<TaskId>,
    limit: Option<u32>,
) -> StdResult<TasksResponse> {
    let limit = page_limit(limit);
    let min = start_after.map(Bound::exclusive);
    let map = tasks();
    let status = filter.status.map(|s| s.as_str().to_string());
    let client = filter
        .client
        .map(|c| deps.api.addr_validate(&c))
        .transpose()?;
    let range = match (client, status) {
        (Some(client), Some(status)) => map.idx.client_status.prefix((client, status)).range(
            deps.storage,
            min,
            None,
            Order::Ascending,
        ),
        (Some(client), None) => {
            map.idx
                .client
                .prefix(client)
                .range(deps.storage, min, None, Order::Ascending)
        }
        (None, Some(status)) => {
            map.idx
                .status
                .prefix(status)
                .range(deps.storage, min, None, Order::Ascending)
        }
        (None, None) => map.range(deps.storage, min, None, Order::Ascending),
    };
    let found = range
        .take(limit)
        .map(|item| item.map(|(_, task)| task))
        .collect::<StdResult<Vec<_>>>()?;
    Ok(TasksResponse { tasks: found })
}

fn commitments(
    deps: Deps,
    task_id: TaskId,
    start_after: Option<u32>,
    limit: Option<u32>,
) -> StdResult<CommitmentsResponse> {
    let commitments = COMMITMENTS
        .prefix(task_id)
        .range(
            deps.storage,
            start_after.map(Bound::exclusive),
            None,
            Order::Ascending,
        )
        .take(page_limit(limit))
        .map(|item| item.map(|(_, entry)| entry))
        .collect::<StdResult<_>>()?;
    Ok(CommitmentsResponse { commitments })
}

fn offers(deps: Deps, task_id: TaskId) -> StdResult<OffersResponse> {
    let task = task(deps, task_id)?.task;
    let offers = load_commitments(deps.storage, &task)?
        .into_iter()
        .filter_map(|entry| match entry.state {
            CommitmentState::Revealed {
                outputs_digest,
                price,
                height,
            } => Some(Offer {
                provider: entry.provider,
                seq: entry.seq,
                outputs_digest,
                price,
                revealed_height: height,
            }),
            _ => None,
        })
        .collect();
    Ok(OffersResponse { offers })
}

fn result(deps: Deps, task_id: TaskId, provider: Option<String>) -> StdResult<ResultResponse> {
    let task = task(deps, task_id)?.task;
    let provider = match provider {
        Some(provider) => deps.api.addr_validate(&provider)?,
        None => task
            .settlement
            .map(|s| s.winner)
            .ok_or_else(|| StdError::msg(format!("task {task_id} has no winner yet")))?,
    };
    let outputs = COMMIT_SEQ
        .may_load(deps.storage, (task_id, &provider))?
        .map(|seq| OUTPUTS.may_load(deps.storage, (task_id, seq)))
        .transpose()?
        .flatten()
        .ok_or_else(|| {
            StdError::msg(format!(
                "task {task_id} has no valid result from {provider}"
            ))
        })?;
    Ok(ResultResponse {
        outputs_digest: outputs_digest(&outputs).into(),
        provider,
        outputs,
    })
}
