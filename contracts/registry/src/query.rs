use cosmwasm_std::{Addr, Deps, Order, StdError, StdResult};
use cw_storage_plus::Bound;
use opengpu_types::pagination::page_limit;
use opengpu_types::registry::{
    Provider, ProviderFilter, ProviderResponse, ProviderStatus, ProvidersResponse, RegistryConfig,
};
use opengpu_types::vault::VaultContract;

use crate::state::{status_key, CONFIG, PROVIDERS};

pub fn config(deps: Deps) -> StdResult<RegistryConfig> {
    CONFIG.load(deps.storage)
}

pub fn provider(deps: Deps, address: String) -> StdResult<ProviderResponse> {
    let address = deps.api.addr_validate(&address)?;
    let provider = PROVIDERS
        .may_load(deps.storage, &address)?
        .ok_or_else(|| StdError::msg(format!("{address} is not registered")))?;
    let config = CONFIG.load(deps.storage)?;
    let bonded = VaultContract(config.vault_addr)
        .stake(&deps.querier, &address)?
        .bonded;
    let eligible = provider.status == ProviderStatus::Active && bonded >= config.min_bond;
    Ok(ProviderResponse {
        provider,
        bonded,
        eligible,
    })
}

/// Ordered by address. A status filter reads the status index; the device filters are applied
/// to what that yields, so a page holds up to `limit` providers that pass every filter.
pub fn providers(
    deps: Deps,
    filter: Option<ProviderFilter>,
    start_after: Option<String>,
    limit: Option<u32>,
) -> StdResult<ProvidersResponse> {
    let filter = filter.unwrap_or_default();
    let start: Option<Addr> = start_after
        .map(|addr| deps.api.addr_validate(&addr))
        .transpose()?;
    let records = match filter.status {
        Some(status) => PROVIDERS.idx.status.prefix(status_key(status)).range(
            deps.storage,
            start.map(Bound::exclusive),
            None,
            Order::Ascending,
        ),
        None => PROVIDERS.range(
            deps.storage,
            start.as_ref().map(Bound::exclusive),
            None,
            Order::Ascending,
        ),
    };
    let providers = records
        .map(|record| record.map(|(_, provider)| provider))
        .filter(|provider| match provider {
            Ok(provider) => device_matches(&filter, provider),
            Err(_) => true,
        })
        .take(page_limit(limit))
        .collect::<StdResult<Vec<_>>>()?;
    Ok(ProvidersResponse { providers })
}

fn device_matches(filter: &ProviderFilter, provider: &Provider) -> bool {
    let device = &provider.device;
    filter
        .min_global_mem_bytes
        .is_none_or(|min| device.global_mem_bytes >= min)
        && filter.fp64.is_none_or(|fp64| device.fp64 == fp64)
}
