//! Manual Confirmation: providers commit sealed offers (the price inside the commitment),
//! reveal them once commits close; the client confirms one, or after the confirm window anyone
//! finalizes the cheapest.

use cosmwasm_std::Uint128;
use opengpu_task_market::ContractError;
use opengpu_testing::{assert_error, outputs, Suite, TaskSpec, PAY_DENOM};
use opengpu_types::market::{CompetitionModel, TaskStatus};

const BOND: u128 = 5_000;

fn two_offers(
    suite: &mut Suite,
) -> (
    cosmwasm_std::Addr,
    cosmwasm_std::Addr,
    cosmwasm_std::Addr,
    u64,
) {
    let client = suite.client_with_funds("client", 10_000);
    let cheap = suite.provider_with_bond("cheap", BOND);
    let dear = suite.provider_with_bond("dear", BOND);
    let id = suite
        .publish(&client, TaskSpec::manual_confirmation())
        .unwrap();
    suite
        .commit_offer(&cheap, id, &outputs(0), Some(600))
        .unwrap();
    suite
        .commit_offer(&dear, id, &outputs(0), Some(800))
        .unwrap();
    suite.close_commits(id);
    suite.reveal(&dear, id, &outputs(0), Some(800)).unwrap();
    suite.reveal(&cheap, id, &outputs(0), Some(600)).unwrap();
    (client, cheap, dear, id)
}

#[test]
fn client_confirms_an_offer_pays_its_price_and_gets_the_rest_back() {
    let mut suite = Suite::new();
    let (client, cheap, dear, id) = two_offers(&mut suite);
    assert_eq!(
        suite.task(id).status,
        TaskStatus::Committed,
        "offers wait for the client"
    );
    assert_eq!(suite.offers(id).len(), 2);
    // The client may inspect each offer's outputs before choosing.
    assert_eq!(suite.result(id, Some(&dear)).unwrap().outputs, outputs(0));

    suite.confirm(&client, id, &dear).unwrap();
    let settlement = suite.task(id).settlement.unwrap();
    assert_eq!(
        (settlement.price.u128(), settlement.refund.u128()),
        (800, 200)
    );
    assert_eq!(suite.balance(&dear, PAY_DENOM), 792);
    assert_eq!(suite.balance(&suite.fee_collector.clone(), PAY_DENOM), 8);
    assert_eq!(suite.balance(&client, PAY_DENOM), 9_000 + 200);
    assert_eq!(
        suite.stake(&cheap).locked,
        Uint128::zero(),
        "other offer's collateral unlocks"
    );
    assert_eq!(suite.stake(&dear).locked, Uint128::zero());
    suite.assert_money_invariants();
}

#[test]
fn silent_client_gets_cheapest_offer_finalized_after_confirm_window() {
    let mut suite = Suite::new();
    let (client, cheap, _dear, id) = two_offers(&mut suite);
    let anyone = suite.addr("anyone");
    let until = suite.task(id).confirm_deadline_height();
    assert_error(
        suite.finalize(&anyone, id),
        format!("the client may confirm an offer until height {until}"),
    );
    let now = suite.height();
    suite.advance_blocks(until - now + 1);
    suite.finalize(&anyone, id).unwrap();

    let settlement = suite.task(id).settlement.unwrap();
    assert_eq!(settlement.winner, cheap);
    assert_eq!(suite.balance(&cheap, PAY_DENOM), 594);
    assert_eq!(suite.balance(&client, PAY_DENOM), 9_000 + 400);
    suite.assert_money_invariants();
}

#[test]
fn confirm_by_anyone_but_the_client_is_refused() {
    let mut suite = Suite::new();
    let (client, cheap, _dear, id) = two_offers(&mut suite);
    let before = suite.balance(&cheap, PAY_DENOM);
    assert_error(
        suite.confirm(&cheap, id, &cheap),
        ContractError::NotClient {
            client: client.to_string(),
        },
    );
    assert_eq!(suite.balance(&cheap, PAY_DENOM), before);
    assert_eq!(suite.task(id).status, TaskStatus::Committed);
    suite.assert_money_invariants();
}

#[test]
fn confirm_of_a_provider_without_valid_offer_is_refused() {
    let mut suite = Suite::new();
    let (client, _cheap, _dear, id) = two_offers(&mut suite);
    let stranger = suite.addr("stranger");
    assert_error(
        suite.confirm(&client, id, &stranger),
        ContractError::NoValidOffer {
            task_id: id,
            provider: stranger.to_string(),
        },
    );
}

#[test]
fn confirm_twice_is_refused_as_double_settlement() {
    let mut suite = Suite::new();
    let (client, cheap, dear, id) = two_offers(&mut suite);
    suite.confirm(&client, id, &cheap).unwrap();
    assert_error(
        suite.confirm(&client, id, &dear),
        ContractError::TaskClosed {
            task_id: id,
            status: TaskStatus::Settled,
        },
    );
    assert_eq!(suite.balance(&dear, PAY_DENOM), 0);
    suite.assert_money_invariants();
}

#[test]
fn confirm_on_a_first_response_task_is_refused() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let provider = suite.provider_with_bond("provider", BOND);
    let id = suite.publish(&client, TaskSpec::first_response()).unwrap();
    suite.commit(&provider, id, &outputs(0)).unwrap();
    assert_error(
        suite.confirm(&client, id, &provider),
        ContractError::WrongModel {
            task_id: id,
            expected: CompetitionModel::ManualConfirmation,
            model: CompetitionModel::FirstResponse,
        },
    );
}

#[test]
fn offer_price_must_be_set_positive_and_within_budget() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let provider = suite.provider_with_bond("provider", BOND);
    let id = suite
        .publish(&client, TaskSpec::manual_confirmation())
        .unwrap();
    suite
        .commit_offer(&provider, id, &outputs(0), Some(1_000))
        .unwrap();
    suite.close_commits(id);
    assert_error(
        suite.reveal(&provider, id, &outputs(0), None),
        ContractError::PriceRequired {
            model: CompetitionModel::ManualConfirmation,
        },
    );
    assert_error(
        suite.reveal(&provider, id, &outputs(0), Some(0)),
        ContractError::ZeroPrice {},
    );
    assert_error(
        suite.reveal(&provider, id, &outputs(0), Some(1_001)),
        ContractError::PriceAboveBudget {
            price: Uint128::new(1_001),
            budget: Uint128::new(1_000),
        },
    );
    suite
        .reveal(&provider, id, &outputs(0), Some(1_000))
        .unwrap();
    suite.assert_money_invariants();
}

#[test]
fn silent_client_with_no_valid_offer_gets_refund_by_expire() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let provider = suite.provider_with_bond("provider", BOND);
    let id = suite
        .publish(&client, TaskSpec::manual_confirmation())
        .unwrap();
    suite.commit(&provider, id, &outputs(0)).unwrap();
    let until = suite.task(id).confirm_deadline_height();
    let now = suite.height();
    suite.advance_blocks(until - now + 1);
    let anyone = suite.addr("anyone");
    assert_error(suite.finalize(&anyone, id), "no valid offer: call Expire");
    suite.expire(&anyone, id).unwrap();
    assert_eq!(suite.task(id).status, TaskStatus::Expired);
    assert_eq!(suite.balance(&client, PAY_DENOM), 10_000);
    suite.assert_money_invariants();
}

#[test]
fn a_sealed_offer_cannot_be_revealed_while_commits_are_open() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let provider = suite.provider_with_bond("provider", BOND);
    let id = suite
        .publish(&client, TaskSpec::manual_confirmation())
        .unwrap();
    suite
        .commit_offer(&provider, id, &outputs(0), Some(500))
        .unwrap();
    suite.advance_blocks(1);
    let deadline = suite.task(id).deadline_height;
    assert_error(
        suite.reveal(&provider, id, &outputs(0), Some(500)),
        ContractError::CommitsStillOpen {
            task_id: id,
            deadline,
        },
    );
    suite.close_commits(id);
    assert_error(
        suite.reveal(&provider, id, &outputs(0), Some(400)),
        ContractError::CommitmentMismatch {},
    );
    suite.reveal(&provider, id, &outputs(0), Some(500)).unwrap();
    suite.assert_money_invariants();
}
