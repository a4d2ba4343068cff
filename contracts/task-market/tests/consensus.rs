//! Consensus: replicas commit, reveal once commits close, the agreeing group with a quorum
//! shares the payment. (Attacks on it, collusion included, live in opengpu-testing's attacks.)

use opengpu_task_market::ContractError;
use opengpu_testing::{assert_error, outputs, Suite, TaskSpec, PAY_DENOM, STAKE_DENOM};
use opengpu_types::market::{CommitmentState, TaskStatus};

const BOND: u128 = 5_000;

#[test]
fn the_last_reveal_tallies_and_agreeing_replicas_share_the_payment() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let providers: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|name| suite.provider_with_bond(name, BOND))
        .collect();
    let id = suite.publish(&client, TaskSpec::consensus(3, 2)).unwrap();
    for p in &providers {
        suite.commit(p, id, &outputs(0)).unwrap();
    }
    // Every slot is taken: commits are closed, reveals open in the next block.
    suite.advance_blocks(1);
    suite.reveal(&providers[0], id, &outputs(0), None).unwrap();
    suite.reveal(&providers[1], id, &outputs(0), None).unwrap();
    assert_eq!(suite.task(id).status, TaskStatus::Committed);
    suite.reveal(&providers[2], id, &outputs(0), None).unwrap();

    let settlement = suite.task(id).settlement.expect("the third reveal tallies");
    assert_eq!(settlement.shares.len(), 3);
    // 1000 budget, 1% fee = 10, 990 / 3 = 330 each, no remainder.
    for p in &providers {
        assert_eq!(suite.balance(p, PAY_DENOM), 330);
        assert_eq!(suite.stake(p).locked.u128(), 0);
    }
    assert_eq!(suite.balance(&client, PAY_DENOM), 9_000);
    suite.assert_money_invariants();
}

#[test]
fn a_reveal_before_commits_close_is_refused() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let a = suite.provider_with_bond("a", BOND);
    let id = suite.publish(&client, TaskSpec::consensus(3, 2)).unwrap();
    suite.commit(&a, id, &outputs(0)).unwrap();
    suite.advance_blocks(1);
    let deadline = suite.task(id).deadline_height;
    assert_error(
        suite.reveal(&a, id, &outputs(0), None),
        ContractError::CommitsStillOpen {
            task_id: id,
            deadline,
        },
    );
}

#[test]
fn with_fewer_committers_than_replicas_anyone_finalizes_after_the_reveal_phase() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let a = suite.provider_with_bond("a", BOND);
    let b = suite.provider_with_bond("b", BOND);
    let anyone = suite.addr("anyone");
    let id = suite.publish(&client, TaskSpec::consensus(3, 2)).unwrap();
    suite.commit(&a, id, &outputs(0)).unwrap();
    suite.commit(&b, id, &outputs(0)).unwrap();
    suite.close_commits(id);
    suite.reveal(&a, id, &outputs(0), None).unwrap();
    suite.reveal(&b, id, &outputs(0), None).unwrap();
    let close = suite.task(id).reveals_close_height();
    assert_error(
        suite.finalize(&anyone, id),
        format!("committers may reveal until height {close}"),
    );
    let now = suite.height();
    suite.advance_blocks(close - now + 1);
    suite.finalize(&anyone, id).unwrap();
    assert_eq!(suite.balance(&a, PAY_DENOM), 495);
    assert_eq!(suite.balance(&b, PAY_DENOM), 495);
    suite.assert_money_invariants();
}

#[test]
fn a_lone_revealer_is_no_quorum_the_client_is_refunded_and_the_silent_forfeit() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let a = suite.provider_with_bond("a", BOND);
    let silent = suite.provider_with_bond("silent", BOND);
    let anyone = suite.addr("anyone");
    let id = suite.publish(&client, TaskSpec::consensus(2, 2)).unwrap();
    suite.commit(&a, id, &outputs(0)).unwrap();
    suite.commit(&silent, id, &outputs(0)).unwrap();
    suite.advance_blocks(1);
    suite.reveal(&a, id, &outputs(0), None).unwrap();
    let close = suite.task(id).reveals_close_height();
    let now = suite.height();
    suite.advance_blocks(close - now + 1);
    suite.finalize(&anyone, id).unwrap();

    assert_eq!(suite.task(id).status, TaskStatus::Expired);
    assert_eq!(suite.balance(&client, PAY_DENOM), 10_000);
    assert_eq!(
        suite.stake(&a).bonded.u128(),
        BOND,
        "disagreement is no fault"
    );
    assert_eq!(suite.stake(&a).locked.u128(), 0);
    assert_eq!(suite.stake(&silent).bonded.u128(), BOND - 100);
    assert_eq!(suite.balance(&client, STAKE_DENOM), 10_000 + 100);
    assert!(matches!(
        suite.commitments(id)[1].state,
        CommitmentState::Forfeited {}
    ));
    suite.assert_money_invariants();
}

#[test]
fn consensus_parameters_are_checked_at_publish() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    for (replicas, quorum) in [(3, 1), (4, 2), (1, 1), (6, 4), (3, 4)] {
        let before = suite.balance(&client, PAY_DENOM);
        assert_error(
            suite.publish(&client, TaskSpec::consensus(replicas, quorum)),
            "competition model rejected",
        );
        assert_eq!(suite.balance(&client, PAY_DENOM), before);
    }
    suite.assert_money_invariants();
}
