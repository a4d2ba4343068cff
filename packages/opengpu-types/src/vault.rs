//! staking-vault: providers' bonds, unbonding claims, per-task collateral locks and slashing.

use cosmwasm_schema::{cw_serde, QueryResponses};
use cosmwasm_std::{
    to_json_binary, Addr, CosmosMsg, QuerierWrapper, StdResult, Timestamp, Uint128, WasmMsg,
};

use crate::{OwnershipAction, TaskId};

/// Longest unbonding period the vault accepts, at instantiate and in `UpdateConfig`: 60 days.
/// Bounds how long an owner can make a provider wait for its free stake (a huge period would
/// otherwise freeze every unbond); a claim keeps the release time it got when it was made.
pub const MAX_UNBONDING_PERIOD_SECONDS: u64 = 60 * 24 * 60 * 60;

#[cw_serde]
pub struct InstantiateMsg {
    /// Config owner; the sender when unset.
    pub owner: Option<String>,
    /// The only denom that can be bonded, and the denom of task collateral.
    pub stake_denom: String,
    /// Seconds between `Unbond` and the claim becoming payable.
    pub unbonding_period_seconds: u64,
    /// Unbonding claims one address may hold at once; bounds every loop over claims.
    pub max_claims_per_address: u32,
    /// The task market: the only sender of `Lock` and `Unlock`, and a sender of `Slash`.
    pub market: String,
    /// The verification contract: the other sender of `Slash`.
    pub verification: String,
}

#[cw_serde]
pub enum ExecuteMsg {
    /// Bond the attached stake-denom funds.
    Bond {},
    /// Start unbonding `amount` of free (unlocked) stake; payable after the unbonding period.
    Unbond {
        amount: Uint128,
    },
    /// Pay out every matured unbonding claim of the sender.
    Claim {},
    /// Market only: lock `amount` of the provider's free stake as collateral for a task.
    Lock {
        provider: String,
        task_id: TaskId,
        amount: Uint128,
    },
    /// Market only: release the provider's collateral for a task.
    Unlock {
        provider: String,
        task_id: TaskId,
    },
    /// Market or verification only: take up to `amount` from the provider, first from the
    /// task's lock, then from free bonded stake, then from unbonding claims, and send it to
    /// `beneficiary`.
    Slash {
        provider: String,
        task_id: TaskId,
        amount: Uint128,
        beneficiary: String,
    },
    /// Owner only. Trusted contract addresses are not configurable: they change by migration.
    UpdateConfig {
        unbonding_period_seconds: Option<u64>,
        max_claims_per_address: Option<u32>,
    },
    UpdateOwnership(OwnershipAction),
}

#[cw_serde]
#[derive(QueryResponses)]
pub enum QueryMsg {
    #[returns(VaultConfig)]
    Config {},
    /// One staker's bonded, locked and free stake and unbonding claims.
    #[returns(StakeResponse)]
    Stake { address: String },
    /// The collateral a provider has locked for one task (zero when none).
    // Not `Lock`: that is an execute message, and a generated client (ts-codegen) puts execute
    // and query variants in one class, where a shared name is one method with two signatures.
    #[returns(LockResponse)]
    TaskLock { provider: String, task_id: TaskId },
    /// A provider's locks, by task id.
    #[returns(LocksResponse)]
    Locks {
        provider: String,
        start_after: Option<TaskId>,
        limit: Option<u32>,
    },
    /// Totals over all stakers: what the vault's bank balance must equal.
    #[returns(TotalsResponse)]
    Totals {},
    #[returns(crate::Ownership)]
    Ownership {},
}

#[cw_serde]
pub struct VaultConfig {
    pub stake_denom: String,
    pub unbonding_period_seconds: u64,
    pub max_claims_per_address: u32,
    pub market_addr: Addr,
    pub verification_addr: Addr,
}

/// Stake in the process of unbonding.
#[cw_serde]
pub struct Claim {
    pub amount: Uint128,
    pub release_at: Timestamp,
}

#[cw_serde]
pub struct StakeResponse {
    pub address: Addr,
    pub bonded: Uint128,
    /// Part of `bonded` held as task collateral; never more than `bonded`.
    pub locked: Uint128,
    /// `bonded - locked`: what can be unbonded or locked for a new task.
    pub free: Uint128,
    /// Sum of `claims`.
    pub unbonding: Uint128,
    pub claims: Vec<Claim>,
}

#[cw_serde]
pub struct LockResponse {
    pub amount: Uint128,
}

#[cw_serde]
pub struct TaskLock {
    pub task_id: TaskId,
    pub amount: Uint128,
}

#[cw_serde]
pub struct LocksResponse {
    pub locks: Vec<TaskLock>,
}

#[cw_serde]
pub struct TotalsResponse {
    pub bonded: Uint128,
    pub locked: Uint128,
    pub unbonding: Uint128,
}

/// Typed calls into a staking-vault instance.
#[cw_serde]
pub struct VaultContract(pub Addr);

impl VaultContract {
    pub fn addr(&self) -> &Addr {
        &self.0
    }

    pub fn call(&self, msg: &ExecuteMsg) -> StdResult<CosmosMsg> {
        Ok(WasmMsg::Execute {
            contract_addr: self.0.to_string(),
            msg: to_json_binary(msg)?,
            funds: vec![],
        }
        .into())
    }

    pub fn lock(&self, provider: &Addr, task_id: TaskId, amount: Uint128) -> StdResult<CosmosMsg> {
        self.call(&ExecuteMsg::Lock {
            provider: provider.to_string(),
            task_id,
            amount,
        })
    }

    pub fn unlock(&self, provider: &Addr, task_id: TaskId) -> StdResult<CosmosMsg> {
        self.call(&ExecuteMsg::Unlock {
            provider: provider.to_string(),
            task_id,
        })
    }

    pub fn slash(
        &self,
        provider: &Addr,
        task_id: TaskId,
        amount: Uint128,
        beneficiary: &Addr,
    ) -> StdResult<CosmosMsg> {
        self.call(&ExecuteMsg::Slash {
            provider: provider.to_string(),
            task_id,
            amount,
            beneficiary: beneficiary.to_string(),
        })
    }

    /// The collateral `provider` has locked for `task_id` (zero when none).
    pub fn locked(
        &self,
        querier: &QuerierWrapper,
        provider: &Addr,
        task_id: TaskId,
    ) -> StdResult<Uint128> {
        let response: LockResponse = querier.query_wasm_smart(
            &self.0,
            &QueryMsg::TaskLock {
                provider: provider.to_string(),
                task_id,
            },
        )?;
        Ok(response.amount)
    }

    pub fn config(&self, querier: &QuerierWrapper) -> StdResult<VaultConfig> {
        querier.query_wasm_smart(&self.0, &QueryMsg::Config {})
    }

    pub fn stake(&self, querier: &QuerierWrapper, address: &Addr) -> StdResult<StakeResponse> {
        querier.query_wasm_smart(
            &self.0,
            &QueryMsg::Stake {
                address: address.to_string(),
            },
        )
    }
}
