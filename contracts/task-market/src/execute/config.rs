//! Instantiate and owner-only configuration.

use cosmwasm_std::{Addr, Api, DepsMut, MessageInfo, Response};
use opengpu_types::denom::validate_denom;
use opengpu_types::events::actions;
use opengpu_types::ibc::IbcSettings;
use opengpu_types::market::{
    InstantiateMsg, MarketConfig, MarketParams, DEFAULT_RETENTION_BLOCKS, MAX_FEE_BPS,
};

use crate::state::{CONFIG, LAST_TASK_ID};
use crate::ContractError;

/// Upper bound on `max_committers`: settlement touches every commitment of a task once.
pub const MAX_COMMITTERS_LIMIT: u32 = 30;
/// Upper bound on the reveal and confirm windows (about 5.8 days of 5 s blocks): the owner
/// cannot make new tasks hold collateral for longer.
pub const MAX_WINDOW_BLOCKS: u64 = 100_000;
/// Upper bound on `retention_blocks` (about 580 days of 5 s blocks).
pub const MAX_RETENTION_BLOCKS: u64 = 10_000_000;
/// Upper bound on `max_deadline_blocks` (about 58 days of 5 s blocks).
pub const MAX_DEADLINE_BLOCKS_LIMIT: u64 = 1_000_000;

pub fn instantiate(
    deps: DepsMut,
    info: MessageInfo,
    msg: InstantiateMsg,
) -> Result<Response, ContractError> {
    let api = deps.api;
    let owner = opengpu_cw_utils::owner_or_sender(api, msg.owner, info.sender)?;
    let fee_collector = match msg.fee_collector {
        Some(collector) => api.addr_validate(&collector)?,
        None => owner.clone(),
    };
    let config = MarketConfig {
        registry_addr: api.addr_validate(&msg.registry)?,
        vault_addr: api.addr_validate(&msg.vault)?,
        verification_addr: api.addr_validate(&msg.verification)?,
        allowed_denoms: msg.allowed_denoms,
        fee_bps: msg.fee_bps,
        fee_collector,
        params: msg.params,
        ibc: msg.ibc,
        retention_blocks: msg.retention_blocks.unwrap_or(DEFAULT_RETENTION_BLOCKS),
    };
    validate_config(&config)?;
    opengpu_cw_utils::initialize_owner(deps.storage, owner.clone())?;
    CONFIG.save(deps.storage, &config)?;
    LAST_TASK_ID.save(deps.storage, &0)?;
    Ok(Response::new()
        .add_attribute("action", actions::INSTANTIATE)
        .add_attribute("owner", owner))
}

/// What `UpdateConfig` changes; `None` keeps the current value.
pub struct ConfigUpdate {
    pub allowed_denoms: Option<Vec<String>>,
    pub fee_bps: Option<u16>,
    pub fee_collector: Option<String>,
    pub params: Option<MarketParams>,
    pub ibc: Option<IbcSettings>,
    pub retention_blocks: Option<u64>,
}

pub fn update_config(
    deps: DepsMut,
    info: MessageInfo,
    update: ConfigUpdate,
) -> Result<Response, ContractError> {
    let ConfigUpdate {
        allowed_denoms,
        fee_bps,
        fee_collector,
        params,
        ibc,
        retention_blocks,
    } = update;
    cw_utils::nonpayable(&info)?;
    opengpu_cw_utils::assert_owner(deps.storage, &info.sender)?;
    let mut config = CONFIG.load(deps.storage)?;
    if let Some(denoms) = allowed_denoms {
        config.allowed_denoms = denoms;
    }
    if let Some(fee_bps) = fee_bps {
        config.fee_bps = fee_bps;
    }
    if let Some(collector) = fee_collector {
        config.fee_collector = validate(deps.api, &collector)?;
    }
    if let Some(params) = params {
        config.params = params;
    }
    if let Some(ibc) = ibc {
        config.ibc = ibc;
    }
    if let Some(blocks) = retention_blocks {
        config.retention_blocks = blocks;
    }
    validate_config(&config)?;
    CONFIG.save(deps.storage, &config)?;
    Ok(Response::new().add_attribute("action", actions::UPDATE_CONFIG))
}

fn validate(api: &dyn Api, addr: &str) -> Result<Addr, ContractError> {
    Ok(api.addr_validate(addr)?)
}

fn invalid(reason: impl Into<String>) -> ContractError {
    ContractError::InvalidConfig {
        reason: reason.into(),
    }
}

fn validate_config(config: &MarketConfig) -> Result<(), ContractError> {
    if config.allowed_denoms.is_empty() {
        return Err(invalid("allowed_denoms is empty"));
    }
    for (i, denom) in config.allowed_denoms.iter().enumerate() {
        validate_denom(denom).map_err(|e| invalid(e.to_string()))?;
        if config.allowed_denoms[..i].contains(denom) {
            return Err(invalid(format!("denom {denom} is listed twice")));
        }
    }
    config
        .ibc
        .validate()
        .map_err(|e| invalid(format!("ibc: {e}")))?;
    if !(1..=MAX_RETENTION_BLOCKS).contains(&config.retention_blocks) {
        return Err(invalid(format!(
            "retention_blocks must be 1..={MAX_RETENTION_BLOCKS}, got {}",
            config.retention_blocks
        )));
    }
    if config.fee_bps > MAX_FEE_BPS {
        return Err(invalid(format!(
            "fee_bps {} is above the maximum {MAX_FEE_BPS}",
            config.fee_bps
        )));
    }
    let p = &config.params;
    if p.max_committers == 0 || p.max_committers > MAX_COMMITTERS_LIMIT {
        return Err(invalid(format!(
            "max_committers must be 1..={MAX_COMMITTERS_LIMIT}, got {}",
            p.max_committers
        )));
    }
    if p.min_deadline_blocks == 0 || p.max_deadline_blocks < p.min_deadline_blocks {
        return Err(invalid(
            "deadline bounds need 1 <= min_deadline_blocks <= max_deadline_blocks",
        ));
    }
    if p.max_deadline_blocks > MAX_DEADLINE_BLOCKS_LIMIT {
        return Err(invalid(format!(
            "max_deadline_blocks must be at most {MAX_DEADLINE_BLOCKS_LIMIT}, got {}",
            p.max_deadline_blocks
        )));
    }
    let windows = [p.reveal_window_blocks, p.confirm_window_blocks];
    if windows.iter().any(|w| !(1..=MAX_WINDOW_BLOCKS).contains(w)) {
        return Err(invalid(format!(
            "reveal and confirm windows must be 1..={MAX_WINDOW_BLOCKS} blocks"
        )));
    }
    if p.min_collateral.is_zero() {
        return Err(invalid("min_collateral must be at least 1"));
    }
    let limits = &p.kernel_limits;
    if limits.max_source_bytes == 0 || limits.max_args == 0 || limits.max_output_bytes == 0 {
        return Err(invalid(
            "kernel limits must allow a source, an argument and an output",
        ));
    }
    Ok(())
}
