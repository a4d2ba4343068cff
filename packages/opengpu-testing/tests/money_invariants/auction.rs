//! Auctions in the random sequences (`CompetitionModel::Auction`, rules in
//! `opengpu_types::auction`): sealed bids at any price (0 and above the maximum included) from
//! any provider or the stranger, bid reveals with the right or a wrong salt or price, `Advance`
//! from anyone, the awardee's commit and reveal with valid and invalid results (or none: an
//! awardee may vanish before or after its commit), and bidders released at the award that
//! unbond or pause while still in line, so that hand-overs must skip them.
//!
//! The harness keeps its own record of every bid (who, at what price, whether it opened it)
//! and derives from it where each auction must stand after every step: the line of valid
//! opened bids, lowest price first and earliest among equals; the first of them that has not
//! failed holds the award at the next price up in that line (`clearing_price`), and every bid
//! behind it is still in line. Each bid's collateral is followed through the ledger and the
//! vault's locks: locked while sealed, while opened before the award, and while awarded;
//! forfeited to the client when never opened; slashed into the market when the awardee
//! defaults, held there (`AuctionState::held`) and paid with the price to the bidder who
//! delivers, or to the client with its refund when nobody does; released otherwise. Whether a
//! `Bid`, a `RevealBid` or an `Advance` is accepted is predicted from the rules before it is
//! sent.

use opengpu_types::auction::{award_order, clearing_price, AuctionState, BidState};
use opengpu_types::registry::ProviderResponse;

use super::*;

/// The harness's record of the auctions.
#[derive(Default)]
pub(super) struct Model {
    /// Every accepted bid of each live auction, in arrival order (its `seq`).
    bids: BTreeMap<TaskId, Vec<ModelBid>>,
    /// The auction an accepted auction message addressed this step: nothing the heights decide
    /// may be left undone after it.
    pub(super) touched: Option<TaskId>,
}

impl Model {
    pub(super) fn forget_closed(&mut self, live: impl Fn(&TaskId) -> bool) {
        self.bids.retain(|id, _| live(id));
    }

    fn of(&self, id: TaskId) -> &[ModelBid] {
        self.bids.get(&id).map_or(&[], Vec::as_slice)
    }
}

#[derive(Clone, Copy, Debug)]
struct ModelBid {
    provider: usize,
    price: u128,
    opened: bool,
}

#[derive(Clone, Debug)]
pub(super) enum AuctionAction {
    /// A sealed bid (salt `SALT`); `provider` PROVIDERS is the stranger.
    Bid {
        provider: usize,
        task: TaskPick,
        price: BidPrice,
    },
    /// Opens a bid; modelled picks prefer a sealed bid that may open now.
    RevealBid {
        pick: Pick,
        wrong: Option<Wrong>,
    },
    Advance {
        sender: usize,
        task: TaskPick,
    },
    /// A burst: someone commits to a result for an auction (preferably one whose award or
    /// hand-over is due, or whose awardee is in its window) and, when `reveal`, reveals it a
    /// block later. The awardee; the next bid in line (for the first award, or the first able
    /// one for a hand-over, which its commit carries when due); or any provider.
    Execute {
        task: TaskPick,
        who: Executor,
        seed: u32,
        reveal: bool,
    },
    /// One step of `Execute`: `provider` commits to answer `seed`.
    Commit {
        provider: usize,
        task: TaskPick,
        seed: u32,
    },
    /// The `k`th bidder in line behind the awardee of an auction, released at the award, leaves
    /// the line (with nobody in line, any provider does the same): hand-overs must skip it.
    LeaveLine {
        task: TaskPick,
        k: usize,
        how: Leave,
    },
    /// A whole auction in a few steps: publish, some providers bid, bids close, some bids are
    /// opened (when all are, the last reveal awards); then, if anything follows, the award is
    /// made (past the bid reveals, by anyone's `Advance`, or lazily by the awardee's commit),
    /// the first bidder behind the awardee may leave the line, and the awardee works or
    /// vanishes.
    Round {
        publish: Publish,
        prices: Vec<Option<BidPrice>>,
        reveal: Vec<bool>,
        leave: Option<Leave>,
        then: Option<Then>,
    },
}

/// What the awardee does at the end of a `Round`.
#[derive(Clone, Copy, Debug)]
pub(super) enum Then {
    /// `Execute`: commits the answer `seed`, and reveals it when `reveal`.
    Execute { seed: u32, reveal: bool },
    /// Vanishes; after its window the next bidder in line executes, its commit carrying the
    /// hand-over.
    Replaced { seed: u32, reveal: bool },
    /// Nothing; with `hand_over`, its window passes and anyone's `Advance` hands the task on.
    Vanish { hand_over: bool },
}

/// A bid's price, relative to the task's maximum (its budget).
#[derive(Clone, Copy, Debug)]
pub(super) enum BidPrice {
    Zero,
    /// This many thousandths of the maximum, at least 1.
    Permille(u128),
    /// The maximum plus this.
    Above(u128),
}

impl BidPrice {
    fn of(self, budget: u128) -> u128 {
        match self {
            BidPrice::Zero => 0,
            BidPrice::Permille(p) => (budget * p / 1_000).max(1),
            BidPrice::Above(extra) => budget + extra,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Wrong {
    Salt,
    Price,
}

#[derive(Clone, Copy, Debug)]
pub(super) enum Executor {
    Awardee,
    NextInLine,
    Provider(usize),
}

#[derive(Clone, Copy, Debug)]
pub(super) enum Leave {
    /// Unbonds all its free stake: no longer eligible.
    UnbondAll,
    /// Unbonds just enough that its free stake is one below the collateral.
    UnbondBelowCollateral,
    Pause,
}

/// A heavy auction's collateral factor: up to 2,500 of a provider's 3,000 bonded, so that a
/// bidder that unbonds below it stays bonded above the minimum (1,000), eligible but short.
pub(super) const HEAVY: u128 = 5;

/// Short windows, so that random sequences reach awards, hand-overs and expiry.
pub(super) fn model() -> impl Strategy<Value = ModelPick> {
    (1..=4u64, 2..=6u64, prop::bool::weighted(0.25)).prop_map(
        |(bid_reveal_blocks, execute_blocks, heavy)| ModelPick::Auction {
            bid_reveal_blocks,
            execute_blocks,
            heavy,
        },
    )
}

fn bid_price() -> impl Strategy<Value = BidPrice> {
    prop_oneof![
        1 => Just(BidPrice::Zero),
        // A few common prices, so that ties happen.
        2 => prop_oneof![Just(250u128), Just(500), Just(1_000)].prop_map(BidPrice::Permille),
        6 => (1..=1_000u128).prop_map(BidPrice::Permille),
        1 => (1..=100u128).prop_map(BidPrice::Above),
    ]
}

pub(super) fn action() -> impl Strategy<Value = AuctionAction> {
    let sender = prop_oneof![3 => 0..3usize, 1 => 3..SENDERS];
    let bidder = prop_oneof![9 => 0..PROVIDERS, 1 => Just(PROVIDERS)];
    let wrong = prop_oneof![
        8 => Just(None),
        1 => Just(Some(Wrong::Salt)),
        1 => Just(Some(Wrong::Price)),
    ];
    let executor = prop_oneof![
        4 => Just(Executor::Awardee),
        2 => Just(Executor::NextInLine),
        1 => (0..PROVIDERS).prop_map(Executor::Provider),
    ];
    let leave = prop_oneof![
        1 => Just(Leave::UnbondAll),
        2 => Just(Leave::UnbondBelowCollateral),
        1 => Just(Leave::Pause),
    ];
    prop_oneof![
        4 => (bidder, task_pick(), bid_price())
            .prop_map(|(provider, task, price)| AuctionAction::Bid { provider, task, price }),
        4 => (pick(), wrong).prop_map(|(pick, wrong)| AuctionAction::RevealBid { pick, wrong }),
        2 => (sender, task_pick())
            .prop_map(|(sender, task)| AuctionAction::Advance { sender, task }),
        4 => (task_pick(), executor, seed(), prop::bool::weighted(0.7)).prop_map(
            |(task, who, seed, reveal)| AuctionAction::Execute { task, who, seed, reveal }
        ),
        1 => (task_pick(), any::<usize>(), leave.clone())
            .prop_map(|(task, k, how)| AuctionAction::LeaveLine { task, k, how }),
        2 => (
            publish_with(model()),
            prop::collection::vec(prop::option::weighted(0.8, bid_price()), PROVIDERS),
            prop::collection::vec(prop::bool::weighted(0.85), PROVIDERS),
            prop::option::weighted(0.3, leave),
            prop::option::weighted(0.85, then()),
        )
            .prop_map(|(publish, prices, reveal, leave, then)| AuctionAction::Round {
                publish,
                prices,
                reveal,
                leave,
                then,
            }),
    ]
}

fn then() -> impl Strategy<Value = Then> {
    prop_oneof![
        5 => (seed(), prop::bool::weighted(0.8))
            .prop_map(|(seed, reveal)| Then::Execute { seed, reveal }),
        3 => (seed(), prop::bool::weighted(0.8))
            .prop_map(|(seed, reveal)| Then::Replaced { seed, reveal }),
        2 => Just(Then::Vanish { hand_over: true }),
        1 => Just(Then::Vanish { hand_over: false }),
    ]
}

/// The bids of task `id` in a snapshot, in arrival order.
pub(super) fn task_bids(snapshot: &Snapshot, id: TaskId) -> impl Iterator<Item = &BidInfo> {
    snapshot
        .bids
        .range((id, 0)..=(id, u32::MAX))
        .map(|(_, bid)| bid)
}

/// The collateral of `provider`'s auction bids still at stake: sealed, awarded, or opened
/// within the maximum before the award (the award releases the others), in live auctions.
pub(super) fn bids_at_stake(after: &Snapshot, provider: &Addr) -> u128 {
    after
        .bids
        .values()
        .filter(|bid| bid.provider == *provider)
        .filter(|bid| {
            let task = &after.tasks[&bid.task_id];
            let awarded = task.auction.as_ref().is_some_and(|a| a.award.is_some());
            !task.status.is_final()
                && match bid.state {
                    BidState::Sealed {} | BidState::Awarded { .. } => true,
                    BidState::Revealed { .. } => !awarded,
                    _ => false,
                }
        })
        .map(|bid| bid.collateral.u128())
        .sum()
}

/// Heights at which a phase of a live task ends.
pub(super) fn phase_ends(task: &TaskInfo) -> Vec<u64> {
    match &task.auction {
        Some(state) => {
            let mut ends = vec![task.deadline_height, task.bid_reveal_end()];
            ends.extend(state.award.as_ref().map(|a| a.execute_deadline));
            ends
        }
        None => vec![
            task.deadline_height,
            task.reveals_close_height(),
            task.confirm_deadline_height(),
        ],
    }
}

/// The line: the valid opened bids of the model, lowest price first, earliest among equals.
fn line(model: &[ModelBid], budget: u128) -> Vec<(u32, Uint128)> {
    let mut line: Vec<(u32, Uint128)> = model
        .iter()
        .enumerate()
        .filter(|(_, m)| m.opened && (1..=budget).contains(&m.price))
        .map(|(seq, m)| (seq as u32, Uint128::new(m.price)))
        .collect();
    line.sort_by_key(|&(seq, price)| (price, seq));
    line
}

/// Whether the heights call for an auction step at `height`, by the model's count of opened
/// bids: the award once bids are closed and all opened or the reveal phase is over; a
/// hand-over once the awardee's window passed.
fn due(task: &TaskInfo, model: &[ModelBid], height: u64) -> bool {
    match task.auction.as_ref().and_then(|a| a.award.as_ref()) {
        Some(award) => height > award.execute_deadline,
        None => {
            let all_open = !model.is_empty() && model.iter().all(|m| m.opened);
            task.bids_closed(height) && (all_open || height > task.bid_reveal_end())
        }
    }
}

fn has_failed(state: &BidState) -> bool {
    matches!(
        state,
        BidState::Defaulted { .. } | BidState::Refused { .. } | BidState::Skipped { .. }
    )
}

/// The moves a bid's state may make in one step.
fn bid_moves(old: &BidState, new: &BidState) -> bool {
    use BidState::*;
    old == new
        || match old {
            Sealed {} => matches!(
                new,
                Revealed { .. } | Void { .. } | Forfeited {} | Awarded { .. }
            ),
            Revealed { .. } => matches!(new, Awarded { .. } | Skipped { .. }),
            Awarded { .. } => matches!(new, Won { .. } | Defaulted { .. } | Refused { .. }),
            _ => false,
        }
}

/// Counts what the auctions' bids reached in a step.
pub(super) fn count_bids(before: &Snapshot, after: &Snapshot) {
    for (key, bid) in &after.bids {
        let old = before.bids.get(key).map(|b| &b.state);
        if old == Some(&bid.state) {
            continue;
        }
        match bid.state {
            BidState::Awarded { .. } => {
                seen(Seen::Award);
                let task = &after.tasks[&bid.task_id];
                if task.auction.as_ref().is_some_and(|a| a.handovers > 0) {
                    seen(Seen::Handover);
                }
            }
            BidState::Defaulted { .. } => seen(Seen::Defaulted),
            BidState::Refused { .. } => seen(Seen::RefusedDelivery),
            BidState::Skipped { .. } => seen(Seen::Skipped),
            BidState::Void { .. } => seen(Seen::VoidBid),
            BidState::Forfeited {} => seen(Seen::ForfeitedBid),
            _ => {}
        }
    }
}

impl Harness {
    /// Live auctions in `before` that pass `filter`.
    fn live_auctions(&self, before: &Snapshot, filter: impl Fn(&TaskInfo) -> bool) -> Vec<TaskId> {
        before
            .tasks
            .values()
            .filter(|t| t.model.is_auction() && !t.status.is_final() && filter(t))
            .map(|t| t.id)
            .collect()
    }

    /// One of `candidates` when the pick asks for a live task and there is one, else any task.
    fn pick_among(&self, candidates: &[TaskId], task: TaskPick, before: &Snapshot) -> TaskId {
        match candidates.len() {
            n if task.live && n > 0 => candidates[task.k % n],
            _ => self.pick_task(task, before),
        }
    }

    fn index_of_task(&self, id: TaskId) -> Option<usize> {
        self.tasks.iter().position(|t| *t == id)
    }

    /// Why `addr` could not take an auction's collateral now, if it could not: unregistered,
    /// not eligible (paused or under-bonded), or short of free stake (in `before`).
    fn unable(&self, addr: &Addr, collateral: Uint128, before: &Snapshot) -> Option<String> {
        let registered: StdResult<ProviderResponse> = self.suite.app.wrap().query_wasm_smart(
            &self.suite.registry,
            &registry::QueryMsg::Provider {
                address: addr.to_string(),
            },
        );
        match registered {
            Err(_) => return Some("not registered".into()),
            Ok(r) if !r.eligible => return Some("not eligible".into()),
            Ok(_) => {}
        }
        match before.stakes.get(addr) {
            Some(stake) if stake.free >= collateral => None,
            Some(stake) => Some(format!("free stake {} below {collateral}", stake.free)),
            None => Some("never bonded".into()),
        }
    }

    /// Sends one auction action; on success, updates the model. Bids, bid reveals and
    /// `Advance` must be accepted exactly when the rules say.
    pub(super) fn execute_auction(
        &mut self,
        action: &AuctionAction,
        before: &Snapshot,
    ) -> StdResult<()> {
        let height = self.suite.height();
        match *action {
            AuctionAction::Bid {
                provider,
                task,
                price,
            } => {
                let open = self.live_auctions(before, |t| !t.bids_closed(height));
                let id = self.pick_among(&open, task, before);
                let addr = match self.providers.get(provider) {
                    Some(addr) => addr.clone(),
                    None => self.stranger.clone(),
                };
                let info = before.tasks.get(&id);
                let price = price.of(info.map_or(1, |t| t.budget.u128()));
                let again = self.auction.of(id).iter().any(|m| m.provider == provider);
                let refusal = match info {
                    None => Some("no such task".to_string()),
                    Some(t) if !t.model.is_auction() => Some("not an auction".into()),
                    Some(t) if t.status.is_final() => Some("closed".into()),
                    Some(t) if t.bids_closed(height) => Some("bids closed".into()),
                    Some(_) if again => Some("already bid".into()),
                    Some(t) => self.unable(&addr, t.collateral, before),
                };
                let result = self.suite.bid(&addr, id, price);
                assert_eq!(
                    result.is_ok(),
                    refusal.is_none(),
                    "bid by {addr} on task {id} at {price}: expected {}, got {result:?}",
                    refusal.as_deref().unwrap_or("acceptance"),
                );
                result?;
                self.auction.bids.entry(id).or_default().push(ModelBid {
                    provider,
                    price,
                    opened: false,
                });
            }
            AuctionAction::RevealBid { ref pick, wrong } => {
                // Modelled: a bid still sealed on chain, one that may open now if there is one.
                let sealed: Vec<(usize, TaskId, u64)> = self
                    .auction
                    .bids
                    .iter()
                    .flat_map(|(&id, bids)| {
                        bids.iter().enumerate().filter_map(move |(seq, m)| {
                            let bid = before.bids.get(&(id, seq as u32))?;
                            (bid.state == BidState::Sealed {})
                                .then_some((m.provider, id, bid.height))
                        })
                    })
                    .collect();
                let ripe: Vec<(usize, TaskId)> = sealed
                    .iter()
                    .filter(|&&(_, id, placed)| {
                        let t = &before.tasks[&id];
                        t.bids_closed(height) && height > placed && height <= t.bid_reveal_end()
                    })
                    .map(|&(provider, id, _)| (provider, id))
                    .collect();
                let pool: Vec<(usize, TaskId)> = if ripe.is_empty() {
                    sealed.iter().map(|&(p, id, _)| (p, id)).collect()
                } else {
                    ripe
                };
                let (provider, id) = match *pick {
                    Pick::Modelled(k) if !pool.is_empty() => pool[k % pool.len()],
                    _ => self.any_pair(pick),
                };
                let entry = self
                    .auction
                    .of(id)
                    .iter()
                    .position(|m| m.provider == provider);
                let price = entry.map_or(1, |seq| self.auction.of(id)[seq].price)
                    + u128::from(wrong == Some(Wrong::Price));
                let salt = if wrong == Some(Wrong::Salt) {
                    WRONG_SALT
                } else {
                    SALT
                };
                let refusal = match (before.tasks.get(&id), entry) {
                    (Some(t), Some(seq)) if !t.status.is_final() => {
                        let bid = &before.bids[&(id, seq as u32)];
                        if bid.state != (BidState::Sealed {}) {
                            Some("already opened or forfeited")
                        } else if !t.bids_closed(height) {
                            Some("bids still open")
                        } else if height <= bid.height {
                            Some("in the bid's block")
                        } else if height > t.bid_reveal_end() {
                            Some("bid reveals over")
                        } else if wrong.is_some() {
                            Some("wrong salt or price")
                        } else {
                            None
                        }
                    }
                    _ => Some("no bid"),
                };
                let addr = self.providers[provider].clone();
                let msg = market::ExecuteMsg::RevealBid {
                    task_id: id,
                    price: Uint128::new(price),
                    salt: salt.as_slice().into(),
                };
                let result = self.suite.execute_market(&addr, &msg, &[]);
                assert_eq!(
                    result.is_ok(),
                    refusal.is_none(),
                    "bid reveal by {addr} on task {id} at {price}: expected {}, got {result:?}",
                    refusal.unwrap_or("acceptance"),
                );
                result?;
                let seq = entry.expect("an accepted reveal has a bid");
                self.auction.bids.get_mut(&id).unwrap()[seq].opened = true;
                self.auction.touched = Some(id);
            }
            AuctionAction::Advance { sender, task } => {
                let live = self.live_auctions(before, |_| true);
                let ready = self.live_auctions(before, |t| due(t, self.auction.of(t.id), height));
                let candidates = if task.k % 2 == 0 && !ready.is_empty() {
                    ready
                } else {
                    live
                };
                let id = self.pick_among(&candidates, task, before);
                let sender = self.sender(sender, id);
                let expected = before.tasks.get(&id).is_some_and(|t| {
                    t.model.is_auction()
                        && !t.status.is_final()
                        && due(t, self.auction.of(id), height)
                });
                let result = self.suite.advance_auction(&sender, id);
                assert_eq!(
                    result.is_ok(),
                    expected,
                    "advance of task {id} at height {height}: got {result:?}"
                );
                result?;
                self.auction.touched = Some(id);
            }
            AuctionAction::Commit {
                provider,
                task,
                seed,
            } => {
                let id = self.pick_task(task, before);
                let addr = self.providers[provider].clone();
                let outputs = self.answers[&(self.kernel_of(id), seed)].clone();
                self.suite.commit_offer(&addr, id, &outputs, None)?;
                self.committed(provider, id, (seed, None));
                self.auction.touched = Some(id);
            }
            AuctionAction::LeaveLine { task, k, how } => {
                // Bidders released at the award, still in line for a hand-over.
                let in_line = |id: TaskId| -> Vec<Addr> {
                    let bids: Vec<BidInfo> = task_bids(before, id).cloned().collect();
                    let awarded = before.tasks[&id]
                        .auction
                        .as_ref()
                        .is_some_and(|a| a.award.is_some());
                    let line = if awarded { award_order(&bids) } else { vec![] };
                    line.iter()
                        .map(|&(seq, _)| bids[seq as usize].provider.clone())
                        .collect()
                };
                let with_line = self.live_auctions(before, |t| !in_line(t.id).is_empty());
                let id = self.pick_among(&with_line, task, before);
                let line = before
                    .tasks
                    .get(&id)
                    .map(|_| in_line(id))
                    .unwrap_or_default();
                let (addr, collateral) = match line.len() {
                    0 => (self.providers[k % PROVIDERS].clone(), Uint128::one()),
                    n => (line[k % n].clone(), before.tasks[&id].collateral),
                };
                let free = before.stakes[&addr].free;
                let amount = match how {
                    Leave::Pause => {
                        self.suite
                            .execute_registry(&addr, &registry::ExecuteMsg::Pause {})?;
                        return Ok(());
                    }
                    Leave::UnbondAll => free,
                    Leave::UnbondBelowCollateral if free >= collateral => {
                        free - collateral + Uint128::one()
                    }
                    Leave::UnbondBelowCollateral => free,
                };
                self.suite.unbond(&addr, amount.u128().max(1))?;
            }
            AuctionAction::Execute { .. } | AuctionAction::Round { .. } => {
                unreachable!("`play_auction` runs bursts as single steps")
            }
        }
        Ok(())
    }

    /// Runs a random auction action: one step, or a burst of steps on one auction.
    pub(super) fn play_auction(&mut self, action: &AuctionAction) {
        match action {
            AuctionAction::Execute {
                task,
                who,
                seed,
                reveal,
            } => {
                let before = self.last.take().unwrap_or_else(|| self.snapshot(None));
                // Auctions where the commit may be accepted: an award (or hand-over) due, that
                // the commit makes first; or, for the awardee, its window still open.
                let height = self.suite.height();
                let ready = self.live_auctions(&before, |t| {
                    let in_window = t
                        .auction
                        .as_ref()
                        .and_then(|a| a.award.as_ref())
                        .is_some_and(|a| height <= a.execute_deadline);
                    due(t, self.auction.of(t.id), height)
                        || (in_window && !matches!(who, Executor::NextInLine))
                });
                let id = self.pick_among(&ready, *task, &before);
                let bids: Vec<BidInfo> = task_bids(&before, id).cloned().collect();
                let awardee = before
                    .tasks
                    .get(&id)
                    .and_then(|t| t.auction.as_ref()?.award.as_ref())
                    .map(|a| a.provider.clone());
                // First in line for the first award; for a hand-over, the first in line behind
                // the awardee able to take the task.
                let collateral = before.tasks.get(&id).map(|t| t.collateral);
                let next = award_order(&bids)
                    .iter()
                    .map(|&(seq, _)| bids[seq as usize].provider.clone())
                    .find(|p| {
                        awardee.is_none()
                            || collateral.is_some_and(|c| self.unable(p, c, &before).is_none())
                    });
                let addr = match *who {
                    Executor::Awardee => awardee.or(next),
                    Executor::NextInLine => next.or(awardee),
                    Executor::Provider(i) => Some(self.providers[i].clone()),
                };
                self.last = Some(before);
                let provider = addr
                    .and_then(|a| self.providers.iter().position(|p| *p == a))
                    .unwrap_or(*seed as usize % PROVIDERS);
                let Some(k) = self.index_of_task(id) else {
                    return;
                };
                let task = TaskPick { live: false, k };
                let commit = AuctionAction::Commit {
                    provider,
                    task,
                    seed: *seed,
                };
                if self.step(&Action::Auction(commit)).is_err() || !reveal {
                    return;
                }
                let _ = self.step(&Action::AdvanceBlocks(1));
                let _ = self.step(&Action::Reveal {
                    pick: Pick::Any {
                        who: provider,
                        task: k,
                    },
                    wrong_salt: false,
                    wrong_price: false,
                });
            }
            AuctionAction::Round {
                publish,
                prices,
                reveal,
                leave,
                then,
            } => {
                if self.step(&Action::Publish(publish.clone())).is_err() {
                    return;
                }
                let k = self.tasks.len() - 1;
                let task = TaskPick { live: false, k };
                for (provider, price) in prices.iter().enumerate() {
                    if let Some(price) = *price {
                        let bid = AuctionAction::Bid {
                            provider,
                            task,
                            price,
                        };
                        let _ = self.step(&Action::Auction(bid));
                    }
                }
                let id = self.tasks[k];
                let (deadline, height) = (self.suite.task(id).deadline_height, self.suite.height());
                let _ = self.step(&Action::AdvanceBlocks(
                    (deadline + 1).saturating_sub(height).max(1),
                ));
                for (who, &open) in reveal.iter().enumerate() {
                    if open && self.auction.of(id).iter().any(|m| m.provider == who) {
                        let pick = Pick::Any { who, task: k };
                        let _ = self.step(&Action::Auction(AuctionAction::RevealBid {
                            pick,
                            wrong: None,
                        }));
                    }
                }
                if leave.is_none() && then.is_none() {
                    return;
                }
                let info = self.suite.task(id);
                let lazy = leave.is_none() && matches!(then, Some(Then::Execute { .. }));
                if info.auction.as_ref().is_some_and(|a| a.award.is_none()) {
                    let wait = (info.bid_reveal_end() + 1).saturating_sub(self.suite.height());
                    let _ = self.step(&Action::AdvanceBlocks(wait.max(1)));
                    if !lazy {
                        let advance = AuctionAction::Advance {
                            sender: STRANGER,
                            task,
                        };
                        let _ = self.step(&Action::Auction(advance));
                    }
                }
                if let Some(how) = *leave {
                    let leave = AuctionAction::LeaveLine { task, k: 0, how };
                    let _ = self.step(&Action::Auction(leave));
                }
                match *then {
                    Some(Then::Execute { seed, reveal }) => {
                        self.play_auction(&AuctionAction::Execute {
                            task,
                            who: Executor::Awardee,
                            seed,
                            reveal,
                        });
                    }
                    Some(then @ (Then::Replaced { .. } | Then::Vanish { hand_over: true })) => {
                        let info = self.suite.task(id);
                        let Some(award) = info.auction.and_then(|a| a.award) else {
                            return;
                        };
                        let wait = (award.execute_deadline + 1).saturating_sub(self.suite.height());
                        let _ = self.step(&Action::AdvanceBlocks(wait.max(1)));
                        let next = match then {
                            Then::Replaced { seed, reveal } => AuctionAction::Execute {
                                task,
                                who: Executor::NextInLine,
                                seed,
                                reveal,
                            },
                            _ => AuctionAction::Advance {
                                sender: 3 + CLIENTS,
                                task,
                            },
                        };
                        self.play_auction(&next);
                    }
                    Some(Then::Vanish { hand_over: false }) | None => {}
                }
            }
            _ => {
                let _ = self.step(&Action::Auction(action.clone()));
            }
        }
    }

    /// The stake-denom collateral an auction step moved: a bid never opened is slashed to the
    /// market and paid on to the client at the award; a defaulting awardee's is slashed to the
    /// market and held there, for the bidder who delivers (paid with its price, at the payout
    /// of its commit) or for the client when the auction expires.
    pub(super) fn auction_ledger(
        &self,
        before: &Snapshot,
        after: &Snapshot,
        ledger: &mut Ledger<'_>,
    ) {
        let s = &self.suite;
        for (&id, task) in &after.tasks {
            let Some(old) = before.tasks.get(&id).filter(|old| old.model.is_auction()) else {
                continue;
            };
            if old.status.is_final() {
                continue;
            }
            let mut held = old.auction.as_ref().map_or(0, |a| a.held.u128());
            for bid in task_bids(after, id) {
                let collateral = bid.collateral.u128();
                match (
                    &bid.state,
                    before.bids.get(&(id, bid.seq)).map(|b| &b.state),
                ) {
                    (BidState::Forfeited {}, Some(BidState::Sealed {})) => {
                        ledger.transfer(&s.vault, &s.market, STAKE_DENOM, collateral);
                        ledger.pay(&task.client, &task.client, STAKE_DENOM, collateral);
                    }
                    (BidState::Defaulted { .. }, Some(BidState::Awarded { .. })) => {
                        ledger.transfer(&s.vault, &s.market, STAKE_DENOM, collateral);
                        held += collateral;
                    }
                    _ => {}
                }
            }
            match (task.status, &task.settlement) {
                (TaskStatus::Settled, Some(settlement)) => {
                    ledger.pay(&settlement.winner, &settlement.paid_to, STAKE_DENOM, held);
                }
                (TaskStatus::Expired, _) => {
                    ledger.pay(&task.client, &task.client, STAKE_DENOM, held);
                }
                _ => {}
            }
        }
    }

    /// An auction settles with its standing awardee, at the next price up in the line of
    /// opened bids (the maximum when it is last), computed here from the harness's own record.
    pub(super) fn assert_auction_settlement(
        &self,
        task: &TaskInfo,
        s: &market::Settlement,
        after: &Snapshot,
    ) {
        let id = task.id;
        let model = self.auction.of(id);
        let line = line(model, task.budget.u128());
        let bids: Vec<&BidInfo> = task_bids(after, id).collect();
        let standing = line
            .iter()
            .position(|&(seq, _)| !has_failed(&bids[seq as usize].state))
            .unwrap_or_else(|| panic!("task {id}: settled with nobody left in line"));
        let (seq, bid) = line[standing];
        assert_eq!(s.shares.len(), 1, "task {id}: one awardee is paid");
        assert_eq!(
            s.winner, self.providers[model[seq as usize].provider],
            "task {id}: paid another than the first bidder in line"
        );
        let price = clearing_price(&line, standing, task.budget);
        assert_eq!(s.price, price, "task {id}: not paid the clearing price");
        assert!(s.price <= task.budget, "task {id}: paid above the maximum");
        assert_eq!(s.refund, task.budget - price, "task {id}: refund");
        assert_eq!(s.paid, price - s.fee, "task {id}: paid");
        assert_eq!(
            bids[seq as usize].state,
            BidState::Won {
                price: bid,
                clearing: price
            },
            "task {id}: the winning bid"
        );
    }

    /// Each live auction after a step stands where the harness's record of its bids says; its
    /// changes in this step are the ones the rules allow (awards when due, hand-overs that skip
    /// only bidders unable to take the task); after an accepted auction message nothing due is
    /// left undone.
    pub(super) fn assert_auction_step(&self, before: &Snapshot, after: &Snapshot, accepted: bool) {
        let height = self.suite.height();
        for (&id, task) in &after.tasks {
            if !task.model.is_auction() {
                continue;
            }
            let state = task
                .auction
                .as_ref()
                .unwrap_or_else(|| panic!("auction {id} without its state"));
            let Some(old) = before.tasks.get(&id) else {
                assert_eq!(state, &AuctionState::default(), "task {id}: a new auction");
                continue;
            };
            if old.status.is_final() {
                continue;
            }
            let old_state = old.auction.clone().unwrap_or_default();
            let model = self.auction.of(id);
            let bids: Vec<&BidInfo> = task_bids(after, id).collect();
            self.assert_bids_match_model(task, model, &bids, before, height);

            let opened = model.iter().filter(|m| m.opened).count();
            assert_eq!(
                state.revealed_count as usize, opened,
                "task {id}: revealed_count"
            );
            let failures = bids
                .iter()
                .filter(|b| {
                    matches!(
                        b.state,
                        BidState::Defaulted { .. } | BidState::Refused { .. }
                    )
                })
                .count();
            assert_eq!(state.handovers as usize, failures, "task {id}: handovers");
            assert_standing(task, model, &bids);

            // What moved in this step.
            let moved = |pred: fn(&BidState) -> bool| -> Vec<&BidInfo> {
                bids.iter()
                    .copied()
                    .filter(|b| {
                        pred(&b.state)
                            && before
                                .bids
                                .get(&(id, b.seq))
                                .is_none_or(|o| o.state != b.state)
                    })
                    .collect()
            };
            let forfeited = moved(|s| matches!(s, BidState::Forfeited {}));
            let failed =
                moved(|s| matches!(s, BidState::Defaulted { .. } | BidState::Refused { .. }));
            let skipped = moved(|s| matches!(s, BidState::Skipped { .. }));
            let decided = old_state.award.is_none()
                && (state.award.is_some() || task.status == TaskStatus::Expired);
            if decided {
                // Judged on the task as it was, without the award.
                assert!(
                    due(old, model, height),
                    "task {id}: awarded or closed at height {height}, before it was due"
                );
            } else {
                assert!(
                    forfeited.is_empty(),
                    "task {id}: bids forfeited outside the award"
                );
            }
            assert!(
                failed.len() <= 1,
                "task {id}: two awardees failed in one step"
            );
            if let Some(failed) = failed.first() {
                let award = old_state
                    .award
                    .as_ref()
                    .expect("the failed bid held the award");
                assert_eq!(failed.seq, award.bid_seq, "task {id}: failed bid");
                let commitment = |snap: &Snapshot| {
                    task_commitments(snap, id)
                        .find(|(_, c)| c.provider == award.provider)
                        .map(|(_, c)| c.state.clone())
                };
                let (was, now) = (commitment(before), commitment(after));
                let revealed_now = was == Some(CommitmentState::Committed {}) && now != was;
                let why = match (&failed.state, &now) {
                    (BidState::Defaulted { .. }, _) if height > award.execute_deadline => true,
                    (BidState::Defaulted { .. }, Some(CommitmentState::Rejected { .. })) => {
                        revealed_now
                    }
                    (BidState::Refused { .. }, Some(CommitmentState::Refused { .. })) => {
                        revealed_now
                    }
                    _ => false,
                };
                assert!(
                    why,
                    "task {id}: awardee {} {} at height {height} (window to {}), its result \
                     {now:?}",
                    award.provider,
                    failed.state.name(),
                    award.execute_deadline
                );
                if matches!(failed.state, BidState::Defaulted { .. }) {
                    let bonded = |snap: &Snapshot| snap.stakes[&award.provider].bonded;
                    assert_eq!(
                        bonded(after) + task.collateral,
                        bonded(before),
                        "task {id}: the defaulted awardee's bond drops by the collateral"
                    );
                }
                for bid in &skipped {
                    assert!(
                        self.unable(&bid.provider, task.collateral, before)
                            .is_some(),
                        "task {id}: {} skipped although able to take the task",
                        bid.provider
                    );
                }
                if let Some(next) = &state.award {
                    let why_not = self.unable(&next.provider, task.collateral, before);
                    assert_eq!(why_not, None, "task {id}: handed over to {}", next.provider);
                }
            } else {
                assert!(
                    skipped.is_empty(),
                    "task {id}: bids skipped without a hand-over"
                );
                assert!(
                    decided || old_state.award == state.award || task.status == TaskStatus::Settled,
                    "task {id}: the award moved without a hand-over"
                );
            }
            // Held: the collateral of every defaulted awardee, until the task closes; the
            // client's share (forfeited) grows by the bids never opened, and at expiry by what
            // was held.
            let defaulted = bids
                .iter()
                .filter(|b| matches!(b.state, BidState::Defaulted { .. }))
                .count() as u128;
            let all_held = task.collateral * Uint128::new(defaulted);
            let unopened = task.collateral * Uint128::new(forfeited.len() as u128);
            let (held, to_client) = match task.status {
                TaskStatus::Settled => (Uint128::zero(), Uint128::zero()),
                TaskStatus::Expired => (Uint128::zero(), unopened + all_held),
                _ => (all_held, unopened),
            };
            assert_eq!(state.held, held, "task {id}: held collateral");
            assert_eq!(
                state.forfeited,
                old_state.forfeited + to_client,
                "task {id}: forfeited collateral"
            );
            // Commitments come from the awardee only, within its window.
            for (key, c) in task_commitments(after, id) {
                if before.commitments.contains_key(key) {
                    continue;
                }
                let award = state.award.as_ref().expect("a commitment needs an award");
                assert_eq!(
                    (&c.provider, c.committed_height, c.reveal_deadline_height),
                    (&award.provider, height, award.execute_deadline),
                    "task {id}: commitment {key:?}"
                );
            }
            if accepted && self.auction.touched == Some(id) && !task.status.is_final() {
                assert!(
                    !due(task, model, height),
                    "task {id}: an auction message left a due step undone at height {height}"
                );
            }
        }
    }

    /// The chain's bids are the harness's, one for one, each opened at the price it was bid
    /// with, void exactly when that price is 0 or above the maximum.
    fn assert_bids_match_model(
        &self,
        task: &TaskInfo,
        model: &[ModelBid],
        bids: &[&BidInfo],
        before: &Snapshot,
        height: u64,
    ) {
        let id = task.id;
        let state = task.auction.as_ref().unwrap();
        assert_eq!(
            bids.len(),
            model.len(),
            "task {id}: bids on chain and accepted"
        );
        assert_eq!(
            state.bid_count as usize,
            model.len(),
            "task {id}: bid_count"
        );
        let budget = task.budget.u128();
        for (seq, (bid, m)) in bids.iter().zip(model).enumerate() {
            let provider = &self.providers[m.provider];
            assert_eq!(
                (bid.task_id, bid.seq as usize, &bid.provider, bid.collateral),
                (id, seq, provider, task.collateral),
                "task {id}: bid {seq}"
            );
            assert_eq!(
                bid.commitment,
                Suite::bid_commitment_for(provider, id, m.price),
                "task {id}: bid {seq}'s commitment"
            );
            match before.bids.get(&(id, seq as u32)) {
                Some(old) => {
                    assert_eq!(old.height, bid.height, "task {id}: bid {seq}'s height");
                    assert!(
                        bid_moves(&old.state, &bid.state),
                        "task {id}: bid {seq} went from {:?} to {:?}",
                        old.state,
                        bid.state
                    );
                }
                None => assert_eq!(
                    (bid.height, &bid.state),
                    (height, &BidState::Sealed {}),
                    "task {id}: new bid {seq}"
                ),
            }
            let valid = (1..=budget).contains(&m.price);
            let consistent = match bid.state {
                BidState::Sealed {} | BidState::Forfeited {} => !m.opened,
                BidState::Void { .. } => m.opened && !valid,
                _ => m.opened && valid,
            };
            assert!(
                consistent,
                "task {id}: bid {seq} at {} (maximum {budget}, opened: {}) is {:?}",
                m.price, m.opened, bid.state
            );
            if let Some(price) = bid.state.price() {
                assert_eq!(
                    price.u128(),
                    m.price,
                    "task {id}: bid {seq} opened at another price"
                );
            }
        }
    }
}

/// Where an auction stands, from the line of valid opened bids: before the award, bids are
/// sealed, opened or void; once awarded, none is sealed, the first bid in line that has not
/// failed holds the award (or won it) at the next price up, and every bid behind it is still
/// in line; expired, nobody is left in line.
#[track_caller]
fn assert_standing(task: &TaskInfo, model: &[ModelBid], bids: &[&BidInfo]) {
    let id = task.id;
    let state = task.auction.as_ref().unwrap();
    let line = line(model, task.budget.u128());
    let standing = line
        .iter()
        .position(|&(seq, _)| !has_failed(&bids[seq as usize].state));
    let sealed = bids.iter().any(|b| b.state == BidState::Sealed {});
    match (&state.award, task.status) {
        (None, TaskStatus::Open | TaskStatus::Committed) => {
            for bid in bids {
                assert!(
                    matches!(
                        bid.state,
                        BidState::Sealed {} | BidState::Revealed { .. } | BidState::Void { .. }
                    ),
                    "task {id}: bid {} is {:?} before the award",
                    bid.seq,
                    bid.state
                );
            }
        }
        (Some(award), TaskStatus::Committed | TaskStatus::Settled) => {
            assert!(!sealed, "task {id}: a bid still sealed after the award");
            let j = standing.unwrap_or_else(|| panic!("task {id}: an award with nobody in line"));
            let (seq, bid) = line[j];
            assert_eq!(
                (award.bid_seq, award.bid, award.price),
                (seq, bid, clearing_price(&line, j, task.budget)),
                "task {id}: the award (line {line:?})"
            );
            assert_eq!(
                award.provider, bids[seq as usize].provider,
                "task {id}: awardee"
            );
            let expected = if task.status == TaskStatus::Settled {
                BidState::Won {
                    price: bid,
                    clearing: award.price,
                }
            } else {
                BidState::Awarded {
                    price: bid,
                    clearing: award.price,
                    execute_deadline: award.execute_deadline,
                }
            };
            assert_eq!(
                bids[seq as usize].state, expected,
                "task {id}: the awarded bid"
            );
            let CompetitionModel::Auction { execute_blocks, .. } = task.model else {
                unreachable!()
            };
            assert_eq!(
                award.execute_deadline,
                award.awarded_height + execute_blocks,
                "task {id}: execution window"
            );
            for &(seq, _) in &line[j + 1..] {
                assert!(
                    matches!(bids[seq as usize].state, BidState::Revealed { .. }),
                    "task {id}: bid {seq} behind the awardee is {:?}",
                    bids[seq as usize].state
                );
            }
        }
        (None, TaskStatus::Expired) => {
            assert!(!sealed, "task {id}: a bid still sealed at expiry");
            assert_eq!(standing, None, "task {id}: expired with a bid in line");
        }
        (None, TaskStatus::Cancelled) => assert!(bids.is_empty(), "task {id}: cancelled with bids"),
        (award, status) => panic!("task {id}: {status} with award {award:?}"),
    }
}

/// Collateral slashed from failed awardees that the market holds for live auctions.
pub(super) fn held(snapshot: &Snapshot) -> u128 {
    snapshot
        .tasks
        .values()
        .filter(|t| !t.status.is_final())
        .filter_map(|t| t.auction.as_ref())
        .map(|a| a.held.u128())
        .sum()
}
