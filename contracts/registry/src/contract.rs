#[cfg(not(feature = "library"))]
use cosmwasm_std::entry_point;
use cosmwasm_std::{to_json_binary, Binary, Deps, DepsMut, Env, MessageInfo, Response, StdResult};
use opengpu_types::registry::{ExecuteMsg, InstantiateMsg, QueryMsg};
use opengpu_types::MigrateMsg;

use crate::{execute, query, ContractError};

pub const CONTRACT_NAME: &str = "crates.io:opengpu-registry";
pub const CONTRACT_VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn instantiate(
    deps: DepsMut,
    _env: Env,
    info: MessageInfo,
    msg: InstantiateMsg,
) -> Result<Response, ContractError> {
    cw2::set_contract_version(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?;
    execute::admin::instantiate(deps, info, msg)
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn execute(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: ExecuteMsg,
) -> Result<Response, ContractError> {
    cw_utils::nonpayable(&info)?;
    match msg {
        ExecuteMsg::Register { profile } => execute::provider::register(deps, env, info, profile),
        ExecuteMsg::Update { profile } => execute::provider::update(deps, info, profile),
        ExecuteMsg::Pause {} => execute::provider::pause(deps, info),
        ExecuteMsg::Resume {} => execute::provider::resume(deps, info),
        ExecuteMsg::Deregister {} => execute::provider::deregister(deps, info),
        ExecuteMsg::RecordOutcome {
            provider,
            task_id,
            outcome,
        } => execute::outcome::record_outcome(deps, info, provider, task_id, outcome),
        ExecuteMsg::UpdateConfig { min_bond } => {
            execute::admin::update_config(deps, info, min_bond)
        }
        ExecuteMsg::UpdateOwnership(action) => {
            opengpu_cw_utils::update_ownership(deps, &info, action)
        }
    }
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn query(deps: Deps, _env: Env, msg: QueryMsg) -> StdResult<Binary> {
    match msg {
        QueryMsg::Config {} => to_json_binary(&query::config(deps)?),
        QueryMsg::Provider { address } => to_json_binary(&query::provider(deps, address)?),
        QueryMsg::Providers {
            filter,
            start_after,
            limit,
        } => to_json_binary(&query::providers(deps, filter, start_after, limit)?),
        QueryMsg::Ownership {} => to_json_binary(&opengpu_cw_utils::get_ownership(deps.storage)?),
    }
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn migrate(deps: DepsMut, _env: Env, _msg: MigrateMsg) -> Result<Response, ContractError> {
    opengpu_cw_utils::migrate(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)
}
