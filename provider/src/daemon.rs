//! The daemon's main loop: events in, decisions made, jobs started and counted. It is the
//! only owner of the bookkeeping (which tasks are in flight, which are done), so no lock is
//! needed and no task is handled twice.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cosmwasm_std::Uint128;
use opengpu_client::Opengpu;
use opengpu_types::market::{CommitmentState, TaskResponse};
use opengpu_types::TaskId;
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::auction;
use crate::job::{self, Outcome, Shared, Start, Stops};
use crate::metrics::stage;
use crate::policy::{Rules, Situation};
use crate::source::{EventSource, SourceEvent, Via};

/// Source events buffered before the source waits for the daemon.
const EVENT_BUFFER: usize = 1024;

pub struct Daemon {
    pub shared: Arc<Shared>,
    pub rules: Rules,
    /// After a stop signal, how long in-flight reveals get to finish.
    pub shutdown_grace: Duration,
}

struct Active {
    ended: CancellationToken,
    /// Wakes the job when an event moved its task (auctions).
    nudge: Arc<Notify>,
}

/// Collateral promised to tasks taken but not yet committed, which the vault does not show
/// as locked yet.
#[derive(Default, Clone)]
pub struct Reservations(Arc<Mutex<HashMap<TaskId, Uint128>>>);

impl Reservations {
    pub fn reserve(&self, task_id: TaskId, amount: Uint128) {
        self.0.lock().expect("poisoned").insert(task_id, amount);
    }
    pub fn release(&self, task_id: TaskId) {
        self.0.lock().expect("poisoned").remove(&task_id);
    }
    fn total(&self) -> Uint128 {
        self.0.lock().expect("poisoned").values().copied().sum()
    }
}

struct State {
    active: HashMap<TaskId, Active>,
    /// Tasks this daemon finished with (or saw end); never taken again.
    finished: HashSet<TaskId>,
    /// Tasks counted as seen.
    seen: HashSet<TaskId>,
    jobs: JoinSet<(TaskId, Outcome)>,
    jobs_shutdown: CancellationToken,
}

impl Daemon {
    /// Runs until `shutdown`, taking tasks from `source`.
    pub async fn run(self, source: EventSource, shutdown: CancellationToken) -> anyhow::Result<()> {
        let (events, mut inbox) = mpsc::channel(EVENT_BUFFER);
        let source_stop = CancellationToken::new();
        let source = tokio::spawn(source.run(events, source_stop.clone()));
        let mut state = State {
            active: HashMap::new(),
            finished: HashSet::new(),
            seen: HashSet::new(),
            jobs: JoinSet::new(),
            jobs_shutdown: CancellationToken::new(),
        };
        self.resume_saved_plans(&mut state)?;
        self.resume_saved_bids(&mut state)?;
        tracing::info!(provider = self.shared.signer.address(), "provider running");

        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                event = inbox.recv() => match event {
                    Some(event) => self.handle(&mut state, event, Instant::now()).await,
                    None => anyhow::bail!("event source stopped"),
                },
                Some(done) = state.jobs.join_next(), if !state.jobs.is_empty() => {
                    self.record(&mut state, done);
                }
            }
        }

        tracing::info!(
            in_flight = state.active.len(),
            "stopping: no new tasks taken"
        );
        source_stop.cancel();
        let _ = source.await;
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
        let me = self.shared.signer.address();
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

    async fn handle(&self, state: &mut State, event: SourceEvent, received_at: Instant) {
        match event {
            SourceEvent::Available { task_id, via } => {
                self.available(state, task_id, via, received_at).await;
            }
            SourceEvent::Auction { task_id, awardee } => {
                if let Some(active) = state.active.get(&task_id) {
                    active.nudge.notify_one();
                } else if awardee.as_deref() == Some(self.shared.signer.address()) {
                    // Awarded (a hand-over) on a task no job follows any more (one that
                    // failed, say): look again, so the award is executed rather than slashed.
                    tracing::info!(task_id, "awarded a task no job follows: taking it up");
                    state.finished.remove(&task_id);
                    self.available(state, task_id, Via::Websocket, received_at)
                        .await;
                }
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
                tracing::info!(open_tasks, in_flight = state.active.len(), "caught up");
            }
        }
    }

    /// A task that may take commits (or bids): considered unless in flight or finished.
    async fn available(&self, state: &mut State, task_id: TaskId, via: Via, received_at: Instant) {
        if state.active.contains_key(&task_id) || state.finished.contains(&task_id) {
            return;
        }
        let first_look = state.seen.insert(task_id);
        if first_look {
            self.shared.metrics.tasks_seen.inc();
        }
        let span = tracing::info_span!("task", id = task_id);
        if let Err(e) = self
            .consider(state, task_id, first_look, received_at)
            .instrument(span)
            .await
        {
            tracing::warn!(task_id, ?via, error = %e, "cannot consider task");
        }
    }

    /// Reads the task, applies the policy, and starts a job when it is taken.
    async fn consider(
        &self,
        state: &mut State,
        task_id: TaskId,
        first_look: bool,
        received_at: Instant,
    ) -> anyhow::Result<()> {
        let shared = &self.shared;
        let market = Opengpu::new(&shared.chain, &shared.contracts);
        let task: TaskResponse = market.task(task_id).await?;
        let me = shared.signer.address();
        let mine = if task.task.commit_count > 0 {
            market
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
                ) => {
                    state.finished.insert(task_id);
                    return Ok(());
                }
            };
            self.spawn(state, task_id, start);
            return Ok(());
        }
        let bid_count = task.task.auction.as_ref().map_or(0, |a| a.bid_count);
        if task.task.model.is_auction() && bid_count > 0 {
            let bids = market.bids(task_id).await?;
            if bids.iter().any(|b| b.provider.as_str() == me) {
                // Bid before a restart: follow it (open it, or execute an award) to the end.
                self.spawn(state, task_id, Start::Auction(auction::Start::Resume));
                return Ok(());
            }
        }

        let stake = market.stake(me).await?;
        let free_stake = stake.free.saturating_sub(shared.reservations.total());
        let height = shared.chain.height().await?;
        let now = Situation {
            device: shared.backend.device(),
            height,
            free_stake,
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
                        task: Box::new(task),
                        price,
                        received_at,
                    }),
                    None => Start::Fresh {
                        task: Box::new(task),
                        offer: take.offer,
                        taken_at: Instant::now(),
                        received_at,
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
        Ok(())
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
        let me = self.shared.signer.address();
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
