//! verification: on-chain checks of revealed results.
//!
//! The market asks by *query* (`Check`), not by message: a verdict is a pure function of the
//! task's policy and the revealed outputs, so a query keeps each reveal one atomic step with no
//! reply handler and no temporary state, and costs less gas. The market acts on the verdict
//! (slashing through the vault when a result is proven wrong), because it already holds the
//! collateral bookkeeping for the task.

use cosmwasm_schema::{cw_serde, QueryResponses};
use cosmwasm_std::{Addr, Binary, HexBinary, QuerierWrapper, StdResult};

use crate::OwnershipAction;

#[cw_serde]
pub struct InstantiateMsg {
    pub owner: Option<String>,
    /// The market, whose tasks this contract checks.
    pub market: String,
    /// The vault, which accepts this contract's slashes.
    pub vault: String,
}

/// How a task's results are checked. New checkers are new variants.
#[cw_serde]
pub enum VerificationPolicy {
    /// Outputs well-formed only: one buffer per output argument, each of its declared size.
    WellFormed {},
    /// Well-formed, and `outputs_digest(outputs)` equals this hash: for canary and benchmark
    /// tasks whose answer the client already knows.
    ReferenceHash { sha256: HexBinary },
}

impl VerificationPolicy {
    pub fn name(&self) -> &'static str {
        match self {
            VerificationPolicy::WellFormed {} => "well_formed",
            VerificationPolicy::ReferenceHash { .. } => "reference_hash",
        }
    }
}

#[cw_serde]
pub enum ExecuteMsg {
    UpdateOwnership(OwnershipAction),
}

#[cw_serde]
#[derive(QueryResponses)]
pub enum QueryMsg {
    #[returns(VerificationConfig)]
    Config {},
    /// Checks a reveal against a task's declared `output_sizes` and its `policy`. The reveal
    /// travels as its buffers' sizes and `outputs_digest` (see `commitment`), not its bytes:
    /// a query between contracts is capped at 64 KiB, far below a task's outputs. A policy that
    /// needs the bytes reads them from the market's storage.
    #[returns(Verdict)]
    Check {
        policy: VerificationPolicy,
        output_sizes: Vec<u64>,
        revealed_sizes: Vec<u64>,
        outputs_digest: HexBinary,
    },
    /// Checks that a policy is well-formed before a task that uses it is published.
    #[returns(Verdict)]
    CheckPolicy { policy: VerificationPolicy },
    #[returns(crate::Ownership)]
    Ownership {},
}

#[cw_serde]
pub struct VerificationConfig {
    pub market_addr: Addr,
    pub vault_addr: Addr,
}

#[cw_serde]
pub enum Verdict {
    Valid {},
    /// Proven wrong; `reason` says which check failed.
    Invalid {
        reason: String,
    },
}

impl Verdict {
    pub fn is_valid(&self) -> bool {
        matches!(self, Verdict::Valid {})
    }
}

/// Typed calls into a verification instance.
#[cw_serde]
pub struct VerificationContract(pub Addr);

impl VerificationContract {
    pub fn addr(&self) -> &Addr {
        &self.0
    }

    /// Asks for the verdict on revealed `outputs` whose `outputs_digest` the caller already
    /// computed (sent as sizes and digest).
    pub fn check(
        &self,
        querier: &QuerierWrapper,
        policy: &VerificationPolicy,
        output_sizes: Vec<u64>,
        outputs: &[Binary],
        outputs_digest: &[u8; 32],
    ) -> StdResult<Verdict> {
        querier.query_wasm_smart(
            &self.0,
            &QueryMsg::Check {
                policy: policy.clone(),
                output_sizes,
                revealed_sizes: outputs.iter().map(|o| o.len() as u64).collect(),
                outputs_digest: HexBinary::from(outputs_digest.as_slice()),
            },
        )
    }

    pub fn check_policy(
        &self,
        querier: &QuerierWrapper,
        policy: &VerificationPolicy,
    ) -> StdResult<Verdict> {
        querier.query_wasm_smart(
            &self.0,
            &QueryMsg::CheckPolicy {
                policy: policy.clone(),
            },
        )
    }
}
