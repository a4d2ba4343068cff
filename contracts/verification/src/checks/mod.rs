//! One checker per verification policy. `check_policy` says whether a policy can be used at
//! all; `check` says whether revealed outputs satisfy it. A new policy (Freivalds' check,
//! consensus tallies) is a new `VerificationPolicy` variant, a new module here and one new arm
//! in each match below.
//!
//! Checkers return `Err(reason)` for a failed check; the contract turns that into a verdict,
//! which is an answer, not a query error: `Invalid` (slash) when the failure is proof from
//! on-chain data, `Unmatched` (refuse, release) when it rests on the client's word.
//!
//! Freivalds' product check needs the inputs and outputs, which never travel here (64 KiB
//! query cap): the market runs `opengpu_types::freivalds::check` itself at reveal; here a
//! Freivalds policy is checked for its parameters and the outputs for their shape.

pub mod reference_hash;
pub mod well_formed;

use opengpu_types::verification::{Verdict, VerificationPolicy};

/// `Err` carries the reason a policy or a result failed its check.
pub type CheckResult = Result<(), String>;

/// What a provider revealed for a task, with the shape the task declared: the buffers' sizes
/// and digest, never their bytes (queries between contracts are capped at 64 KiB). Checkers
/// that need more (e.g. the bytes and the inputs, for Freivalds) read the market's storage.
#[derive(Clone, Copy, Debug)]
pub struct Revealed<'a> {
    /// Declared size in bytes of each output buffer, in kernel argument order.
    pub output_sizes: &'a [u64],
    /// Size of each revealed buffer.
    pub revealed_sizes: &'a [u64],
    /// `commitment::outputs_digest` of the revealed buffers.
    pub outputs_digest: &'a [u8],
}

/// Whether `policy` is usable; the market asks at publish time.
pub fn check_policy(policy: &VerificationPolicy) -> CheckResult {
    match policy {
        VerificationPolicy::Unverified {} => Ok(()),
        VerificationPolicy::ReferenceHash { sha256 } => reference_hash::check_policy(sha256),
        VerificationPolicy::Freivalds(spec) => spec.validate(),
    }
}

/// Whether `revealed` satisfies `policy`. The caller checks the policy first: a malformed
/// policy says nothing about the result.
pub fn check(policy: &VerificationPolicy, revealed: Revealed) -> Verdict {
    if let Err(reason) = well_formed::check(revealed) {
        return Verdict::Invalid { reason };
    }
    match policy {
        VerificationPolicy::Unverified {} | VerificationPolicy::Freivalds(_) => Verdict::Valid {},
        VerificationPolicy::ReferenceHash { sha256 } => {
            match reference_hash::check(sha256, revealed) {
                Ok(()) => Verdict::Valid {},
                Err(reason) => Verdict::Unmatched { reason },
            }
        }
    }
}

/// A policy check's verdict: a malformed policy is `Invalid`.
pub fn verdict(result: CheckResult) -> Verdict {
    match result {
        Ok(()) => Verdict::Valid {},
        Err(reason) => Verdict::Invalid { reason },
    }
}
