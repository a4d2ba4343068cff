//! One auction from this provider's side (rules in `opengpu_types::auction`): place a sealed
//! bid, open it once bids close, and run the kernel only if the award comes to it, at once or
//! later by a hand-over. A lost auction costs the gas of a bid and its reveal, nothing more.
//!
//! ```text
//! taken   save the bid (price, salt) under <state_dir>/bids/, then Bid; collateral locked
//! wait    until bids close (height > deadline, or every slot bid)
//! reveal  RevealBid in a later block than the bid, by the end of the bid-reveal phase;
//!         the saved bid is removed once its reveal is in a block
//! wait    for the award (the last reveal applies it; or, once the bid-reveal phase is over,
//!         the first bidder in line sends Advance, the others a few blocks later)
//! award   to this provider: run, check, Commit, Reveal in the next block (the common path of
//!         `job::execute`), paid at the reveal
//!         to another: stay in view while this bid is in line: when the awardee's execution
//!         window passes undelivered, the next bidder in line sends Advance and, when that
//!         is this provider, executes within its own fresh window
//! end     the task is final, or this bid is out of line (void, forfeited, skipped, defaulted)
//! ```
//!
//! Every decision is [`next_step`], a pure function of the task, its bids and the height. The
//! job re-reads those whenever an auction event for its task arrives, the chain reaches the
//! height it waits for (new blocks from the event source), or a slow poll comes round.

use std::time::Instant;

use cosmwasm_std::Uint128;
use opengpu_client::bid::SealedBid;
use opengpu_types::auction::{BidInfo, BidState};
use opengpu_types::events::{AuctionAwarded, BidRevealed};
use opengpu_types::market::{ExecuteMsg, TaskInfo, TaskResponse};
use opengpu_types::TaskId;

use crate::job::{self, CommitGate, Execution};
use crate::metrics::stage;
use crate::shared::{Outcome, Shared, Stops};

mod decide;

pub use decide::{
    award_blocked, final_outcome, held_award, next_step, reveal_gas_scale, Step,
    ADVANCE_GRACE_BLOCKS,
};

/// Consecutive failed looks at the chain (one per poll at most) before the job gives up.
const MAX_LOOK_FAILURES: u32 = 60;

/// Where an auction job starts.
pub enum Start {
    /// A new bid of `price` on `task`, just taken by the policy.
    Bid {
        task: Box<TaskResponse>,
        price: Uint128,
        received_at: Instant,
    },
    /// A bid placed before (a restart, or an award event for a task no job follows): its
    /// salt, while it is sealed, is on disk.
    Resume,
}

/// Fail point `provider::vanish_after_award` (feature `failpoints`,
/// `FAILPOINTS=provider::vanish_after_award=return`): once awarded, do nothing at all (no
/// commit, no reveal, no Advance), so the end-to-end tests see the next bidder take over.
fn vanish_after_award_requested() -> bool {
    fail::fail_point!("provider::vanish_after_award", |_| true);
    false
}

/// The state an auction job reads before each decision.
struct View {
    /// Without its kernel: read again at each step, the kernel only when executing.
    task: TaskInfo,
    bids: Vec<BidInfo>,
    height: u64,
}

struct Job<'a> {
    shared: &'a Shared,
    task_id: TaskId,
    cancel: &'a Stops,
    /// The saved bid (price and salt) while it is sealed.
    sealed: Option<SealedBid>,
    /// This job placed the bid (it counts it once it is in a block).
    placed_here: bool,
    /// The bid is on chain (counted as won or lost when the job ends).
    on_chain: bool,
    /// This provider held the award at some point.
    awarded: bool,
    /// The `vanish_after_award` fail point fired: do nothing more.
    vanished: bool,
    /// The last bid state seen.
    last_state: Option<BidState>,
}

pub async fn run(
    shared: &Shared,
    task_id: TaskId,
    start: Start,
    cancel: &Stops,
) -> anyhow::Result<Outcome> {
    let me = shared.address();
    let mut job = Job {
        shared,
        task_id,
        cancel,
        sealed: None,
        placed_here: false,
        on_chain: false,
        awarded: false,
        vanished: false,
        last_state: None,
    };
    let outcome = match start {
        Start::Bid {
            task,
            price,
            received_at,
        } => match job.bid(*task, price, received_at).await? {
            Some(outcome) => Ok(outcome),
            None => job.follow().await,
        },
        Start::Resume => {
            job.sealed = shared.bids.load(task_id, me).unwrap_or_else(|e| {
                tracing::error!(error = %e, "saved bid unreadable");
                None
            });
            job.follow().await
        }
    };
    if job.on_chain && !matches!(outcome, Ok(Outcome::Abandoned)) {
        let held = job.awarded || job.last_state.as_ref().is_some_and(held_award);
        if held {
            shared.metrics.auctions_won.inc();
        } else {
            shared.metrics.auctions_lost.inc();
        }
    }
    outcome
}

impl Job<'_> {
    fn me(&self) -> &str {
        self.shared.address()
    }

    /// Saves, then places, the sealed bid. `Some` when the job ends here.
    async fn bid(
        &mut self,
        task: TaskResponse,
        price: Uint128,
        received_at: Instant,
    ) -> anyhow::Result<Option<Outcome>> {
        let shared = self.shared;
        let bid = SealedBid::new(self.task_id, self.me(), price);
        // Never a bid without its salt on disk: only the salt opens it.
        if let Err(e) = shared.bids.save(&bid) {
            tracing::error!(error = %e, "cannot save the bid; not bidding");
            return Ok(Some(Outcome::Failed("bid_not_saved")));
        }
        self.sealed = Some(bid.clone());
        let sent_at = Instant::now();
        let hash = match shared.chain.broadcast(&bid.bid_msg()).await {
            Ok(hash) => hash,
            Err(e) if e.never_sent() => {
                shared.bids.remove(self.task_id, self.me());
                tracing::warn!(error = %e, "bid refused");
                return Ok(Some(Outcome::Failed("bid_refused")));
            }
            // The node may have taken it before the answer was lost: as a bid not confirmed,
            // the salt is kept and the auction followed.
            Err(e) => {
                self.placed_here = true;
                shared.reservations.release(self.task_id);
                tracing::warn!(
                    error = %e,
                    "bid broadcast unanswered: it may still land; following the auction"
                );
                return Ok(None);
            }
        };
        self.placed_here = true;
        let included = shared.chain.wait_for_tx(hash).await;
        shared.metrics.observe(stage::BID, sent_at.elapsed());
        shared.reservations.release(self.task_id); // locked in the vault now, or not at all
        match included {
            Ok(tx) => {
                self.on_chain = true;
                shared.metrics.auction_bids.inc();
                tracing::info!(
                    height = tx.height,
                    %price,
                    maximum = %task.task.budget,
                    denom = task.task.denom,
                    bids_close_after = task.task.deadline_height,
                    reveal_by = task.task.bid_reveal_end(),
                    since_event_ms = received_at.elapsed().as_millis() as u64,
                    "bid placed"
                );
                Ok(None)
            }
            Err(opengpu_client::Error::TxFailed { reason, .. }) => {
                shared.bids.remove(self.task_id, self.me());
                tracing::warn!(reason, "bid failed in its block");
                Ok(Some(Outcome::Failed("bid_failed")))
            }
            // Not seen in a block in time: it may still land, so the salt is kept and the
            // auction followed (no bid on chain once bids close: dropped).
            Err(e) => {
                tracing::warn!(error = %e, "bid not confirmed; following the auction");
                Ok(None)
            }
        }
    }

    /// Follows the auction until this provider's part in it is over.
    async fn follow(&mut self) -> anyhow::Result<Outcome> {
        let mut failures = 0;
        let mut kernel_failures = 0;
        loop {
            let view = match self.look().await {
                Ok(view) => {
                    failures = 0;
                    view
                }
                Err(e) => {
                    failures += 1;
                    if failures >= MAX_LOOK_FAILURES {
                        return Err(e);
                    }
                    tracing::warn!(error = %e, failures, "cannot read the auction; retrying");
                    if !self.wait(None).await {
                        return Ok(Outcome::Abandoned);
                    }
                    continue;
                }
            };
            let me = self.me().to_string();
            let mine = view.bids.iter().find(|b| b.provider.as_str() == me);
            if let Some(mine) = mine {
                if !self.on_chain && self.placed_here {
                    self.shared.metrics.auction_bids.inc();
                }
                self.on_chain = true;
                self.last_state = Some(mine.state.clone());
            }
            let can_open = match (&self.sealed, mine) {
                (Some(sealed), Some(mine)) => sealed.commitment() == mine.commitment,
                _ => false,
            };
            let step = next_step(&view.task, &view.bids, &me, view.height, can_open);
            tracing::debug!(height = view.height, ?step, "auction step");
            let next_block = Some(view.height.saturating_add(1));
            match step {
                Step::Done(outcome) => return Ok(self.finish(outcome)),
                Step::Wait { until } => {
                    if !self.wait(until).await {
                        return Ok(Outcome::Abandoned);
                    }
                }
                Step::RevealBid => {
                    let bid_count = view.task.auction.as_ref().map_or(1, |a| a.bid_count);
                    self.reveal_bid(bid_count).await;
                    if !self.wait(next_block).await {
                        return Ok(Outcome::Abandoned);
                    }
                }
                Step::Advance => {
                    self.advance(view.height).await;
                    if !self.wait(next_block).await {
                        return Ok(Outcome::Abandoned);
                    }
                }
                Step::Execute { execute_deadline } => {
                    if !self.awarded {
                        self.awarded = true;
                        tracing::info!(
                            height = view.height,
                            execute_deadline,
                            "awarded: executing"
                        );
                        if vanish_after_award_requested() {
                            tracing::warn!(
                                "fail point provider::vanish_after_award: doing nothing with \
                                 the award (no commit, no reveal, no advance)"
                            );
                            self.vanished = true;
                        }
                    }
                    if self.vanished {
                        // Silent until the award passes on and this bid is out of line.
                        if !self.wait(Some(execute_deadline.saturating_add(1))).await {
                            return Ok(Outcome::Abandoned);
                        }
                        continue;
                    }
                    // The kernel, read once: only the run needs it.
                    let task = match self.shared.chain.task(self.task_id).await {
                        Ok(task) => task,
                        Err(e) => {
                            kernel_failures += 1;
                            if kernel_failures >= MAX_LOOK_FAILURES {
                                return Err(e.into());
                            }
                            tracing::warn!(error = %e, "cannot read the kernel; retrying");
                            if !self.wait(None).await {
                                return Ok(Outcome::Abandoned);
                            }
                            continue;
                        }
                    };
                    let now = Instant::now();
                    let run = Execution {
                        task,
                        offer: None,
                        taken_at: now,
                        received_at: now,
                        gate: CommitGate::Award,
                    };
                    return job::execute(self.shared, run, self.cancel).await;
                }
            }
        }
    }

    /// The task, its bids and the height (read first, so that the state is never older).
    async fn look(&self) -> anyhow::Result<View> {
        let height = self.shared.chain.height().await?;
        self.shared.heights.note(height);
        let task = self.shared.chain.task_info(self.task_id).await?;
        let bids = self.shared.chain.bids(self.task_id).await?;
        Ok(View { task, bids, height })
    }

    /// The end of this provider's part: the saved bid is of no use any more, unless it could
    /// not open the bid on chain (kept for inspection).
    fn finish(&self, outcome: Outcome) -> Outcome {
        if outcome == Outcome::Failed("bid_unopenable") {
            tracing::error!(
                bid = %self.shared.bids.path(self.task_id, self.me()).display(),
                "NO SAVED BID OPENS THIS PROVIDER'S SEALED BID ON CHAIN (salt lost, or another \
                 key): its collateral is forfeited when the bid-reveal phase ends"
            );
        } else {
            self.shared.bids.remove(self.task_id, self.me());
        }
        tracing::info!(?outcome, "auction over for this provider");
        outcome
    }

    async fn reveal_bid(&mut self, bid_count: u32) {
        let Some(sealed) = self.sealed.clone() else {
            return;
        };
        let shared = self.shared;
        let sent_at = Instant::now();
        let gas_scale = reveal_gas_scale(bid_count);
        match shared
            .chain
            .execute_scaled(&sealed.reveal_msg(), gas_scale)
            .await
        {
            Ok(tx) => {
                shared.metrics.observe(stage::BID_REVEAL, sent_at.elapsed());
                shared.metrics.auction_bid_reveals.inc();
                shared.bids.remove(self.task_id, self.me());
                self.sealed = None;
                let revealed = tx.event::<BidRevealed>(Some(shared.chain.market()));
                if let Ok(Some(revealed)) = &revealed {
                    if !revealed.valid {
                        tracing::error!(price = %revealed.price, "bid opened void (above the maximum)");
                    }
                }
                let awarded = tx.event::<AuctionAwarded>(Some(shared.chain.market()));
                tracing::info!(
                    height = tx.height,
                    price = %sealed.price,
                    awarded_to = awarded.ok().flatten().map(|a| a.provider),
                    "bid revealed"
                );
            }
            // Most often the node is a block behind the height it reported: the next block
            // retries, while the bid-reveal phase lasts.
            Err(e) => tracing::info!(error = %e, "bid reveal not accepted; retrying next block"),
        }
    }

    async fn advance(&self, height: u64) {
        let shared = self.shared;
        let advance = ExecuteMsg::Advance {
            task_id: self.task_id,
        };
        match shared.chain.execute(&advance).await {
            Ok(tx) => {
                shared.metrics.auction_advances.inc();
                let awarded = tx.event::<AuctionAwarded>(Some(shared.chain.market()));
                let awarded = awarded.ok().flatten();
                tracing::info!(
                    height = tx.height,
                    awarded_to = awarded.as_ref().map(|a| a.provider.as_str()),
                    round = awarded.as_ref().map(|a| a.round),
                    "advanced the auction"
                );
            }
            // Usually someone advanced first ("nothing to advance"); the next look tells.
            Err(e) => tracing::debug!(height, error = %e, "advance not accepted"),
        }
    }

    /// Waits for the chain to reach `until`, an event on this task, the task's end, or the
    /// slow poll; `false` when the daemon is stopping (the saved bid stays for a restart).
    async fn wait(&self, until: Option<u64>) -> bool {
        let mut heights = self.shared.heights.subscribe();
        let reached = async move {
            match until {
                Some(target) => {
                    if heights.wait_for(|h| *h >= target).await.is_err() {
                        std::future::pending::<()>().await;
                    }
                }
                None => std::future::pending().await,
            }
        };
        // An ended task is seen at the next look; a node that lags behind the event is
        // polled, not spun on.
        let ended = self.cancel.task_ended.is_cancelled();
        tokio::select! {
            _ = self.cancel.shutdown.cancelled() => false,
            _ = self.cancel.task_ended.cancelled(), if !ended => true,
            _ = self.cancel.nudge.notified() => true,
            _ = reached => true,
            _ = tokio::time::sleep(self.shared.heights.poll()) => true,
        }
    }
}

#[cfg(all(test, feature = "failpoints"))]
mod tests {
    use super::*;

    #[test]
    fn the_vanish_fail_point_is_off_unless_configured() {
        crate::fake::assert_fail_point_toggles(
            "provider::vanish_after_award",
            vanish_after_award_requested,
        );
    }
}
