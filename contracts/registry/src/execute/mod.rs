pub mod admin;
pub mod outcome;
pub mod provider;

use cosmwasm_std::{Addr, Deps, StdResult, Storage};
use opengpu_types::registry::{Provider, RegistryConfig};
use opengpu_types::vault::{StakeResponse, VaultContract};

use crate::state::PROVIDERS;
use crate::ContractError;

/// The provider stored at `address`, or `NotRegistered`.
fn load_provider(storage: &dyn Storage, address: &Addr) -> Result<Provider, ContractError> {
    PROVIDERS
        .may_load(storage, address)?
        .ok_or_else(|| ContractError::NotRegistered {
            address: address.to_string(),
        })
}

fn vault_stake(deps: Deps, config: &RegistryConfig, address: &Addr) -> StdResult<StakeResponse> {
    VaultContract(config.vault_addr.clone()).stake(&deps.querier, address)
}

/// Errors unless `address` has at least `min_bond` bonded in the vault.
fn require_bond(deps: Deps, config: &RegistryConfig, address: &Addr) -> Result<(), ContractError> {
    let bonded = vault_stake(deps, config, address)?.bonded;
    if bonded < config.min_bond {
        return Err(ContractError::InsufficientBond {
            needed: config.min_bond,
            bonded,
        });
    }
    Ok(())
}
