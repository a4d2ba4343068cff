//! Sealed-bid second-price auction: bids sealed until bids close, the lowest bid wins at the
//! next price up, only the winner executes, and a winner that fails is slashed and replaced.
//!
//! One binary, one module per part of the rules:
//! - `pricing`: who wins and what it is paid (second price, lone bid, ties, void bids);
//! - `failures`: forfeits, defaults, hand-overs, refunds when nobody is left;
//! - `phases`: messages sent in the wrong phase, and `Advance` when nothing is due;
//! - `senders`: bids from accounts that may not bid, and messages from the wrong account;
//! - `queries`: cancel and the `Bids` query.
//!
//! Amounts: the client holds `FUNDS` of every denom (the stake denom included) and escrows
//! `BUDGET` of `PAY_DENOM`, the maximum price; each bid locks `COLLATERAL` of stake; the fee
//! is 1%.

mod failures;
mod phases;
mod pricing;
mod queries;
mod senders;

use cosmwasm_std::Addr;
use cw_multi_test::AppResponse;
use opengpu_testing::{default_outputs, Suite, TaskSpec};
use opengpu_types::auction::{Award, BidState};
use opengpu_types::events::ContractEvent;
use opengpu_types::TaskId;

/// Stake every provider bonds.
pub const BOND: u128 = 5_000;
/// What `client_with_funds` gives a client of every denom.
pub const FUNDS: u128 = 10_000;
/// `TaskSpec::auction()`'s budget (the maximum price) and collateral.
pub const BUDGET: u128 = 1_000;
pub const COLLATERAL: u128 = 100;

/// The suite's 1% fee on `price`.
pub fn fee(price: u128) -> u128 {
    price / 100
}

/// Publishes `TaskSpec::auction()` and places the bids, in order, in the same block.
pub fn auction_with_bids(suite: &mut Suite, client: &Addr, bids: &[(&Addr, u128)]) -> TaskId {
    auction_spec_with_bids(suite, client, TaskSpec::auction(), bids)
}

pub fn auction_spec_with_bids(
    suite: &mut Suite,
    client: &Addr,
    spec: TaskSpec,
    bids: &[(&Addr, u128)],
) -> TaskId {
    let id = suite.publish(client, spec).unwrap();
    for (provider, price) in bids {
        suite.bid(provider, id, *price).unwrap();
    }
    id
}

/// Closes bids and opens every bid of `bids`, in order (the last one decides the award).
pub fn reveal_all(suite: &mut Suite, id: TaskId, bids: &[(&Addr, u128)]) {
    suite.close_bids(id);
    for (provider, price) in bids {
        suite.reveal_bid(provider, id, *price).unwrap();
    }
}

/// The current award.
#[track_caller]
pub fn award(suite: &Suite, id: TaskId) -> Award {
    suite
        .task(id)
        .auction
        .and_then(|a| a.award)
        .expect("the task has an award")
}

/// The state of the bid with arrival order `seq`.
pub fn bid_state(suite: &Suite, id: TaskId, seq: u32) -> BidState {
    suite.bids(id)[seq as usize].state.clone()
}

/// Commits the correct outputs, then reveals them a block later.
pub fn deliver(suite: &mut Suite, provider: &Addr, id: TaskId) -> AppResponse {
    suite.commit(provider, id, &default_outputs()).unwrap();
    suite.advance_blocks(1);
    suite
        .reveal(provider, id, &default_outputs(), None)
        .unwrap()
}

/// `(bonded, locked, unbonding)` of a staker.
pub fn stake(suite: &Suite, staker: &Addr) -> (u128, u128, u128) {
    let stake = suite.stake(staker);
    (
        stake.bonded.u128(),
        stake.locked.u128(),
        stake.unbonding.u128(),
    )
}

/// Every event of type `E` in a response.
pub fn events<E: ContractEvent>(response: &AppResponse) -> Vec<E> {
    response
        .events
        .iter()
        .filter(|e| e.ty == E::chain_type())
        .map(|e| {
            let attrs = e
                .attributes
                .iter()
                .map(|a| (a.key.as_str(), a.value.as_str()));
            E::from_attributes(attrs).expect("a well-formed event")
        })
        .collect()
}
