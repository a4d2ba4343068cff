//! Messages sent in the wrong phase are refused with the rule they break, and leave no trace:
//! bid reveals before bids close, in the bid's own block or after the reveal phase; bids after
//! bids close; `Advance` when nothing is due; the awardee's result after its window.

use cosmwasm_std::{HexBinary, Uint128};
use opengpu_task_market::ContractError;
use opengpu_testing::{assert_error, SuiteBuilder, PAY_DENOM, STAKE_DENOM};
use opengpu_types::auction::BidState;
use opengpu_types::market::{self, CommitmentState, TaskStatus};

use crate::*;

#[test]
fn bid_reveals_wait_until_bids_close() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let a = suite.provider_with_bond("a", BOND);
    let id = auction_with_bids(&mut suite, &client, &[(&a, 300)]);
    let deadline = suite.task(id).deadline_height;
    for height in [suite.height() + 1, deadline] {
        let now = suite.height();
        suite.advance_blocks(height - now);
        assert_error(
            suite.reveal_bid(&a, id, 300),
            ContractError::BidsStillOpen {
                task_id: id,
                deadline,
            },
        );
    }
    assert_eq!(bid_state(&suite, id, 0), BidState::Sealed {});
    suite.advance_blocks(1);
    suite.reveal_bid(&a, id, 300).unwrap();
    assert_eq!(award(&suite, id).provider, a);
    suite.assert_money_invariants();
}

#[test]
fn a_bid_cannot_be_revealed_in_its_own_block() {
    // Two slots: the second bid closes bids before the deadline, in its own block.
    let mut suite = SuiteBuilder::new()
        .with_params(|p| p.max_committers = 2)
        .build();
    let client = suite.client_with_funds("client", FUNDS);
    let early = suite.provider_with_bond("early", BOND);
    let last = suite.provider_with_bond("last", BOND);
    let id = auction_with_bids(&mut suite, &client, &[(&early, 300)]);
    suite.advance_blocks(1);
    suite.bid(&last, id, 500).unwrap();
    let height = suite.height();
    assert!(height < suite.task(id).deadline_height);
    assert_error(
        suite.reveal_bid(&last, id, 500),
        ContractError::RevealTooEarly {
            earliest: height + 1,
        },
    );
    // The earlier bid may open now: bids are closed by count.
    suite.reveal_bid(&early, id, 300).unwrap();
    suite.advance_blocks(1);
    suite.reveal_bid(&last, id, 500).unwrap();
    let award = award(&suite, id);
    assert_eq!(
        (award.provider.clone(), award.price.u128()),
        (early.clone(), 500)
    );
    suite.assert_money_invariants();
}

#[test]
fn a_bid_cannot_be_revealed_after_the_reveal_phase() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let anyone = suite.addr("anyone");
    let a = suite.provider_with_bond("a", BOND);
    let late = suite.provider_with_bond("late", BOND);
    let id = auction_with_bids(&mut suite, &client, &[(&a, 600), (&late, 300)]);
    reveal_all(&mut suite, id, &[(&a, 600)]);
    suite.end_bid_reveals(id);
    let end = suite.task(id).bid_reveal_end();
    let height = suite.height();
    assert_error(
        suite.reveal_bid(&late, id, 300),
        ContractError::BidRevealClosed {
            task_id: id,
            end,
            height,
        },
    );
    suite.advance_auction(&anyone, id).unwrap();
    // The late bid, lower than the winner's, took no part and was forfeited.
    assert_eq!(bid_state(&suite, id, 1), BidState::Forfeited {});
    assert_eq!(award(&suite, id).provider, a);
    assert_error(
        suite.reveal_bid(&late, id, 300),
        ContractError::BidAlreadyRevealed {
            task_id: id,
            provider: late.to_string(),
        },
    );
    assert_eq!(stake(&suite, &late), (BOND - COLLATERAL, 0, 0));
    suite.assert_money_invariants();
}

#[test]
fn bids_are_refused_once_bids_close_by_deadline_or_by_count() {
    let mut suite = SuiteBuilder::new()
        .with_params(|p| p.max_committers = 2)
        .build();
    let client = suite.client_with_funds("client", FUNDS);
    let a = suite.provider_with_bond("a", BOND);
    let b = suite.provider_with_bond("b", BOND);
    let late = suite.provider_with_bond("late", BOND);

    // By deadline.
    let by_deadline = auction_with_bids(&mut suite, &client, &[(&a, 300)]);
    suite.close_bids(by_deadline);
    let deadline = suite.task(by_deadline).deadline_height;
    assert_error(
        suite.bid(&late, by_deadline, 1),
        ContractError::BidsClosed {
            task_id: by_deadline,
            deadline,
            height: deadline + 1,
        },
    );

    // By count, before the deadline.
    let by_count = auction_with_bids(&mut suite, &client, &[(&a, 300), (&b, 500)]);
    let (deadline, height) = (suite.task(by_count).deadline_height, suite.height());
    assert_error(
        suite.bid(&late, by_count, 1),
        ContractError::BidsClosed {
            task_id: by_count,
            deadline,
            height,
        },
    );
    assert_eq!(suite.bids(by_count).len(), 2);
    assert_eq!(stake(&suite, &late), (BOND, 0, 0));
    suite.assert_money_invariants();
}

#[test]
fn bids_and_bid_reveals_are_taken_once_and_must_match() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let a = suite.provider_with_bond("a", BOND);
    let b = suite.provider_with_bond("b", BOND);
    let id = auction_with_bids(&mut suite, &client, &[(&a, 300), (&b, 500)]);
    assert_error(
        suite.bid(&a, id, 200),
        ContractError::AlreadyBid {
            task_id: id,
            provider: a.to_string(),
        },
    );
    assert_eq!(stake(&suite, &a), (BOND, COLLATERAL, 0));
    suite.close_bids(id);
    // Another price, or another salt, does not open the bid.
    assert_error(suite.reveal_bid(&a, id, 301), ContractError::BidMismatch {});
    let other_salt = market::ExecuteMsg::RevealBid {
        task_id: id,
        price: Uint128::new(300),
        salt: HexBinary::from(&[0x11u8; 32]),
    };
    assert_error(
        suite.execute_market(&a, &other_salt, &[]),
        ContractError::BidMismatch {},
    );
    suite.reveal_bid(&a, id, 300).unwrap();
    assert_error(
        suite.reveal_bid(&a, id, 300),
        ContractError::BidAlreadyRevealed {
            task_id: id,
            provider: a.to_string(),
        },
    );
    suite.reveal_bid(&b, id, 500).unwrap();
    assert_eq!(award(&suite, id).price.u128(), 500);
    suite.assert_money_invariants();
}

#[test]
fn a_due_award_is_applied_by_the_winners_own_commit() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let winner = suite.provider_with_bond("winner", BOND);
    let silent = suite.provider_with_bond("silent", BOND);
    let id = auction_with_bids(&mut suite, &client, &[(&winner, 300), (&silent, 200)]);
    reveal_all(&mut suite, id, &[(&winner, 300)]);
    suite.end_bid_reveals(id);
    // Nobody sent Advance: a loser's commit would apply the award and then be refused, so it
    // changes nothing.
    assert_error(
        suite.commit(&silent, id, &default_outputs()),
        ContractError::NotAwarded {
            task_id: id,
            awardee: winner.to_string(),
            sender: silent.to_string(),
        },
    );
    assert!(suite.task(id).auction.unwrap().award.is_none());
    assert_eq!(bid_state(&suite, id, 1), BidState::Sealed {});

    suite.commit(&winner, id, &default_outputs()).unwrap();
    assert_eq!(bid_state(&suite, id, 1), BidState::Forfeited {});
    assert_eq!(award(&suite, id).price.u128(), BUDGET);
    suite.advance_blocks(1);
    suite.reveal(&winner, id, &default_outputs(), None).unwrap();
    assert_eq!(suite.balance(&winner, PAY_DENOM), BUDGET - fee(BUDGET));
    assert_eq!(suite.balance(&client, STAKE_DENOM), FUNDS + COLLATERAL);
    assert_eq!(stake(&suite, &silent), (BOND - COLLATERAL, 0, 0));
    suite.assert_money_invariants();
}

#[test]
fn advance_when_nothing_is_due_says_what_it_waits_for() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let anyone = suite.addr("anyone");
    let a = suite.provider_with_bond("a", BOND);
    let b = suite.provider_with_bond("b", BOND);
    let id = auction_with_bids(&mut suite, &client, &[(&a, 300), (&b, 500)]);
    let task = suite.task(id);
    let nothing = |reason: String| ContractError::NothingToAdvance {
        task_id: id,
        reason,
    };

    assert_error(
        suite.advance_auction(&anyone, id),
        nothing(format!(
            "bids are open until height {}",
            task.deadline_height
        )),
    );
    reveal_all(&mut suite, id, &[(&a, 300)]);
    assert_error(
        suite.advance_auction(&anyone, id),
        nothing(format!(
            "bids may be revealed until height {}",
            task.bid_reveal_end()
        )),
    );
    suite.reveal_bid(&b, id, 500).unwrap();
    let deadline = award(&suite, id).execute_deadline;
    let running = format!("{a} may deliver until height {deadline}");
    assert_error(suite.advance_auction(&anyone, id), nothing(running.clone()));
    // Expire is the same step on an auction, and Finalize never applies.
    assert_error(suite.expire(&anyone, id), nothing(running.clone()));
    // Still nothing at the window's last height.
    suite.commit(&a, id, &default_outputs()).unwrap();
    suite.advance_blocks(deadline - suite.height());
    assert_error(suite.advance_auction(&anyone, id), nothing(running));

    suite.reveal(&a, id, &default_outputs(), None).unwrap();
    assert_error(
        suite.advance_auction(&anyone, id),
        ContractError::TaskClosed {
            task_id: id,
            status: TaskStatus::Settled,
        },
    );
    assert_eq!(suite.balance(&a, PAY_DENOM), 500 - fee(500));
    suite.assert_money_invariants();
}

#[test]
fn the_awardee_cannot_commit_or_reveal_after_its_execution_window() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let anyone = suite.addr("anyone");
    let late = suite.provider_with_bond("late", BOND);
    let stalled = suite.provider_with_bond("stalled", BOND);
    let next = suite.provider_with_bond("next", BOND);
    let bids = [(&late, 300), (&stalled, 400), (&next, 500)];
    let id = auction_with_bids(&mut suite, &client, &bids);
    reveal_all(&mut suite, id, &bids);

    // A commit one block after the window.
    let deadline = award(&suite, id).execute_deadline;
    suite.end_execution(id);
    assert_error(
        suite.commit(&late, id, &default_outputs()),
        ContractError::ExecutionWindowClosed {
            task_id: id,
            deadline,
            height: deadline + 1,
        },
    );
    suite.advance_auction(&anyone, id).unwrap();
    assert_eq!(award(&suite, id).provider, stalled);
    assert_eq!(stake(&suite, &late), (BOND - COLLATERAL, 0, 0));

    // A commit in time, its reveal too late.
    suite.commit(&stalled, id, &default_outputs()).unwrap();
    let deadline = award(&suite, id).execute_deadline;
    suite.end_execution(id);
    assert_error(
        suite.reveal(&stalled, id, &default_outputs(), None),
        ContractError::RevealWindowClosed {
            deadline,
            height: deadline + 1,
        },
    );
    suite.advance_auction(&anyone, id).unwrap();
    assert!(matches!(
        suite.commitments(id)[0].state,
        CommitmentState::Forfeited {}
    ));
    assert_eq!(stake(&suite, &stalled), (BOND - COLLATERAL, 0, 0));
    // Its result is still not accepted once the award has passed on.
    assert_error(
        suite.reveal(&stalled, id, &default_outputs(), None),
        ContractError::AlreadyRevealed {
            task_id: id,
            provider: stalled.to_string(),
        },
    );

    // The last one in line: no next price, so the maximum, plus both slashes, held by the
    // market until it delivers.
    assert_eq!(award(&suite, id).price.u128(), BUDGET);
    assert_eq!(suite.balance(&next, STAKE_DENOM), 0);
    assert_eq!(suite.task(id).auction.unwrap().held.u128(), 2 * COLLATERAL);
    deliver(&mut suite, &next, id);
    assert_eq!(suite.balance(&next, PAY_DENOM), BUDGET - fee(BUDGET));
    assert_eq!(suite.balance(&next, STAKE_DENOM), 2 * COLLATERAL);
    assert_eq!(suite.balance(&stalled, STAKE_DENOM), 0);
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS - BUDGET);
    suite.assert_money_invariants();
}

#[test]
fn a_lone_awardee_committing_late_is_refused_and_the_client_refunded() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let anyone = suite.addr("anyone");
    let late = suite.provider_with_bond("late", BOND);
    let id = auction_with_bids(&mut suite, &client, &[(&late, 300)]);
    reveal_all(&mut suite, id, &[(&late, 300)]);
    let deadline = award(&suite, id).execute_deadline;
    suite.end_execution(id);
    assert_error(
        suite.commit(&late, id, &default_outputs()),
        ContractError::ExecutionWindowClosed {
            task_id: id,
            deadline,
            height: deadline + 1,
        },
    );
    assert_eq!(suite.task(id).status, TaskStatus::Committed);
    suite.advance_auction(&anyone, id).unwrap();
    assert_eq!(suite.task(id).status, TaskStatus::Expired);
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS);
    assert_eq!(suite.balance(&client, STAKE_DENOM), FUNDS + COLLATERAL);
    assert_eq!(stake(&suite, &late), (BOND - COLLATERAL, 0, 0));
    suite.assert_money_invariants();
}
