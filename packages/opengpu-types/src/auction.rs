//! The sealed-bid, second-price (Vickrey) reverse auction: price discovery before anyone
//! computes, so only the winner runs the kernel.
//!
//! Phases, by height (`deadline` is the task's commit deadline, the end of bidding):
//!
//! ```text
//! bidding      publish ..= deadline             Bid: sealed sha256(task ‖ provider ‖ price ‖ salt),
//!                                               locks the task's collateral
//! bid reveal   (bids closed) ..= deadline + R  RevealBid: price and salt; above the maximum: void
//! award        first transaction once every bid is revealed or the reveal phase is over:
//!              the lowest valid bid (earliest among equals) wins at the next price up (the
//!              maximum when it is alone); losers released; unrevealed bids forfeited to the client
//! execution    award ..= award + E              the awardee commits and reveals its result
//! hand-over    a winner that did not deliver, or delivered a proven-wrong result, is slashed and
//!              the task passes to the next bid at its own clearing price, with a fresh window;
//!              nobody left: the client gets the budget back plus the forfeited collateral
//! ```
//!
//! Paying the second price makes a bid of one's true cost the best bid: bidding lower can only
//! win at a price below cost, bidding higher can only lose a profitable task. Every rule that
//! decides who wins and at what price is a function here, shared by the market and the daemon.

use cosmwasm_schema::cw_serde;
use cosmwasm_std::{Addr, HexBinary, Uint128};
use sha2::{Digest, Sha256};

use crate::TaskId;

/// Longest bid-reveal or execution window a task may ask for, in blocks.
pub const MAX_AUCTION_WINDOW_BLOCKS: u64 = 100_000;

/// The `opengpu` CLI's default bidding window (the task's deadline), in blocks: long enough
/// for daemons that see the task a block or two late to bid.
pub const DEFAULT_BID_BLOCKS: u64 = 10;
/// The CLI's default bid-reveal window: two seconds of the localnet's 200 ms blocks, a minute
/// of a 6 s public chain.
pub const DEFAULT_BID_REVEAL_BLOCKS: u64 = 10;
/// The CLI's default execution window: a kernel's run, the commit and the reveal.
pub const DEFAULT_EXECUTE_BLOCKS: u64 = 50;

/// Domain tag of bid commitments, so a bid hash can never open as a result commitment.
const BID_DOMAIN: &[u8] = b"opengpu/bid/v1";

/// The sealed bid a provider publishes: `sha256("opengpu/bid/v1" ‖ task_id as u64 ‖ provider
/// (bech32 UTF-8) ‖ price as u128 ‖ salt)`, integers big-endian. The address inside keeps a
/// copied bid from opening for the copier; the salt (16 to 64 bytes) keeps a price from being
/// guessed from the hash.
pub fn bid_commitment(task_id: TaskId, provider: &str, price: Uint128, salt: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(BID_DOMAIN);
    hasher.update(task_id.to_be_bytes());
    hasher.update(provider.as_bytes());
    hasher.update(price.u128().to_be_bytes());
    hasher.update(salt);
    hasher.finalize().into()
}

/// Checks the windows an auction asks for.
pub fn validate(bid_reveal_blocks: u64, execute_blocks: u64) -> Result<(), String> {
    for (name, value) in [
        ("bid_reveal_blocks", bid_reveal_blocks),
        ("execute_blocks", execute_blocks),
    ] {
        if !(1..=MAX_AUCTION_WINDOW_BLOCKS).contains(&value) {
            return Err(format!(
                "{name} must be 1..={MAX_AUCTION_WINDOW_BLOCKS}, got {value}"
            ));
        }
    }
    // Commit and reveal of the result take two blocks at least.
    if execute_blocks < 2 {
        return Err("execute_blocks must be at least 2 (a commit, then a reveal)".into());
    }
    Ok(())
}

/// An auction's progress, kept on its task.
#[cw_serde]
#[derive(Default)]
pub struct AuctionState {
    /// Sealed bids placed, in arrival order (at most the task's `max_committers`).
    pub bid_count: u32,
    /// Bids opened (valid or void).
    pub revealed_count: u32,
    /// The bidder now bound to execute, once awarded.
    pub award: Option<Award>,
    /// Awards passed on after a winner failed to deliver.
    pub handovers: u32,
    /// Collateral (stake denom) sent to the client: bids never opened, and at the end what
    /// was held from failed winners when nobody delivered.
    pub forfeited: Uint128,
    /// Collateral (stake denom) slashed from winners that failed, held by the market for the
    /// bidder who delivers (the client when nobody does): a winner's own sybil next in line
    /// gains it only by doing the work.
    #[serde(default)]
    pub held: Uint128,
}

/// The current award.
#[cw_serde]
pub struct Award {
    pub provider: Addr,
    /// The winning bid's arrival order.
    pub bid_seq: u32,
    /// What the winner bid.
    pub bid: Uint128,
    /// What the winner is paid on delivery: the next price up, or the maximum.
    pub price: Uint128,
    pub awarded_height: u64,
    /// Last height at which the result may be committed and revealed.
    pub execute_deadline: u64,
}

#[cw_serde]
pub enum BidState {
    /// Placed, price hidden.
    Sealed {},
    /// Opened with a price at most the maximum: in the running, or lost (collateral released).
    Revealed { price: Uint128, height: u64 },
    /// Opened above the maximum: no part in the auction, collateral released.
    Void { price: Uint128 },
    /// Never opened in the bid-reveal phase: collateral forfeited to the client.
    Forfeited {},
    /// Won the award and bound to execute by `execute_deadline`.
    Awarded {
        price: Uint128,
        clearing: Uint128,
        execute_deadline: u64,
    },
    /// Delivered a valid result and was paid `clearing`.
    Won { price: Uint128, clearing: Uint128 },
    /// Awarded but did not deliver, or delivered a result proven wrong: slashed.
    Defaulted { price: Uint128, reason: String },
    /// Delivered a result that did not match the client's reference hash: no proof of a fault,
    /// collateral released, the award passed on.
    Refused { price: Uint128, reason: String },
    /// Next in line at a hand-over but unable to take it (no longer eligible, or short of
    /// free stake for the collateral): passed over without penalty.
    Skipped { price: Uint128, reason: String },
}

impl BidState {
    /// The price this bid opened with, once opened.
    pub fn price(&self) -> Option<Uint128> {
        match self {
            BidState::Sealed {} | BidState::Forfeited {} => None,
            BidState::Revealed { price, .. }
            | BidState::Void { price }
            | BidState::Awarded { price, .. }
            | BidState::Won { price, .. }
            | BidState::Defaulted { price, .. }
            | BidState::Refused { price, .. }
            | BidState::Skipped { price, .. } => Some(*price),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            BidState::Sealed {} => "sealed",
            BidState::Revealed { .. } => "revealed",
            BidState::Void { .. } => "void",
            BidState::Forfeited {} => "forfeited",
            BidState::Awarded { .. } => "awarded",
            BidState::Won { .. } => "won",
            BidState::Defaulted { .. } => "defaulted",
            BidState::Refused { .. } => "refused",
            BidState::Skipped { .. } => "skipped",
        }
    }
}

#[cw_serde]
pub struct BidInfo {
    pub task_id: TaskId,
    pub provider: Addr,
    /// Order of arrival, from 0: breaks ties between equal prices.
    pub seq: u32,
    pub commitment: HexBinary,
    pub collateral: Uint128,
    pub height: u64,
    pub state: BidState,
}

#[cw_serde]
pub struct BidsResponse {
    pub bids: Vec<BidInfo>,
}

/// A bid still in line for the award: opened within the maximum and never awarded, skipped or
/// refused.
pub fn in_line(bid: &BidInfo) -> Option<(u32, Uint128)> {
    match bid.state {
        BidState::Revealed { price, .. } => Some((bid.seq, price)),
        _ => None,
    }
}

/// The bids in line, in award order: lowest price first, earliest bid among equals.
pub fn award_order(bids: &[BidInfo]) -> Vec<(u32, Uint128)> {
    let mut line: Vec<(u32, Uint128)> = bids.iter().filter_map(in_line).collect();
    line.sort_by_key(|(seq, price)| (*price, *seq));
    line
}

/// The price paid to the bidder at `index` of `line` (award order): the next price up, or the
/// task's maximum when nobody is behind it.
pub fn clearing_price(line: &[(u32, Uint128)], index: usize, maximum: Uint128) -> Uint128 {
    line.get(index + 1)
        .map(|(_, price)| *price)
        .unwrap_or(maximum)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bid(seq: u32, state: BidState) -> BidInfo {
        BidInfo {
            task_id: 1,
            provider: Addr::unchecked(format!("p{seq}")),
            seq,
            commitment: HexBinary::from(vec![0; 32]),
            collateral: Uint128::new(10),
            height: 1,
            state,
        }
    }

    fn revealed(seq: u32, price: u128) -> BidInfo {
        bid(
            seq,
            BidState::Revealed {
                price: Uint128::new(price),
                height: 2,
            },
        )
    }

    #[test]
    fn lowest_wins_at_the_second_price_and_ties_go_to_the_earliest() {
        let bids = [
            revealed(0, 70),
            revealed(1, 50),
            revealed(2, 50),
            bid(3, BidState::Sealed {}),
            bid(
                4,
                BidState::Void {
                    price: Uint128::new(1),
                },
            ),
        ];
        let line = award_order(&bids);
        assert_eq!(
            line,
            vec![
                (1, Uint128::new(50)),
                (2, Uint128::new(50)),
                (0, Uint128::new(70))
            ]
        );
        assert_eq!(
            clearing_price(&line, 0, Uint128::new(100)),
            Uint128::new(50)
        );
        assert_eq!(
            clearing_price(&line, 1, Uint128::new(100)),
            Uint128::new(70)
        );
        assert_eq!(
            clearing_price(&line, 2, Uint128::new(100)),
            Uint128::new(100)
        );
    }

    #[test]
    fn a_lone_bid_is_paid_the_maximum() {
        let line = award_order(&[revealed(0, 5)]);
        assert_eq!(clearing_price(&line, 0, Uint128::new(80)), Uint128::new(80));
    }

    #[test]
    fn bid_commitment_binds_price_provider_and_task() {
        let salt = [7u8; 16];
        let base = bid_commitment(1, "p", Uint128::new(5), &salt);
        assert_ne!(base, bid_commitment(1, "p", Uint128::new(6), &salt));
        assert_ne!(base, bid_commitment(1, "q", Uint128::new(5), &salt));
        assert_ne!(base, bid_commitment(2, "p", Uint128::new(5), &salt));
        assert_ne!(base, bid_commitment(1, "p", Uint128::new(5), &[8u8; 16]));
    }

    #[test]
    fn windows_are_bounded() {
        assert!(validate(5, 10).is_ok());
        assert!(validate(0, 10).is_err());
        assert!(validate(5, 1).is_err());
        assert!(validate(MAX_AUCTION_WINDOW_BLOCKS + 1, 10).is_err());
    }
}
