//! Bids never opened, winners that vanish or deliver a wrong result, and the hand-over to the
//! next bid in line; when nobody is left, the client gets its budget back plus the forfeits.

use cosmwasm_std::{Binary, Uint128};
use opengpu_task_market::ContractError;
use opengpu_testing::{
    assert_error, matmul_outputs, matmul_outputs_off_by, outputs, SuiteBuilder, PAY_DENOM,
    STAKE_DENOM,
};
use opengpu_types::auction::BidState;
use opengpu_types::commitment::outputs_digest;
use opengpu_types::events::{AuctionAwarded, AuctionDefaulted, TaskExpired, TaskRevealed};
use opengpu_types::market::{CommitmentState, TaskStatus};
use opengpu_types::verification::VerificationPolicy;

use crate::*;

#[test]
fn an_unrevealed_bid_is_forfeited_to_the_client() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let anyone = suite.addr("anyone");
    let open = suite.provider_with_bond("open", BOND);
    let silent = suite.provider_with_bond("silent", BOND);
    let id = auction_with_bids(&mut suite, &client, &[(&open, 400), (&silent, 600)]);
    reveal_all(&mut suite, id, &[(&open, 400)]);
    assert!(suite.task(id).auction.unwrap().award.is_none());

    suite.end_bid_reveals(id);
    let response = suite.advance_auction(&anyone, id).unwrap();
    // The sealed bid takes no part: the open one is alone and paid the maximum.
    assert_eq!(events::<AuctionAwarded>(&response)[0].price.u128(), BUDGET);
    assert_eq!(bid_state(&suite, id, 1), BidState::Forfeited {});
    assert_eq!(stake(&suite, &silent), (BOND - COLLATERAL, 0, 0));
    assert_eq!(suite.balance(&client, STAKE_DENOM), FUNDS + COLLATERAL);
    assert_eq!(suite.task(id).auction.unwrap().forfeited.u128(), COLLATERAL);
    assert_eq!(suite.provider(&silent).provider.reputation.expired, 1);
    suite.assert_money_invariants();

    deliver(&mut suite, &open, id);
    assert_eq!(suite.balance(&open, PAY_DENOM), BUDGET - fee(BUDGET));
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS - BUDGET);
    assert_eq!(suite.balance(&client, STAKE_DENOM), FUNDS + COLLATERAL);
    assert_eq!(stake(&suite, &open), (BOND, 0, 0));
    suite.assert_money_invariants();
}

#[test]
fn a_vanished_winner_is_slashed_and_the_next_bidder_is_paid() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let a = suite.provider_with_bond("a", BOND);
    let b = suite.provider_with_bond("b", BOND);
    let bids = [(&a, 300), (&b, 600)];
    let id = auction_with_bids(&mut suite, &client, &bids);
    reveal_all(&mut suite, id, &bids);
    assert_eq!(award(&suite, id).price.u128(), 600);
    let deadline = award(&suite, id).execute_deadline;
    suite.end_execution(id);

    // b's own commit carries the hand-over.
    let response = suite.commit(&b, id, &default_outputs()).unwrap();
    let height = suite.height();
    assert_eq!(
        events::<AuctionDefaulted>(&response),
        vec![AuctionDefaulted {
            task_id: id,
            provider: a.to_string(),
            reason: format!("no result by height {deadline}"),
            slashed: Uint128::new(COLLATERAL),
        }]
    );
    assert_eq!(
        events::<AuctionAwarded>(&response),
        vec![AuctionAwarded {
            task_id: id,
            provider: b.to_string(),
            bid: Uint128::new(600),
            price: Uint128::new(BUDGET),
            execute_deadline: height + 10,
            round: 1,
        }]
    );
    assert!(matches!(
        bid_state(&suite, id, 0),
        BidState::Defaulted { .. }
    ));
    assert_eq!(stake(&suite, &a), (BOND - COLLATERAL, 0, 0));
    assert_eq!(suite.provider(&a).provider.reputation.slashed, 1);
    assert_eq!(
        suite.balance(&b, STAKE_DENOM),
        0,
        "the slash is held until someone delivers"
    );
    assert_eq!(suite.task(id).auction.unwrap().held.u128(), COLLATERAL);
    assert_eq!(stake(&suite, &b), (BOND, COLLATERAL, 0));
    suite.assert_money_invariants();

    suite.advance_blocks(1);
    suite.reveal(&b, id, &default_outputs(), None).unwrap();
    assert_eq!(
        bid_state(&suite, id, 1),
        BidState::Won {
            price: Uint128::new(600),
            clearing: Uint128::new(BUDGET)
        }
    );
    assert_eq!(suite.balance(&b, PAY_DENOM), BUDGET - fee(BUDGET));
    assert_eq!(
        suite.balance(&b, STAKE_DENOM),
        COLLATERAL,
        "the one who delivered gets the failed winner's collateral"
    );
    assert_eq!(suite.task(id).auction.unwrap().held.u128(), 0);
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS - BUDGET);
    assert_eq!(suite.balance(&client, STAKE_DENOM), FUNDS);
    assert_eq!(stake(&suite, &b), (BOND, 0, 0));
    suite.assert_money_invariants();
}

#[test]
fn a_result_of_the_wrong_size_is_slashed_and_handed_over_in_the_same_tx() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let a = suite.provider_with_bond("a", BOND);
    let b = suite.provider_with_bond("b", BOND);
    let c = suite.provider_with_bond("c", BOND);
    let bids = [(&a, 300), (&b, 500), (&c, 700)];
    let id = auction_with_bids(&mut suite, &client, &bids);
    reveal_all(&mut suite, id, &bids);
    let short = vec![Binary::from(vec![0u8; 8])];
    suite.commit(&a, id, &short).unwrap();
    suite.advance_blocks(1);

    let response = suite.reveal(&a, id, &short, None).unwrap();
    assert_eq!(events::<TaskRevealed>(&response)[0].outcome, "rejected");
    let defaulted = &events::<AuctionDefaulted>(&response)[0];
    assert!(
        defaulted.reason.contains("8 bytes"),
        "reason: {}",
        defaulted.reason
    );
    assert_eq!(defaulted.slashed.u128(), COLLATERAL);
    // The next bid takes over in the same transaction, at the next price up from its own.
    let awarded = &events::<AuctionAwarded>(&response)[0];
    assert_eq!(
        (
            awarded.provider.clone(),
            awarded.price.u128(),
            awarded.round
        ),
        (b.to_string(), 700, 1)
    );
    assert!(matches!(
        suite.commitments(id)[0].state,
        CommitmentState::Rejected { .. }
    ));
    assert_eq!(stake(&suite, &a), (BOND - COLLATERAL, 0, 0));
    assert_eq!(stake(&suite, &b), (BOND, COLLATERAL, 0));
    assert_eq!(suite.balance(&b, STAKE_DENOM), 0, "held until delivery");
    suite.assert_money_invariants();

    deliver(&mut suite, &b, id);
    assert_eq!(suite.balance(&b, STAKE_DENOM), COLLATERAL);
    assert_eq!(suite.balance(&b, PAY_DENOM), 700 - fee(700));
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS - 700);
    assert_eq!(suite.balance(&client, STAKE_DENOM), FUNDS);
    assert_eq!(stake(&suite, &c), (BOND, 0, 0));
    assert_eq!(suite.balance(&c, STAKE_DENOM), 0);
    suite.assert_money_invariants();
}

#[test]
fn a_wrong_product_is_slashed_by_freivalds_and_handed_over() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let cheat = suite.provider_with_bond("cheat", BOND);
    let honest = suite.provider_with_bond("honest", BOND);
    let spec = TaskSpec::freivalds().model(TaskSpec::auction().model);
    let bids = [(&cheat, 300), (&honest, 500)];
    let id = auction_spec_with_bids(&mut suite, &client, spec, &bids);
    reveal_all(&mut suite, id, &bids);
    let wrong = matmul_outputs_off_by(3, 1.0);
    suite.commit(&cheat, id, &wrong).unwrap();
    suite.advance_blocks(1);
    let response = suite.reveal(&cheat, id, &wrong, None).unwrap();
    let defaulted = &events::<AuctionDefaulted>(&response)[0];
    assert!(
        defaulted.reason.starts_with("freivalds"),
        "reason: {}",
        defaulted.reason
    );
    assert_eq!(award(&suite, id).provider, honest);
    assert_eq!(stake(&suite, &cheat), (BOND - COLLATERAL, 0, 0));

    suite.commit(&honest, id, &matmul_outputs()).unwrap();
    suite.advance_blocks(1);
    suite.reveal(&honest, id, &matmul_outputs(), None).unwrap();
    assert_eq!(suite.task(id).status, TaskStatus::Settled);
    assert_eq!(suite.balance(&honest, PAY_DENOM), BUDGET - fee(BUDGET));
    assert_eq!(suite.balance(&honest, STAKE_DENOM), COLLATERAL);
    assert_eq!(stake(&suite, &honest), (BOND, 0, 0));
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS - BUDGET);
    suite.assert_money_invariants();
}

#[test]
fn a_reference_mismatch_is_refused_released_and_passed_on() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let a = suite.provider_with_bond("a", BOND);
    let b = suite.provider_with_bond("b", BOND);
    let policy = VerificationPolicy::ReferenceHash {
        sha256: outputs_digest(&default_outputs()).into(),
    };
    let spec = TaskSpec::auction().verification(policy);
    let bids = [(&a, 300), (&b, 500)];
    let id = auction_spec_with_bids(&mut suite, &client, spec, &bids);
    reveal_all(&mut suite, id, &bids);
    suite.commit(&a, id, &outputs(1)).unwrap();
    suite.advance_blocks(1);
    let response = suite.reveal(&a, id, &outputs(1), None).unwrap();
    assert_eq!(events::<TaskRevealed>(&response)[0].outcome, "refused");
    // The client's hash is no proof: released, nothing slashed, the award passes on.
    assert_eq!(events::<AuctionDefaulted>(&response)[0].slashed.u128(), 0);
    assert!(matches!(bid_state(&suite, id, 0), BidState::Refused { .. }));
    assert_eq!(stake(&suite, &a), (BOND, 0, 0));
    assert_eq!(suite.provider(&a).provider.reputation.slashed, 0);
    assert_eq!(award(&suite, id).provider, b);

    deliver(&mut suite, &b, id);
    assert_eq!(suite.balance(&b, PAY_DENOM), BUDGET - fee(BUDGET));
    assert_eq!(suite.balance(&b, STAKE_DENOM), 0);
    assert_eq!(suite.balance(&client, STAKE_DENOM), FUNDS);
    suite.assert_money_invariants();
}

#[test]
fn nobody_left_refunds_the_budget_plus_forfeits() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let anyone = suite.addr("anyone");
    let winner = suite.provider_with_bond("winner", BOND);
    let silent = suite.provider_with_bond("silent", BOND);
    let id = auction_with_bids(&mut suite, &client, &[(&winner, 300), (&silent, 500)]);
    reveal_all(&mut suite, id, &[(&winner, 300)]);
    suite.end_bid_reveals(id);
    suite.advance_auction(&anyone, id).unwrap();
    suite.end_execution(id);

    let response = suite.advance_auction(&anyone, id).unwrap();
    assert_eq!(
        events::<AuctionDefaulted>(&response)[0].slashed.u128(),
        COLLATERAL
    );
    assert_eq!(
        events::<TaskExpired>(&response),
        vec![TaskExpired {
            task_id: id,
            refund: Uint128::new(BUDGET),
            forfeited: Uint128::new(2 * COLLATERAL),
        }]
    );
    assert_eq!(suite.task(id).status, TaskStatus::Expired);
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS);
    assert_eq!(suite.balance(&client, STAKE_DENOM), FUNDS + 2 * COLLATERAL);
    assert_eq!(stake(&suite, &winner), (BOND - COLLATERAL, 0, 0));
    assert_eq!(stake(&suite, &silent), (BOND - COLLATERAL, 0, 0));
    assert_error(
        suite.advance_auction(&anyone, id),
        ContractError::TaskClosed {
            task_id: id,
            status: TaskStatus::Expired,
        },
    );
    suite.assert_money_invariants();
}

#[test]
fn zero_bids_expire_after_the_reveal_phase_with_a_full_refund() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let anyone = suite.addr("anyone");
    let by_advance = suite.publish(&client, TaskSpec::auction()).unwrap();
    let by_expire = suite.publish(&client, TaskSpec::auction()).unwrap();
    suite.close_bids(by_advance);
    let end = suite.task(by_advance).bid_reveal_end();
    assert_error(
        suite.advance_auction(&anyone, by_advance),
        ContractError::NothingToAdvance {
            task_id: by_advance,
            reason: format!("bids may be revealed until height {end}"),
        },
    );
    suite.end_bid_reveals(by_advance);

    let response = suite.advance_auction(&anyone, by_advance).unwrap();
    assert_eq!(
        events::<TaskExpired>(&response),
        vec![TaskExpired {
            task_id: by_advance,
            refund: Uint128::new(BUDGET),
            forfeited: Uint128::zero(),
        }]
    );
    // Expire on an auction is the same step.
    suite.expire(&anyone, by_expire).unwrap();
    for id in [by_advance, by_expire] {
        assert_eq!(suite.task(id).status, TaskStatus::Expired);
    }
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS);
    assert_eq!(suite.balance(&anyone, PAY_DENOM), 0);
    suite.assert_money_invariants();
}

#[test]
fn hand_over_skips_a_bidder_without_free_stake_without_penalty() {
    // A low registry minimum, so the bidder stays eligible with too little free stake.
    let mut builder = SuiteBuilder::new();
    builder.min_bond = Uint128::new(10);
    let mut suite = builder.build();
    let client = suite.client_with_funds("client", FUNDS);
    let anyone = suite.addr("anyone");
    let a = suite.provider_with_bond("a", BOND);
    let b = suite.provider_with_bond("b", BOND);
    let c = suite.provider_with_bond("c", BOND);
    let bids = [(&a, 300), (&b, 500), (&c, 700)];
    let id = auction_with_bids(&mut suite, &client, &bids);
    reveal_all(&mut suite, id, &bids);
    // Released at the award, b unbonds all but 50.
    suite.unbond(&b, BOND - 50).unwrap();
    assert!(suite.provider(&b).eligible);
    suite.end_execution(id);

    let response = suite.advance_auction(&anyone, id).unwrap();
    assert_eq!(
        bid_state(&suite, id, 1),
        BidState::Skipped {
            price: Uint128::new(500),
            reason: format!("free stake 50 below the collateral {COLLATERAL}"),
        }
    );
    // c is next, paid the next price up from its own: none, so the maximum.
    let awarded = &events::<AuctionAwarded>(&response)[0];
    assert_eq!(
        (awarded.provider.clone(), awarded.price.u128()),
        (c.to_string(), BUDGET)
    );
    assert_eq!(suite.balance(&c, STAKE_DENOM), 0, "held until delivery");
    // b lost nothing: no slash, no fault on its record.
    assert_eq!(stake(&suite, &b), (50, 0, BOND - 50));
    assert_eq!(suite.provider(&b).provider.reputation.slashed, 0);
    assert_eq!(stake(&suite, &a), (BOND - COLLATERAL, 0, 0));

    deliver(&mut suite, &c, id);
    assert_eq!(suite.balance(&c, STAKE_DENOM), COLLATERAL);
    assert_eq!(suite.balance(&c, PAY_DENOM), BUDGET - fee(BUDGET));
    assert_eq!(suite.balance(&b, PAY_DENOM), 0);
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS - BUDGET);
    assert_eq!(stake(&suite, &c), (BOND, 0, 0));
    suite.assert_money_invariants();
}
