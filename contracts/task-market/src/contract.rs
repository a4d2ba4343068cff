#[cfg(not(feature = "library"))]
use cosmwasm_std::entry_point;
use cosmwasm_std::{
    Binary, Deps, DepsMut, Env, IbcBasicResponse, IbcDestinationCallbackMsg, IbcSourceCallbackMsg,
    MessageInfo, Reply, Response, StdResult,
};
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
            opengpu_types::ibc::TaskDraft {
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
        ExecuteMsg::Cancel { task_id } => execute::publish::cancel(deps, env, info, task_id),
        ExecuteMsg::Prune { limit } => execute::prune::prune(deps, env, info, limit),
        ExecuteMsg::Expire { task_id } => execute::close::expire(deps, env, info, task_id),
        ExecuteMsg::WithdrawClaim { denom, recipient } => {
            execute::payment::withdraw_claim(deps, env, info, denom, recipient)
        }
        ExecuteMsg::ResendRemoteClaim {
            channel,
            receiver,
            denom,
        } => execute::ibc::resend_remote_claim(deps, env, info, channel, receiver, denom),
        ExecuteMsg::UpdateConfig {
            allowed_denoms,
            fee_bps,
            fee_collector,
            params,
            ibc,
            retention_blocks,
        } => execute::config::update_config(
            deps,
            info,
            execute::config::ConfigUpdate {
                allowed_denoms,
                fee_bps,
                fee_collector,
                params,
                ibc,
                retention_blocks,
            },
        ),
        ExecuteMsg::UpdateOwnership(action) => {
            opengpu_cw_utils::update_ownership(deps, &info, action)
        }
    }
}

/// Only failed payments reply: a refused bank send, or an IBC transfer that could not leave.
#[cfg_attr(not(feature = "library"), entry_point)]
pub fn reply(deps: DepsMut, env: Env, reply: Reply) -> Result<Response, ContractError> {
    match reply.id {
        execute::payment::PAYMENT_REFUSED => execute::payment::payment_refused(deps, env, reply),
        execute::ibc::TRANSFER_REPLY => execute::ibc::transfer_reply(deps, reply),
        id => Err(ContractError::UnknownReply { id }),
    }
}

/// How one of the market's IBC transfers ended (acknowledgement or timeout); only the chain's
/// callbacks middleware calls this, and only for packets the market itself sent.
#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_source_callback(
    deps: DepsMut,
    env: Env,
    msg: IbcSourceCallbackMsg,
) -> Result<IbcBasicResponse, ContractError> {
    execute::ibc::source_callback(deps, env, msg)
}

/// A transfer to the market arrived with a destination callback: a remote client's task.
/// An error makes the chain acknowledge the transfer with an error, so the coins go back.
#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_destination_callback(
    deps: DepsMut,
    env: Env,
    msg: IbcDestinationCallbackMsg,
) -> Result<IbcBasicResponse, ContractError> {
    execute::ibc::destination_callback(deps, env, msg)
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
