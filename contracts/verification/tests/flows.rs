//! Verification as the market uses it: `CheckPolicy` at publish, `Check` at each reveal.

use cosmwasm_std::{Binary, HexBinary};
use opengpu_testing::{assert_error, outputs, Suite, TaskSpec, STAKE_DENOM};
use opengpu_types::commitment::outputs_digest;
use opengpu_types::market::{CommitmentState, TaskStatus};
use opengpu_types::verification::{QueryMsg, Verdict, VerificationConfig, VerificationPolicy};

opengpu_testing::ownership_tests!(Verification);

const BOND: u128 = 5_000;

fn reference_hash_of(outputs: &[Binary]) -> VerificationPolicy {
    VerificationPolicy::ReferenceHash {
        sha256: HexBinary::from(outputs_digest(outputs)),
    }
}

#[test]
fn deployed_verification_knows_market_and_vault() {
    let suite = Suite::new();
    let config: VerificationConfig = suite
        .app
        .wrap()
        .query_wasm_smart(&suite.verification, &QueryMsg::Config {})
        .unwrap();
    assert_eq!(config.market_addr, suite.market);
    assert_eq!(config.vault_addr, suite.vault);
}

#[test]
fn reference_hash_task_settles_for_the_known_answer() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let provider = suite.provider_with_bond("provider", BOND);
    let spec = TaskSpec::first_response().verification(reference_hash_of(&outputs(0)));
    let task_id = suite.publish(&client, spec).unwrap();
    suite
        .commit_and_reveal(&provider, task_id, &outputs(0), None)
        .unwrap();
    let task = suite.task(task_id);
    assert_eq!(task.status, TaskStatus::Settled);
    assert_eq!(task.settlement.unwrap().winner, provider);
    suite.assert_money_invariants();
}

#[test]
fn reference_hash_task_refuses_another_answer_without_slash_naming_both_hashes() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let provider = suite.provider_with_bond("provider", BOND);
    let policy = reference_hash_of(&outputs(0));
    let task_id = suite
        .publish(&client, TaskSpec::first_response().verification(policy))
        .unwrap();
    suite
        .commit_and_reveal(&provider, task_id, &outputs(3), None)
        .unwrap();

    let CommitmentState::Refused { reason } = suite.commitments(task_id)[0].state.clone() else {
        panic!("an answer unlike the client's hash must be refused");
    };
    assert!(reason.contains(&HexBinary::from(outputs_digest(&outputs(0))).to_hex()));
    assert!(reason.contains(&HexBinary::from(outputs_digest(&outputs(3))).to_hex()));
    // The client's hash proves nothing: the provider keeps its stake, the client gains none.
    assert_eq!(suite.stake(&provider).bonded.u128(), BOND);
    assert_eq!(suite.stake(&provider).locked.u128(), 0);
    assert_eq!(suite.balance(&client, STAKE_DENOM), 10_000);
    assert_eq!(suite.task(task_id).status, TaskStatus::Committed);
    suite.assert_money_invariants();
}

#[test]
fn misshapen_result_under_the_unverified_policy_is_rejected_with_sizes_named() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let provider = suite.provider_with_bond("provider", BOND);
    let task_id = suite.publish(&client, TaskSpec::first_response()).unwrap();
    let two_buffers = vec![Binary::from(vec![0u8; 16]), Binary::from(vec![0u8; 16])];
    suite
        .commit_and_reveal(&provider, task_id, &two_buffers, None)
        .unwrap();
    let CommitmentState::Rejected { reason } = suite.commitments(task_id)[0].state.clone() else {
        panic!("two buffers for a one-output kernel must be rejected");
    };
    assert_eq!(reason, "2 outputs revealed, task declares 1");
}

#[test]
fn publish_with_a_reference_hash_that_is_not_32_bytes_is_refused() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let policy = VerificationPolicy::ReferenceHash {
        sha256: HexBinary::from(vec![0u8; 20]),
    };
    assert_error(
        suite.publish(&client, TaskSpec::first_response().verification(policy)),
        "reference hash has 20 bytes, expected 32",
    );
    suite.assert_money_invariants();
}

#[test]
fn check_query_answers_invalid_rather_than_failing() {
    let suite = Suite::new();
    let verdict: Verdict = suite
        .app
        .wrap()
        .query_wasm_smart(
            &suite.verification,
            &QueryMsg::Check {
                policy: VerificationPolicy::Unverified {},
                output_sizes: vec![16],
                revealed_sizes: vec![12],
                outputs_digest: HexBinary::from(outputs_digest(&[Binary::from(vec![0u8; 12])])),
            },
        )
        .unwrap();
    assert_eq!(
        verdict,
        Verdict::Invalid {
            reason: "output 0 has 12 bytes, expected 16".into()
        }
    );
}
