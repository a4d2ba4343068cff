//! Attack 2: a client lies with its reference hash (the hash of a wrong answer), hoping every
//! correct reveal is slashed to it. Safe outcome: a mismatch with the client's word is no proof
//! of a fault: honest reveals are refused without slash, and after expiry the client has
//! exactly its budget back and no provider's collateral.

use opengpu_testing::{outputs, Suite, TaskSpec, PAY_DENOM, STAKE_DENOM};
use opengpu_types::commitment::outputs_digest;
use opengpu_types::events::TaskRevealed;
use opengpu_types::market::{CommitmentState, CompetitionModel, TaskStatus};
use opengpu_types::verification::VerificationPolicy;

use crate::common::*;

fn lying_client_gains_nothing(model: CompetitionModel) {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let honest = [
        suite.provider_with_bond("honest-1", BOND),
        suite.provider_with_bond("honest-2", BOND),
    ];
    let lie = VerificationPolicy::ReferenceHash {
        sha256: outputs_digest(&outputs(1)).into(),
    };
    let spec = TaskSpec::first_response().model(model).verification(lie);
    let id = suite.publish(&client, spec).unwrap();
    let price = model.takes_price().then_some(500);
    for provider in &honest {
        suite
            .commit_offer(provider, id, &outputs(0), price)
            .unwrap();
    }
    suite.advance_blocks(1);
    if model.is_sealed() {
        suite.close_commits(id);
    }
    for provider in &honest {
        let response = suite.reveal(provider, id, &outputs(0), price).unwrap();
        assert_eq!(
            event::<TaskRevealed>(&response).unwrap().outcome,
            "refused",
            "{model}"
        );
        assert!(matches!(
            state_of(&suite, id, provider),
            CommitmentState::Refused { .. }
        ));
        assert_stake_whole(&suite, provider, BOND);
        suite.assert_money_invariants();
    }
    // The refused outputs are not served as a result.
    assert!(suite.result(id, Some(&honest[0])).is_err());

    if !suite.task(id).status.is_final() {
        suite.close_commits(id);
        let anyone = suite.addr("anyone");
        suite.expire(&anyone, id).unwrap();
    }
    assert_eq!(suite.task(id).status, TaskStatus::Expired, "{model}");
    assert_eq!(
        suite.balance(&client, PAY_DENOM),
        FUNDS,
        "{model}: budget back"
    );
    assert_eq!(
        suite.balance(&client, STAKE_DENOM),
        FUNDS,
        "{model}: no provider's collateral"
    );
    for provider in &honest {
        assert_stake_whole(&suite, provider, BOND);
        let reputation = reputation(&suite, provider);
        assert_eq!((reputation.slashed, reputation.lost), (0, 1), "{model}");
    }
    suite.assert_money_invariants();
}

#[test]
fn wrong_reference_hash_under_first_response_slashes_nobody_and_refunds_only_the_budget() {
    lying_client_gains_nothing(CompetitionModel::FirstResponse);
}

#[test]
fn wrong_reference_hash_under_manual_confirmation_slashes_nobody_and_refunds_only_the_budget() {
    lying_client_gains_nothing(CompetitionModel::ManualConfirmation);
}

#[test]
fn wrong_reference_hash_under_consensus_slashes_nobody_and_refunds_only_the_budget() {
    lying_client_gains_nothing(CompetitionModel::Consensus {
        replicas: 2,
        quorum: 2,
        tolerance: None,
    });
}
