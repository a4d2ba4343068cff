//! Attack 3: copying Manual Confirmation results. Before sealed offers a copier committed the
//! public outputs and undercut the price, and a client's second account offered a copied
//! result at a price of 1. Safe outcome: nothing is revealed while anyone could still commit,
//! a commitment only opens for its own provider, and the offered price is sealed inside it.

use opengpu_task_market::ContractError;
use opengpu_testing::{
    assert_error, matmul_outputs, outputs, Suite, SuiteBuilder, TaskSpec, PAY_DENOM, STAKE_DENOM,
};
use opengpu_types::market::{self, CommitmentState, CompetitionModel, TaskStatus};

use crate::common::*;

fn manual() -> TaskSpec {
    TaskSpec::manual_confirmation()
}

#[test]
fn copier_cannot_read_an_offer_before_commits_close() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let honest = suite.provider_with_bond("honest", BOND);
    let id = suite.publish(&client, manual()).unwrap();
    suite
        .commit_offer(&honest, id, &outputs(0), Some(700))
        .unwrap();
    suite.advance_blocks(1);

    // Even the honest provider cannot make its outputs public while commits are open.
    let deadline = suite.task(id).deadline_height;
    assert_error(
        suite.reveal(&honest, id, &outputs(0), Some(700)),
        ContractError::CommitsStillOpen {
            task_id: id,
            deadline,
        },
    );
    assert!(suite.offers(id).is_empty());
    assert!(suite.result(id, Some(&honest)).is_err());
    // What the chain shows of the offer is a hash.
    let commitment = &suite.commitments(id)[0];
    assert_eq!(commitment.commitment.len(), 32);
    assert!(matches!(commitment.state, CommitmentState::Committed {}));
    suite.assert_money_invariants();
}

#[test]
fn copier_cannot_reuse_another_providers_commitment() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let honest = suite.provider_with_bond("honest", BOND);
    let copier = suite.provider_with_bond("copier", BOND);
    let id = suite.publish(&client, manual()).unwrap();
    suite
        .commit_offer(&honest, id, &outputs(0), Some(700))
        .unwrap();
    // The copier commits the honest commitment's bytes, hoping to open them later.
    let copied = suite.commitments(id)[0].commitment.clone();
    suite
        .execute_market(
            &copier,
            &market::ExecuteMsg::Commit {
                task_id: id,
                commitment: copied,
            },
            &[],
        )
        .unwrap();
    suite.close_commits(id);
    suite.reveal(&honest, id, &outputs(0), Some(700)).unwrap();

    // The honest outputs, salt and price are public now; they do not open the copy, whose hash
    // names the honest provider, at any price.
    for price in [700, 699, 1] {
        assert_error(
            suite.reveal(&copier, id, &outputs(0), Some(price)),
            ContractError::CommitmentMismatch {},
        );
    }
    let anyone = suite.addr("anyone");
    suite.advance_blocks(100);
    suite.finalize(&anyone, id).unwrap();

    let settlement = suite.task(id).settlement.unwrap();
    assert_eq!(settlement.winner, honest);
    assert_eq!(suite.balance(&honest, PAY_DENOM), 700 - 7);
    assert_stake_whole(&suite, &honest, BOND);
    // The copy never opened: forfeited to the client.
    assert!(matches!(
        state_of(&suite, id, &copier),
        CommitmentState::Forfeited {}
    ));
    assert_eq!(bonded(&suite, &copier), BOND - COLLATERAL);
    assert_eq!(suite.balance(&copier, PAY_DENOM), 0);
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS - 700);
    assert_eq!(suite.balance(&client, STAKE_DENOM), FUNDS + COLLATERAL);
    suite.assert_money_invariants();
}

#[test]
fn copier_cannot_commit_once_commits_close_by_deadline_or_by_a_full_set() {
    // By deadline.
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let honest = suite.provider_with_bond("honest", BOND);
    let copier = suite.provider_with_bond("copier", BOND);
    let id = suite.publish(&client, manual()).unwrap();
    suite
        .commit_offer(&honest, id, &outputs(0), Some(700))
        .unwrap();
    suite.close_commits(id);
    suite.reveal(&honest, id, &outputs(0), Some(700)).unwrap();
    let (deadline, height) = (suite.task(id).deadline_height, suite.height());
    assert_error(
        suite.commit_offer(&copier, id, &outputs(0), Some(1)),
        ContractError::CommitAfterDeadline {
            task_id: id,
            deadline,
            height,
        },
    );
    assert_stake_whole(&suite, &copier, BOND);
    suite.assert_money_invariants();

    // By a full set of committers: reveals open before the deadline, and then nobody else may
    // commit.
    let mut suite = SuiteBuilder::new()
        .with_params(|p| p.max_committers = 2)
        .build();
    let client = suite.client_with_funds("client", FUNDS);
    let first = suite.provider_with_bond("first", BOND);
    let second = suite.provider_with_bond("second", BOND);
    let copier = suite.provider_with_bond("copier", BOND);
    let id = suite.publish(&client, manual()).unwrap();
    suite
        .commit_offer(&first, id, &outputs(0), Some(700))
        .unwrap();
    suite
        .commit_offer(&second, id, &outputs(0), Some(800))
        .unwrap();
    suite.advance_blocks(1);
    assert!(suite.height() <= suite.task(id).deadline_height);
    suite.reveal(&first, id, &outputs(0), Some(700)).unwrap();
    assert_error(
        suite.commit_offer(&copier, id, &outputs(0), Some(1)),
        ContractError::TooManyCommitters {
            task_id: id,
            max: 2,
        },
    );
    assert_stake_whole(&suite, &copier, BOND);
    suite.assert_money_invariants();
}

/// The client's second account offers at a price of 1. It cannot copy the honest result (its
/// commitment is sealed before any reveal), and under a decisive policy its placeholder is
/// rejected and slashed, so the client cannot confirm it: to be confirmed at 1, the sybil must
/// have computed the result itself.
#[test]
fn client_sybil_at_price_one_cannot_copy_and_its_placeholder_cannot_be_confirmed() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let sybil = suite.provider_with_bond("client-sybil", BOND);
    let honest = suite.provider_with_bond("honest", BOND);
    let spec = TaskSpec::freivalds().model(CompetitionModel::ManualConfirmation);
    let id = suite.publish(&client, spec).unwrap();
    suite
        .commit_offer(&sybil, id, &zero_matrix(), Some(1))
        .unwrap();
    suite
        .commit_offer(&honest, id, &matmul_outputs(), Some(800))
        .unwrap();
    suite.close_commits(id);
    suite
        .reveal(&honest, id, &matmul_outputs(), Some(800))
        .unwrap();

    // Now public, the honest product does not open the sybil's sealed offer.
    assert_error(
        suite.reveal(&sybil, id, &matmul_outputs(), Some(1)),
        ContractError::CommitmentMismatch {},
    );
    suite.reveal(&sybil, id, &zero_matrix(), Some(1)).unwrap();
    assert!(matches!(
        state_of(&suite, id, &sybil),
        CommitmentState::Rejected { .. }
    ));
    assert_error(
        suite.confirm(&client, id, &sybil),
        ContractError::NoValidOffer {
            task_id: id,
            provider: sybil.to_string(),
        },
    );
    suite.confirm(&client, id, &honest).unwrap();

    assert_eq!(suite.balance(&honest, PAY_DENOM), 800 - 8);
    assert_stake_whole(&suite, &honest, BOND);
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS - 800);
    // The sybil's slash went to the client: a wash between the attacker's two accounts.
    assert_eq!(bonded(&suite, &sybil), BOND - COLLATERAL);
    assert_eq!(suite.balance(&client, STAKE_DENOM), FUNDS + COLLATERAL);
    suite.assert_money_invariants();
}

#[test]
fn client_sybil_that_computed_the_result_itself_may_be_confirmed_at_one() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let sybil = suite.provider_with_bond("client-sybil", BOND);
    let honest = suite.provider_with_bond("honest", BOND);
    let spec = TaskSpec::freivalds().model(CompetitionModel::ManualConfirmation);
    let id = suite.publish(&client, spec).unwrap();
    // Sealed before any reveal: the sybil had to compute this product itself.
    suite
        .commit_offer(&sybil, id, &matmul_outputs(), Some(1))
        .unwrap();
    suite
        .commit_offer(&honest, id, &matmul_outputs(), Some(800))
        .unwrap();
    suite.close_commits(id);
    suite
        .reveal(&sybil, id, &matmul_outputs(), Some(1))
        .unwrap();
    suite
        .reveal(&honest, id, &matmul_outputs(), Some(800))
        .unwrap();
    suite.confirm(&client, id, &sybil).unwrap();

    // The client paid itself 1 (no fee on so small a price); the unconfirmed honest offer
    // loses only the race: its stake is whole.
    assert_eq!(suite.task(id).settlement.unwrap().fee.u128(), 0);
    assert_eq!(suite.balance(&sybil, PAY_DENOM), 1);
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS - 1);
    assert_stake_whole(&suite, &honest, BOND);
    assert_stake_whole(&suite, &sybil, BOND);
    suite.assert_money_invariants();
}

#[test]
fn silent_client_finalize_pays_the_cheapest_sealed_offer() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let offers = [("dear", 900), ("cheap", 400), ("middle", 600)];
    let providers: Vec<_> = offers
        .iter()
        .map(|(name, _)| suite.provider_with_bond(name, BOND))
        .collect();
    let id = suite.publish(&client, manual()).unwrap();
    for (provider, (_, price)) in providers.iter().zip(offers) {
        suite
            .commit_offer(provider, id, &outputs(0), Some(price))
            .unwrap();
    }
    suite.close_commits(id);
    for (provider, (_, price)) in providers.iter().zip(offers) {
        suite
            .reveal(provider, id, &outputs(0), Some(price))
            .unwrap();
    }
    let anyone = suite.addr("anyone");
    let confirm_deadline = suite.task(id).confirm_deadline_height();
    suite.advance_blocks(confirm_deadline - suite.height());
    assert_error(
        suite.finalize(&anyone, id),
        "the client may confirm an offer",
    );
    suite.advance_blocks(1);
    suite.finalize(&anyone, id).unwrap();

    let settlement = suite.task(id).settlement.unwrap();
    assert_eq!(settlement.winner, providers[1]);
    assert_eq!(
        (
            settlement.price.u128(),
            settlement.fee.u128(),
            settlement.refund.u128()
        ),
        (400, 4, 600)
    );
    assert_eq!(suite.balance(&providers[1], PAY_DENOM), 396);
    assert_eq!(suite.balance(&providers[0], PAY_DENOM), 0);
    assert_eq!(suite.balance(&providers[2], PAY_DENOM), 0);
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS - 400);
    for provider in &providers {
        assert_stake_whole(&suite, provider, BOND);
    }
    suite.assert_money_invariants();
}

/// An honest provider that commits early can wait: its reveal window reaches past the commit
/// deadline, in every sealed model.
#[test]
fn early_committers_reveal_window_reaches_past_the_commit_deadline() {
    let consensus = CompetitionModel::Consensus {
        replicas: 2,
        quorum: 2,
        tolerance: None,
    };
    for model in [CompetitionModel::ManualConfirmation, consensus] {
        let mut suite = Suite::new();
        let client = suite.client_with_funds("client", FUNDS);
        let early = suite.provider_with_bond("early", BOND);
        let late = suite.provider_with_bond("late", BOND);
        let id = suite
            .publish(&client, TaskSpec::first_response().model(model))
            .unwrap();
        let price = model.takes_price().then_some(500);
        // In the publish block.
        suite.commit_offer(&early, id, &outputs(0), price).unwrap();
        let task = suite.task(id);
        let entry = &suite.commitments(id)[0];
        assert!(
            entry.reveal_deadline_height > task.deadline_height,
            "{model}: an early committer's window ends at {}, before the commit deadline {}",
            entry.reveal_deadline_height,
            task.deadline_height
        );
        assert_eq!(entry.reveal_deadline_height, task.reveals_close_height());

        // The last committer commits at the deadline; the early one reveals at the very end.
        suite.advance_blocks(task.deadline_height - suite.height());
        suite.commit_offer(&late, id, &outputs(0), price).unwrap();
        assert_eq!(
            suite.commitments(id)[1].reveal_deadline_height,
            entry.reveal_deadline_height
        );
        suite.advance_blocks(entry.reveal_deadline_height - suite.height());
        suite.reveal(&late, id, &outputs(0), price).unwrap();
        suite.reveal(&early, id, &outputs(0), price).unwrap();
        assert!(matches!(
            state_of(&suite, id, &early),
            CommitmentState::Revealed { .. }
        ));
        if model.takes_price() {
            suite.confirm(&client, id, &early).unwrap();
        }
        assert_eq!(suite.task(id).status, TaskStatus::Settled, "{model}");
        assert_stake_whole(&suite, &early, BOND);
        suite.assert_money_invariants();
    }
}
