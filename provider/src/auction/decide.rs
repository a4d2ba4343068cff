//! An auction bidder's decisions, as pure functions of the task, its bids and the height:
//! what to do next, what the end meant, and whether an award can still be delivered. The job
//! in [`super`] only reads the chain and acts on them.

use opengpu_types::auction::{award_order, BidInfo, BidState};
use opengpu_types::market::TaskInfo;

use crate::shared::Outcome;

/// Blocks a bidder in line but not first waits, past the block an award or hand-over becomes
/// due, before it sends Advance itself (the first in line may be gone).
pub const ADVANCE_GRACE_BLOCKS: u64 = 3;
/// Gas scale of a bid reveal per bid on the task (see [`reveal_gas_scale`]).
const REVEAL_GAS_PER_BID: f64 = 0.75;

/// What a bidder does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Nothing until the chain reaches `until`, or an event moves the auction (`None`: only
    /// an event or the slow poll).
    Wait { until: Option<u64> },
    /// Open the bid.
    RevealBid,
    /// Apply the award or the hand-over that is due.
    Advance,
    /// The award is this provider's: run the kernel, commit and reveal by `execute_deadline`.
    Execute { execute_deadline: u64 },
    /// This provider's part in the auction is over.
    Done(Outcome),
}

/// What `me` does at `height` in auction `task` with `bids` (every bid, in arrival order).
/// `can_open`: the saved bid opens `me`'s sealed commitment.
pub fn next_step(task: &TaskInfo, bids: &[BidInfo], me: &str, height: u64, can_open: bool) -> Step {
    let mine = bids.iter().find(|b| b.provider.as_str() == me);
    if task.status.is_final() {
        return Step::Done(final_outcome(task, mine.map(|b| &b.state), me));
    }
    let Some(mine) = mine else {
        // A bid whose transaction is not confirmed yet may still land while bids are open.
        return if task.bids_closed(height) {
            Step::Done(Outcome::Dropped("bid_not_placed"))
        } else {
            Step::Wait {
                until: Some(task.deadline_height.saturating_add(1)),
            }
        };
    };
    let award = task.auction.as_ref().and_then(|a| a.award.as_ref());
    if let Some(award) = award.filter(|a| a.provider.as_str() == me) {
        return Step::Execute {
            execute_deadline: award.execute_deadline,
        };
    }
    match &mine.state {
        BidState::Sealed {} => {
            if !task.bids_closed(height) {
                Step::Wait {
                    until: Some(task.deadline_height.saturating_add(1)),
                }
            } else if height <= mine.height {
                Step::Wait {
                    until: Some(mine.height.saturating_add(1)),
                }
            } else if height > task.bid_reveal_end() {
                // Forfeited at the award, whoever applies it.
                Step::Done(Outcome::Slashed("bid_forfeited"))
            } else if !can_open {
                Step::Done(Outcome::Failed("bid_unopenable"))
            } else {
                Step::RevealBid
            }
        }
        BidState::Revealed { .. } => {
            // In line: the award, or a hand-over, may still come to this bid. Due once the
            // bid-reveal phase is over with no award (the last reveal applies it by itself),
            // or once the awardee's execution window is over.
            let due = match award {
                None => task.bid_reveal_end(),
                Some(award) => award.execute_deadline,
            }
            .saturating_add(1);
            let first = award_order(bids).first().map(|(seq, _)| *seq) == Some(mine.seq);
            let mine_due = if first {
                due
            } else {
                due.saturating_add(ADVANCE_GRACE_BLOCKS)
            };
            if height >= mine_due {
                Step::Advance
            } else {
                Step::Wait {
                    until: Some(mine_due),
                }
            }
        }
        // Awarded, but the task's award names another: the chain is between two reads.
        BidState::Awarded { .. } => Step::Wait { until: None },
        state => Step::Done(bid_outcome(Some(state))),
    }
}

/// What a final auction meant for `me`.
pub fn final_outcome(task: &TaskInfo, mine: Option<&BidState>, me: &str) -> Outcome {
    let paid = task.settlement.as_ref().is_some_and(|s| {
        s.winner.as_str() == me || s.shares.iter().any(|share| share.provider.as_str() == me)
    });
    if paid {
        Outcome::Won
    } else {
        bid_outcome(mine)
    }
}

/// The outcome a bid in `state` stands for, unpaid.
fn bid_outcome(state: Option<&BidState>) -> Outcome {
    match state {
        Some(BidState::Won { .. }) => Outcome::Won,
        Some(BidState::Defaulted { .. }) => Outcome::Slashed("defaulted"),
        Some(BidState::Forfeited {}) => Outcome::Slashed("bid_forfeited"),
        // Delivered, no match with the client's reference hash: released, not paid.
        Some(BidState::Refused { .. }) => Outcome::Failed("result_refused"),
        _ => Outcome::Lost,
    }
}

/// How many times the usual gas a bid reveal asks for, on a task with `bid_count` bids: the
/// reveal that comes last in its block applies the award in the same transaction (forfeits,
/// releases and records every bid), and each bidder simulates its reveal before the others'
/// are in. Measured on the localnet: a reveal uses about 185k gas, an award of 3 bids 180k
/// (releases) to 280k (a forfeit) more; 1 + 0.75 per bid covers that with a margin, even at a
/// gas adjustment of 1.
pub fn reveal_gas_scale(bid_count: u32) -> f64 {
    1.0 + REVEAL_GAS_PER_BID * f64::from(bid_count)
}

/// Whether a bid in `state` held the award at some point.
pub fn held_award(state: &BidState) -> bool {
    matches!(
        state,
        BidState::Awarded { .. }
            | BidState::Won { .. }
            | BidState::Defaulted { .. }
            | BidState::Refused { .. }
    )
}

/// Why an awardee can no longer deliver, if it cannot (`height` unset: only the award is
/// checked). Committing and revealing take two blocks after `height`, both by the execution
/// deadline.
pub fn award_blocked(task: &TaskInfo, me: &str, height: Option<u64>) -> Option<&'static str> {
    if task.status.is_final() {
        return Some("ended_before_commit");
    }
    let award = task.auction.as_ref().and_then(|a| a.award.as_ref());
    let Some(award) = award.filter(|a| a.provider.as_str() == me) else {
        return Some("award_passed_on");
    };
    match height {
        Some(height) if height.saturating_add(2) > award.execute_deadline => {
            Some("execute_window_missed")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use cosmwasm_std::{Addr, HexBinary, Uint128};
    use opengpu_types::auction::{AuctionState, Award};
    use opengpu_types::market::{CompetitionModel, Settlement, TaskStatus};

    use super::*;

    const ME: &str = "wasm1me";

    /// Bids close after 30, bid reveals until 40, execution windows of 20 blocks.
    fn task(bid_count: u32) -> TaskInfo {
        TaskInfo {
            model: CompetitionModel::Auction {
                bid_reveal_blocks: 10,
                execute_blocks: 20,
            },
            status: TaskStatus::Committed,
            auction: Some(AuctionState {
                bid_count,
                ..AuctionState::default()
            }),
            ..crate::policy::tests::task()
        }
    }

    fn bid(seq: u32, provider: &str, state: BidState) -> BidInfo {
        BidInfo {
            task_id: 1,
            provider: Addr::unchecked(provider),
            seq,
            commitment: HexBinary::from(vec![seq as u8; 32]),
            collateral: Uint128::new(1_000),
            height: 12 + u64::from(seq),
            state,
        }
    }

    fn revealed(price: u128) -> BidState {
        BidState::Revealed {
            price: Uint128::new(price),
            height: 32,
        }
    }

    fn awarded(task: &mut TaskInfo, provider: &str, seq: u32, at: u64) {
        task.auction.as_mut().unwrap().award = Some(Award {
            provider: Addr::unchecked(provider),
            bid_seq: seq,
            bid: Uint128::new(300),
            price: Uint128::new(500),
            awarded_height: at,
            execute_deadline: at + 20,
        });
    }

    fn step(task: &TaskInfo, bids: &[BidInfo], height: u64) -> Step {
        next_step(task, bids, ME, height, true)
    }

    #[test]
    fn a_sealed_bid_waits_for_bids_to_close_then_opens_until_the_phase_ends() {
        let t = task(2);
        let bids = [
            bid(0, ME, BidState::Sealed {}),
            bid(1, "wasm1b", BidState::Sealed {}),
        ];
        assert_eq!(step(&t, &bids, 20), Step::Wait { until: Some(31) });
        assert_eq!(step(&t, &bids, 30), Step::Wait { until: Some(31) });
        assert_eq!(step(&t, &bids, 31), Step::RevealBid);
        assert_eq!(step(&t, &bids, 40), Step::RevealBid);
        assert_eq!(
            step(&t, &bids, 41),
            Step::Done(Outcome::Slashed("bid_forfeited"))
        );
        assert_eq!(
            next_step(&t, &bids, ME, 35, false),
            Step::Done(Outcome::Failed("bid_unopenable"))
        );
    }

    #[test]
    fn every_slot_bid_closes_bids_early_but_the_reveal_waits_a_block_after_the_bid() {
        let mut t = task(2);
        t.max_committers = 2;
        let bids = [
            bid(0, "wasm1a", BidState::Sealed {}),
            bid(1, ME, BidState::Sealed {}),
        ];
        // Own bid in block 13: the reveal goes in a later block.
        assert_eq!(step(&t, &bids, 13), Step::Wait { until: Some(14) });
        assert_eq!(step(&t, &bids, 14), Step::RevealBid);
    }

    #[test]
    fn an_open_bid_advances_at_the_end_of_the_reveal_phase_first_in_line_first() {
        let t = task(3);
        let bids = [
            bid(0, "wasm1a", revealed(400)),
            bid(1, ME, revealed(300)),
            bid(2, "wasm1c", BidState::Sealed {}),
        ];
        // I am first in line: Advance once the phase is over (the sealed one is forfeited).
        assert_eq!(step(&t, &bids, 35), Step::Wait { until: Some(41) });
        assert_eq!(step(&t, &bids, 41), Step::Advance);
        // The second in line gives the first a few blocks.
        assert_eq!(
            next_step(&t, &bids, "wasm1a", 41, true),
            Step::Wait {
                until: Some(41 + ADVANCE_GRACE_BLOCKS)
            }
        );
        assert_eq!(
            next_step(&t, &bids, "wasm1a", 41 + ADVANCE_GRACE_BLOCKS, true),
            Step::Advance
        );
    }

    #[test]
    fn the_awardee_executes_and_the_next_in_line_advances_after_its_window() {
        let mut t = task(3);
        awarded(&mut t, "wasm1a", 0, 36); // must deliver by 56
        let bids = [
            bid(
                0,
                "wasm1a",
                BidState::Awarded {
                    price: Uint128::new(200),
                    clearing: Uint128::new(300),
                    execute_deadline: 56,
                },
            ),
            bid(1, "wasm1c", revealed(400)),
            bid(2, ME, revealed(300)),
        ];
        assert_eq!(
            next_step(&t, &bids, "wasm1a", 40, true),
            Step::Execute {
                execute_deadline: 56
            }
        );
        // I am next in line (300 < 400): idle until the window is over, then Advance.
        assert_eq!(step(&t, &bids, 40), Step::Wait { until: Some(57) });
        assert_eq!(step(&t, &bids, 57), Step::Advance);
        assert_eq!(
            next_step(&t, &bids, "wasm1c", 57, true),
            Step::Wait {
                until: Some(57 + ADVANCE_GRACE_BLOCKS)
            }
        );

        // The hand-over came to me: a fresh window.
        awarded(&mut t, ME, 2, 57);
        assert_eq!(
            step(&t, &bids, 58),
            Step::Execute {
                execute_deadline: 77
            }
        );
    }

    #[test]
    fn a_bid_out_of_line_ends_the_job_with_its_outcome() {
        let t = task(2);
        let cases = [
            (
                BidState::Void {
                    price: Uint128::new(2_000),
                },
                Outcome::Lost,
            ),
            (BidState::Forfeited {}, Outcome::Slashed("bid_forfeited")),
            (
                BidState::Skipped {
                    price: Uint128::new(3),
                    reason: "no stake".into(),
                },
                Outcome::Lost,
            ),
            (
                BidState::Defaulted {
                    price: Uint128::new(3),
                    reason: "late".into(),
                },
                Outcome::Slashed("defaulted"),
            ),
            (
                BidState::Refused {
                    price: Uint128::new(3),
                    reason: "no match".into(),
                },
                Outcome::Failed("result_refused"),
            ),
        ];
        for (state, outcome) in cases {
            let bids = [bid(0, ME, state.clone()), bid(1, "wasm1b", revealed(5))];
            assert_eq!(step(&t, &bids, 50), Step::Done(outcome), "{state:?}");
        }
    }

    #[test]
    fn a_final_task_ends_the_job_paid_or_not() {
        let mut t = task(2);
        t.status = TaskStatus::Settled;
        t.settlement = Some(Settlement {
            winner: Addr::unchecked(ME),
            paid_to: Addr::unchecked(ME),
            price: Uint128::new(400),
            paid: Uint128::new(396),
            fee: Uint128::new(4),
            refund: Uint128::new(600),
            height: 50,
            shares: vec![],
        });
        let bids = [bid(0, ME, revealed(300)), bid(1, "wasm1b", revealed(400))];
        assert_eq!(step(&t, &bids, 50), Step::Done(Outcome::Won));
        t.settlement.as_mut().unwrap().winner = Addr::unchecked("wasm1b");
        assert_eq!(step(&t, &bids, 50), Step::Done(Outcome::Lost));
        t.status = TaskStatus::Expired;
        t.settlement = None;
        let bids = [bid(
            0,
            ME,
            BidState::Defaulted {
                price: Uint128::new(3),
                reason: "late".into(),
            },
        )];
        assert_eq!(
            step(&t, &bids, 80),
            Step::Done(Outcome::Slashed("defaulted"))
        );
    }

    #[test]
    fn no_bid_on_chain_waits_while_bids_are_open_then_drops() {
        let t = task(1);
        let bids = [bid(0, "wasm1b", BidState::Sealed {})];
        assert_eq!(step(&t, &bids, 20), Step::Wait { until: Some(31) });
        assert_eq!(
            step(&t, &bids, 31),
            Step::Done(Outcome::Dropped("bid_not_placed"))
        );
    }

    #[test]
    fn an_award_can_be_delivered_while_two_blocks_remain() {
        let mut t = task(1);
        assert_eq!(award_blocked(&t, ME, None), Some("award_passed_on"));
        awarded(&mut t, ME, 0, 40); // deadline 60
        assert_eq!(award_blocked(&t, ME, None), None);
        assert_eq!(award_blocked(&t, ME, Some(58)), None);
        assert_eq!(
            award_blocked(&t, ME, Some(59)),
            Some("execute_window_missed")
        );
        assert_eq!(
            award_blocked(&t, "wasm1b", Some(41)),
            Some("award_passed_on")
        );
        t.status = TaskStatus::Settled;
        assert_eq!(award_blocked(&t, ME, Some(41)), Some("ended_before_commit"));
    }

    #[test]
    fn a_reveal_asks_for_more_gas_the_more_bids_an_award_may_settle() {
        assert_eq!(reveal_gas_scale(0), 1.0);
        // A reveal and an award of 3 with a forfeit, as measured, at a gas adjustment of 1.
        assert!(reveal_gas_scale(3) * 185_000.0 > 185_000.0 + 300_000.0);
        assert!(reveal_gas_scale(5) > reveal_gas_scale(4));
    }

    #[test]
    fn the_award_is_counted_for_every_state_that_held_it() {
        let price = Uint128::new(1);
        assert!(held_award(&BidState::Won {
            price,
            clearing: price
        }));
        assert!(held_award(&BidState::Defaulted {
            price,
            reason: String::new()
        }));
        assert!(!held_award(&revealed(1)));
        assert!(!held_award(&BidState::Skipped {
            price,
            reason: String::new()
        }));
    }
}
