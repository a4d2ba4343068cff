//! Cancel before any commitment; expire after the deadline when no valid result came.

use cosmwasm_std::Uint128;
use opengpu_task_market::ContractError;
use opengpu_testing::{assert_error, outputs, Suite, TaskSpec, PAY_DENOM, STAKE_DENOM};
use opengpu_types::market::{CommitmentState, TaskStatus};

const BOND: u128 = 5_000;

#[test]
fn client_cancels_an_uncommitted_task_for_a_full_refund() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let id = suite.publish(&client, TaskSpec::first_response()).unwrap();
    suite.cancel(&client, id).unwrap();
    assert_eq!(suite.task(id).status, TaskStatus::Cancelled);
    assert_eq!(suite.balance(&client, PAY_DENOM), 10_000);
    suite.assert_money_invariants();
}

#[test]
fn cancel_by_a_stranger_is_refused() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let stranger = suite.addr("stranger");
    let id = suite.publish(&client, TaskSpec::first_response()).unwrap();
    assert_error(
        suite.cancel(&stranger, id),
        ContractError::NotClient {
            client: client.to_string(),
        },
    );
    assert_eq!(suite.task(id).status, TaskStatus::Open);
    suite.assert_money_invariants();
}

#[test]
fn cancel_after_a_commitment_is_refused() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let provider = suite.provider_with_bond("provider", BOND);
    let id = suite.publish(&client, TaskSpec::first_response()).unwrap();
    suite.commit(&provider, id, &outputs(0)).unwrap();
    assert_error(
        suite.cancel(&client, id),
        ContractError::NotCancellable {
            task_id: id,
            status: TaskStatus::Committed,
        },
    );
    assert_eq!(suite.balance(&client, PAY_DENOM), 9_000);
    suite.assert_money_invariants();
}

#[test]
fn uncommitted_task_expires_after_deadline_with_full_refund() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let anyone = suite.addr("anyone");
    let id = suite
        .publish(&client, TaskSpec::first_response().deadline_blocks(5))
        .unwrap();
    suite.advance_blocks(5);
    let deadline = suite.task(id).deadline_height;
    assert_error(
        suite.expire(&anyone, id),
        ContractError::DeadlineNotReached {
            task_id: id,
            deadline,
            height: deadline,
        },
    );
    suite.advance_blocks(1);
    suite.expire(&anyone, id).unwrap();
    assert_eq!(suite.task(id).status, TaskStatus::Expired);
    assert_eq!(suite.balance(&client, PAY_DENOM), 10_000);
    suite.assert_money_invariants();
}

#[test]
fn committer_who_never_reveals_forfeits_collateral_to_client_at_expiry() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let provider = suite.provider_with_bond("provider", BOND);
    let anyone = suite.addr("anyone");
    let id = suite
        .publish(&client, TaskSpec::first_response().deadline_blocks(5))
        .unwrap();
    suite.commit(&provider, id, &outputs(0)).unwrap();
    let reveal_deadline = suite.commitments(id)[0].reveal_deadline_height;
    suite.advance_blocks(6);
    assert_error(
        suite.expire(&anyone, id),
        ContractError::RevealWindowOpen {
            task_id: id,
            until: reveal_deadline,
        },
    );
    let now = suite.height();
    suite.advance_blocks(reveal_deadline - now + 1);
    suite.expire(&anyone, id).unwrap();

    assert_eq!(suite.balance(&client, PAY_DENOM), 10_000);
    assert_eq!(suite.balance(&client, STAKE_DENOM), 10_000 + 100);
    let stake = suite.stake(&provider);
    assert_eq!(
        (stake.bonded.u128(), stake.locked),
        (BOND - 100, Uint128::zero())
    );
    assert!(matches!(
        suite.commitments(id)[0].state,
        CommitmentState::Forfeited {}
    ));
    assert_eq!(suite.provider(&provider).provider.reputation.expired, 1);
    suite.assert_money_invariants();
}

#[test]
fn expire_is_refused_while_a_valid_result_awaits_finalize() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let provider = suite.provider_with_bond("provider", BOND);
    let anyone = suite.addr("anyone");
    let id = suite
        .publish(&client, TaskSpec::manual_confirmation().deadline_blocks(5))
        .unwrap();
    suite
        .commit_and_reveal(&provider, id, &outputs(0), Some(500))
        .unwrap();
    suite.advance_blocks(100);
    assert_error(
        suite.expire(&anyone, id),
        ContractError::ValidResultExists { task_id: id },
    );
    suite.finalize(&anyone, id).unwrap();
    assert_eq!(suite.balance(&provider, PAY_DENOM), 495);
    suite.assert_money_invariants();
}

#[test]
fn cancel_and_expire_of_an_unknown_task_are_refused() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    assert_error(
        suite.cancel(&client, 99),
        ContractError::TaskNotFound { task_id: 99 },
    );
    assert_error(
        suite.expire(&client, 99),
        ContractError::TaskNotFound { task_id: 99 },
    );
}
