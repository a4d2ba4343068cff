//! Entry points only; each arm calls one function in `execute`, `query` or `opengpu_cw_utils`.

use cosmwasm_std::{to_json_binary, Binary, Deps, DepsMut, Env, MessageInfo, Response, StdResult};
use opengpu_types::vault::{ExecuteMsg, InstantiateMsg, QueryMsg};
use opengpu_types::MigrateMsg;

use crate::{execute, query, ContractError};

pub const CONTRACT_NAME: &str = "crates.io:opengpu-staking-vault";
pub const CONTRACT_VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg_attr(not(feature = "library"), cosmwasm_std::entry_point)]
pub fn instantiate(
    deps: DepsMut,
    _env: Env,
    info: MessageInfo,
    msg: InstantiateMsg,
) -> Result<Response, ContractError> {
    cw2::set_contract_version(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?;
    execute::config::instantiate(deps, info, msg)
}

#[cfg_attr(not(feature = "library"), cosmwasm_std::entry_point)]
pub fn execute(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: ExecuteMsg,
) -> Result<Response, ContractError> {
    match msg {
        ExecuteMsg::Bond {} => execute::staking::bond(deps, info),
        ExecuteMsg::Unbond { amount } => execute::staking::unbond(deps, env, info, amount),
        ExecuteMsg::Claim {} => execute::staking::claim(deps, env, info),
        ExecuteMsg::Lock {
            provider,
            task_id,
            amount,
        } => execute::collateral::lock(deps, info, provider, task_id, amount),
        ExecuteMsg::Unlock { provider, task_id } => {
            execute::collateral::unlock(deps, info, provider, task_id)
        }
        ExecuteMsg::Slash {
            provider,
            task_id,
            amount,
            beneficiary,
        } => execute::slash::slash(deps, info, provider, task_id, amount, beneficiary),
        ExecuteMsg::UpdateConfig {
            unbonding_period_seconds,
            max_claims_per_address,
        } => execute::config::update_config(
            deps,
            info,
            unbonding_period_seconds,
            max_claims_per_address,
        ),
        ExecuteMsg::UpdateOwnership(action) => {
            opengpu_cw_utils::update_ownership(deps, &info, action)
        }
    }
}

#[cfg_attr(not(feature = "library"), cosmwasm_std::entry_point)]
pub fn query(deps: Deps, _env: Env, msg: QueryMsg) -> StdResult<Binary> {
    match msg {
        QueryMsg::Config {} => query::config(deps),
        QueryMsg::Stake { address } => query::stake(deps, address),
        QueryMsg::TaskLock { provider, task_id } => query::task_lock(deps, provider, task_id),
        QueryMsg::Locks {
            provider,
            start_after,
            limit,
        } => query::locks(deps, provider, start_after, limit),
        QueryMsg::Totals {} => query::totals(deps),
        QueryMsg::Ownership {} => to_json_binary(&opengpu_cw_utils::get_ownership(deps.storage)?),
    }
}

#[cfg_attr(not(feature = "library"), cosmwasm_std::entry_point)]
pub fn migrate(deps: DepsMut, _env: Env, _msg: MigrateMsg) -> Result<Response, ContractError> {
    opengpu_cw_utils::migrate(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)
}
