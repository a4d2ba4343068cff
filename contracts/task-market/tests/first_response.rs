//! First Response: the earliest commitment whose reveal is valid wins the whole payment, paid in
//! the transaction that makes it the winner.

use cosmwasm_std::Uint128;
use opengpu_task_market::ContractError;
use opengpu_testing::{
    assert_error, matmul_outputs, matmul_outputs_off_by, outputs, Suite, TaskSpec, PAY_DENOM,
    STAKE_DENOM,
};
use opengpu_types::market::{CommitmentState, TaskStatus};

const BOND: u128 = 5_000;

#[test]
fn valid_reveal_settles_and_pays_winner_in_same_transaction() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let provider = suite.provider_with_bond("provider", BOND);
    let id = suite.publish(&client, TaskSpec::first_response()).unwrap();
    assert_eq!(suite.balance(&client, PAY_DENOM), 9_000);
    suite.assert_money_invariants();

    suite.commit(&provider, id, &outputs(0)).unwrap();
    assert_eq!(suite.task(id).status, TaskStatus::Committed);
    assert_eq!(suite.stake(&provider).locked, Uint128::new(100));
    suite.advance_blocks(1);
    suite.reveal(&provider, id, &outputs(0), None).unwrap();

    let task = suite.task(id);
    assert_eq!(task.status, TaskStatus::Settled);
    let settlement = task.settlement.unwrap();
    assert_eq!(settlement.winner, provider);
    assert_eq!(settlement.price.u128(), 1_000);
    assert_eq!((settlement.paid.u128(), settlement.fee.u128()), (990, 10));
    assert_eq!(suite.balance(&provider, PAY_DENOM), 990);
    assert_eq!(suite.balance(&suite.fee_collector.clone(), PAY_DENOM), 10);
    assert_eq!(suite.balance(&client, PAY_DENOM), 9_000);
    assert_eq!(suite.stake(&provider).locked, Uint128::zero());
    assert_eq!(suite.provider(&provider).provider.reputation.won, 1);
    assert_eq!(suite.result(id, None).unwrap().outputs, outputs(0));
    suite.assert_money_invariants();
}

#[test]
fn earliest_commitment_wins_even_when_a_later_one_reveals_first() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let early = suite.provider_with_bond("early", BOND);
    let late = suite.provider_with_bond("late", BOND);
    let id = suite.publish(&client, TaskSpec::first_response()).unwrap();

    suite.commit(&early, id, &outputs(0)).unwrap();
    suite.commit(&late, id, &outputs(0)).unwrap();
    suite.advance_blocks(1);
    suite.reveal(&late, id, &outputs(0), None).unwrap();
    assert_eq!(
        suite.task(id).status,
        TaskStatus::Committed,
        "early may still reveal"
    );
    suite.reveal(&early, id, &outputs(0), None).unwrap();

    let task = suite.task(id);
    assert_eq!(task.settlement.unwrap().winner, early);
    assert_eq!(suite.balance(&early, PAY_DENOM), 990);
    assert_eq!(suite.balance(&late, PAY_DENOM), 0);
    assert_eq!(
        suite.stake(&late).locked,
        Uint128::zero(),
        "loser's collateral unlocks"
    );
    assert_eq!(suite.provider(&late).provider.reputation.lost, 1);
    suite.assert_money_invariants();
}

#[test]
fn later_valid_reveal_wins_by_finalize_once_earlier_committer_times_out() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let silent = suite.provider_with_bond("silent", BOND);
    let honest = suite.provider_with_bond("honest", BOND);
    let id = suite.publish(&client, TaskSpec::first_response()).unwrap();
    suite.commit(&silent, id, &outputs(0)).unwrap();
    suite.commit(&honest, id, &outputs(0)).unwrap();
    suite.advance_blocks(1);
    suite.reveal(&honest, id, &outputs(0), None).unwrap();

    let anyone = suite.addr("anyone");
    assert_error(
        suite.finalize(&anyone, id),
        "an earlier committer may still reveal",
    );
    suite.advance_blocks(10);
    suite.finalize(&anyone, id).unwrap();

    assert_eq!(suite.task(id).settlement.unwrap().winner, honest);
    assert_eq!(suite.balance(&honest, PAY_DENOM), 990);
    // The silent committer's window closed unrevealed: its collateral goes to the client.
    assert_eq!(suite.stake(&silent).bonded.u128(), BOND - 100);
    assert_eq!(suite.balance(&client, STAKE_DENOM), 10_000 + 100);
    assert!(matches!(
        suite.commitments(id)[0].state,
        CommitmentState::Forfeited {}
    ));
    assert_eq!(suite.provider(&silent).provider.reputation.expired, 1);
    suite.assert_money_invariants();
}

#[test]
fn wrong_product_is_rejected_by_freivalds_slashed_and_next_valid_reveal_wins() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let cheat = suite.provider_with_bond("cheat", BOND);
    let honest = suite.provider_with_bond("honest", BOND);
    let id = suite.publish(&client, TaskSpec::freivalds()).unwrap();
    let wrong = matmul_outputs_off_by(9, 64.0);
    suite.commit(&cheat, id, &wrong).unwrap();
    suite.commit(&honest, id, &matmul_outputs()).unwrap();
    suite.advance_blocks(1);

    suite.reveal(&cheat, id, &wrong, None).unwrap();
    let CommitmentState::Rejected { reason } = suite.commitments(id)[0].state.clone() else {
        panic!("a wrong product must be rejected");
    };
    assert!(reason.starts_with("freivalds:"), "{reason}");
    assert_eq!(suite.stake(&cheat).bonded.u128(), BOND - 100);
    assert_eq!(suite.balance(&client, STAKE_DENOM), 10_000 + 100);
    assert_eq!(suite.provider(&cheat).provider.reputation.slashed, 1);
    assert_eq!(suite.task(id).status, TaskStatus::Committed);

    suite.reveal(&honest, id, &matmul_outputs(), None).unwrap();
    assert_eq!(suite.task(id).settlement.unwrap().winner, honest);
    assert_eq!(suite.balance(&honest, PAY_DENOM), 990);
    suite.assert_money_invariants();
}

#[test]
fn result_unlike_the_reference_hash_is_refused_without_slash_and_next_valid_reveal_wins() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let other = suite.provider_with_bond("other", BOND);
    let honest = suite.provider_with_bond("honest", BOND);
    let reference = opengpu_types::commitment::outputs_digest(&outputs(0));
    let spec = TaskSpec::first_response().verification(
        opengpu_types::verification::VerificationPolicy::ReferenceHash {
            sha256: reference.into(),
        },
    );
    let id = suite.publish(&client, spec).unwrap();
    suite.commit(&other, id, &outputs(7)).unwrap();
    suite.commit(&honest, id, &outputs(0)).unwrap();
    suite.advance_blocks(1);

    suite.reveal(&other, id, &outputs(7), None).unwrap();
    assert!(matches!(
        suite.commitments(id)[0].state,
        CommitmentState::Refused { .. }
    ));
    // The client's hash is no proof: nothing is slashed, the collateral is free again.
    assert_eq!(suite.stake(&other).bonded.u128(), BOND);
    assert_eq!(suite.stake(&other).locked.u128(), 0);
    assert_eq!(suite.balance(&client, STAKE_DENOM), 10_000);
    assert_eq!(suite.provider(&other).provider.reputation.slashed, 0);
    assert_eq!(suite.task(id).status, TaskStatus::Committed);

    suite.reveal(&honest, id, &outputs(0), None).unwrap();
    assert_eq!(suite.task(id).settlement.unwrap().winner, honest);
    suite.assert_money_invariants();
}

#[test]
fn malformed_outputs_are_proven_wrong_under_every_policy() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let provider = suite.provider_with_bond("provider", BOND);
    let id = suite.publish(&client, TaskSpec::first_response()).unwrap();
    let short = vec![cosmwasm_std::Binary::from(vec![1u8; 3])];
    suite
        .commit_and_reveal(&provider, id, &short, None)
        .unwrap();
    let CommitmentState::Rejected { reason } = suite.commitments(id)[0].state.clone() else {
        panic!("a 3-byte output for a 16-byte buffer must be rejected");
    };
    assert!(reason.contains("3 bytes"), "{reason}");
    assert_eq!(suite.stake(&provider).bonded.u128(), BOND - 100);
    suite.assert_money_invariants();
}

#[test]
fn settled_task_refuses_further_reveals_and_double_settlement() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let first = suite.provider_with_bond("first", BOND);
    let second = suite.provider_with_bond("second", BOND);
    let id = suite.publish(&client, TaskSpec::first_response()).unwrap();
    suite.commit(&first, id, &outputs(0)).unwrap();
    suite.commit(&second, id, &outputs(0)).unwrap();
    suite.advance_blocks(1);
    suite.reveal(&first, id, &outputs(0), None).unwrap();

    let closed = ContractError::TaskClosed {
        task_id: id,
        status: TaskStatus::Settled,
    };
    assert_error(suite.reveal(&second, id, &outputs(0), None), &closed);
    assert_error(suite.finalize(&client, id), &closed);
    assert_error(suite.expire(&client, id), &closed);
    assert_eq!(suite.balance(&first, PAY_DENOM), 990);
    assert_eq!(suite.stake(&second).locked, Uint128::zero());
    suite.assert_money_invariants();
}

#[test]
fn winner_is_paid_at_its_registered_payout_address() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let provider = suite.addr("provider");
    let treasury = suite.addr("treasury");
    suite.fund(&provider, cosmwasm_std::coins(BOND, STAKE_DENOM));
    suite.bond(&provider, BOND).unwrap();
    let mut profile = opengpu_testing::default_profile("with-payout");
    profile.payout_addr = Some(treasury.to_string());
    suite.register_with(&provider, profile).unwrap();

    let id = suite.publish(&client, TaskSpec::first_response()).unwrap();
    suite
        .commit_and_reveal(&provider, id, &outputs(0), None)
        .unwrap();
    assert_eq!(suite.balance(&treasury, PAY_DENOM), 990);
    assert_eq!(suite.balance(&provider, PAY_DENOM), 0);
    assert_eq!(suite.task(id).settlement.unwrap().paid_to, treasury);
}

#[test]
fn ibc_denom_budget_settles_like_a_native_one() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let provider = suite.provider_with_bond("provider", BOND);
    let spec =
        TaskSpec::first_response().budget(cosmwasm_std::coin(500, opengpu_testing::IBC_DENOM));
    let id = suite.publish(&client, spec).unwrap();
    suite.assert_money_invariants();
    suite
        .commit_and_reveal(&provider, id, &outputs(0), None)
        .unwrap();
    assert_eq!(suite.balance(&provider, opengpu_testing::IBC_DENOM), 495);
    suite.assert_money_invariants();
}

#[test]
fn settlement_records_outcomes_for_every_committer() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let winner = suite.provider_with_bond("winner", BOND);
    let loser = suite.provider_with_bond("loser", BOND);
    let id = suite.publish(&client, TaskSpec::first_response()).unwrap();
    suite.commit(&winner, id, &outputs(0)).unwrap();
    suite.commit(&loser, id, &outputs(0)).unwrap();
    suite.advance_blocks(1);
    suite.reveal(&winner, id, &outputs(0), None).unwrap();
    let won = suite.provider(&winner).provider.reputation;
    let lost = suite.provider(&loser).provider.reputation;
    assert_eq!((won.won, won.lost), (1, 0));
    assert_eq!((lost.won, lost.lost), (0, 1));
    assert!(matches!(
        suite.commitments(id)[1].state,
        CommitmentState::Released {}
    ));
}
