//! Sealed-bid second-price auction: bids sealed until bids close, the lowest bid wins at the
//! next price up, only the winner executes, and a winner that fails is slashed and replaced.

use opengpu_testing::{default_outputs, Suite, TaskSpec, PAY_DENOM, STAKE_DENOM};
use opengpu_types::auction::BidState;
use opengpu_types::market::TaskStatus;

const BOND: u128 = 5_000;

#[test]
fn lowest_bid_wins_at_the_second_price_and_only_it_executes() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let a = suite.provider_with_bond("a", BOND);
    let b = suite.provider_with_bond("b", BOND);
    let c = suite.provider_with_bond("c", BOND);
    let id = suite.publish(&client, TaskSpec::auction()).unwrap();
    suite.bid(&a, id, 700).unwrap();
    suite.bid(&b, id, 400).unwrap();
    suite.bid(&c, id, 550).unwrap();
    suite.close_bids(id);
    suite.reveal_bid(&a, id, 700).unwrap();
    suite.reveal_bid(&b, id, 400).unwrap();
    // The last bid opened decides the award in its own transaction.
    suite.reveal_bid(&c, id, 550).unwrap();
    let award = suite.task(id).auction.unwrap().award.unwrap();
    assert_eq!(
        (award.provider.clone(), award.bid.u128(), award.price.u128()),
        (b.clone(), 400, 550)
    );
    // Losers are released at once.
    assert_eq!(suite.stake(&a).locked.u128(), 0);
    assert_eq!(suite.stake(&b).locked.u128(), 100);

    suite.commit(&b, id, &default_outputs()).unwrap();
    suite.advance_blocks(1);
    suite.reveal(&b, id, &default_outputs(), None).unwrap();
    let task = suite.task(id);
    assert_eq!(task.status, TaskStatus::Settled);
    let settlement = task.settlement.unwrap();
    assert_eq!(
        (settlement.price.u128(), settlement.refund.u128()),
        (550, 450)
    );
    assert_eq!(suite.balance(&b, PAY_DENOM), 550 - 5);
    assert_eq!(suite.balance(&client, PAY_DENOM), 9_000 + 450);
    assert!(matches!(suite.bids(id)[1].state, BidState::Won { .. }));
    assert_eq!(suite.stake(&b).locked.u128(), 0);
}

#[test]
fn a_vanished_winner_is_slashed_and_the_next_bidder_is_paid() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let a = suite.provider_with_bond("a", BOND);
    let b = suite.provider_with_bond("b", BOND);
    let id = suite.publish(&client, TaskSpec::auction()).unwrap();
    suite.bid(&a, id, 300).unwrap();
    suite.bid(&b, id, 600).unwrap();
    suite.close_bids(id);
    suite.reveal_bid(&a, id, 300).unwrap();
    suite.reveal_bid(&b, id, 600).unwrap();
    suite.end_execution(id);
    // b's own commit carries the hand-over.
    suite.commit(&b, id, &default_outputs()).unwrap();
    let award = suite.task(id).auction.unwrap().award.unwrap();
    assert_eq!(
        (award.provider.clone(), award.price.u128()),
        (b.clone(), 1_000)
    );
    assert_eq!(suite.stake(&a).bonded.u128(), BOND - 100);
    assert_eq!(
        suite.balance(&b, STAKE_DENOM),
        100,
        "the slash goes to the next awardee"
    );
    suite.advance_blocks(1);
    suite.reveal(&b, id, &default_outputs(), None).unwrap();
    assert_eq!(suite.balance(&b, PAY_DENOM), 990);
    assert_eq!(suite.balance(&client, PAY_DENOM), 9_000);
}

#[test]
fn nobody_left_refunds_the_client_in_full() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let a = suite.provider_with_bond("a", BOND);
    let id = suite.publish(&client, TaskSpec::auction()).unwrap();
    suite.bid(&a, id, 300).unwrap();
    suite.close_bids(id);
    suite.reveal_bid(&a, id, 300).unwrap();
    suite.end_execution(id);
    suite.advance_auction(&client, id).unwrap();
    assert_eq!(suite.task(id).status, TaskStatus::Expired);
    assert_eq!(suite.balance(&client, PAY_DENOM), 10_000);
    // The client holds 10_000 of every payment denom, the stake denom among them.
    assert_eq!(suite.balance(&client, STAKE_DENOM), 10_000 + 100);
}
