//! verification: on-chain checks of revealed results.
//!
//! The market asks by *query* (`Check`), not by message: a verdict is a pure function of the
//! task's policy and the revealed outputs, so a query keeps each reveal one atomic step with no
//! reply handler and no temporary state, and costs less gas. The market acts on the verdict
//! (slashing through the vault when a result is proven wrong), because it already holds the
//! collateral bookkeeping for the task.

use cosmwasm_schema::{cw_serde, QueryResponses};
use cosmwasm_std::{Addr, Binary, HexBinary, QuerierWrapper, StdResult};

use crate::freivalds::FreivaldsSpec;
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
///
/// Every policy first checks that the outputs are well-formed (one buffer per output argument,
/// each of its declared size); a reveal that is not is proven wrong and slashed.
#[cw_serde]
pub enum VerificationPolicy {
    /// Nothing beyond well-formed outputs: any right-sized bytes pass. Never a default: the
    /// client asks for it explicitly (`--unverified`), and providers may refuse such tasks,
    /// since under First Response a placeholder can win one.
    Unverified {},
    /// `outputs_digest(outputs)` must equal this hash: for canary and benchmark tasks whose
    /// answer the client already knows. The hash is the client's word, not proof, so a
    /// mismatch refuses the reveal and releases its collateral; it never slashes.
    ReferenceHash { sha256: HexBinary },
    /// C = A·B checked by Freivalds' algorithm at reveal, with random vectors the provider
    /// could not know before committing (see `crate::freivalds`). A failure is proof: slashed.
    Freivalds(FreivaldsSpec),
}

impl VerificationPolicy {
    pub fn name(&self) -> &'static str {
        match self {
            VerificationPolicy::Unverified {} => "unverified",
            VerificationPolicy::ReferenceHash { .. } => "reference_hash",
            VerificationPolicy::Freivalds(_) => "freivalds",
        }
    }

    /// Whether the policy can refuse a wrong result by itself (what First Response needs
    /// unless the client explicitly runs a task unverified).
    pub fn is_decisive(&self) -> bool {
        !matches!(self, VerificationPolicy::Unverified {})
    }
}

/// How revealed outputs break the shape their task declared.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum ShapeError {
    #[error("{got} outputs revealed, task declares {expected}")]
    Count { got: usize, expected: usize },
    #[error("output {index} has {got} bytes, expected {expected}")]
    Size {
        index: usize,
        got: u64,
        expected: u64,
    },
}

/// Well-formed outputs: one buffer per declared output (`output_sizes`, from the task), each
/// exactly its declared size; the first difference is the one reported. Every policy checks this
/// first (the verification contract, which slashes a reveal that fails it), and so do the CLI
/// and the provider before they commit.
pub fn check_output_shape(output_sizes: &[u64], revealed_sizes: &[u64]) -> Result<(), ShapeError> {
    if revealed_sizes.len() != output_sizes.len() {
        return Err(ShapeError::Count {
            got: revealed_sizes.len(),
            expected: output_sizes.len(),
        });
    }
    let mut sizes = revealed_sizes.iter().zip(output_sizes).enumerate();
    match sizes.find(|(_, (got, expected))| got != expected) {
        Some((index, (got, expected))) => Err(ShapeError::Size {
            index,
            got: *got,
            expected: *expected,
        }),
        None => Ok(()),
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
    /// a query between contracts is capped at 64 KiB, far below a task's outputs. So the
    /// Freivalds product check, which needs the inputs and outputs (up to MiBs), runs in the
    /// market, which holds both, with the one `crate::freivalds::check` this crate defines;
    /// here a Freivalds policy checks the shape only.
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
    /// Proven wrong from on-chain data alone (wrong shape, a failed on-chain check): the
    /// market slashes the provider. `reason` says which check failed.
    Invalid {
        reason: String,
    },
    /// Does not match what the client claimed (a reference hash). Not proof of a fault: the
    /// market refuses the reveal and releases the provider's collateral.
    Unmatched {
        reason: String,
    },
}

impl Verdict {
    pub fn is_valid(&self) -> bool {
        matches!(self, Verdict::Valid {})
    }

    /// The reveal's outcome as `TaskRevealed` names it: `valid`, `rejected` (proven wrong,
    /// slashed) or `refused` (no match with the client's reference hash).
    pub fn outcome_name(&self) -> &'static str {
        match self {
            Verdict::Valid {} => "valid",
            Verdict::Invalid { .. } => "rejected",
            Verdict::Unmatched { .. } => "refused",
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_of_the_declared_count_and_sizes_are_well_formed() {
        assert_eq!(check_output_shape(&[4, 16], &[4, 16]), Ok(()));
        assert_eq!(check_output_shape(&[], &[]), Ok(()));
    }

    #[test]
    fn more_or_fewer_outputs_than_declared_are_refused_with_both_counts() {
        let count = |got, expected| Err(ShapeError::Count { got, expected });
        assert_eq!(check_output_shape(&[4], &[4, 4]), count(2, 1));
        assert_eq!(check_output_shape(&[4, 4], &[4]), count(1, 2));
        assert_eq!(
            count(1, 2).unwrap_err().to_string(),
            "1 outputs revealed, task declares 2"
        );
    }

    #[test]
    fn the_first_output_of_the_wrong_size_is_the_one_reported() {
        assert_eq!(
            check_output_shape(&[4, 16], &[4, 12]),
            Err(ShapeError::Size {
                index: 1,
                got: 12,
                expected: 16
            })
        );
        let err = check_output_shape(&[1, 2], &[0, 0]).unwrap_err();
        assert_eq!(err.to_string(), "output 0 has 0 bytes, expected 1");
    }
}
