use cosmwasm_std::{to_json_binary, to_json_vec, Binary, Deps, Order, StdError, StdResult};
use cw_storage_plus::Bound;
use opengpu_types::auction::BidsResponse;
use opengpu_types::market::{
    ClaimsResponse, CommitmentState, CommitmentsResponse, Offer, OffersResponse,
    PendingTransfersResponse, QueryMsg, RemoteClaim, RemoteClaimsResponse, ResultResponse,
    TaskFilter, TaskInfo, TasksResponse,
};
use opengpu_types::pagination::page_limit;
use opengpu_types::TaskId;

use crate::state::{
    load_commitments, load_kernel_json, load_outputs, tasks, BIDS, CLAIMS, CLAIM_TOTALS,
    COMMITMENTS, COMMIT_SEQ, CONFIG, PENDING_TRANSFERS, RECORDS, REMOTE_CLAIMS,
};

pub fn dispatch(deps: Deps, msg: QueryMsg) -> StdResult<Binary> {
    // A pruned task's data is gone: say so rather than "not found".
    if let QueryMsg::Task { task_id }
    | QueryMsg::TaskInfo { task_id }
    | QueryMsg::Result { task_id, .. }
    | QueryMsg::Commitments { task_id, .. }
    | QueryMsg::Offers { task_id }
    | QueryMsg::Bids { task_id, .. } = &msg
    {
        crate::execute::prune::ensure_not_pruned(deps.storage, *task_id)
            .map_err(|e| StdError::msg(e.to_string()))?;
    }
    match msg {
        QueryMsg::Config {} => to_json_binary(&CONFIG.load(deps.storage)?),
        QueryMsg::Task { task_id } => task_json(deps, task_id),
        QueryMsg::TaskInfo { task_id } => to_json_binary(&task_info(deps, task_id)?),
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
        QueryMsg::Bids {
            task_id,
            start_after,
            limit,
        } => to_json_binary(&bids(deps, task_id, start_after, limit)?),
        QueryMsg::Claims { address } => to_json_binary(&claims(deps, address)?),
        QueryMsg::ClaimTotals {} => to_json_binary(&claim_totals(deps)?),
        QueryMsg::Record { task_id } => to_json_binary(&RECORDS.load(deps.storage, task_id)?),
        QueryMsg::PendingTransfers { start_after, limit } => {
            to_json_binary(&pending_transfers(deps, start_after, limit)?)
        }
        QueryMsg::RemoteClaims { start_after, limit } => {
            to_json_binary(&remote_claims(deps, start_after, limit)?)
        }
        QueryMsg::Ownership {} => to_json_binary(&opengpu_cw_utils::get_ownership(deps.storage)?),
    }
}

/// The `TaskResponse`, written around the stored kernel JSON instead of through a parsed
/// `Kernel`: byte for byte what `to_json_binary(&TaskResponse { task, kernel })` gives, without
/// decoding and encoding again up to 1.4 MB of base64 in the contract (7% of this query's gas
/// at 512 KiB of inputs; the rest is reading the kernel and wasmd's charge on the response).
fn task_json(deps: Deps, task_id: TaskId) -> StdResult<Binary> {
    let task = to_json_vec(&task_info(deps, task_id)?)?;
    let kernel = load_kernel_json(deps.storage, task_id)?;
    let (head, middle) = (br#"{"task":"#, br#","kernel":"#);
    let mut json = Vec::with_capacity(head.len() + task.len() + middle.len() + kernel.len() + 1);
    json.extend_from_slice(head);
    json.extend_from_slice(&task);
    json.extend_from_slice(middle);
    json.extend_from_slice(&kernel);
    json.push(b'}');
    Ok(Binary::from(json))
}

/// The task without its kernel: queries that don't return the kernel don't pay the gas of
/// reading up to a MiB of it.
fn task_info(deps: Deps, task_id: TaskId) -> StdResult<TaskInfo> {
    tasks()
        .may_load(deps.storage, task_id)?
        .ok_or_else(|| StdError::msg(format!("task {task_id} does not exist")))
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
    let task = task_info(deps, task_id)?;
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
    let task = task_info(deps, task_id)?;
    let provider = match provider {
        Some(provider) => deps.api.addr_validate(&provider)?,
        None => task
            .settlement
            .map(|s| s.winner)
            .ok_or_else(|| StdError::msg(format!("task {task_id} has no winner yet")))?,
    };
    let no_result = || {
        StdError::msg(format!(
            "task {task_id} has no valid result from {provider}"
        ))
    };
    let seq = COMMIT_SEQ
        .may_load(deps.storage, (task_id, &provider))?
        .ok_or_else(no_result)?;
    // The reveal kept the digest: hashing the outputs again would cost gas for every byte.
    let CommitmentState::Revealed { outputs_digest, .. } =
        COMMITMENTS.load(deps.storage, (task_id, seq))?.state
    else {
        return Err(no_result());
    };
    let outputs = load_outputs(deps.storage, task_id, seq)?;
    Ok(ResultResponse {
        provider,
        outputs,
        outputs_digest,
    })
}

/// At most one claim per denom the market ever accepted: a short list.
const MAX_CLAIM_DENOMS: usize = 100;

fn claims(deps: Deps, address: String) -> StdResult<ClaimsResponse> {
    let address = deps.api.addr_validate(&address)?;
    let claims = CLAIMS
        .prefix(&address)
        .range(deps.storage, None, None, Order::Ascending)
        .take(MAX_CLAIM_DENOMS)
        .map(|item| item.map(|(denom, amount)| cosmwasm_std::Coin::new(amount, denom)))
        .collect::<StdResult<_>>()?;
    Ok(ClaimsResponse { claims })
}

fn claim_totals(deps: Deps) -> StdResult<ClaimsResponse> {
    let claims = CLAIM_TOTALS
        .range(deps.storage, None, None, Order::Ascending)
        .take(MAX_CLAIM_DENOMS)
        .map(|item| item.map(|(denom, amount)| cosmwasm_std::Coin::new(amount, denom)))
        .collect::<StdResult<_>>()?;
    Ok(ClaimsResponse { claims })
}

fn pending_transfers(
    deps: Deps,
    start_after: Option<u64>,
    limit: Option<u32>,
) -> StdResult<PendingTransfersResponse> {
    let transfers = PENDING_TRANSFERS
        .range(
            deps.storage,
            start_after.map(Bound::exclusive),
            None,
            Order::Ascending,
        )
        .take(page_limit(limit))
        .map(|item| item.map(|(_, transfer)| transfer))
        .collect::<StdResult<_>>()?;
    Ok(PendingTransfersResponse { transfers })
}

fn remote_claims(
    deps: Deps,
    start_after: Option<(String, String, String)>,
    limit: Option<u32>,
) -> StdResult<RemoteClaimsResponse> {
    let start = start_after.as_ref().map(|(channel, receiver, denom)| {
        Bound::exclusive((channel.as_str(), receiver.as_str(), denom.as_str()))
    });
    let claims = REMOTE_CLAIMS
        .range(deps.storage, start, None, Order::Ascending)
        .take(page_limit(limit))
        .map(|item| {
            item.map(|((channel, receiver, denom), amount)| RemoteClaim {
                channel,
                receiver,
                denom,
                amount,
            })
        })
        .collect::<StdResult<_>>()?;
    Ok(RemoteClaimsResponse { claims })
}

fn bids(
    deps: Deps,
    task_id: TaskId,
    start_after: Option<u32>,
    limit: Option<u32>,
) -> StdResult<BidsResponse> {
    task_info(deps, task_id)?;
    let limit = page_limit(limit);
    let bids = BIDS
        .prefix(task_id)
        .range(
            deps.storage,
            start_after.map(Bound::exclusive),
            None,
            Order::Ascending,
        )
        .take(limit)
        .map(|item| item.map(|(_, bid)| bid))
        .collect::<StdResult<_>>()?;
    Ok(BidsResponse { bids })
}
