//! Attack 1: a placeholder wins First Response. A client that also registers as a provider
//! commits right-sized garbage in the publish block (the earliest commitment), waits for the
//! honest reveal, then reveals its placeholder to win its own task for the fee. Safe outcome:
//! under a decisive policy the placeholder never wins; the honest provider is paid.

use cosmwasm_std::{coins, Uint128};
use cw_multi_test::Executor;
use opengpu_testing::{
    assert_error, default_outputs, matmul_outputs, outputs, Suite, TaskSpec, PAY_DENOM, STAKE_DENOM,
};
use opengpu_types::commitment::outputs_digest;
use opengpu_types::events::TaskRevealed;
use opengpu_types::kernel::Kernel;
use opengpu_types::market::{CommitmentState, CompetitionModel, TaskStatus};
use opengpu_types::verification::VerificationPolicy;

use crate::common::*;

#[test]
fn placeholder_committed_in_the_publish_block_is_rejected_by_freivalds_and_honest_is_paid() {
    let mut suite = Suite::new();
    let attacker = client_and_provider(&mut suite, "client");
    let honest = suite.provider_with_bond("honest", BOND);
    let id = suite.publish(&attacker, TaskSpec::freivalds()).unwrap();

    // Same block as the publish: the attacker's commitment is the earliest.
    suite.commit(&attacker, id, &zero_matrix()).unwrap();
    suite.commit(&honest, id, &matmul_outputs()).unwrap();
    suite.advance_blocks(1);
    suite.reveal(&honest, id, &matmul_outputs(), None).unwrap();
    assert_eq!(
        suite.task(id).status,
        TaskStatus::Committed,
        "the earlier commitment may still reveal"
    );
    let response = suite.reveal(&attacker, id, &zero_matrix(), None).unwrap();
    assert_eq!(
        event::<TaskRevealed>(&response).unwrap().outcome,
        "rejected"
    );
    assert!(matches!(
        state_of(&suite, id, &attacker),
        CommitmentState::Rejected { reason } if reason.starts_with("freivalds")
    ));

    // The placeholder's reveal settled the task for the honest product.
    let settlement = suite.task(id).settlement.unwrap();
    assert_eq!(settlement.winner, honest);
    assert_eq!(suite.balance(&honest, PAY_DENOM), PAID);
    assert_stake_whole(&suite, &honest, BOND);
    assert_eq!(suite.balance(&suite.fee_collector.clone(), PAY_DENOM), FEE);
    // The attacker paid the whole budget; its slashed collateral went to the task's client,
    // itself, so its stake-denom worth is unchanged, and its reputation counts the slash.
    assert_eq!(suite.balance(&attacker, PAY_DENOM), FUNDS - BUDGET);
    assert_eq!(bonded(&suite, &attacker), BOND - COLLATERAL);
    assert_eq!(suite.balance(&attacker, STAKE_DENOM), FUNDS + COLLATERAL);
    assert_eq!(reputation(&suite, &attacker).slashed, 1);
    suite.assert_money_invariants();
}

#[test]
fn placeholder_that_never_reveals_only_delays_the_honest_payment() {
    let mut suite = Suite::new();
    let attacker = client_and_provider(&mut suite, "client");
    let honest = suite.provider_with_bond("honest", BOND);
    let id = suite.publish(&attacker, TaskSpec::freivalds()).unwrap();
    suite.commit(&attacker, id, &zero_matrix()).unwrap();
    suite.commit(&honest, id, &matmul_outputs()).unwrap();
    suite.advance_blocks(1);
    suite.reveal(&honest, id, &matmul_outputs(), None).unwrap();

    let anyone = suite.addr("anyone");
    assert_error(
        suite.finalize(&anyone, id),
        "an earlier committer may still reveal",
    );
    let window_end = suite.commitments(id)[0].reveal_deadline_height;
    suite.advance_blocks(window_end + 1 - suite.height());
    suite.finalize(&anyone, id).unwrap();

    assert_eq!(suite.task(id).settlement.unwrap().winner, honest);
    assert_eq!(suite.balance(&honest, PAY_DENOM), PAID);
    assert_stake_whole(&suite, &honest, BOND);
    assert_eq!(suite.balance(&attacker, PAY_DENOM), FUNDS - BUDGET);
    assert!(matches!(
        state_of(&suite, id, &attacker),
        CommitmentState::Forfeited {}
    ));
    suite.assert_money_invariants();
}

#[test]
fn placeholder_under_a_reference_hash_is_refused_and_honest_is_paid() {
    let mut suite = Suite::new();
    let attacker = client_and_provider(&mut suite, "client");
    let honest = suite.provider_with_bond("honest", BOND);
    let spec = TaskSpec::first_response().verification(VerificationPolicy::ReferenceHash {
        sha256: outputs_digest(&default_outputs()).into(),
    });
    let id = suite.publish(&attacker, spec).unwrap();
    suite.commit(&attacker, id, &placeholder(16)).unwrap();
    suite.commit(&honest, id, &default_outputs()).unwrap();
    suite.advance_blocks(1);
    suite.reveal(&honest, id, &default_outputs(), None).unwrap();
    let response = suite.reveal(&attacker, id, &placeholder(16), None).unwrap();
    assert_eq!(event::<TaskRevealed>(&response).unwrap().outcome, "refused");
    assert!(matches!(
        state_of(&suite, id, &attacker),
        CommitmentState::Refused { .. }
    ));

    assert_eq!(suite.task(id).settlement.unwrap().winner, honest);
    assert_eq!(suite.balance(&honest, PAY_DENOM), PAID);
    assert_stake_whole(&suite, &honest, BOND);
    // Refused, not slashed: the attacker keeps its stake and pays the whole budget.
    assert_eq!(suite.balance(&attacker, PAY_DENOM), FUNDS - BUDGET);
    assert_stake_whole(&suite, &attacker, BOND);
    assert_eq!(suite.balance(&attacker, STAKE_DENOM), FUNDS);
    suite.assert_money_invariants();
}

/// The rule: running a task unverified is the client's explicit, visible choice. The market
/// has no default policy, and the published task carries the one chosen.
#[test]
fn unverified_is_never_a_default_policy() {
    #[derive(Debug, serde::Serialize)]
    #[serde(rename_all = "snake_case")]
    enum WithoutPolicy {
        PublishTask {
            kernel: Kernel,
            collateral: Uint128,
            deadline_blocks: u64,
            model: CompetitionModel,
        },
    }
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let msg = WithoutPolicy::PublishTask {
        kernel: opengpu_testing::default_kernel(),
        collateral: Uint128::new(COLLATERAL),
        deadline_blocks: 20,
        model: CompetitionModel::FirstResponse,
    };
    let market = suite.market.clone();
    let refused =
        suite
            .app
            .execute_contract(client.clone(), market, &msg, &coins(BUDGET, PAY_DENOM));
    assert_error(refused, "missing field `verification`");
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS);

    let id = suite.publish(&client, TaskSpec::first_response()).unwrap();
    assert_eq!(
        suite.task(id).verification,
        VerificationPolicy::Unverified {}
    );
    assert!(!suite.task(id).verification.is_decisive());
    suite.assert_money_invariants();
}

/// Known limit, documented: when the client explicitly runs First Response unverified, any
/// right-sized bytes are a valid result, so a placeholder committed earliest wins. What the
/// protocol still guarantees: the honest provider's stake comes back whole, and a provider can
/// see the policy and decline such tasks.
#[test]
fn known_limit_an_explicitly_unverified_first_response_task_pays_a_placeholder() {
    let mut suite = Suite::new();
    let attacker = client_and_provider(&mut suite, "client");
    let honest = suite.provider_with_bond("honest", BOND);
    let id = suite
        .publish(&attacker, TaskSpec::first_response())
        .unwrap();
    suite.commit(&attacker, id, &outputs(7)).unwrap();
    suite.commit(&honest, id, &outputs(0)).unwrap();
    suite.advance_blocks(1);
    suite.reveal(&honest, id, &outputs(0), None).unwrap();
    suite.reveal(&attacker, id, &outputs(7), None).unwrap();

    assert_eq!(suite.task(id).settlement.unwrap().winner, attacker);
    assert_eq!(suite.balance(&attacker, PAY_DENOM), FUNDS - FEE);
    assert_eq!(suite.balance(&honest, PAY_DENOM), 0);
    assert_stake_whole(&suite, &honest, BOND);
    suite.assert_money_invariants();
}
