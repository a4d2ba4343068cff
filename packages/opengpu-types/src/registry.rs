//! registry: providers, their OpenCL devices, price floors, payout addresses, status and
//! reputation.

use std::fmt;

use cosmwasm_schema::{cw_serde, QueryResponses};
use cosmwasm_std::{
    to_json_binary, Addr, Coin, CosmosMsg, QuerierWrapper, StdResult, Uint128, WasmMsg,
};

use crate::{OwnershipAction, TaskId};

/// Longest moniker the registry stores.
pub const MAX_MONIKER_LEN: usize = 64;
/// Longest device name the registry stores.
pub const MAX_DEVICE_NAME_LEN: usize = 128;
/// Most price floors (one per denom) a provider may list.
pub const MAX_PRICES: usize = 8;

#[cw_serde]
pub struct InstantiateMsg {
    pub owner: Option<String>,
    /// Queried for each provider's bonded stake.
    pub vault: String,
    /// The only sender of `RecordOutcome`.
    pub market: String,
    /// Bonded stake (vault denom) needed to register and to stay eligible for tasks.
    pub min_bond: Uint128,
}

/// OpenCL device facts, as `clGetDeviceInfo` reports them.
#[cw_serde]
pub struct DeviceInfo {
    pub name: String,
    pub device_type: DeviceType,
    pub compute_units: u32,
    pub global_mem_bytes: u64,
    pub max_work_group_size: u64,
    pub fp64: bool,
}

#[cw_serde]
#[derive(Copy, Eq, Hash)]
pub enum DeviceType {
    Gpu,
    Cpu,
    Accelerator,
    Other,
}

impl fmt::Display for DeviceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DeviceType::Gpu => "gpu",
            DeviceType::Cpu => "cpu",
            DeviceType::Accelerator => "accelerator",
            DeviceType::Other => "other",
        })
    }
}

/// What a provider says about itself; `Register` and `Update` both carry the whole profile.
#[cw_serde]
pub struct ProviderProfile {
    pub moniker: String,
    pub device: DeviceInfo,
    /// Lowest payment the provider takes, one coin per denom it accepts. Its daemon's policy
    /// uses these; clients read them to price tasks.
    pub prices: Vec<Coin>,
    /// Where winnings go; the provider's own address when unset.
    pub payout_addr: Option<String>,
    /// Winnings in a denom that may travel on this channel (the market's IBC settings) go to
    /// `receiver` on the other chain instead; others go to `payout_addr`.
    #[serde(default)]
    pub payout_route: Option<crate::ibc::PayoutRoute>,
}

#[cw_serde]
pub enum ExecuteMsg {
    /// Register the sender. Needs `min_bond` bonded in the vault.
    Register {
        profile: ProviderProfile,
    },
    /// Replace the sender's profile.
    Update {
        profile: ProviderProfile,
    },
    /// Stop being eligible for new tasks.
    Pause {},
    /// Become eligible again (needs `min_bond`).
    Resume {},
    /// Leave the registry; only with no collateral locked.
    Deregister {},
    /// Market only: count a task's outcome for a provider.
    RecordOutcome {
        provider: String,
        task_id: TaskId,
        outcome: Outcome,
    },
    /// Owner only.
    UpdateConfig {
        min_bond: Option<Uint128>,
    },
    UpdateOwnership(OwnershipAction),
}

#[cw_serde]
#[derive(Copy, Eq)]
pub enum ProviderStatus {
    Active,
    Paused,
}

impl fmt::Display for ProviderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProviderStatus::Active => "active",
            ProviderStatus::Paused => "paused",
        })
    }
}

#[cw_serde]
#[derive(Copy, Eq)]
pub enum Outcome {
    Won,
    Lost,
    /// Committed and never revealed.
    Expired,
    /// Revealed a result proven wrong.
    Slashed,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::Won => "won",
            Outcome::Lost => "lost",
            Outcome::Expired => "expired",
            Outcome::Slashed => "slashed",
        })
    }
}

#[cw_serde]
#[derive(Default, Copy, Eq)]
pub struct Reputation {
    pub won: u64,
    pub lost: u64,
    pub expired: u64,
    pub slashed: u64,
}

#[cw_serde]
pub struct Provider {
    pub address: Addr,
    pub moniker: String,
    pub device: DeviceInfo,
    pub prices: Vec<Coin>,
    pub payout_addr: Option<Addr>,
    #[serde(default)]
    pub payout_route: Option<crate::ibc::PayoutRoute>,
    pub status: ProviderStatus,
    pub reputation: Reputation,
    pub registered_height: u64,
}

impl Provider {
    /// Where the market sends this provider's winnings.
    pub fn payout(&self) -> &Addr {
        self.payout_addr.as_ref().unwrap_or(&self.address)
    }
}

/// Filters for the `Providers` query; all that are set must hold.
#[cw_serde]
#[derive(Default)]
pub struct ProviderFilter {
    pub status: Option<ProviderStatus>,
    pub min_global_mem_bytes: Option<u64>,
    pub fp64: Option<bool>,
}

#[cw_serde]
#[derive(QueryResponses)]
pub enum QueryMsg {
    #[returns(RegistryConfig)]
    Config {},
    /// One provider, with its bonded stake and whether it may take tasks now.
    #[returns(ProviderResponse)]
    Provider { address: String },
    #[returns(ProvidersResponse)]
    Providers {
        filter: Option<ProviderFilter>,
        start_after: Option<String>,
        limit: Option<u32>,
    },
    #[returns(crate::Ownership)]
    Ownership {},
}

#[cw_serde]
pub struct RegistryConfig {
    pub vault_addr: Addr,
    pub market_addr: Addr,
    pub min_bond: Uint128,
}

#[cw_serde]
pub struct ProviderResponse {
    pub provider: Provider,
    /// Bonded stake in the vault now.
    pub bonded: Uint128,
    /// Active and bonded at least `min_bond`.
    pub eligible: bool,
}

#[cw_serde]
pub struct ProvidersResponse {
    pub providers: Vec<Provider>,
}

/// Typed calls into a registry instance.
#[cw_serde]
pub struct RegistryContract(pub Addr);

impl RegistryContract {
    pub fn addr(&self) -> &Addr {
        &self.0
    }

    pub fn record_outcome(
        &self,
        provider: &Addr,
        task_id: TaskId,
        outcome: Outcome,
    ) -> StdResult<CosmosMsg> {
        Ok(WasmMsg::Execute {
            contract_addr: self.0.to_string(),
            msg: to_json_binary(&ExecuteMsg::RecordOutcome {
                provider: provider.to_string(),
                task_id,
                outcome,
            })?,
            funds: vec![],
        }
        .into())
    }

    pub fn provider(
        &self,
        querier: &QuerierWrapper,
        address: &Addr,
    ) -> StdResult<ProviderResponse> {
        querier.query_wasm_smart(
            &self.0,
            &QueryMsg::Provider {
                address: address.to_string(),
            },
        )
    }

    pub fn config(&self, querier: &QuerierWrapper) -> StdResult<RegistryConfig> {
        querier.query_wasm_smart(&self.0, &QueryMsg::Config {})
    }
}
