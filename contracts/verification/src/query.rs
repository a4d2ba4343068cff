use cosmwasm_std::{Deps, HexBinary, StdError, StdResult};
use opengpu_types::verification::{Verdict, VerificationConfig, VerificationPolicy};

use crate::checks::{self, Revealed};
use crate::state::CONFIG;

pub fn config(deps: Deps) -> StdResult<VerificationConfig> {
    CONFIG.load(deps.storage)
}

/// A result that fails its check is `Ok(Verdict::Invalid)`. A malformed policy is a query
/// error instead: it proves nothing about the result, so it must not read as a verdict that
/// gets a provider slashed. (The market rejects such policies at publish with `CheckPolicy`.)
pub fn check(
    policy: VerificationPolicy,
    output_sizes: Vec<u64>,
    revealed_sizes: Vec<u64>,
    outputs_digest: HexBinary,
) -> StdResult<Verdict> {
    checks::check_policy(&policy).map_err(|reason| {
        StdError::msg(format!("{} policy is malformed: {reason}", policy.name()))
    })?;
    let revealed = Revealed {
        output_sizes: &output_sizes,
        revealed_sizes: &revealed_sizes,
        outputs_digest: &outputs_digest,
    };
    Ok(checks::check(&policy, revealed))
}

pub fn check_policy(policy: VerificationPolicy) -> Verdict {
    checks::verdict(checks::check_policy(&policy))
}
