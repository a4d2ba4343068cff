//! Attacks on the sealed-bid second-price auction: reading or copying sealed bids, raising the
//! price after the award, bidding low and not executing, the client's shill bid, a chain of
//! sybil bids that all default, and losers leaving to block the hand-over. Safe outcome: the
//! attacker poorer or refused, the honest provider paid for its work, the client never paying
//! more than its maximum and getting the rest back.

use cosmwasm_std::{Addr, Uint128};
use opengpu_registry::ContractError as RegistryError;
use opengpu_staking_vault::ContractError as VaultError;
use opengpu_task_market::ContractError;
use opengpu_testing::{
    assert_error, default_outputs, outputs, Suite, TaskSpec, PAY_DENOM, STAKE_DENOM,
};
use opengpu_types::auction::BidState;
use opengpu_types::commitment::outputs_digest;
use opengpu_types::events::{AuctionAwarded, AuctionDefaulted, BidPlaced, TaskExpired};
use opengpu_types::market::{self, TaskStatus};
use opengpu_types::registry;
use opengpu_types::verification::VerificationPolicy;
use opengpu_types::TaskId;

use crate::common::*;

/// Publishes `TaskSpec::auction()` and places the bids, in order.
fn auction(suite: &mut Suite, client: &Addr, bids: &[(&Addr, u128)]) -> TaskId {
    let id = suite.publish(client, TaskSpec::auction()).unwrap();
    for (provider, price) in bids {
        suite.bid(provider, id, *price).unwrap();
    }
    id
}

/// Closes bids and opens every bid in `bids`; the last one decides the award.
fn reveal_all(suite: &mut Suite, id: TaskId, bids: &[(&Addr, u128)]) {
    suite.close_bids(id);
    for (provider, price) in bids {
        suite.reveal_bid(provider, id, *price).unwrap();
    }
}

/// `(provider, bid, clearing price)` of the current award.
fn award(suite: &Suite, id: TaskId) -> (Addr, u128, u128) {
    let award = suite
        .task(id)
        .auction
        .and_then(|a| a.award)
        .expect("the task has an award");
    (award.provider, award.bid.u128(), award.price.u128())
}

fn bid_state(suite: &Suite, id: TaskId, seq: u32) -> BidState {
    suite.bids(id)[seq as usize].state.clone()
}

/// Commits the correct outputs and reveals them a block later.
fn deliver(suite: &mut Suite, provider: &Addr, id: TaskId) {
    suite.commit(provider, id, &default_outputs()).unwrap();
    suite.advance_blocks(1);
    suite
        .reveal(provider, id, &default_outputs(), None)
        .unwrap();
}

/// Lets the current awardee's window pass and applies the hand-over.
fn default_awardee(suite: &mut Suite, id: TaskId) {
    let anyone = suite.addr("anyone");
    suite.end_execution(id);
    suite.advance_auction(&anyone, id).unwrap();
}

/// The suite's 1% fee.
fn fee(price: u128) -> u128 {
    price / 100
}

#[test]
fn bidder_cannot_learn_prices_before_revealing_its_own() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let honest = suite.provider_with_bond("honest", BOND);
    let spy = suite.provider_with_bond("spy", BOND);
    let id = suite.publish(&client, TaskSpec::auction()).unwrap();
    let response = suite.bid(&honest, id, 400).unwrap();
    // The bid's event carries no price.
    let placed: Vec<BidPlaced> = events(&response);
    assert_eq!(placed.len(), 1);
    assert!(response
        .events
        .iter()
        .flat_map(|e| &e.attributes)
        .all(|a| a.key != "price"));
    // What the chain shows of the bid is its hash.
    let sealed = &suite.bids(id)[0];
    assert_eq!(sealed.state, BidState::Sealed {});
    assert_eq!(sealed.state.price(), None);
    assert_eq!(
        sealed.commitment,
        Suite::bid_commitment_for(&honest, id, 400)
    );
    suite.bid(&spy, id, 450).unwrap();
    suite.advance_blocks(1);
    // Nobody may open a bid while anyone could still bid: not the honest provider, so its
    // price never becomes public in time, nor the spy.
    let deadline = suite.task(id).deadline_height;
    for provider in [&honest, &spy] {
        assert_error(
            suite.reveal_bid(provider, id, 400),
            ContractError::BidsStillOpen {
                task_id: id,
                deadline,
            },
        );
    }
    assert!(suite.bids(id).iter().all(|b| b.state.price().is_none()));

    // Once the honest price is public, the spy's bid is fixed: no undercut, no second bid.
    suite.close_bids(id);
    suite.reveal_bid(&honest, id, 400).unwrap();
    assert_error(
        suite.reveal_bid(&spy, id, 399),
        ContractError::BidMismatch {},
    );
    let height = suite.height();
    assert_error(
        suite.bid(&spy, id, 399),
        ContractError::BidsClosed {
            task_id: id,
            deadline,
            height,
        },
    );
    suite.reveal_bid(&spy, id, 450).unwrap();
    assert_eq!(award(&suite, id), (honest.clone(), 400, 450));
    deliver(&mut suite, &honest, id);
    assert_eq!(suite.balance(&honest, PAY_DENOM), 450 - fee(450));
    assert_eq!(suite.balance(&spy, PAY_DENOM), 0);
    assert_stake_whole(&suite, &spy, BOND);
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS - 450);
    suite.assert_money_invariants();
}

#[test]
fn copied_bid_commitment_does_not_open_for_the_copier() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let honest = suite.provider_with_bond("honest", BOND);
    let copier = suite.provider_with_bond("copier", BOND);
    let id = auction(&mut suite, &client, &[(&honest, 400)]);
    let copied = suite.bids(id)[0].commitment.clone();
    suite
        .execute_market(
            &copier,
            &market::ExecuteMsg::Bid {
                task_id: id,
                commitment: copied,
            },
            &[],
        )
        .unwrap();
    suite.close_bids(id);
    suite.reveal_bid(&honest, id, 400).unwrap();

    // Price and salt are public now; they do not open the copy, whose hash names the honest
    // provider, at any price.
    for price in [400, 399, 1] {
        assert_error(
            suite.reveal_bid(&copier, id, price),
            ContractError::BidMismatch {},
        );
    }
    suite.end_bid_reveals(id);
    let anyone = suite.addr("anyone");
    suite.advance_auction(&anyone, id).unwrap();
    // The copy never opened: forfeited to the client, and it set no price.
    assert_eq!(bid_state(&suite, id, 1), BidState::Forfeited {});
    assert_eq!(award(&suite, id), (honest.clone(), 400, BUDGET));
    deliver(&mut suite, &honest, id);
    assert_eq!(suite.balance(&honest, PAY_DENOM), PAID);
    assert_stake_whole(&suite, &honest, BOND);
    assert_eq!(bonded(&suite, &copier), BOND - COLLATERAL);
    assert_eq!(suite.balance(&copier, PAY_DENOM), 0);
    assert_eq!(suite.balance(&client, STAKE_DENOM), FUNDS + COLLATERAL);
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS - BUDGET);
    suite.assert_money_invariants();
}

#[test]
fn winner_cannot_raise_its_price_after_the_award() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let winner = suite.provider_with_bond("winner", BOND);
    let second = suite.provider_with_bond("second", BOND);
    let bids = [(&winner, 200), (&second, 600)];
    let id = auction(&mut suite, &client, &bids);
    reveal_all(&mut suite, id, &bids);
    assert_eq!(award(&suite, id), (winner.clone(), 200, 600));

    // Neither a second bid reveal nor a new bid, nor a price on the result.
    assert_error(
        suite.reveal_bid(&winner, id, 900),
        ContractError::BidAlreadyRevealed {
            task_id: id,
            provider: winner.to_string(),
        },
    );
    let height = suite.height();
    let deadline = suite.task(id).deadline_height;
    assert_error(
        suite.bid(&winner, id, 900),
        ContractError::BidsClosed {
            task_id: id,
            deadline,
            height,
        },
    );
    suite.commit(&winner, id, &default_outputs()).unwrap();
    suite.advance_blocks(1);
    let model = suite.task(id).model;
    assert_error(
        suite.reveal(&winner, id, &default_outputs(), Some(900)),
        ContractError::PriceNotAccepted { model },
    );
    suite.reveal(&winner, id, &default_outputs(), None).unwrap();

    let settlement = suite.task(id).settlement.unwrap();
    assert_eq!(
        (settlement.price.u128(), settlement.refund.u128()),
        (600, BUDGET - 600)
    );
    assert_eq!(
        bid_state(&suite, id, 0),
        BidState::Won {
            price: Uint128::new(200),
            clearing: Uint128::new(600)
        }
    );
    assert_eq!(suite.balance(&winner, PAY_DENOM), 600 - fee(600));
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS - 600);
    assert_stake_whole(&suite, &second, BOND);
    suite.assert_money_invariants();
}

#[test]
fn bidding_low_and_not_executing_costs_the_bidder_its_collateral() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let lowballer = suite.provider_with_bond("lowballer", BOND);
    let honest = suite.provider_with_bond("honest", BOND);
    let third = suite.provider_with_bond("third", BOND);
    let bids = [(&lowballer, 1), (&honest, 600), (&third, 800)];
    let id = auction(&mut suite, &client, &bids);
    reveal_all(&mut suite, id, &bids);
    assert_eq!(award(&suite, id), (lowballer.clone(), 1, 600));

    // The lowballer never executes; the honest provider's own commit carries the hand-over.
    suite.end_execution(id);
    suite.commit(&honest, id, &default_outputs()).unwrap();
    assert_eq!(award(&suite, id), (honest.clone(), 600, 800));
    suite.advance_blocks(1);
    suite.reveal(&honest, id, &default_outputs(), None).unwrap();

    assert_eq!(
        (bonded(&suite, &lowballer), locked(&suite, &lowballer)),
        (BOND - COLLATERAL, 0)
    );
    assert_eq!(suite.balance(&lowballer, PAY_DENOM), 0);
    assert_eq!(reputation(&suite, &lowballer).slashed, 1);
    // The honest provider: paid its clearing price, plus the lowballer's collateral.
    assert_eq!(suite.balance(&honest, PAY_DENOM), 800 - fee(800));
    assert_eq!(suite.balance(&honest, STAKE_DENOM), COLLATERAL);
    assert_stake_whole(&suite, &honest, BOND);
    assert_stake_whole(&suite, &third, BOND);
    // The client: never more than its maximum, the rest back.
    let settlement = suite.task(id).settlement.unwrap();
    assert!(settlement.price.u128() <= BUDGET);
    assert_eq!(settlement.refund.u128(), BUDGET - 800);
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS - 800);
    assert_eq!(suite.balance(&client, STAKE_DENOM), FUNDS);
    suite.assert_money_invariants();
}

#[test]
fn client_shill_bid_that_wins_and_does_not_execute_costs_the_client_its_collateral() {
    let mut suite = Suite::new();
    // The client bids on its own task, low, hoping to get the work done cheaper or not at all.
    let client = client_and_provider(&mut suite, "client");
    let honest = suite.provider_with_bond("honest", BOND);
    let bids = [(&client, 1), (&honest, 600)];
    let id = auction(&mut suite, &client, &bids);
    reveal_all(&mut suite, id, &bids);
    assert_eq!(award(&suite, id), (client.clone(), 1, 600));

    // The shill does not execute: its collateral is held for the honest provider, who takes
    // the task alone at the maximum and gets it on delivery.
    suite.end_execution(id);
    let response = suite.advance_auction(&honest, id).unwrap();
    let defaulted: AuctionDefaulted = event(&response).unwrap();
    assert_eq!(
        (defaulted.provider, defaulted.slashed.u128()),
        (client.to_string(), COLLATERAL)
    );
    assert_eq!(award(&suite, id), (honest.clone(), 600, BUDGET));
    assert_eq!(
        suite.balance(&honest, STAKE_DENOM),
        0,
        "held until delivery"
    );
    deliver(&mut suite, &honest, id);

    assert_eq!(suite.balance(&honest, STAKE_DENOM), COLLATERAL);
    assert_eq!(suite.balance(&honest, PAY_DENOM), PAID);
    assert_stake_whole(&suite, &honest, BOND);
    assert_eq!(bonded(&suite, &client), BOND - COLLATERAL);
    assert_eq!(
        suite.balance(&client, STAKE_DENOM),
        FUNDS,
        "the client's own slash does not come back to it"
    );
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS - BUDGET);
    suite.assert_money_invariants();
}

#[test]
fn known_limit_a_losing_client_shill_sets_the_price_but_never_below_the_winners_bid() {
    let mut suite = Suite::new();
    let client = client_and_provider(&mut suite, "client");
    let honest = suite.provider_with_bond("honest", BOND);
    // A shill just above the honest bid lowers the honest payment from the maximum to the
    // shill's price: the seller-shill limit of every second-price auction. It needs the sealed
    // honest price, and a shill below it wins and must execute (see the test above).
    let bids = [(&honest, 600), (&client, 650)];
    let id = auction(&mut suite, &client, &bids);
    reveal_all(&mut suite, id, &bids);
    assert_eq!(award(&suite, id), (honest.clone(), 600, 650));
    assert_stake_whole(&suite, &client, BOND);
    deliver(&mut suite, &honest, id);
    assert_eq!(suite.balance(&honest, PAY_DENOM), 650 - fee(650));
    assert!(suite.balance(&honest, PAY_DENOM) >= 600 - fee(600));
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS - 650);
    assert_stake_whole(&suite, &honest, BOND);
    assert_stake_whole(&suite, &client, BOND);
    suite.assert_money_invariants();
}

#[test]
fn sybil_chain_of_defaulting_bids_leaves_the_attacker_poorer_and_pays_the_honest_provider() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let sybil_a = suite.provider_with_bond("sybil-a", BOND);
    let sybil_b = suite.provider_with_bond("sybil-b", BOND);
    let honest = suite.provider_with_bond("honest", BOND);
    let bids = [(&sybil_a, 1), (&sybil_b, 2), (&honest, 600)];
    let id = auction(&mut suite, &client, &bids);
    reveal_all(&mut suite, id, &bids);
    assert_eq!(award(&suite, id), (sybil_a.clone(), 1, 2));

    default_awardee(&mut suite, id);
    assert_eq!(award(&suite, id), (sybil_b.clone(), 2, 600));
    default_awardee(&mut suite, id);
    assert_eq!(award(&suite, id), (honest.clone(), 600, BUDGET));
    deliver(&mut suite, &honest, id);

    for sybil in [&sybil_a, &sybil_b] {
        assert_eq!(bonded(&suite, sybil), BOND - COLLATERAL);
        assert_eq!(locked(&suite, sybil), 0);
        assert_eq!(suite.balance(sybil, PAY_DENOM), 0);
    }
    // Both slashes were held by the market and went to the one who delivered.
    let attacker_stake = bonded(&suite, &sybil_a)
        + bonded(&suite, &sybil_b)
        + suite.balance(&sybil_a, STAKE_DENOM)
        + suite.balance(&sybil_b, STAKE_DENOM);
    assert_eq!(
        attacker_stake,
        2 * BOND - 2 * COLLATERAL,
        "the attacker lost every link's collateral"
    );
    assert_eq!(suite.balance(&honest, PAY_DENOM), PAID);
    assert_eq!(suite.balance(&honest, STAKE_DENOM), 2 * COLLATERAL);
    assert_stake_whole(&suite, &honest, BOND);
    // The client pays the maximum at most and nothing else.
    assert_eq!(suite.task(id).settlement.unwrap().price.u128(), BUDGET);
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS - BUDGET);
    assert_eq!(suite.balance(&client, STAKE_DENOM), FUNDS);
    suite.assert_money_invariants();
}

#[test]
fn known_limit_a_sybil_chain_delays_the_task_but_costs_every_link() {
    // A chain of three sybil bids holds the task for three execution windows (the delay is the
    // limit); each default's slash is held until someone delivers, so the attacker loses all
    // three collaterals, and the honest provider who finally does the work gets them.
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let sybils: Vec<Addr> = (0..3)
        .map(|i| suite.provider_with_bond(&format!("sybil-{i}"), BOND))
        .collect();
    let honest = suite.provider_with_bond("honest", BOND);
    let mut bids: Vec<(&Addr, u128)> = sybils.iter().zip(1..).collect();
    bids.push((&honest, 600));
    let id = auction(&mut suite, &client, &bids);
    reveal_all(&mut suite, id, &bids);
    let awarded_at = suite.height();
    for _ in &sybils {
        default_awardee(&mut suite, id);
    }
    assert_eq!(award(&suite, id).0, honest);
    assert_eq!(suite.task(id).auction.unwrap().handovers, 3);
    assert_eq!(suite.height() - awarded_at, 3 * (10 + 1));
    deliver(&mut suite, &honest, id);

    let attacker_stake: u128 = sybils
        .iter()
        .map(|s| bonded(&suite, s) + suite.balance(s, STAKE_DENOM))
        .sum();
    assert_eq!(attacker_stake, 3 * BOND - 3 * COLLATERAL);
    assert_eq!(suite.balance(&honest, STAKE_DENOM), 3 * COLLATERAL);
    assert_eq!(suite.balance(&honest, PAY_DENOM), PAID);
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS - BUDGET);
    suite.assert_money_invariants();
}

#[test]
fn known_limit_a_default_is_free_when_the_next_bid_is_ones_own() {
    // The first sybil defaults, its held slash goes to the second only because the second
    // delivers, at the honest price: the attacker ends exactly as if it had bid once with the
    // second account. No gain, and the client pays the same second price.
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let sybil_a = suite.provider_with_bond("sybil-a", BOND);
    let sybil_b = suite.provider_with_bond("sybil-b", BOND);
    let honest = suite.provider_with_bond("honest", BOND);
    let bids = [(&sybil_a, 1), (&sybil_b, 2), (&honest, 600)];
    let id = auction(&mut suite, &client, &bids);
    reveal_all(&mut suite, id, &bids);
    default_awardee(&mut suite, id);
    deliver(&mut suite, &sybil_b, id);

    let attacker_stake =
        bonded(&suite, &sybil_a) + bonded(&suite, &sybil_b) + suite.balance(&sybil_b, STAKE_DENOM);
    assert_eq!(attacker_stake, 2 * BOND);
    assert_eq!(suite.balance(&sybil_b, PAY_DENOM), 600 - fee(600));
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS - 600);
    assert_stake_whole(&suite, &honest, BOND);
    suite.assert_money_invariants();
}

#[test]
fn losers_cannot_block_settlement_by_leaving_after_release() {
    for winner_delivers in [true, false] {
        let mut suite = Suite::new();
        let client = suite.client_with_funds("client", FUNDS);
        let winner = suite.provider_with_bond("winner", BOND);
        let leaver = suite.provider_with_bond("leaver", BOND);
        let unbonder = suite.provider_with_bond("unbonder", BOND);
        let bids = [(&winner, 300), (&leaver, 500), (&unbonder, 700)];
        let id = auction(&mut suite, &client, &bids);
        // While its bid is locked, a bidder can neither leave nor take its collateral out.
        assert_error(
            suite.execute_registry(&leaver, &registry::ExecuteMsg::Deregister {}),
            RegistryError::CollateralLocked {
                locked: Uint128::new(COLLATERAL),
            },
        );
        assert_error(
            suite.unbond(&leaver, BOND),
            VaultError::InsufficientFreeStake {
                requested: Uint128::new(BOND),
                free: Uint128::new(BOND - COLLATERAL),
            },
        );
        reveal_all(&mut suite, id, &bids);
        // Released at the award, both losers leave.
        suite.unbond(&leaver, BOND).unwrap();
        suite
            .execute_registry(&leaver, &registry::ExecuteMsg::Deregister {})
            .unwrap();
        suite.unbond(&unbonder, BOND).unwrap();

        if winner_delivers {
            deliver(&mut suite, &winner, id);
            assert_eq!(suite.task(id).status, TaskStatus::Settled);
            assert_eq!(suite.balance(&winner, PAY_DENOM), 500 - fee(500));
            assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS - 500);
            assert_stake_whole(&suite, &winner, BOND);
        } else {
            // The hand-over passes over both without penalty; nobody is left.
            suite.end_execution(id);
            let response = suite.advance_auction(&client, id).unwrap();
            assert_eq!(
                events::<AuctionAwarded>(&response),
                vec![],
                "nobody left to award"
            );
            let expired: TaskExpired = event(&response).unwrap();
            assert_eq!(expired.forfeited.u128(), COLLATERAL);
            assert!(matches!(
                bid_state(&suite, id, 1),
                BidState::Skipped { reason, .. } if reason == "no longer registered"
            ));
            assert!(matches!(
                bid_state(&suite, id, 2),
                BidState::Skipped { reason, .. } if reason.starts_with("not eligible")
            ));
            assert_eq!(suite.task(id).status, TaskStatus::Expired);
            assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS);
            assert_eq!(suite.balance(&client, STAKE_DENOM), FUNDS + COLLATERAL);
            assert_eq!(bonded(&suite, &winner), BOND - COLLATERAL);
        }
        for loser in [&leaver, &unbonder] {
            let stake = suite.stake(loser);
            assert_eq!(
                (
                    stake.bonded.u128(),
                    stake.locked.u128(),
                    stake.unbonding.u128()
                ),
                (0, 0, BOND),
                "a loser that left is not slashed"
            );
            assert_eq!(suite.balance(loser, STAKE_DENOM), 0);
        }
        suite.assert_money_invariants();
    }
}

#[test]
fn lying_client_reference_hash_refuses_every_awardee_without_slashing() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let first = suite.provider_with_bond("first", BOND);
    let second = suite.provider_with_bond("second", BOND);
    let lie = VerificationPolicy::ReferenceHash {
        sha256: outputs_digest(&outputs(1)).into(),
    };
    let spec = TaskSpec::auction().verification(lie);
    let id = suite.publish(&client, spec).unwrap();
    let bids = [(&first, 300), (&second, 500)];
    for (provider, price) in bids {
        suite.bid(provider, id, price).unwrap();
    }
    reveal_all(&mut suite, id, &bids);
    deliver(&mut suite, &first, id);
    assert!(matches!(bid_state(&suite, id, 0), BidState::Refused { .. }));
    deliver(&mut suite, &second, id);

    // Nobody is slashed for the client's word; the client gets its budget back and no stake.
    assert_eq!(suite.task(id).status, TaskStatus::Expired);
    assert!(matches!(bid_state(&suite, id, 1), BidState::Refused { .. }));
    for provider in [&first, &second] {
        assert_stake_whole(&suite, provider, BOND);
        assert_eq!(reputation(&suite, provider).slashed, 0);
    }
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS);
    assert_eq!(suite.balance(&client, STAKE_DENOM), FUNDS);
    suite.assert_money_invariants();
}
