//! Who wins and what it is paid: the lowest valid bid, the earliest among equals, at the next
//! price up in award order (the maximum when it is alone); bids outside 1..=maximum are void.

use cosmwasm_std::Uint128;
use opengpu_testing::{Suite, PAY_DENOM, STAKE_DENOM};
use opengpu_types::auction::BidState;
use opengpu_types::events::{AuctionAwarded, BidRevealed, TaskExpired};
use opengpu_types::market::TaskStatus;

use crate::*;

#[test]
fn lowest_bid_wins_at_the_second_price_and_only_it_executes() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let a = suite.provider_with_bond("a", BOND);
    let b = suite.provider_with_bond("b", BOND);
    let c = suite.provider_with_bond("c", BOND);
    let bids = [(&a, 700), (&b, 400), (&c, 550)];
    let id = auction_with_bids(&mut suite, &client, &bids);
    suite.close_bids(id);
    suite.reveal_bid(&a, id, 700).unwrap();
    suite.reveal_bid(&b, id, 400).unwrap();
    assert!(
        suite.task(id).auction.unwrap().award.is_none(),
        "no award while a bid is still sealed"
    );
    // The last bid opened decides the award in its own transaction.
    let response = suite.reveal_bid(&c, id, 550).unwrap();
    let height = suite.height();
    assert_eq!(
        events::<AuctionAwarded>(&response),
        vec![AuctionAwarded {
            task_id: id,
            provider: b.to_string(),
            bid: Uint128::new(400),
            price: Uint128::new(550),
            execute_deadline: height + 10,
            round: 0,
        }]
    );
    // Losers are released at once; only the winner stays bound.
    assert_eq!(stake(&suite, &a), (BOND, 0, 0));
    assert_eq!(stake(&suite, &c), (BOND, 0, 0));
    assert_eq!(stake(&suite, &b), (BOND, COLLATERAL, 0));
    suite.assert_money_invariants();

    deliver(&mut suite, &b, id);
    let task = suite.task(id);
    assert_eq!(task.status, TaskStatus::Settled);
    let settlement = task.settlement.unwrap();
    assert_eq!(
        (
            settlement.winner.clone(),
            settlement.price.u128(),
            settlement.fee.u128(),
            settlement.paid.u128(),
            settlement.refund.u128()
        ),
        (b.clone(), 550, 5, 545, 450)
    );
    assert_eq!(suite.balance(&b, PAY_DENOM), 550 - fee(550));
    assert_eq!(suite.balance(&suite.fee_collector, PAY_DENOM), fee(550));
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS - 550);
    assert_eq!(suite.balance(&client, STAKE_DENOM), FUNDS);
    assert_eq!(
        bid_state(&suite, id, 1),
        BidState::Won {
            price: Uint128::new(400),
            clearing: Uint128::new(550)
        }
    );
    for provider in [&a, &b, &c] {
        assert_eq!(stake(&suite, provider), (BOND, 0, 0));
    }
    // Only the winner computed: nobody else has a result commitment.
    let commitments = suite.commitments(id);
    assert_eq!(commitments.len(), 1);
    assert_eq!(commitments[0].provider, b);
    assert_eq!(suite.provider(&b).provider.reputation.won, 1);
    suite.assert_money_invariants();
}

#[test]
fn a_lone_bid_is_paid_the_maximum() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let a = suite.provider_with_bond("a", BOND);
    let bids = [(&a, 300)];
    let id = auction_with_bids(&mut suite, &client, &bids);
    reveal_all(&mut suite, id, &bids);
    let award = award(&suite, id);
    assert_eq!(
        (award.provider.clone(), award.bid.u128(), award.price.u128()),
        (a.clone(), 300, BUDGET)
    );
    deliver(&mut suite, &a, id);
    assert_eq!(suite.task(id).status, TaskStatus::Settled);
    assert_eq!(suite.balance(&a, PAY_DENOM), BUDGET - fee(BUDGET));
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS - BUDGET);
    assert_eq!(suite.balance(&suite.fee_collector, PAY_DENOM), fee(BUDGET));
    assert_eq!(stake(&suite, &a), (BOND, 0, 0));
    suite.assert_money_invariants();
}

#[test]
fn tied_bids_go_to_the_earliest_bid_at_the_tied_price() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let first = suite.provider_with_bond("first", BOND);
    let second = suite.provider_with_bond("second", BOND);
    let high = suite.provider_with_bond("high", BOND);
    let id = suite
        .publish(&client, opengpu_testing::TaskSpec::auction())
        .unwrap();
    suite.bid(&first, id, 500).unwrap();
    suite.advance_blocks(1);
    suite.bid(&second, id, 500).unwrap();
    suite.bid(&high, id, 800).unwrap();
    // Reveal order does not matter: the earlier bid wins the tie.
    suite.close_bids(id);
    suite.reveal_bid(&second, id, 500).unwrap();
    suite.reveal_bid(&high, id, 800).unwrap();
    suite.reveal_bid(&first, id, 500).unwrap();
    let award = award(&suite, id);
    assert_eq!(
        (award.provider.clone(), award.bid_seq, award.price.u128()),
        (first.clone(), 0, 500),
        "the earliest of two equal bids wins, paid the tied price"
    );
    assert_eq!(stake(&suite, &second), (BOND, 0, 0));
    deliver(&mut suite, &first, id);
    assert_eq!(suite.balance(&first, PAY_DENOM), 500 - fee(500));
    assert_eq!(suite.balance(&second, PAY_DENOM), 0);
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS - 500);
    suite.assert_money_invariants();
}

#[test]
fn bids_above_the_maximum_or_at_zero_are_void_and_released() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let greedy = suite.provider_with_bond("greedy", BOND);
    let zero = suite.provider_with_bond("zero", BOND);
    let honest = suite.provider_with_bond("honest", BOND);
    let bids = [(&greedy, BUDGET + 1), (&zero, 0), (&honest, 600)];
    let id = auction_with_bids(&mut suite, &client, &bids);
    suite.close_bids(id);

    let response = suite.reveal_bid(&greedy, id, BUDGET + 1).unwrap();
    assert_eq!(
        events::<BidRevealed>(&response),
        vec![BidRevealed {
            task_id: id,
            provider: greedy.to_string(),
            price: Uint128::new(BUDGET + 1),
            valid: false,
        }]
    );
    // Released at its reveal, without waiting for the award.
    assert_eq!(stake(&suite, &greedy), (BOND, 0, 0));
    suite.reveal_bid(&zero, id, 0).unwrap();
    assert_eq!(stake(&suite, &zero), (BOND, 0, 0));
    suite.reveal_bid(&honest, id, 600).unwrap();

    assert_eq!(
        bid_state(&suite, id, 0),
        BidState::Void {
            price: Uint128::new(BUDGET + 1)
        }
    );
    assert_eq!(
        bid_state(&suite, id, 1),
        BidState::Void {
            price: Uint128::zero()
        }
    );
    // Void bids set no price: the one valid bid is alone and paid the maximum.
    let award = award(&suite, id);
    assert_eq!(
        (award.provider.clone(), award.price.u128()),
        (honest.clone(), BUDGET)
    );
    deliver(&mut suite, &honest, id);
    assert_eq!(suite.balance(&honest, PAY_DENOM), BUDGET - fee(BUDGET));
    for provider in [&greedy, &zero] {
        assert_eq!(stake(&suite, provider), (BOND, 0, 0));
        assert_eq!(suite.balance(provider, PAY_DENOM), 0);
    }
    suite.assert_money_invariants();
}

#[test]
fn only_void_bids_expire_the_task_with_a_full_refund() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let greedy = suite.provider_with_bond("greedy", BOND);
    let bids = [(&greedy, BUDGET + 1)];
    let id = auction_with_bids(&mut suite, &client, &bids);
    suite.close_bids(id);
    let response = suite.reveal_bid(&greedy, id, BUDGET + 1).unwrap();
    assert_eq!(
        events::<TaskExpired>(&response),
        vec![TaskExpired {
            task_id: id,
            refund: Uint128::new(BUDGET),
            forfeited: Uint128::zero(),
        }]
    );
    assert_eq!(suite.task(id).status, TaskStatus::Expired);
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS);
    assert_eq!(suite.balance(&client, STAKE_DENOM), FUNDS);
    assert_eq!(stake(&suite, &greedy), (BOND, 0, 0));
    suite.assert_money_invariants();
}
