//! Queries; all answer without iterating beyond one page.

use cosmwasm_std::{to_json_binary, Binary, Deps, Order, StdResult, Uint128};
use cw_storage_plus::Bound;
use opengpu_types::pagination::page_limit;
use opengpu_types::vault::{LockResponse, LocksResponse, StakeResponse, TaskLock, TotalsResponse};
use opengpu_types::TaskId;

use crate::state::{load_claims, load_stake, CONFIG, LOCKS, TOTALS};

pub fn config(deps: Deps) -> StdResult<Binary> {
    to_json_binary(&CONFIG.load(deps.storage)?)
}

/// Zeros for an address that never bonded.
pub fn stake(deps: Deps, address: String) -> StdResult<Binary> {
    let address = deps.api.addr_validate(&address)?;
    let stake = load_stake(deps.storage, &address)?;
    let claims = load_claims(deps.storage, &address)?;
    let mut unbonding = Uint128::zero();
    for claim in &claims {
        unbonding = unbonding.checked_add(claim.amount)?;
    }
    to_json_binary(&StakeResponse {
        address,
        bonded: stake.bonded,
        locked: stake.locked,
        free: stake.bonded.checked_sub(stake.locked)?,
        unbonding,
        claims,
    })
}

pub fn task_lock(deps: Deps, provider: String, task_id: TaskId) -> StdResult<Binary> {
    let provider = deps.api.addr_validate(&provider)?;
    let amount = LOCKS
        .may_load(deps.storage, (&provider, task_id))?
        .unwrap_or_default();
    to_json_binary(&LockResponse { amount })
}

pub fn locks(
    deps: Deps,
    provider: String,
    start_after: Option<TaskId>,
    limit: Option<u32>,
) -> StdResult<Binary> {
    let provider = deps.api.addr_validate(&provider)?;
    let locks = LOCKS
        .prefix(&provider)
        .range(
            deps.storage,
            start_after.map(Bound::exclusive),
            None,
            Order::Ascending,
        )
        .take(page_limit(limit))
        .map(|item| item.map(|(task_id, amount)| TaskLock { task_id, amount }))
        .collect::<StdResult<_>>()?;
    to_json_binary(&LocksResponse { locks })
}

pub fn totals(deps: Deps) -> StdResult<Binary> {
    let totals = TOTALS.load(deps.storage)?;
    to_json_binary(&TotalsResponse {
        bonded: totals.bonded,
        locked: totals.locked,
        unbonding: totals.unbonding,
    })
}
