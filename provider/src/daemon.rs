//! The daemon's main loop: events in, decisions made, jobs started and counted. It is the
//! only owner of the bookkeeping (which tasks are in flight, being considered, or done), so
//! no lock is needed and no task is handled twice. The loop never waits for the node: what a
//! decision needs from the chain is read by a consideration spawned off the loop, which
//! reports back ([`Considered`]); the decision itself is made on the loop.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cosmwasm_std::Uint128;
use opengpu_types::market::{CommitmentState, TaskResponse};
use opengpu_types::TaskId;
use tokio::sync::{mpsc, Notify, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::auction;
use crate::job::{self, Start};
use crate::metrics::stage;
use crate::policy::{Rules, Situation};
use crate::shared::{Outcome, Shared, Stops};
use crate::source::{EventSource, SourceEvent, Via};

/// Source events buffered before the source waits for the daemon.
const EVENT_BUFFER: usize = 1024;
/// Considerations reading the chain at once (a catch-up reports every open task together).
const CONSIDERING_AT_ONCE: usize = 8;

pub struct Daemon {
    pub shared: Arc<Shared>,
    pub rules: Rules,
    /// After a stop signal, how long in-flight reveals get to finish.
    pub shutdown_grace: Duration,
    /// Task ids remembered as seen, and as finished ([`Recent`]'s capacity, each).
    pub remembered_tasks: usize,
}

/// Task ids remembered up to a capacity, the one least recently inserted or looked up
/// forgotten first: the daemon's memory stays bounded however long it runs. A task reported
/// again (a catch-up lists every open task) is looked up, and so stays remembered while it is
/// open; one forgotten is only read again from the chain if reported again.
pub(crate) struct Recent {
    capacity: usize,
    /// Each id with the tick of its last use.
    ticks: HashMap<TaskId, u64>,
    /// The same, by tick: the first is the least recently used.
    by_tick: BTreeMap<u64, TaskId>,
    tick: u64,
}

impl Recent {
    pub fn new(capacity: usize) -> Recent {
        Recent {
            capacity: capacity.max(1),
            ticks: HashMap::new(),
            by_tick: BTreeMap::new(),
            tick: 0,
        }
    }

    /// Remembers `task_id` (as just used); `true` when it was not remembered.
    pub fn insert(&mut self, task_id: TaskId) -> bool {
        let new = !self.touch(task_id);
        if new {
            self.tick += 1;
            self.ticks.insert(task_id, self.tick);
            self.by_tick.insert(self.tick, task_id);
            while self.ticks.len() > self.capacity {
                let Some((_, oldest)) = self.by_tick.pop_first() else {
                    break;
                };
                self.ticks.remove(&oldest);
            }
        }
        new
    }

    /// Whether `task_id` is remembered; if so, it counts as just used.
    pub fn touch(&mut self, task_id: TaskId) -> bool {
        let Some(tick) = self.ticks.get_mut(&task_id) else {
            return false;
        };
        self.by_tick.remove(tick);
        self.tick += 1;
        *tick = self.tick;
        self.by_tick.insert(self.tick, task_id);
        true
    }

    pub fn remove(&mut self, task_id: TaskId) {
        if let Some(tick) = self.ticks.remove(&task_id) {
            self.by_tick.remove(&tick);
        }
    }

    pub fn len(&self) -> usize {
        self.ticks.len()
    }
}

struct Active {
    ended: CancellationToken,
    /// Wakes the job when an event moved its task (auctions).
    nudge: Arc<Notify>,
}

struct State {
    active: HashMap<TaskId, Active>,
    /// Tasks this daemon finished with (or saw end); not taken again while remembered.
    finished: Recent,
    /// Tasks counted as seen.
    seen: Recent,
    jobs: JoinSet<(TaskId, Outcome)>,
    jobs_shutdown: CancellationToken,
    /// Tasks whose consideration is under way: not considered again meanwhile.
    considering: HashSet<TaskId>,
    considerations: JoinSet<Considered>,
    consider_slots: Arc<Semaphore>,
}

/// A consideration's report: what it read of a task, for the loop to decide on.
struct Considered {
    task_id: TaskId,
    first_look: bool,
    received_at: Instant,
    via: Via,
    read: anyhow::Result<Read>,
}

/// What the chain says about a task the daemon may take.
enum Read {
    /// This provider committed (or bid) before a restart: the job that finishes that work.
    Resume(Box<Start>),
    /// This provider is done with it (its commitment was decided, or its plan is lost).
    Done,
    /// Open to this provider: the task, and the vault's free stake and the height to decide
    /// with (reservations are deducted at the decision, when they are current).
    Open {
        task: Box<TaskResponse>,
        vault_free: Uint128,
        height: u64,
        /// The latest block from the event source before the task was read, if blocks come.
        read_at: Option<u64>,
    },
}

impl Daemon {
    /// Runs until `shutdown`, taking tasks from `source`.
    pub async fn run(self, source: EventSource, shutdown: CancellationToken) -> anyhow::Result<()> {
        let (events, inbox) = mpsc::channel(EVENT_BUFFER);
        let source_stop = CancellationToken::new();
        let source = tokio::spawn(source.run(events, source_stop.clone()));
        let stop_source = async move {
            source_stop.cancel();
            let _ = source.await;
        };
        self.serve(inbox, shutdown, stop_source).await
    }

    /// Runs until `shutdown`, taking tasks from the events in `inbox`; `stop_source` stops
    /// what sends them, once no new task is taken.
    pub async fn serve(
        self,
        mut inbox: mpsc::Receiver<SourceEvent>,
        shutdown: CancellationToken,
        stop_source: impl Future<Output = ()>,
    ) -> anyhow::Result<()> {
        let mut state = State {
            active: HashMap::new(),
            finished: Recent::new(self.remembered_tasks),
            seen: Recent::new(self.remembered_tasks),
            jobs: JoinSet::new(),
            jobs_shutdown: CancellationToken::new(),
            considering: HashSet::new(),
            considerations: JoinSet::new(),
            consider_slots: Arc::new(Semaphore::new(CONSIDERING_AT_ONCE)),
        };
        self.resume_saved_plans(&mut state)?;
        self.resume_saved_bids(&mut state)?;
        tracing::info!(provider = self.shared.address(), "provider running");

        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                event = inbox.recv() => match event {
                    Some(event) => self.handle(&mut state, event, Instant::now()),
                    None => anyhow::bail!("event source stopped"),
                },
                Some(done) = state.jobs.join_next(), if !state.jobs.is_empty() => {
                    self.record(&mut state, done);
                }
                Some(read) = state.considerations.join_next(), if !state.considerations.is_empty() => {
                    self.decide(&mut state, read);
                }
            }
        }
        state.considerations.abort_all();

        tracing::info!(
            in_flight = state.active.len(),
            "stopping: no new tasks taken"
        );
        stop_source.await;
        state.jobs_shutdown.cancel();
        let deadline = tokio::time::sleep(self.shutdown_grace);
        tokio::pin!(deadline);
        while !state.jobs.is_empty() {
            tokio::select! {
                Some(done) = state.jobs.join_next() => self.record(&mut state, done),
                _ = &mut deadline => break,
            }
        }
        state.jobs.abort_all();
        for task_id in self.shared.store.pending().unwrap_or_default() {
            tracing::error!(
                task_id,
                plan = %self.shared.store.path(task_id).display(),
                "STOPPED WITH A COMMITMENT NOT REVEALED: restart before its reveal window \
                 closes or the collateral is forfeited; the saved plan is revealed on restart"
            );
        }
        let me = self.shared.address();
        for task_id in self.shared.bids.pending(me).unwrap_or_default() {
            tracing::error!(
                task_id,
                bid = %self.shared.bids.path(task_id, me).display(),
                "STOPPED WITH A SEALED BID NOT REVEALED: restart before the task's bid-reveal \
                 phase ends or the collateral is forfeited; the saved bid is revealed on restart"
            );
        }
        Ok(())
    }

    fn record(&self, state: &mut State, done: Result<(TaskId, Outcome), tokio::task::JoinError>) {
        let (task_id, outcome) = match done {
            Ok(done) => done,
            Err(e) => {
                tracing::error!(error = %e, "a task's job panicked");
                return;
            }
        };
        state.active.remove(&task_id);
        state.finished.insert(task_id);
        self.shared.reservations.release(task_id);
        // Its collateral may be free again (or slashed): the vault is read again, off the
        // loop, before the next task needs it.
        self.shared.reservations.forget_free_stake();
        let shared = self.shared.clone();
        tokio::spawn(async move {
            if let Err(e) = shared
                .reservations
                .vault_free_stake(shared.chain.as_ref())
                .await
            {
                tracing::debug!(error = %e, "cannot read the free stake; read at the next decision");
            }
        });
        let metrics = &self.shared.metrics;
        metrics.tasks_in_flight.set(state.active.len() as i64);
        match outcome {
            Outcome::Won => metrics.tasks_won.inc(),
            Outcome::Lost => metrics.tasks_lost.inc(),
            Outcome::Failed(reason) => metrics.failed(reason),
            Outcome::Dropped(reason) => metrics.dropped(reason),
            Outcome::Refused(reason) => metrics.refused(reason),
            Outcome::Slashed(reason) => metrics.slashed(reason),
            Outcome::Abandoned => {}
        }
        tracing::info!(task_id, ?outcome, "task done");
    }

    fn handle(&self, state: &mut State, event: SourceEvent, received_at: Instant) {
        match event {
            SourceEvent::Available { task_id, via } => {
                self.available(state, task_id, via, received_at);
            }
            SourceEvent::Auction { task_id, awardee } => {
                if let Some(active) = state.active.get(&task_id) {
                    active.nudge.notify_one();
                } else if awardee.as_deref() == Some(self.shared.address()) {
                    // Awarded (a hand-over) on a task no job follows any more (one that
                    // failed, say): look again, so the award is executed rather than slashed.
                    tracing::info!(task_id, "awarded a task no job follows: taking it up");
                    state.finished.remove(task_id);
                    self.available(state, task_id, Via::Websocket, received_at);
                }
            }
            SourceEvent::Moved { task_id } => {
                if let Some(active) = state.active.get(&task_id) {
                    active.nudge.notify_one();
                }
            }
            SourceEvent::Included(txs) => {
                for tx in &txs {
                    self.shared.chain.note_included(tx);
                }
                self.shared.heights.note_included(txs);
            }
            SourceEvent::Block(height) => {
                self.shared.heights.note_block(height);
                self.shared
                    .metrics
                    .chain_height
                    .set(i64::try_from(height).unwrap_or(i64::MAX));
            }
            SourceEvent::Ended { task_id, status } => {
                if let Some(active) = state.active.get(&task_id) {
                    tracing::debug!(task_id, %status, "task ended on chain");
                    active.ended.cancel();
                } else {
                    state.finished.insert(task_id);
                }
            }
            SourceEvent::CaughtUp { open_tasks } => {
                tracing::info!(
                    open_tasks,
                    in_flight = state.active.len(),
                    remembered_seen = state.seen.len(),
                    remembered_finished = state.finished.len(),
                    "caught up"
                );
            }
        }
    }

    /// A task that may take commits (or bids): considered unless in flight, under
    /// consideration or finished. The chain is read off the loop ([`consider`]); the
    /// decision comes back to it ([`Daemon::decide`]).
    fn available(&self, state: &mut State, task_id: TaskId, via: Via, received_at: Instant) {
        if state.active.contains_key(&task_id)
            || state.considering.contains(&task_id)
            || state.finished.touch(task_id)
        {
            return;
        }
        let first_look = state.seen.insert(task_id);
        if first_look {
            self.shared.metrics.tasks_seen.inc();
        }
        state.considering.insert(task_id);
        let shared = self.shared.clone();
        let slots = state.consider_slots.clone();
        let span = tracing::info_span!(parent: None, "task", id = task_id);
        state.considerations.spawn(
            async move {
                let read = match slots.acquire_owned().await {
                    Ok(_slot) => consider(&shared, task_id).await,
                    Err(e) => Err(e.into()),
                };
                Considered {
                    task_id,
                    first_look,
                    received_at,
                    via,
                    read,
                }
            }
            .instrument(span),
        );
    }

    /// Applies the policy to what a consideration read, and starts a job when the task is
    /// taken (or resumed).
    fn decide(&self, state: &mut State, done: Result<Considered, tokio::task::JoinError>) {
        let Considered {
            task_id,
            first_look,
            received_at,
            via,
            read,
        } = match done {
            Ok(considered) => considered,
            Err(e) => {
                tracing::error!(error = %e, "a task's consideration panicked");
                return;
            }
        };
        state.considering.remove(&task_id);
        let _span = tracing::info_span!("task", id = task_id).entered();
        // The task ended on chain while it was read (its end event came meanwhile).
        let ended = state.finished.touch(task_id);
        let (task, vault_free, height, read_at) = match read {
            Err(e) => {
                tracing::warn!(task_id, ?via, error = %e, "cannot consider task");
                return;
            }
            Ok(Read::Done) => {
                state.finished.insert(task_id);
                return;
            }
            Ok(Read::Resume(start)) => {
                if ended {
                    state.finished.remove(task_id);
                }
                self.spawn(state, task_id, *start);
                if ended {
                    // The job reads the chain first and finds the task final.
                    if let Some(active) = state.active.get(&task_id) {
                        active.ended.cancel();
                    }
                }
                return;
            }
            Ok(Read::Open {
                task,
                vault_free,
                height,
                read_at,
            }) => (task, vault_free, height, read_at),
        };
        if ended {
            tracing::debug!("ended while considered: not taken");
            return;
        }
        let shared = &self.shared;
        let now = Situation {
            device: shared.backend.device(),
            height,
            free_stake: vault_free.saturating_sub(shared.reservations.total()),
            in_flight: state.active.len(),
            already_committed: false,
        };
        match self.rules.decide(&task.task, &task.kernel, &now) {
            Ok(take) => {
                shared.metrics.tasks_taken.inc();
                shared.metrics.observe(stage::ADMIT, received_at.elapsed());
                shared.reservations.reserve(task_id, task.task.collateral);
                tracing::info!(
                    budget = %task.task.budget,
                    denom = task.task.denom,
                    model = %task.task.model,
                    bid = take.bid.map(|b| b.to_string()),
                    "task taken"
                );
                let start = match take.bid {
                    Some(price) => Start::Auction(auction::Start::Bid {
                        task,
                        price,
                        received_at,
                    }),
                    None => Start::Fresh {
                        task,
                        offer: take.offer,
                        taken_at: Instant::now(),
                        received_at,
                        read_at,
                    },
                };
                self.spawn(state, task_id, start);
            }
            Err(skip) if first_look => {
                shared.metrics.skipped(skip.label());
                tracing::info!(reason = skip.label(), "skipped: {skip}");
            }
            Err(skip) => tracing::debug!(reason = skip.label(), "still skipped: {skip}"),
        }
    }

    fn spawn(&self, state: &mut State, task_id: TaskId, start: Start) {
        let stops = Stops {
            task_ended: CancellationToken::new(),
            shutdown: state.jobs_shutdown.clone(),
            nudge: Arc::new(Notify::new()),
        };
        state.active.insert(
            task_id,
            Active {
                ended: stops.task_ended.clone(),
                nudge: stops.nudge.clone(),
            },
        );
        self.shared
            .metrics
            .tasks_in_flight
            .set(state.active.len() as i64);
        let shared = self.shared.clone();
        // A root span: the job outlives the `consider` span it may be started from.
        let span = tracing::info_span!(parent: None, "task", id = task_id);
        state.jobs.spawn(
            async move { (task_id, job::run(shared, task_id, start, stops).await) }
                .instrument(span),
        );
    }

    /// Reveals commitments made before the last stop.
    fn resume_saved_plans(&self, state: &mut State) -> anyhow::Result<()> {
        for task_id in self.shared.store.pending()? {
            if let Some(plan) = self.shared.store.load(task_id)? {
                tracing::info!(task_id, "resuming a saved reveal plan");
                state.seen.insert(task_id);
                self.spawn(state, task_id, Start::Reveal(plan));
            }
        }
        Ok(())
    }

    /// Follows auctions bid on before the last stop whose bids are still sealed: they are
    /// opened in time (their salt is only on disk).
    fn resume_saved_bids(&self, state: &mut State) -> anyhow::Result<()> {
        let me = self.shared.address();
        for task_id in self.shared.bids.pending(me)? {
            if state.active.contains_key(&task_id) {
                continue; // a reveal plan resumed it: the award was executed already
            }
            tracing::info!(task_id, "resuming a saved sealed bid");
            state.seen.insert(task_id);
            self.spawn(state, task_id, Start::Auction(auction::Start::Resume));
        }
        Ok(())
    }
}

/// Reads what deciding on `task_id` needs: the task, this provider's commitment or bid made
/// before a restart (when the task has any), and the free stake and height. The stake and
/// the height come without a query when the daemon knows them (a cached free stake, the
/// latest block from the event source).
async fn consider(shared: &Shared, task_id: TaskId) -> anyhow::Result<Read> {
    // Before the read: the task read is no older than this block.
    let read_at = shared.heights.fresh_latest();
    // The free stake (usually cached) along with the task, not after it.
    let (task, vault_free) = tokio::try_join!(
        shared.chain.task(task_id),
        shared.reservations.vault_free_stake(shared.chain.as_ref()),
    )?;
    let me = shared.address();
    let mine = if task.task.commit_count > 0 {
        shared
            .chain
            .commitments(task_id)
            .await?
            .into_iter()
            .find(|c| c.provider.as_str() == me)
    } else {
        None
    };
    if let Some(mine) = mine {
        // Committed before a restart: finish that work rather than take it again.
        let start = match (mine.state, shared.store.load(task_id)?) {
            (CommitmentState::Committed {}, Some(plan)) => Start::Reveal(plan),
            // Valid: a First Response order, an offer or a tally may still pay it.
            (CommitmentState::Revealed { .. }, _) => Start::AwaitSettlement,
            // No usable plan (lost, or set aside as unopenable), or already decided:
            // refused, rejected or outvoted, forfeited, released.
            (CommitmentState::Committed {}, None)
            | (
                CommitmentState::Rejected { .. }
                | CommitmentState::Refused { .. }
                | CommitmentState::Outvoted {}
                | CommitmentState::Forfeited {}
                | CommitmentState::Released {},
                _,
            ) => return Ok(Read::Done),
        };
        return Ok(Read::Resume(Box::new(start)));
    }
    let bid_count = task.task.auction.as_ref().map_or(0, |a| a.bid_count);
    if task.task.model.is_auction() && bid_count > 0 {
        let bids = shared.chain.bids(task_id).await?;
        if bids.iter().any(|b| b.provider.as_str() == me) {
            // Bid before a restart: follow it (open it, or execute an award) to the end.
            return Ok(Read::Resume(Box::new(Start::Auction(
                auction::Start::Resume,
            ))));
        }
    }
    let height = match shared.heights.fresh_latest() {
        Some(height) => height,
        None => shared.chain.height().await?,
    };
    Ok(Read::Open {
        task: Box::new(task),
        vault_free,
        height,
        read_at,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use cosmwasm_std::{Binary, HexBinary, Uint128};
    use opengpu_client::reveal::RevealPlan;
    use opengpu_types::market::ExecuteMsg;
    use tokio::task::JoinHandle;

    use super::*;
    use crate::chain::Chain;
    use crate::config::ModelName;
    use crate::fake::{no_plan, FakeBackend, World, ME, OTHER, RESULT};

    /// A daemon over a fake chain, fed events by the test.
    struct Running {
        shared: Arc<Shared>,
        events: mpsc::Sender<SourceEvent>,
        shutdown: CancellationToken,
        daemon: JoinHandle<anyhow::Result<()>>,
    }

    fn start(shared: Shared) -> Running {
        let shared = Arc::new(shared);
        let daemon = Daemon {
            shared: shared.clone(),
            rules: Rules {
                models: vec![
                    ModelName::FirstResponse,
                    ModelName::ManualConfirmation,
                    ModelName::Consensus,
                    ModelName::Auction,
                ],
                price_floor: BTreeMap::from([("uatom".to_string(), Uint128::new(100))]),
                max_collateral: None,
                deadline_margin_blocks: 3,
                max_in_flight: 4,
                accept_unverified: false,
                bid_prices: BTreeMap::new(),
            },
            shutdown_grace: Duration::from_secs(1),
            remembered_tasks: 1000,
        };
        let (events, inbox) = mpsc::channel(16);
        let shutdown = CancellationToken::new();
        let daemon = tokio::spawn(daemon.serve(inbox, shutdown.clone(), async {}));
        Running {
            shared,
            events,
            shutdown,
            daemon,
        }
    }

    impl Running {
        async fn available(&self, task_id: TaskId) {
            let event = SourceEvent::Available {
                task_id,
                via: Via::Websocket,
            };
            self.events.send(event).await.unwrap();
        }

        /// Waits (10 s at most) until the daemon counted what `done` looks for.
        async fn until(&self, done: impl Fn(&crate::metrics::Metrics) -> bool) {
            for _ in 0..1000 {
                if done(&self.shared.metrics) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            panic!("not reached in time");
        }

        /// Stops the daemon; returns what it shared with its jobs.
        async fn stop(self) -> Arc<Shared> {
            self.shutdown.cancel();
            self.daemon.await.unwrap().unwrap();
            self.shared
        }
    }

    #[test]
    fn the_task_sets_forget_the_least_recently_used_id_beyond_their_capacity() {
        let mut recent = Recent::new(3);
        assert!(recent.insert(1));
        assert!(recent.insert(2));
        assert!(recent.insert(3));
        assert!(!recent.insert(1), "already remembered");
        // 2 is now the least recently used: a fourth id pushes it out.
        assert!(recent.insert(4));
        assert_eq!(recent.len(), 3);
        assert!(!recent.touch(2));
        assert!(recent.touch(3));
        // 1 is now the oldest; a lookup keeps 1 (a task reported again) and drops 4.
        assert!(recent.touch(1));
        assert!(recent.insert(5));
        assert!(recent.touch(1) && recent.touch(3) && recent.touch(5));
        assert!(!recent.touch(4));
        recent.remove(3);
        assert!(!recent.touch(3));
        assert_eq!(recent.len(), 2);
        // However many ids go through it, it holds at most its capacity.
        for id in 100..10_000 {
            recent.insert(id);
        }
        assert_eq!(recent.len(), 3);
        assert_eq!(recent.by_tick.len(), 3);
        assert!(recent.touch(9_999) && !recent.touch(100));
    }

    fn is_commit(msg: &ExecuteMsg) -> bool {
        matches!(msg, ExecuteMsg::Commit { .. })
    }

    #[tokio::test]
    async fn a_task_taken_is_committed_revealed_and_won() {
        let world = World::new();
        let daemon = start(world.shared(FakeBackend::new()));
        daemon.available(1).await;
        daemon.until(|m| m.tasks_won.get() == 1).await;
        let shared = daemon.stop().await;
        assert_eq!(shared.metrics.tasks_seen.get(), 1);
        assert_eq!(shared.metrics.tasks_taken.get(), 1);
        assert_eq!(world.chain.sent(), ["commit", "reveal"]);
        // The kernel is read once, to decide and run; every other look goes without it.
        assert_eq!(world.chain.with(|m| m.kernel_reads), 1);
        let settlement = world.chain.with(|m| m.task(1).settlement.clone());
        assert_eq!(settlement.expect("settled").winner.as_str(), ME);
        assert!(no_plan(&shared));
        assert_eq!(shared.reservations.total(), Uint128::zero());
    }

    #[tokio::test]
    async fn the_end_of_a_task_reaches_the_job_awaiting_its_settlement_as_an_event() {
        let world = World::new();
        let chain = &world.chain;
        // Revealed before a restart, under Manual Confirmation: the client's confirmation is
        // awaited (its window ends 70 blocks on).
        chain.with(|m| {
            m.task(1).model = opengpu_types::market::CompetitionModel::ManualConfirmation;
            m.commit(1, ME, HexBinary::from(vec![7; 32])).unwrap();
            m.height += 1;
            m.commitments.get_mut(&1).unwrap()[0].state = CommitmentState::Revealed {
                outputs_digest: HexBinary::from(vec![0; 32]),
                price: Some(Uint128::new(500)),
                height: m.height,
            };
        });
        let daemon = start(world.shared(FakeBackend::new()));
        daemon.events.send(SourceEvent::Block(101)).await.unwrap();
        daemon.available(1).await;
        let mut waits = 0;
        while chain.with(|m| m.info_reads == 0) {
            waits += 1;
            assert!(waits < 1000, "the job never looked at its task");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // Events that do not end it (another provider's commitment) only make it look again.
        daemon
            .events
            .send(SourceEvent::Moved { task_id: 1 })
            .await
            .unwrap();
        while chain.with(|m| m.info_reads < 2) {
            waits += 1;
            assert!(waits < 1000, "the job was not nudged");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // The client confirms; the source reports the settlement.
        chain.with(|m| m.settle(1, ME));
        let ended = SourceEvent::Ended {
            task_id: 1,
            status: opengpu_types::market::TaskStatus::Settled,
        };
        daemon.events.send(ended).await.unwrap();
        // Well before the 5 s fallback poll.
        tokio::time::timeout(
            Duration::from_secs(2),
            daemon.until(|m| m.tasks_won.get() == 1),
        )
        .await
        .expect("woken by the event");
        let shared = daemon.stop().await;
        assert_eq!(shared.metrics.tasks_taken.get(), 0, "resumed, not taken");
        assert_eq!(world.chain.sent(), Vec::<String>::new());
    }

    #[tokio::test]
    async fn a_race_lost_to_an_earlier_commitment_counts_as_lost() {
        let world = World::new();
        let chain = &world.chain;
        // Another provider committed first, and reveals in the block after this provider's
        // commit: the earliest valid commitment wins.
        chain.with(|m| m.commit(1, OTHER, HexBinary::from(vec![9; 32])).unwrap());
        chain.after(is_commit, |m| m.settle(1, OTHER));
        let daemon = start(world.shared(FakeBackend::new()));
        daemon.available(1).await;
        daemon.until(|m| m.tasks_lost.get() == 1).await;
        let shared = daemon.stop().await;
        assert_eq!(shared.metrics.tasks_won.get(), 0);
        assert_eq!(
            chain.sent(),
            ["commit"],
            "no reveal once the task is settled"
        );
        let mine = chain.with(|m| m.commitment(1, ME).cloned());
        assert_eq!(mine.expect("committed").state, CommitmentState::Released {});
        assert!(no_plan(&shared));
    }

    #[tokio::test]
    async fn the_loop_goes_on_while_a_task_is_read_and_takes_it_once() {
        let world = World::new();
        let stall = Arc::new(Notify::new());
        world
            .chain
            .with(|m| m.stall_task_reads = Some(stall.clone()));
        let daemon = start(world.shared(FakeBackend::new()));
        // Reported twice (by a catch-up and by the websocket), read once.
        daemon.available(1).await;
        daemon.available(1).await;
        // While the task's read waits for the node, the loop takes in the next events.
        daemon.events.send(SourceEvent::Block(101)).await.unwrap();
        let mut waits = 0;
        while daemon.shared.heights.latest() != 101 {
            waits += 1;
            assert!(waits < 1000, "the loop is stuck on the read");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(daemon.shared.metrics.tasks_taken.get(), 0);
        world.chain.with(|m| m.stall_task_reads = None);
        stall.notify_one();
        daemon.until(|m| m.tasks_won.get() == 1).await;
        let shared = daemon.stop().await;
        assert_eq!(shared.metrics.tasks_seen.get(), 1);
        assert_eq!(shared.metrics.tasks_taken.get(), 1);
        assert_eq!(world.chain.with(|m| m.kernel_reads), 1, "considered once");
        assert_eq!(world.chain.sent(), ["commit", "reveal"]);
    }

    #[tokio::test]
    async fn a_task_that_ends_while_it_is_read_is_not_taken() {
        let world = World::new();
        let stall = Arc::new(Notify::new());
        world
            .chain
            .with(|m| m.stall_task_reads = Some(stall.clone()));
        let daemon = start(world.shared(FakeBackend::new()));
        daemon.available(1).await;
        let ended = SourceEvent::Ended {
            task_id: 1,
            status: opengpu_types::market::TaskStatus::Cancelled,
        };
        daemon.events.send(ended).await.unwrap();
        // Once the loop took in the block after it, it took in the end.
        daemon.events.send(SourceEvent::Block(101)).await.unwrap();
        let mut waits = 0;
        while daemon.shared.heights.latest() != 101 {
            waits += 1;
            assert!(waits < 1000, "the loop is stuck on the read");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        stall.notify_one();
        while world.chain.with(|m| m.kernel_reads) == 0 {
            waits += 1;
            assert!(waits < 1000, "the task was never read");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        // Reported again later (a catch-up): remembered as finished.
        daemon.available(1).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        let shared = daemon.stop().await;
        assert_eq!(shared.metrics.tasks_taken.get(), 0);
        assert_eq!(world.chain.with(|m| m.kernel_reads), 1);
        assert_eq!(world.chain.sent(), Vec::<String>::new());
        assert_eq!(shared.reservations.total(), Uint128::zero());
    }

    /// Before a restart: committed with `committed`'s commitment, and `saved` kept on disk.
    fn committed_before_a_restart(
        world: &World,
        committed: &RevealPlan,
        saved: &RevealPlan,
    ) -> Shared {
        let hash = committed.commitment.clone();
        world.chain.with(|m| m.commit(1, ME, hash).unwrap());
        let shared = world.shared(FakeBackend::new());
        shared.store.save(saved).unwrap();
        shared
    }

    fn plan() -> RevealPlan {
        RevealPlan::new(1, ME, vec![Binary::from(RESULT.to_vec())], None)
    }

    #[tokio::test]
    async fn a_plan_on_disk_is_revealed_after_a_restart() {
        let world = World::new();
        let plan = plan();
        let daemon = start(committed_before_a_restart(&world, &plan, &plan));
        daemon.until(|m| m.tasks_won.get() == 1).await;
        // The catch-up reports the task again: it is not taken a second time.
        daemon.available(1).await;
        let shared = daemon.stop().await;
        assert_eq!(world.chain.sent(), ["reveal"]);
        assert_eq!(shared.metrics.tasks_taken.get(), 0);
        assert!(no_plan(&shared));
    }

    #[tokio::test]
    async fn a_plan_whose_commit_is_still_in_the_mempool_is_revealed_once_it_lands() {
        let world = World::new();
        let plan = plan();
        // Stopped right after the broadcast: the commit is in the mempool, not in a block.
        let shared = world.shared(FakeBackend::new());
        shared.store.save(&plan).unwrap();
        world.chain.with(|m| m.hold = 1);
        world.chain.broadcast(&plan.commit_msg()).await.unwrap();
        let daemon = start(shared);
        // The resumed job finds no commitment yet, and keeps the plan.
        let mut polls = 0;
        while world.chain.with(|m| m.looks < 2) {
            polls += 1;
            assert!(polls < 1000, "the job never looked for its commitment");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(daemon.shared.store.pending().unwrap(), vec![1]);
        world.chain.land();
        daemon.until(|m| m.tasks_won.get() == 1).await;
        let shared = daemon.stop().await;
        assert_eq!(world.chain.sent(), ["commit", "reveal"]);
        assert!(no_plan(&shared));
    }

    #[tokio::test]
    async fn a_plan_whose_commit_never_landed_is_removed_once_commits_close() {
        let world = World::new();
        // Stopped right after a broadcast that never reached the node; the task's deadline
        // passed meanwhile.
        let shared = world.shared(FakeBackend::new());
        shared.store.save(&plan()).unwrap();
        world
            .chain
            .with(|m| m.height = world.task.task.deadline_height);
        let daemon = start(shared);
        daemon
            .until(|m| m.tasks_failed.with_label_values(&["commit_failed"]).get() == 1)
            .await;
        let shared = daemon.stop().await;
        assert_eq!(world.chain.sent(), Vec::<String>::new());
        assert!(no_plan(&shared));
    }

    #[tokio::test]
    async fn a_plan_that_does_not_open_the_commitment_on_chain_is_set_aside() {
        let world = World::new();
        // Committed with another salt (another key's plan, say).
        let daemon = start(committed_before_a_restart(&world, &plan(), &plan()));
        daemon
            .until(|m| m.tasks_failed.with_label_values(&["plan_mismatch"]).get() == 1)
            .await;
        let shared = daemon.stop().await;
        assert_eq!(world.chain.sent(), Vec::<String>::new(), "never revealed");
        assert!(no_plan(&shared));
        assert!(shared.store.aside_path(1).exists());
    }
}
