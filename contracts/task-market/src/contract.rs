#[cfg(not(feature = "library"))]
use cosmwasm_std::entry_point;
use cosmwasm_std::{Binary, Deps, DepsMut, Env, MessageInfo, Reply, Response, StdResult};
use opengpu_types::market::{ExecuteMsg, InstantiateMsg, QueryMsg};
use opengpu_types::MigrateMsg;

use crate::error::ContractError;
use crate::{execute, query};

pub const CONTRACT_NAME: &str = "crates.io:opengpu-task-market";
pub const CONTRACT_VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn instantiate(
    deps: DepsMut,
    _env: Env,
    info: MessageInfo,
    msg: InstantiateMsg,
) -> Result<Response, ContractError> {
    cw2::set_contract_version(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?;
    execute::config::instantiate(deps, info, msg)
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn execute(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: ExecuteMsg,
) -> Result<Response, ContractError> {
    match msg {
        ExecuteMsg::PublishTask {
            kernel,
            requirements,
            collateral,
            deadline_blocks,
            verification,
            model,
        } => execute::publish::publish_task(
            deps,
            env,
            info,
            execute::publish::NewTask {
                kernel,
                requirements,
                collateral,
                deadline_blocks,
                verification,
                model,
            },
        ),
        ExecuteMsg::Commit {
            task_id,
            commitment,
        } => execute::submit::commit(deps, env, info, task_id, commitment),
        ExecuteMsg::Reveal {
            task_id,
            outputs,
            salt,
            price,
        } => execute::submit::reveal(deps, env, info, task_id, outputs, salt, price),
        ExecuteMsg::Bid {
            task_id,
            commitment,
        } => execute::auction::bid(deps, env, info, task_id, commitment),
        ExecuteMsg::RevealBid {
            task_id,
            price,
            salt,
        } => execute::auction::reveal_bid(deps, env, info, task_id, price, salt),
        ExecuteMsg::Advance { task_id } => execute::auction::advance(deps, env, info, task_id),
        ExecuteMsg::Confirm { task_id, provider } => {
            execute::close::confirm(deps, env, info, task_id, provider)
        }
        ExecuteMsg::Finalize { task_id } => execute::close::finalize(deps, env, info, task_id),
        ExecuteMsg::Cancel { task_id } => execute::publish::cancel(deps, info, task_id),
        ExecuteMsg::Expire { task_id } => execute::close::expire(deps, env, info, task_id),
        ExecuteMsg::WithdrawClaim { denom, recipient } => {
            execute::payment::withdraw_claim(deps, env, info, denom, recipient)
        }
        ExecuteMsg::UpdateConfig {
            allowed_denoms,
            fee_bps,
            fee_collector,
            params,
        } => execute::config::update_config(
            deps,
            info,
            allowed_denoms,
            fee_bps,
            fee_collector,
            params,
        ),
        ExecuteMsg::UpdateOwnership(action) => {
            opengpu_cw_utils::update_ownership(deps, &info, action)
        }
    }
}

/// Only refused payments reply (see `execute::payment`).
#[cfg_attr(not(feature = "library"), entry_point)]
pub fn reply(deps: DepsMut, env: Env, reply: Reply) -> Result<Response, ContractError> {
    execute::payment::payment_refused(deps, env, reply)
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn query(deps: Deps, _env: Env, msg: QueryMsg) -> StdResult<Binary> {
    query::dispatch(deps, msg)
}

/// Moves the stored cw2 version forward; it converts no storage. Pre-release note: tasks and
/// commitments now carry fields they did not before (a task's fixed fee, a commitment's fixed
/// payout address), the commitment hash covers the price, and kernels and outputs are chunked
/// blobs; state written by an earlier code does not read back under this one. Deploy a fresh
/// instance rather than migrating one that holds tasks (README, "Upgrading").
#[cfg_attr(not(feature = "library"), entry_point)]
pub fn migrate(deps: DepsMut, _env: Env, _msg: MigrateMsg) -> Result<Response, ContractError> {
    opengpu_cw_utils::migrate(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)
}
