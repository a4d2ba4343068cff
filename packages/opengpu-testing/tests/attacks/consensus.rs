//! Consensus under attack: colluding replicas, disagreement, silence and near-equal floats.
//! Three replicas, quorum two, budget 1000 at a 1% fee, collateral 100, unless a test says
//! otherwise.

use cosmwasm_std::{coin, Addr, Binary, Decimal};
use cw_multi_test::AppResponse;
use opengpu_task_market::ContractError;
use opengpu_testing::{
    assert_error, matmul_kernel, matmul_outputs, matmul_outputs_off_by, outputs, Suite, TaskSpec,
    PAY_DENOM, STAKE_DENOM,
};
use opengpu_types::consensus::FloatTolerance;
use opengpu_types::events::{ConsensusTallied, TaskRevealed};
use opengpu_types::market::{CommitmentState, CompetitionModel, TaskStatus};
use opengpu_types::TaskId;

use crate::common::*;

fn replicas(suite: &mut Suite, names: &[&str]) -> Vec<Addr> {
    names
        .iter()
        .map(|name| suite.provider_with_bond(name, BOND))
        .collect()
}

/// Publishes `spec`, has each provider commit its answer, then reveal in the same order once
/// commits are closed. Returns the task and the last reveal's response (where the tally runs
/// when every replica answered).
fn commit_then_reveal(
    suite: &mut Suite,
    client: &Addr,
    spec: TaskSpec,
    answers: &[(&Addr, Vec<Binary>)],
) -> (TaskId, AppResponse) {
    let id = suite.publish(client, spec).unwrap();
    for (provider, answer) in answers {
        suite.commit(provider, id, answer).unwrap();
    }
    suite.advance_blocks(1);
    suite.close_commits(id);
    let mut last = None;
    for (provider, answer) in answers {
        last = Some(suite.reveal(provider, id, answer, None).unwrap());
    }
    (id, last.expect("at least one answer"))
}

fn tallied(response: &AppResponse) -> (u32, u32, u32) {
    let e = event::<ConsensusTallied>(response).expect("the tally ran");
    (e.groups, e.winners, e.outvoted)
}

/// Known limit, stated in the README: a majority colluder (at least `quorum` replicas agreeing
/// on one wrong answer) can have it paid and slash the honest minority, whenever the task has
/// no decisive check (unverified outputs, no Freivalds). Consensus only resists collusion
/// below the quorum; with a check it cannot win at all (see the Freivalds test below).
#[test]
fn known_limit_a_colluding_majority_wins_and_slashes_the_honest_minority() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let r = replicas(&mut suite, &["colluder-1", "honest", "colluder-2"]);
    let answers = [
        (&r[0], outputs(5)),
        (&r[1], outputs(0)),
        (&r[2], outputs(5)),
    ];
    let (id, response) =
        commit_then_reveal(&mut suite, &client, TaskSpec::consensus(3, 2), &answers);
    assert_eq!(tallied(&response), (2, 2, 1));

    let settlement = suite.task(id).settlement.unwrap();
    let winners: Vec<_> = settlement.shares.iter().map(|s| &s.provider).collect();
    assert_eq!(winners, [&r[0], &r[2]]);
    assert_eq!(suite.result(id, None).unwrap().outputs, outputs(5));
    for colluder in [&r[0], &r[2]] {
        assert_eq!(suite.balance(colluder, PAY_DENOM), 495);
        assert_eq!(suite.balance(colluder, STAKE_DENOM), 33);
        assert_stake_whole(&suite, colluder, BOND);
    }
    assert!(matches!(
        state_of(&suite, id, &r[1]),
        CommitmentState::Outvoted {}
    ));
    assert_eq!(bonded(&suite, &r[1]), BOND - COLLATERAL);
    assert_eq!(suite.balance(&client, STAKE_DENOM), FUNDS + 34);
    suite.assert_money_invariants();
}

#[test]
fn colluding_minority_loses_its_collateral_to_the_winners_and_the_client() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let r = replicas(&mut suite, &["honest-1", "colluder", "honest-2"]);
    let answers = [
        (&r[0], outputs(0)),
        (&r[1], outputs(9)),
        (&r[2], outputs(0)),
    ];
    // 1001: the fee is 10, and 991 does not split evenly in two.
    let spec = TaskSpec::consensus(3, 2).budget(coin(1_001, PAY_DENOM));
    let (id, response) = commit_then_reveal(&mut suite, &client, spec, &answers);
    assert_eq!(tallied(&response), (2, 2, 1));

    let task = suite.task(id);
    assert_eq!(task.status, TaskStatus::Settled);
    let settlement = task.settlement.unwrap();
    assert_eq!(
        (
            settlement.price.u128(),
            settlement.fee.u128(),
            settlement.paid.u128(),
            settlement.refund.u128()
        ),
        (1_001, 10, 990, 1)
    );
    assert_eq!(settlement.shares.len(), 2);
    for (share, winner) in settlement.shares.iter().zip([&r[0], &r[2]]) {
        assert_eq!((&share.provider, share.amount.u128()), (winner, 495));
        assert_eq!(suite.balance(winner, PAY_DENOM), 495);
        // A third of the minority's collateral each, the client the remainder.
        assert_eq!(suite.balance(winner, STAKE_DENOM), 33);
        assert_stake_whole(&suite, winner, BOND);
        assert_eq!(reputation(&suite, winner).won, 1);
    }
    assert!(matches!(
        state_of(&suite, id, &r[1]),
        CommitmentState::Outvoted {}
    ));
    assert_eq!(bonded(&suite, &r[1]), BOND - COLLATERAL);
    assert_eq!(locked(&suite, &r[1]), 0);
    assert_eq!(reputation(&suite, &r[1]).slashed, 1);
    assert_eq!(suite.balance(&r[1], PAY_DENOM), 0);
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS - 1_001 + 1);
    assert_eq!(suite.balance(&client, STAKE_DENOM), FUNDS + 34);
    assert_eq!(suite.balance(&suite.fee_collector.clone(), PAY_DENOM), 10);
    suite.assert_money_invariants();
}

#[test]
fn no_quorum_refunds_the_client_and_slashes_nobody() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let r = replicas(&mut suite, &["a", "b", "c"]);
    let answers = [
        (&r[0], outputs(1)),
        (&r[1], outputs(2)),
        (&r[2], outputs(3)),
    ];
    let (id, response) =
        commit_then_reveal(&mut suite, &client, TaskSpec::consensus(3, 2), &answers);
    assert_eq!(tallied(&response), (3, 0, 0));

    assert_eq!(suite.task(id).status, TaskStatus::Expired);
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS);
    assert_eq!(suite.balance(&client, STAKE_DENOM), FUNDS);
    for replica in &r {
        assert_stake_whole(&suite, replica, BOND);
        assert!(matches!(
            state_of(&suite, id, replica),
            CommitmentState::Revealed { .. }
        ));
        let reputation = reputation(&suite, replica);
        assert_eq!((reputation.slashed, reputation.lost), (0, 1));
    }
    assert_eq!(suite.balance(&suite.fee_collector.clone(), PAY_DENOM), 0);
    suite.assert_money_invariants();
}

#[test]
fn replica_that_commits_and_never_reveals_forfeits_to_the_client() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let r = replicas(&mut suite, &["honest-1", "silent", "honest-2"]);
    let id = suite.publish(&client, TaskSpec::consensus(3, 2)).unwrap();
    for replica in &r {
        suite.commit(replica, id, &outputs(0)).unwrap();
    }
    suite.advance_blocks(1);
    suite.reveal(&r[0], id, &outputs(0), None).unwrap();
    suite.reveal(&r[2], id, &outputs(0), None).unwrap();
    let anyone = suite.addr("anyone");
    let reveals_close = suite.task(id).reveals_close_height();
    suite.advance_blocks(reveals_close - suite.height());
    assert_error(
        suite.finalize(&anyone, id),
        format!("committers may reveal until height {reveals_close}"),
    );
    suite.advance_blocks(1);
    let response = suite.finalize(&anyone, id).unwrap();
    assert_eq!(tallied(&response), (1, 2, 0));

    for winner in [&r[0], &r[2]] {
        assert_eq!(suite.balance(winner, PAY_DENOM), 495);
        assert_eq!(suite.balance(winner, STAKE_DENOM), 0);
        assert_stake_whole(&suite, winner, BOND);
    }
    assert!(matches!(
        state_of(&suite, id, &r[1]),
        CommitmentState::Forfeited {}
    ));
    assert_eq!(bonded(&suite, &r[1]), BOND - COLLATERAL);
    assert_eq!(reputation(&suite, &r[1]).expired, 1);
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS - BUDGET);
    assert_eq!(suite.balance(&client, STAKE_DENOM), FUNDS + COLLATERAL);
    suite.assert_money_invariants();
}

/// The value of element `index` of the fixture's product.
fn product_element(index: usize) -> f32 {
    let bytes = &matmul_outputs()[0];
    let word = &bytes[4 * index..4 * index + 4];
    f32::from_le_bytes([word[0], word[1], word[2], word[3]])
}

#[test]
fn tolerance_groups_near_equal_floats_and_outvotes_a_far_one() {
    let index = (0..64)
        .find(|&i| product_element(i).abs() >= 4.0)
        .expect("the fixture has a sizeable element");
    let value = product_element(index);
    // 1e-5 relative: another device's rounding; 1.0 absolute on an element below 100: a
    // different answer at a 1e-3 tolerance.
    let near = matmul_outputs_off_by(index, value * 1e-5);
    let far_index = (index + 1) % 64;
    assert!(product_element(far_index).abs() < 100.0);
    let far = matmul_outputs_off_by(far_index, 1.0);
    assert_ne!(
        near,
        matmul_outputs(),
        "the near answer differs in its bytes"
    );

    let tolerance = FloatTolerance::Relative {
        max: Decimal::permille(1),
    };
    let spec = |model: TaskSpec| TaskSpec {
        kernel: matmul_kernel(),
        ..model
    };
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let r = replicas(&mut suite, &["far", "exact", "near"]);
    let answers = [
        (&r[0], far.clone()),
        (&r[1], matmul_outputs()),
        (&r[2], near.clone()),
    ];
    let (id, response) = commit_then_reveal(
        &mut suite,
        &client,
        spec(TaskSpec::consensus_within(3, 2, tolerance)),
        &answers,
    );
    assert_eq!(tallied(&response), (2, 2, 1));
    let settlement = suite.task(id).settlement.unwrap();
    let winners: Vec<_> = settlement.shares.iter().map(|s| &s.provider).collect();
    assert_eq!(winners, [&r[1], &r[2]]);
    assert_eq!(suite.balance(&r[1], PAY_DENOM), 495);
    assert_eq!(suite.balance(&r[2], PAY_DENOM), 495);
    assert!(matches!(
        state_of(&suite, id, &r[0]),
        CommitmentState::Outvoted {}
    ));
    assert_eq!(bonded(&suite, &r[0]), BOND - COLLATERAL);
    assert_eq!(suite.balance(&client, STAKE_DENOM), FUNDS + 34);
    suite.assert_money_invariants();

    // The same answers under exact agreement: three groups, no quorum, nobody slashed.
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let r = replicas(&mut suite, &["far", "exact", "near"]);
    let answers = [(&r[0], far), (&r[1], matmul_outputs()), (&r[2], near)];
    let (id, response) = commit_then_reveal(
        &mut suite,
        &client,
        spec(TaskSpec::consensus(3, 2)),
        &answers,
    );
    assert_eq!(tallied(&response), (3, 0, 0));
    assert_eq!(suite.task(id).status, TaskStatus::Expired);
    for replica in &r {
        assert_stake_whole(&suite, replica, BOND);
    }
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS);
    suite.assert_money_invariants();
}

fn consensus_freivalds() -> TaskSpec {
    TaskSpec::freivalds().model(CompetitionModel::Consensus {
        replicas: 3,
        quorum: 2,
        tolerance: None,
    })
}

#[test]
fn consensus_with_freivalds_rejects_a_wrong_product_at_reveal_before_the_tally() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let r = replicas(&mut suite, &["cheat", "honest-1", "honest-2"]);
    let wrong = matmul_outputs_off_by(9, 64.0);
    let id = suite.publish(&client, consensus_freivalds()).unwrap();
    suite.commit(&r[0], id, &wrong).unwrap();
    suite.commit(&r[1], id, &matmul_outputs()).unwrap();
    suite.commit(&r[2], id, &matmul_outputs()).unwrap();
    suite.advance_blocks(1);
    let response = suite.reveal(&r[0], id, &wrong, None).unwrap();
    assert_eq!(
        event::<TaskRevealed>(&response).unwrap().outcome,
        "rejected"
    );
    assert!(event::<ConsensusTallied>(&response).is_none());
    // Slashed at once, all to the client: proven wrong, not outvoted.
    assert_eq!(suite.task(id).status, TaskStatus::Committed);
    assert_eq!(bonded(&suite, &r[0]), BOND - COLLATERAL);
    assert_eq!(suite.balance(&client, STAKE_DENOM), FUNDS + COLLATERAL);

    suite.reveal(&r[1], id, &matmul_outputs(), None).unwrap();
    let response = suite.reveal(&r[2], id, &matmul_outputs(), None).unwrap();
    assert_eq!(tallied(&response), (1, 2, 0));
    for honest in &r[1..] {
        assert_eq!(suite.balance(honest, PAY_DENOM), 495);
        assert_eq!(suite.balance(honest, STAKE_DENOM), 0);
        assert_stake_whole(&suite, honest, BOND);
    }
    assert!(matches!(
        state_of(&suite, id, &r[0]),
        CommitmentState::Rejected { .. }
    ));
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS - BUDGET);
    suite.assert_money_invariants();
}

#[test]
fn colluding_majority_under_freivalds_is_rejected_and_cannot_win() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let r = replicas(&mut suite, &["colluder-1", "honest", "colluder-2"]);
    let wrong = matmul_outputs_off_by(20, 16.0);
    let answers = [
        (&r[0], wrong.clone()),
        (&r[1], matmul_outputs()),
        (&r[2], wrong),
    ];
    let (id, response) = commit_then_reveal(&mut suite, &client, consensus_freivalds(), &answers);
    // One valid answer is no quorum: the client gets its budget back and the colluders'
    // collateral; the honest replica is unpaid but whole.
    assert_eq!(tallied(&response), (1, 0, 0));
    assert_eq!(suite.task(id).status, TaskStatus::Expired);
    for colluder in [&r[0], &r[2]] {
        assert!(matches!(
            state_of(&suite, id, colluder),
            CommitmentState::Rejected { .. }
        ));
        assert_eq!(bonded(&suite, colluder), BOND - COLLATERAL);
        assert_eq!(suite.balance(colluder, PAY_DENOM), 0);
    }
    assert_stake_whole(&suite, &r[1], BOND);
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS);
    assert_eq!(suite.balance(&client, STAKE_DENOM), FUNDS + 2 * COLLATERAL);
    suite.assert_money_invariants();
}

/// Sealed: no replica's answer is public while another could still commit to copy it.
#[test]
fn consensus_reveals_wait_for_every_replica_or_the_deadline() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let r = replicas(&mut suite, &["a", "b", "c", "late"]);
    let id = suite.publish(&client, TaskSpec::consensus(3, 2)).unwrap();
    suite.commit(&r[0], id, &outputs(0)).unwrap();
    suite.commit(&r[1], id, &outputs(0)).unwrap();
    suite.advance_blocks(1);
    let deadline = suite.task(id).deadline_height;
    assert_error(
        suite.reveal(&r[0], id, &outputs(0), None),
        ContractError::CommitsStillOpen {
            task_id: id,
            deadline,
        },
    );
    suite.commit(&r[2], id, &outputs(0)).unwrap();
    suite.advance_blocks(1);
    // Every replica is bound: reveals open before the deadline, and nobody else may commit.
    suite.reveal(&r[0], id, &outputs(0), None).unwrap();
    assert_error(
        suite.commit(&r[3], id, &outputs(0)),
        ContractError::TooManyCommitters {
            task_id: id,
            max: 3,
        },
    );
    assert_stake_whole(&suite, &r[3], BOND);
    suite.assert_money_invariants();
}
