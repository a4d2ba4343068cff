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

use std::sync::Mutex;
use std::time::{Duration, Instant};

use cosmwasm_std::Uint128;
use opengpu_client::bid::SealedBid;
use opengpu_types::auction::{award_order, BidInfo, BidState};
use opengpu_types::events::{AuctionAwarded, BidRevealed};
use opengpu_types::market::{ExecuteMsg, TaskInfo, TaskResponse};
use opengpu_types::TaskId;
use tokio::sync::watch;

use crate::job::{self, CommitGate, Execution, Outcome, Shared, Stops};
use crate::metrics::stage;

/// Blocks a bidder in line but not first waits, past the block an award or hand-over becomes
/// due, before it sends Advance itself (the first in line may be gone).
pub const ADVANCE_GRACE_BLOCKS: u64 = 3;
/// Longest wait between looks at the chain while new blocks arrive from the event source:
/// events and heights wake the job, the poll only guards against a missed one.
const SLOW_POLL: Duration = Duration::from_secs(5);
/// The same when no block came from the event source lately (its block subscription is down):
/// windows of a few blocks must not be missed.
const FAST_POLL: Duration = Duration::from_millis(500);
/// A block reported within this long means blocks are arriving.
const BLOCKS_FRESH: Duration = Duration::from_secs(3);
/// Gas scale of a bid reveal per bid on the task (see [`reveal_gas_scale`]).
const REVEAL_GAS_PER_BID: f64 = 0.75;
/// Consecutive failed looks at the chain (one per poll at most) before the job gives up.
const MAX_LOOK_FAILURES: u32 = 60;

/// The chain height as the daemon last saw it, which auction jobs wait on: new blocks from
/// the event source, and the heights jobs read themselves.
pub struct Heights {
    latest: watch::Sender<u64>,
    /// When the event source last reported a block.
    block_seen: Mutex<Option<Instant>>,
}

impl Default for Heights {
    fn default() -> Self {
        Heights {
            latest: watch::channel(0).0,
            block_seen: Mutex::new(None),
        }
    }
}

impl Heights {
    /// Records that the chain reached `height`, waking jobs that wait for it.
    pub fn note(&self, height: u64) {
        self.latest.send_if_modified(|seen| {
            let higher = height > *seen;
            if higher {
                *seen = height;
            }
            higher
        });
    }

    /// A new block from the event source.
    pub fn note_block(&self, height: u64) {
        *self.block_seen.lock().expect("poisoned") = Some(Instant::now());
        self.note(height);
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.latest.subscribe()
    }

    /// How long a job may wait without an event before it looks at the chain itself.
    fn poll(&self) -> Duration {
        let seen = *self.block_seen.lock().expect("poisoned");
        match seen {
            Some(at) if at.elapsed() < BLOCKS_FRESH => SLOW_POLL,
            _ => FAST_POLL,
        }
    }
}

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

/// Fail point `provider::vanish_after_award` (feature `failpoints`,
/// `FAILPOINTS=provider::vanish_after_award=return`): once awarded, do nothing at all (no
/// commit, no reveal, no Advance), so the end-to-end tests see the next bidder take over.
fn vanish_after_award_requested() -> bool {
    fail::fail_point!("provider::vanish_after_award", |_| true);
    false
}

/// The state an auction job reads before each decision.
struct View {
    task: TaskResponse,
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
        let hash = match shared
            .signer
            .broadcast(&shared.contracts.task_market, &bid.bid_msg(), vec![])
            .await
        {
            Ok(hash) => hash,
            Err(e) => {
                shared.bids.remove(self.task_id, self.me());
                tracing::warn!(error = %e, "bid refused");
                return Ok(Some(Outcome::Failed("bid_refused")));
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
            let step = next_step(&view.task.task, &view.bids, &me, view.height, can_open);
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
                    let bid_count = view.task.task.auction.as_ref().map_or(1, |a| a.bid_count);
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
                    let now = Instant::now();
                    let run = Execution {
                        task: view.task,
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
        let market = self.shared.market();
        let task = market.task(self.task_id).await?;
        let bids = market.bids(self.task_id).await?;
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
            .signer
            .execute_scaled(
                &shared.contracts.task_market,
                &sealed.reveal_msg(),
                gas_scale,
            )
            .await
        {
            Ok(tx) => {
                shared.metrics.observe(stage::BID_REVEAL, sent_at.elapsed());
                shared.metrics.auction_bid_reveals.inc();
                shared.bids.remove(self.task_id, self.me());
                self.sealed = None;
                let revealed = tx.event::<BidRevealed>(Some(&shared.contracts.task_market));
                if let Ok(Some(revealed)) = &revealed {
                    if !revealed.valid {
                        tracing::error!(price = %revealed.price, "bid opened void (above the maximum)");
                    }
                }
                let awarded = tx.event::<AuctionAwarded>(Some(&shared.contracts.task_market));
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
        match shared
            .signer
            .execute(&shared.contracts.task_market, &advance, vec![])
            .await
        {
            Ok(tx) => {
                shared.metrics.auction_advances.inc();
                let awarded = tx.event::<AuctionAwarded>(Some(&shared.contracts.task_market));
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

#[cfg(test)]
mod tests {
    use cosmwasm_std::{Addr, HexBinary};
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

    #[cfg(feature = "failpoints")]
    #[test]
    fn the_vanish_fail_point_is_off_unless_configured() {
        assert!(!vanish_after_award_requested());
        fail::cfg("provider::vanish_after_award", "return").unwrap();
        assert!(vanish_after_award_requested());
        fail::remove("provider::vanish_after_award");
        assert!(!vanish_after_award_requested());
    }
}
