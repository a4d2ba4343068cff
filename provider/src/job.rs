//! One task's life in the provider: wait for a slot, run the kernel, commit, reveal, and see
//! the task settled. Before each step the task's on-chain state is read again, so a task that
//! ended meanwhile is dropped instead of costing a failed transaction. Auctions start in
//! [`crate::auction`] (bid, open the bid, wait for the award) and come back here to execute.
//!
//! Reveal safety: a commitment whose plan is lost forfeits its collateral, so the plan is
//! written before the commit goes out and removed only once the chain shows that no
//! commitment can come of it: the commit was refused before the mempool (simulation or
//! CheckTx), failed in its block, or the task closed to commits without it. Any other failure
//! (a broadcast whose answer was lost, no block seen in time, a node that cannot be reached)
//! leaves the commitment's fate unknown: the job keeps the plan and looks at the chain again
//! each block, waiting out an unreachable node ([`patiently`]), until the commitment shows
//! up (then it is revealed) or the task closes to commits without it. A plan resumed after a
//! restart goes the same way.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cosmwasm_std::Binary;
use opengpu_client::reveal::RevealPlan;
use opengpu_client::{Error, TxOutcome};
use opengpu_types::market::{
    CommitmentInfo, CommitmentState, CompetitionModel, ExecuteMsg, TaskInfo, TaskResponse,
};
use opengpu_types::TaskId;

use crate::auction;
use crate::metrics::stage;
use crate::policy;
use crate::selfcheck;
use crate::shared::{Outcome, Shared, Stops};
use crate::signer::SubmitError;

/// Reveals the chain refused (by simulation, CheckTx or in their block), a block apart,
/// before a job gives up (its plan stays on disk). Reveals whose fate is unknown are not
/// counted: the chain is asked what became of them.
const REVEAL_ATTEMPTS: u32 = 5;
/// Longest wait between looks at a task whose settlement (or end) is awaited: its end
/// arrives as an event ([`Stops::task_ended`]), and heights wake the job when a deadline
/// passes; this poll only guards against an event missed across a reconnect.
const SETTLE_FALLBACK: Duration = Duration::from_secs(5);
/// The longest wait for one new block before asking the node again.
const HEIGHT_WAIT: Duration = Duration::from_secs(60);
/// The first pause before asking a node that did not answer again; it doubles after each
/// failure, up to [`RETRY_MAX_PAUSE`].
#[cfg(not(test))]
const RETRY_PAUSE: Duration = Duration::from_millis(250);
#[cfg(not(test))]
const RETRY_MAX_PAUSE: Duration = Duration::from_secs(2);
/// The unit tests' fake node comes back in milliseconds.
#[cfg(test)]
const RETRY_PAUSE: Duration = Duration::from_millis(5);
#[cfg(test)]
const RETRY_MAX_PAUSE: Duration = Duration::from_millis(20);

/// Where a job starts: a fresh task, or a commitment made before a restart.
pub enum Start {
    Fresh {
        task: Box<TaskResponse>,
        offer: Option<cosmwasm_std::Uint128>,
        taken_at: Instant,
        received_at: Instant,
        /// The latest block the event source had reported when the task was read: while no
        /// later block is seen, the task is as read, and is not read again before the run or
        /// the commit. `None` when blocks do not come from the event source.
        read_at: Option<u64>,
    },
    Reveal(RevealPlan),
    AwaitSettlement,
    /// An auction: a new bid, or one placed before a restart.
    Auction(auction::Start),
}

pub async fn run(shared: Arc<Shared>, task_id: TaskId, start: Start, cancel: Stops) -> Outcome {
    let result = match start {
        Start::Fresh {
            task,
            offer,
            taken_at,
            received_at,
            read_at,
        } => {
            let run = Execution {
                task: *task,
                offer,
                taken_at,
                received_at,
                gate: CommitGate::Deadline,
            };
            execute_read_at(&shared, run, read_at, &cancel).await
        }
        Start::Reveal(plan) => reveal_and_settle(&shared, plan, None, None, &cancel).await,
        Start::AwaitSettlement => await_settlement(&shared, task_id, &cancel).await,
        Start::Auction(start) => auction::run(&shared, task_id, start, &cancel).await,
    };
    result.unwrap_or_else(|e| {
        if e.is::<Stopping>() {
            return Outcome::Abandoned;
        }
        tracing::warn!(error = %e, "task failed");
        Outcome::Failed("chain_error")
    })
}

/// A run of a task's kernel whose result is to be committed and revealed.
pub(crate) struct Execution {
    pub task: TaskResponse,
    /// The price inside the commitment (Manual Confirmation's offer).
    pub offer: Option<cosmwasm_std::Uint128>,
    /// When the job became due to run (taken, or awarded): the queue stage starts here.
    pub taken_at: Instant,
    /// When the event that led here arrived: the overhead stage starts here.
    pub received_at: Instant,
    pub gate: CommitGate,
}

/// What must still hold, on fresh chain state, for a result to be worth committing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CommitGate {
    /// Every model but Auction: the task takes commits until its deadline.
    Deadline,
    /// Auction: the task is awarded to this provider, with blocks left to commit and reveal.
    Award,
}

impl CommitGate {
    /// The gate of `task`'s model.
    pub fn of(task: &TaskInfo) -> CommitGate {
        if task.model.is_auction() {
            CommitGate::Award
        } else {
            CommitGate::Deadline
        }
    }

    /// Why not to run the kernel at all, if so.
    pub fn before_run(self, task: &TaskInfo, me: &str) -> Option<&'static str> {
        match self {
            CommitGate::Deadline => not_committable(task),
            CommitGate::Award => auction::award_blocked(task, me, None),
        }
    }

    /// Why not to commit the result, now at `height`, if so.
    pub fn before_commit(self, task: &TaskInfo, me: &str, height: u64) -> Option<&'static str> {
        match self {
            CommitGate::Deadline => not_committable(task)
                .or((height >= task.deadline_height).then_some("deadline_passed_during_run")),
            CommitGate::Award => auction::award_blocked(task, me, Some(height)),
        }
    }

    /// Whether a result that does not match the client's reference hash is still delivered.
    /// An awardee that delivers nothing is slashed, while a delivery the market refuses for a
    /// mismatch (no proof of a fault) has its collateral released; elsewhere such a commit
    /// only costs gas.
    pub fn delivers_unmatched(self) -> bool {
        self == CommitGate::Award
    }
}

/// Runs the kernel, checks the result, commits and reveals it (see the module doc).
pub(crate) async fn execute(
    shared: &Shared,
    run: Execution,
    cancel: &Stops,
) -> anyhow::Result<Outcome> {
    execute_read_at(shared, run, None, cancel).await
}

/// The task as it stands now: `task` itself while the latest block seen is still `read_at`
/// (the block reported before `task` was read: nothing can have changed it), else read again
/// with the chain's height. Task ends arrive as events ([`Stops::task_ended`]) either way.
async fn task_now(
    shared: &Shared,
    task: &TaskInfo,
    read_at: Option<u64>,
) -> anyhow::Result<(TaskInfo, u64)> {
    match read_at {
        Some(read_at) if shared.heights.fresh_latest() == Some(read_at) => {
            Ok((task.clone(), read_at))
        }
        _ => {
            let current = shared.chain.task_info(task.id).await?;
            let height = shared.chain.height().await?;
            Ok((current, height))
        }
    }
}

/// [`execute`], for a task read at `read_at` ([`Start::Fresh`]).
async fn execute_read_at(
    shared: &Shared,
    run: Execution,
    read_at: Option<u64>,
    cancel: &Stops,
) -> anyhow::Result<Outcome> {
    let Execution {
        task,
        offer,
        taken_at,
        received_at,
        gate,
    } = run;
    let task_id = task.task.id;
    let sealed = task.task.model.is_sealed();
    let permit = tokio::select! {
        _ = cancel.task_ended.cancelled() => return Ok(Outcome::Dropped("ended_before_run")),
        _ = cancel.shutdown.cancelled() => return Ok(Outcome::Abandoned),
        permit = shared.exec_slots.acquire() => permit?,
    };
    shared.metrics.observe(stage::QUEUE, taken_at.elapsed());
    let read = task.task.clone();
    let (current, _) = task_now(shared, &read, read_at).await?;
    if let Some(reason) = gate.before_run(&current, shared.address()) {
        return Ok(Outcome::Dropped(reason));
    }

    // Off-chain inputs are checked against their published hash before the run: bytes that
    // differ are never computed on, so no commitment can follow from them.
    let inputs = match shared.inputs.fetch_all(&task.kernel).await {
        Ok(pinned) => pinned,
        Err(e) => {
            tracing::warn!(error = %e, "off-chain input refused; not running");
            return Ok(Outcome::Refused(e.reason()));
        }
    };
    let backend = shared.backend.clone();
    let kernel = task.kernel.clone();
    let run = tokio::task::spawn_blocking(move || backend.run(&kernel)).await?;
    drop((permit, inputs));
    let output = match run {
        Ok(output) => output,
        Err(e) => {
            tracing::warn!(error = %e, "kernel failed; not committing");
            return Ok(Outcome::Failed(e.reason()));
        }
    };
    shared.metrics.observe(stage::EXECUTE, output.elapsed);
    tracing::info!(elapsed = ?output.elapsed, cache_hit = output.cache_hit, "kernel ran");
    if cancel.shutdown.is_cancelled() {
        return Ok(Outcome::Abandoned); // no new commitments while stopping
    }
    if cancel.task_ended.is_cancelled() {
        return Ok(Outcome::Dropped("ended_during_run"));
    }
    let mut outputs = output.outputs;
    let corrupt = corrupt_output_requested();
    if corrupt {
        let done = selfcheck::corrupt_first_element(&mut outputs);
        tracing::warn!(
            corrupted = done,
            "fail point provider::corrupt_output: element 0 of output 0 corrupted, self-check \
             skipped; committing a wrong result"
        );
    }
    let outputs: Vec<Binary> = outputs.into_iter().map(Binary::from).collect();
    // The price is inside the commitment (sealed offers): the plan keeps it for the reveal.
    let plan = RevealPlan::new(task_id, shared.address(), outputs.clone(), offer);
    if !corrupt {
        // The Freivalds vectors come from the commitment: check now, before it goes out.
        // (Verification and output sizes are fixed at publish: the first read has them.)
        let checked_at = Instant::now();
        let (info, kernel) = (task.task, task.kernel);
        let commitment = to_hash(&plan.commitment);
        let digest = to_hash(&plan.outputs_digest);
        let verdict = tokio::task::spawn_blocking(move || {
            selfcheck::check(&info, &kernel, &outputs, &commitment, &digest)
        })
        .await?;
        shared
            .metrics
            .observe(stage::SELF_CHECK, checked_at.elapsed());
        match verdict {
            Ok(()) => {}
            Err(refusal @ selfcheck::Refusal::ReferenceMismatch { .. })
                if gate.delivers_unmatched() =>
            {
                tracing::warn!(
                    reason = refusal.label(),
                    "result fails the task's own check; delivering it anyway, as an awardee \
                     that delivers nothing is slashed: {refusal}"
                );
            }
            Err(refusal) => {
                tracing::error!(
                    reason = refusal.label(),
                    "result fails the task's own check; not committing: {refusal}"
                );
                return Ok(Outcome::Refused(refusal.label()));
            }
        }
    }
    // The task is read again last (if a block came meanwhile): the run and the check took time.
    let (current, height) = task_now(shared, &read, read_at).await?;
    if let Some(reason) = gate.before_commit(&current, shared.address(), height) {
        return Ok(Outcome::Dropped(reason));
    }
    let saving_at = Instant::now();
    shared.store.save(&plan)?; // never a commit without its reveal plan on disk

    // From here the plan is removed only once the chain shows that no commitment can come of
    // it (see the module doc).
    let mut landed = None;
    let sending_at = Instant::now();
    let hash = match shared.chain.broadcast(&plan.commit_msg()).await {
        Ok(hash) => Some(hash),
        Err(e) if e.never_sent() => {
            shared.store.remove(task_id);
            tracing::warn!(error = %e, "commit refused");
            return Ok(Outcome::Failed("commit_refused"));
        }
        // The node may have taken it before the answer was lost.
        Err(e) => {
            tracing::warn!(
                error = %e,
                "commit broadcast unanswered: it may still land; looking for it on chain"
            );
            None
        }
    };
    if let Some(hash) = hash {
        let broadcast_at = Instant::now();
        let overhead = (broadcast_at - received_at).saturating_sub(output.elapsed);
        shared.metrics.observe(stage::OVERHEAD_TO_COMMIT, overhead);
        tracing::info!(
            task_id,
            overhead_us = overhead.as_micros() as u64,
            kernel_us = output.elapsed.as_micros() as u64,
            // Where the overhead went: event to decision (the task read), plan saved, signed
            // and sent.
            considered_us = taken_at.saturating_duration_since(received_at).as_micros() as u64,
            saved_us = (sending_at - saving_at).as_micros() as u64,
            sent_us = (broadcast_at - sending_at).as_micros() as u64,
            "commit broadcast"
        );
        // Its block comes from the event source: the reveal goes out as soon as it is seen.
        let included = shared.wait_for_tx(hash).await;
        shared
            .metrics
            .observe(stage::COMMIT, broadcast_at.elapsed());
        match included {
            Ok(outcome) => {
                tracing::info!(height = outcome.height, "committed");
                landed = Landed::from_commit(shared, task_id, &outcome).filter(|_| !sealed);
            }
            Err(Error::TxFailed { reason, .. }) => {
                // Failed in its block: nothing is locked, nothing to reveal.
                shared.store.remove(task_id);
                tracing::warn!(reason, "commit failed");
                return Ok(Outcome::Failed("commit_failed"));
            }
            // Not seen in a block in time (or the node stopped answering): it may still land.
            Err(e) => tracing::warn!(error = %e, "commit not confirmed; looking for it on chain"),
        }
    }
    shared.reservations.release(task_id); // locked in the vault, or soon, or never
    reveal_and_settle(shared, plan, Some(gate), landed, cancel).await
}

/// This provider's commitment, as its own commit transaction showed it in its block: what
/// the reveal needs, without reading the chain again. Only the first committer's: nobody
/// can have won before it.
#[derive(Clone, Copy, Debug)]
struct Landed {
    committed_height: u64,
    reveal_deadline_height: u64,
}

impl Landed {
    /// From the commit's outcome (its `task_committed` event).
    fn from_commit(shared: &Shared, task_id: TaskId, tx: &TxOutcome) -> Option<Landed> {
        let events = tx
            .events::<opengpu_types::events::TaskCommitted>(Some(shared.chain.market()))
            .ok()?;
        let mine = events
            .into_iter()
            .find(|e| e.task_id == task_id && e.provider == shared.address())?;
        // A later committer looks at the chain first: an earlier one may have won already.
        if mine.seq > 0 {
            return None;
        }
        Some(Landed {
            committed_height: tx.height,
            reveal_deadline_height: mine.reveal_deadline,
        })
    }
}

/// Waits until this provider's commitment to `task_id` is on chain (`Some`), or until the
/// chain shows that it can no longer arrive: the task closed to commits (`gate`) without it
/// (`None`; the plan is removed). A node that cannot be reached is waited out; on shutdown
/// the plan stays on disk and a restart looks again.
async fn await_commitment(
    shared: &Shared,
    task_id: TaskId,
    gate: CommitGate,
    cancel: &Stops,
) -> anyhow::Result<Option<CommitmentInfo>> {
    let mut announced = false;
    loop {
        // The height first: the task and commitments read after it are no older.
        let height = patiently(cancel, || shared.chain.height()).await?;
        let task = patiently(cancel, || shared.chain.task_info(task_id)).await?;
        if let Some(mine) = my_commitment(shared, task_id, cancel).await? {
            return Ok(Some(mine));
        }
        if let Some(reason) = gate.before_commit(&task, shared.address(), height) {
            // A node reports a block a moment before its state holds it: once the chain is
            // past a height read after the task, every commitment that can exist is visible.
            let now = patiently(cancel, || shared.chain.height()).await?;
            patiently(cancel, || {
                shared.chain.wait_for_height_above(now, HEIGHT_WAIT)
            })
            .await?;
            if let Some(mine) = my_commitment(shared, task_id, cancel).await? {
                return Ok(Some(mine));
            }
            shared.store.remove(task_id);
            tracing::warn!(reason, "the commit never landed; reveal plan removed");
            return Ok(None);
        }
        if !announced {
            announced = true;
            tracing::info!(
                "commitment not on chain yet; looking again each block until the task closes \
                 to commits"
            );
        }
        // Each block (or sooner when no block comes from the event source).
        shared.heights.note(height);
        let next_block = Some(height.saturating_add(1));
        if !cancel
            .wait(&shared.heights, next_block, shared.heights.poll())
            .await
        {
            return Err(Stopping.into());
        }
    }
}

/// This provider's commitment to `task_id`, if it has one.
async fn my_commitment(
    shared: &Shared,
    task_id: TaskId,
    cancel: &Stops,
) -> anyhow::Result<Option<CommitmentInfo>> {
    Ok(patiently(cancel, || shared.chain.commitments(task_id))
        .await?
        .into_iter()
        .find(|c| c.provider.as_str() == shared.address()))
}

/// The daemon began stopping while a job waited for the node: the job ends as
/// [`Outcome::Abandoned`], and a saved plan resumes it on restart.
#[derive(Debug, thiserror::Error)]
#[error("the daemon is stopping")]
struct Stopping;

/// Reads the chain until it answers. A node that cannot be reached, or that answers with an
/// RPC error, is asked again after a pause that doubles from [`RETRY_PAUSE`] up to
/// [`RETRY_MAX_PAUSE`]; any other error (a contract refusing the query, say) is returned, and
/// [`Stopping`] once the daemon stops.
async fn patiently<T, F>(cancel: &Stops, mut read: impl FnMut() -> F) -> anyhow::Result<T>
where
    F: Future<Output = opengpu_client::Result<T>>,
{
    let mut pause = RETRY_PAUSE;
    let mut failures = 0u32;
    loop {
        match read().await {
            Ok(answer) => {
                if failures > 0 {
                    tracing::info!(failures, "the node answers again");
                }
                return Ok(answer);
            }
            Err(e @ (Error::Rpc { .. } | Error::NodeRejected(_))) => {
                failures += 1;
                if failures == 1 {
                    tracing::warn!(
                        error = %e,
                        "cannot read the chain; retrying until the node answers"
                    );
                } else {
                    tracing::debug!(error = %e, failures, "the node still does not answer");
                }
            }
            Err(e) => return Err(e.into()),
        }
        tokio::select! {
            _ = cancel.shutdown.cancelled() => return Err(Stopping.into()),
            _ = tokio::time::sleep(pause) => {}
        }
        pause = (pause * 2).min(RETRY_MAX_PAUSE);
    }
}

/// A 32-byte hash the plan holds.
fn to_hash(bytes: &cosmwasm_std::HexBinary) -> [u8; 32] {
    bytes
        .as_slice()
        .try_into()
        .expect("a plan's digest and commitment are SHA-256 hashes")
}

/// Fail point `provider::corrupt_output` (feature `failpoints`,
/// `FAILPOINTS=provider::corrupt_output=return`): commit a wrong result, unchecked, so the
/// end-to-end tests see the chain slash it.
fn corrupt_output_requested() -> bool {
    fail::fail_point!("provider::corrupt_output", |_| true);
    false
}

/// Why a task can no longer take a commit, if it cannot ([`policy::closed_to_commits`]), as
/// the reason a job is dropped.
fn not_committable(task: &TaskInfo) -> Option<&'static str> {
    policy::closed_to_commits(task).map(|closed| match closed {
        policy::Skip::NotOpen(_) => "ended_before_commit",
        other => other.label(),
    })
}

/// Reveals the plan's commitment, then waits for the task to settle. The commitment may not
/// be on chain yet (its inclusion unknown, or a restart right after its broadcast): it is
/// awaited first ([`await_commitment`]), under `gate`, or the gate of the task's model when
/// `None` (a plan resumed after a restart). When the commit was just seen in its block
/// (`landed`, models that take reveals at once), nothing is read: the reveal goes out at once.
async fn reveal_and_settle(
    shared: &Shared,
    plan: RevealPlan,
    gate: Option<CommitGate>,
    landed: Option<Landed>,
    cancel: &Stops,
) -> anyhow::Result<Outcome> {
    let landed = match landed {
        Some(landed) => landed,
        None => match commitment_to_reveal(shared, &plan, gate, cancel).await? {
            Ok(landed) => landed,
            Err(outcome) => return Ok(outcome),
        },
    };
    reveal(shared, plan, landed, cancel).await
}

/// Finds this provider's commitment on chain and checks that the plan can reveal it now
/// (waiting for commits to close under sealed models): `Err` with the job's outcome when not.
async fn commitment_to_reveal(
    shared: &Shared,
    plan: &RevealPlan,
    gate: Option<CommitGate>,
    cancel: &Stops,
) -> anyhow::Result<Result<Landed, Outcome>> {
    let task_id = plan.task_id;
    let task = patiently(cancel, || shared.chain.task_info(task_id)).await?;
    if task.status.is_final() {
        // Someone won first (or the task expired): the commitment is released or forfeited,
        // and a commit still in flight is refused.
        shared.store.remove(task_id);
        return judge(shared, &task, cancel).await.map(Err);
    }
    let mine = match my_commitment(shared, task_id, cancel).await? {
        Some(mine) => mine,
        None => {
            let gate = gate.unwrap_or_else(|| CommitGate::of(&task));
            match await_commitment(shared, task_id, gate, cancel).await? {
                Some(mine) => {
                    tracing::info!(height = mine.committed_height, "commitment found on chain");
                    mine
                }
                None => return Ok(Err(Outcome::Failed("commit_failed"))),
            }
        }
    };
    if !matches!(mine.state, CommitmentState::Committed {}) {
        shared.store.remove(task_id);
        return await_settlement(shared, task_id, cancel).await.map(Err);
    }
    if !plan.opens(&mine.commitment) {
        shared.store.set_aside(
            task_id,
            "it does not open this provider's commitment on chain (another key, or another \
             commitment recipe); the collateral is forfeited when the reveal window closes",
        );
        return Ok(Err(Outcome::Failed("plan_mismatch")));
    }
    if patiently(cancel, || shared.chain.height()).await? > mine.reveal_deadline_height {
        shared.store.remove(task_id);
        tracing::error!(
            deadline = mine.reveal_deadline_height,
            "reveal window missed"
        );
        return Ok(Err(Outcome::Failed("reveal_window_missed")));
    }
    if task.model.is_sealed() {
        if let Some(outcome) = wait_for_commits_closed(shared, task_id, cancel).await? {
            return Ok(Err(outcome));
        }
    }
    Ok(Ok(Landed {
        committed_height: mine.committed_height,
        reveal_deadline_height: mine.reveal_deadline_height,
    }))
}

/// Reveals the plan's commitment (`landed`), then waits for the task to settle.
async fn reveal(
    shared: &Shared,
    plan: RevealPlan,
    landed: Landed,
    cancel: &Stops,
) -> anyhow::Result<Outcome> {
    let task_id = plan.task_id;
    // Fault injection for the end-to-end tests (feature `failpoints`): give up here, as a
    // crash between commit and reveal would, keeping the plan on disk.
    fail::fail_point!("provider::before_reveal", |_| Ok(Outcome::Abandoned));
    let reveal = match plan.reveal_msg() {
        Ok(reveal) => reveal,
        Err(e) => {
            shared.store.set_aside(task_id, &e.to_string());
            return Ok(Outcome::Failed("plan_mismatch"));
        }
    };
    let mut refusals = 0;
    // The market needs the reveal in a later block than the commit. Sent with known gas, the
    // reveal is only executed in a block after the latest one seen, which holds the commit: it
    // goes out at once. A simulated one is executed on the state of the latest block, so it
    // waits for a block past the commit's; and a node reports a new height a moment before
    // its app state (which simulation reads) has it, so a refusal right after a block is
    // retried at the next one, while the window lasts.
    let after = landed.committed_height;
    let tx = loop {
        let height = match shared.heights.fresh_latest() {
            Some(latest) if latest >= after && shared.chain.gas_known(&reveal) => latest,
            _ => {
                patiently(cancel, || {
                    shared.chain.wait_for_height_above(after, HEIGHT_WAIT)
                })
                .await?
            }
        };
        let sent_at = Instant::now();
        let outcome = match shared.chain.broadcast(&reveal).await {
            Ok(hash) => {
                tracing::info!(height_seen = height, "reveal broadcast");
                shared.wait_for_tx(hash).await.map_err(SubmitError::from)
            }
            Err(e) => Err(e),
        };
        shared.metrics.observe(stage::REVEAL, sent_at.elapsed());
        let error = match outcome {
            Ok(tx) => break tx,
            Err(e) => e,
        };
        // Refused before the mempool, or failed in its block: the chain said no. Any other
        // failure (no answer from the node, no block seen in time) may have revealed all the
        // same.
        if error.never_sent() || matches!(error, SubmitError::Chain(Error::TxFailed { .. })) {
            refusals += 1;
        }
        // The task may have ended meanwhile, or the reveal landed: look before calling it a
        // failure.
        let task = patiently(cancel, || shared.chain.task_info(task_id)).await?;
        if task.status.is_final() {
            shared.store.remove(task_id);
            return judge(shared, &task, cancel).await;
        }
        let state = my_commitment(shared, task_id, cancel)
            .await?
            .map(|c| c.state);
        if !matches!(state, None | Some(CommitmentState::Committed {})) {
            shared.store.remove(task_id);
            tracing::info!(error = %error, "the reveal is on chain all the same");
            return await_settlement(shared, task_id, cancel).await;
        }
        if refusals >= REVEAL_ATTEMPTS || height >= landed.reveal_deadline_height {
            tracing::error!(
                error = %error,
                reveal_by = landed.reveal_deadline_height,
                "reveal failed; the plan stays on disk and a restart retries it"
            );
            return Ok(Outcome::Failed("reveal_failed"));
        }
        tracing::debug!(
            error = %error,
            refusals,
            "reveal not accepted; retrying at the next block"
        );
        patiently(cancel, || {
            shared.chain.wait_for_height_above(height, HEIGHT_WAIT)
        })
        .await?;
    };
    shared.store.remove(task_id);
    let revealed = tx.event::<opengpu_types::events::TaskRevealed>(Some(shared.chain.market()))?;
    match revealed.as_ref().map(|r| r.outcome.as_str()) {
        Some("rejected") => {
            tracing::error!("reveal rejected by verification: collateral slashed");
            return Ok(Outcome::Slashed("rejected"));
        }
        Some("refused") => {
            tracing::error!(
                "reveal refused: no match with the client's reference hash (collateral released)"
            );
            return Ok(Outcome::Failed("result_refused"));
        }
        _ => {}
    }
    tracing::info!(height = tx.height, "revealed");
    await_settlement(shared, task_id, cancel).await
}

/// Sealed models: the market takes reveals only once commits have closed (deadline passed
/// or every slot taken), so that no result is public while someone could still commit to
/// copy it. Waits for that; `Some` when the job ends instead.
async fn wait_for_commits_closed(
    shared: &Shared,
    task_id: TaskId,
    cancel: &Stops,
) -> anyhow::Result<Option<Outcome>> {
    let mut announced = false;
    loop {
        let task = patiently(cancel, || shared.chain.task_info(task_id)).await?;
        if task.status.is_final() {
            shared.store.remove(task_id);
            return judge(shared, &task, cancel).await.map(Some);
        }
        let height = patiently(cancel, || shared.chain.height()).await?;
        if task.commits_closed(height) {
            return Ok(None);
        }
        if !announced {
            announced = true;
            tracing::info!(
                model = %task.model,
                deadline = task.deadline_height,
                committed = task.commit_count,
                slots = task.max_committers,
                reveal_by = task.reveals_close_height(),
                "sealed: revealing once commits close"
            );
        }
        // Commits close at the deadline (a height), or when the last slot is taken (an
        // event that nudges the job); the task may end meanwhile (an event too).
        shared.heights.note(height);
        let closes = Some(task.deadline_height.saturating_add(1));
        if !cancel
            .wait(&shared.heights, closes, shared.heights.poll())
            .await
        {
            // The plan stays on disk: a restart reveals it.
            return Ok(Some(Outcome::Abandoned));
        }
    }
}

/// Waits for the task to settle, finalizing it when the rules allow and nobody else has.
async fn await_settlement(
    shared: &Shared,
    task_id: TaskId,
    cancel: &Stops,
) -> anyhow::Result<Outcome> {
    loop {
        let task = patiently(cancel, || shared.chain.task_info(task_id)).await?;
        if task.status.is_final() {
            return judge(shared, &task, cancel).await;
        }
        let height = patiently(cancel, || shared.chain.height()).await?;
        shared.heights.note(height);
        // The task's end is an event (settled, expired, cancelled, tallied): the job waits
        // for it, or for the height at which it may finalize the task itself.
        let mut until = None;
        if let Some(at) = finalize_height(shared, &task, cancel).await? {
            if height > at {
                let finalize = ExecuteMsg::Finalize { task_id };
                match shared.execute(&finalize).await {
                    Ok(tx) => tracing::info!(height = tx.height, "finalized"),
                    // Usually someone finalized first; the next look tells.
                    Err(e) => tracing::debug!(error = %e, "finalize not accepted"),
                }
                until = Some(height.saturating_add(1));
            } else {
                until = Some(at.saturating_add(1));
            }
        }
        // Heights need polling only while a height is awaited and no block comes from the
        // event source.
        let fallback = match until {
            Some(_) => shared.heights.poll().min(SETTLE_FALLBACK),
            None => SETTLE_FALLBACK,
        };
        if !cancel.wait(&shared.heights, until, fallback).await {
            return Ok(Outcome::Abandoned);
        }
    }
}

/// The height after which `Finalize` can name a winner for this task, if one is coming.
async fn finalize_height(
    shared: &Shared,
    task: &TaskInfo,
    cancel: &Stops,
) -> anyhow::Result<Option<u64>> {
    Ok(match task.model {
        CompetitionModel::ManualConfirmation => Some(task.confirm_deadline_height()),
        // The reveal that answers the last committer tallies by itself; otherwise the tally
        // is due once the reveal phase is over.
        CompetitionModel::Consensus { .. } => Some(task.reveals_close_height()),
        // The awardee's valid reveal settles the auction by itself.
        CompetitionModel::Auction { .. } => None,
        CompetitionModel::FirstResponse => {
            // Settles once every earlier committer's reveal window is over.
            let commitments = patiently(cancel, || shared.chain.commitments(task.id)).await?;
            let mine = commitments
                .iter()
                .find(|c| c.provider.as_str() == shared.address());
            mine.map(|mine| {
                commitments
                    .iter()
                    .filter(|c| c.seq < mine.seq)
                    .map(|c| c.reveal_deadline_height)
                    .max()
                    .unwrap_or(mine.committed_height)
            })
        }
    })
}

/// What a final task meant for this provider: paid (alone or as one of a Consensus group),
/// slashed, or neither.
async fn judge(shared: &Shared, task: &TaskInfo, cancel: &Stops) -> anyhow::Result<Outcome> {
    let me = shared.address();
    if let Some(settlement) = &task.settlement {
        if settlement.winner.as_str() == me
            || settlement.shares.iter().any(|s| s.provider.as_str() == me)
        {
            return Ok(Outcome::Won);
        }
    }
    let mine = my_commitment(shared, task.id, cancel).await?;
    Ok(mine.map_or(Outcome::Lost, |c| outcome_of(&c.state)))
}

/// The outcome of a commitment of a task that is not paid to this provider.
fn outcome_of(state: &CommitmentState) -> Outcome {
    match state {
        CommitmentState::Rejected { .. } => Outcome::Slashed("rejected"),
        CommitmentState::Outvoted {} => Outcome::Slashed("outvoted"),
        CommitmentState::Forfeited {} => Outcome::Slashed("forfeited"),
        // No match with the client's reference hash: collateral released, not paid.
        CommitmentState::Refused { .. } => Outcome::Failed("result_refused"),
        CommitmentState::Committed {}
        | CommitmentState::Revealed { .. }
        | CommitmentState::Released {} => Outcome::Lost,
    }
}

#[cfg(test)]
mod tests {
    use cosmwasm_std::{HexBinary, Uint128};
    use opengpu_types::market::TaskStatus;

    use super::*;

    #[test]
    fn outvoted_rejected_and_forfeited_commitments_count_as_slashed() {
        let cases = [
            (
                CommitmentState::Rejected {
                    reason: "freivalds".into(),
                },
                Outcome::Slashed("rejected"),
            ),
            (CommitmentState::Outvoted {}, Outcome::Slashed("outvoted")),
            (CommitmentState::Forfeited {}, Outcome::Slashed("forfeited")),
            (
                CommitmentState::Refused {
                    reason: "no match".into(),
                },
                Outcome::Failed("result_refused"),
            ),
            (CommitmentState::Released {}, Outcome::Lost),
            (
                CommitmentState::Revealed {
                    outputs_digest: HexBinary::from(vec![0; 32]),
                    price: Some(Uint128::new(3)),
                    height: 9,
                },
                Outcome::Lost,
            ),
        ];
        for (state, outcome) in cases {
            assert_eq!(outcome_of(&state), outcome, "{state:?}");
        }
    }

    #[test]
    fn the_deadline_gate_stops_at_the_deadline_and_the_award_gate_at_the_awards_window() {
        let task = crate::policy::tests::task(); // deadline 30
        let gate = CommitGate::Deadline;
        assert_eq!(gate.before_run(&task, "me"), None);
        assert_eq!(gate.before_commit(&task, "me", 29), None);
        assert_eq!(
            gate.before_commit(&task, "me", 30),
            Some("deadline_passed_during_run")
        );
        let mut full = task.clone();
        full.commit_count = full.max_committers;
        assert_eq!(gate.before_run(&full, "me"), Some("committers_full"));
        assert!(!gate.delivers_unmatched());

        // An auction past its bidding deadline, awarded to "me" until height 60.
        let mut auction = TaskInfo {
            model: CompetitionModel::Auction {
                bid_reveal_blocks: 5,
                execute_blocks: 20,
            },
            status: TaskStatus::Committed,
            auction: Some(opengpu_types::auction::AuctionState {
                bid_count: 2,
                revealed_count: 2,
                award: Some(opengpu_types::auction::Award {
                    provider: cosmwasm_std::Addr::unchecked("me"),
                    bid_seq: 1,
                    bid: Uint128::new(300),
                    price: Uint128::new(400),
                    awarded_height: 40,
                    execute_deadline: 60,
                }),
                ..Default::default()
            }),
            ..task
        };
        let gate = CommitGate::Award;
        assert_eq!(gate.before_run(&auction, "me"), None);
        assert_eq!(gate.before_commit(&auction, "me", 45), None);
        assert_eq!(
            gate.before_commit(&auction, "me", 59),
            Some("execute_window_missed")
        );
        assert_eq!(gate.before_run(&auction, "other"), Some("award_passed_on"));
        assert!(gate.delivers_unmatched());
        auction.status = TaskStatus::Expired;
        assert_eq!(gate.before_run(&auction, "me"), Some("ended_before_commit"));
    }

    use std::future::Future;

    use tokio::sync::Notify;
    use tokio_util::sync::CancellationToken;

    use crate::fake::{no_plan, FakeBackend, Fault, World, ME};

    fn stops() -> Stops {
        Stops {
            task_ended: CancellationToken::new(),
            shutdown: CancellationToken::new(),
            nudge: Arc::new(Notify::new()),
        }
    }

    /// Task 1, just taken.
    fn fresh(world: &World) -> Start {
        Start::Fresh {
            task: Box::new(world.task.clone()),
            offer: None,
            taken_at: Instant::now(),
            received_at: Instant::now(),
            read_at: None,
        }
    }

    /// Polls `done` until it holds (the job runs meanwhile), for 10 s at most.
    async fn until(done: impl Fn() -> bool) {
        for _ in 0..1000 {
            if done() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("not reached in time");
    }

    async fn within<T>(job: impl Future<Output = T>) -> T {
        tokio::time::timeout(Duration::from_secs(10), job)
            .await
            .expect("the job ended in time")
    }

    #[tokio::test]
    async fn a_commit_whose_inclusion_is_unknown_is_revealed_once_found() {
        let world = World::new();
        let chain = &world.chain;
        chain.with(|m| m.hold = 1); // the commit waits in the mempool: its wait times out
        let shared = Arc::new(world.shared(FakeBackend::new()));
        let job = tokio::spawn(run(shared.clone(), 1, fresh(&world), stops()));
        // The job looked for its commitment on chain, did not find it, and kept its plan.
        until(|| chain.with(|m| m.looks >= 1)).await;
        assert_eq!(chain.sent(), ["commit"]);
        assert_eq!(shared.store.pending().unwrap(), vec![1]);
        chain.land();
        assert_eq!(within(job).await.unwrap(), Outcome::Won);
        assert_eq!(chain.sent(), ["commit", "reveal"]);
        assert!(no_plan(&shared));
    }

    #[tokio::test]
    async fn a_first_commit_is_revealed_without_reading_the_chain_again() {
        let world = World::new();
        let chain = &world.chain;
        let shared = Arc::new(world.shared(FakeBackend::new()));
        let outcome = within(run(shared.clone(), 1, fresh(&world), stops())).await;
        assert_eq!(outcome, Outcome::Won);
        assert_eq!(chain.sent(), ["commit", "reveal"]);
        // The commit's own block told where it stands: no look at the commitments.
        assert_eq!(chain.with(|m| m.looks), 0);
        assert!(no_plan(&shared));
    }

    #[tokio::test]
    async fn a_commit_seen_in_its_block_is_revealed_at_once_without_asking_the_node() {
        let world = World::new();
        let chain = &world.chain;
        let shared = Arc::new(world.shared(FakeBackend::new()));
        // Blocks arrive from the event source.
        let source = crate::fake::follow_blocks(chain.clone(), shared.clone());
        until(|| shared.heights.fresh()).await;
        let started = Instant::now();
        let outcome = within(run(shared.clone(), 1, fresh(&world), stops())).await;
        let elapsed = started.elapsed();
        source.abort();
        assert_eq!(outcome, Outcome::Won);
        assert_eq!(chain.sent(), ["commit", "reveal"]);
        let (committed, revealed) = chain.with(|m| (m.included[0].height, m.included[1].height));
        assert_eq!(
            revealed,
            committed + 1,
            "revealed in the block after the commit"
        );
        // Both inclusions came from the blocks, well before the node would be asked.
        assert_eq!(chain.with(|m| (m.tx_waits, m.looks)), (0, 0));
        assert!(elapsed < Duration::from_millis(400), "{elapsed:?}");
        assert!(no_plan(&shared));
    }

    #[tokio::test]
    async fn a_task_read_in_the_latest_block_is_not_read_again_before_its_commit() {
        for (read_at, reads_before_commit) in [(100, 0), (99, 2)] {
            let world = World::new();
            let chain = &world.chain;
            let shared = Arc::new(world.shared(FakeBackend::new()));
            let source = crate::fake::follow_blocks(chain.clone(), shared.clone());
            until(|| shared.heights.fresh_latest() == Some(100)).await;
            // Read by the daemon after block `read_at` was reported.
            let start = match fresh(&world) {
                Start::Fresh {
                    task,
                    offer,
                    taken_at,
                    received_at,
                    ..
                } => Start::Fresh {
                    task,
                    offer,
                    taken_at,
                    received_at,
                    read_at: Some(read_at),
                },
                _ => unreachable!(),
            };
            let outcome = within(run(shared.clone(), 1, start, stops())).await;
            source.abort();
            assert_eq!(outcome, Outcome::Won);
            assert_eq!(chain.sent(), ["commit", "reveal"]);
            // And one read once revealed, to see the task settled.
            let reads = chain.with(|m| m.info_reads);
            assert_eq!(reads, reads_before_commit + 1, "read at {read_at}");
        }
    }

    #[tokio::test]
    async fn a_commit_that_never_lands_is_given_up_once_commits_close() {
        let world = World::new();
        let chain = &world.chain;
        chain.with(|m| m.hold = 1);
        let shared = Arc::new(world.shared(FakeBackend::new()));
        let job = tokio::spawn(run(shared.clone(), 1, fresh(&world), stops()));
        until(|| chain.with(|m| m.looks >= 1)).await;
        assert_eq!(
            shared.store.pending().unwrap(),
            vec![1],
            "kept while it may land"
        );
        // The deadline passes with the commit still out of any block: it can never land.
        chain.with(|m| m.height = world.task.task.deadline_height);
        assert_eq!(within(job).await.unwrap(), Outcome::Failed("commit_failed"));
        assert_eq!(chain.sent(), ["commit"]);
        assert!(no_plan(&shared));
    }

    #[tokio::test]
    async fn a_commit_whose_answer_was_lost_but_that_landed_is_revealed_and_paid() {
        let world = World::new();
        let chain = &world.chain;
        // The node took the commit into a block; the provider saw a transport error.
        chain.with(|m| m.faults.push_back(Fault::AnswerLost));
        let shared = Arc::new(world.shared(FakeBackend::new()));
        let outcome = within(run(shared.clone(), 1, fresh(&world), stops())).await;
        assert_eq!(outcome, Outcome::Won);
        assert_eq!(chain.sent(), ["commit", "reveal"]);
        assert!(no_plan(&shared));
    }

    #[tokio::test]
    async fn a_commit_refused_before_the_mempool_removes_its_plan() {
        let world = World::new();
        let chain = &world.chain;
        chain.with(|m| m.faults.push_back(Fault::Refused));
        let shared = Arc::new(world.shared(FakeBackend::new()));
        let outcome = within(run(shared.clone(), 1, fresh(&world), stops())).await;
        assert_eq!(outcome, Outcome::Failed("commit_refused"));
        assert_eq!(chain.sent(), ["commit"]);
        assert!(no_plan(&shared));
        assert_eq!(chain.with(|m| m.commitment(1, ME).cloned()), None);
    }

    #[tokio::test]
    async fn a_node_that_goes_down_after_taking_the_commit_is_waited_out_then_revealed() {
        let world = World::new();
        let chain = &world.chain;
        // The node takes the commit into its mempool and stops answering.
        chain.with(|m| {
            m.hold = 1;
            m.faults.push_back(Fault::NodeDown);
        });
        let shared = Arc::new(world.shared(FakeBackend::new()));
        let job = tokio::spawn(run(shared.clone(), 1, fresh(&world), stops()));
        until(|| chain.with(|m| m.failed_calls >= 5)).await;
        assert_eq!(
            shared.store.pending().unwrap(),
            vec![1],
            "kept while unknown"
        );
        assert!(!job.is_finished(), "the job waits for the node");
        // The commit lands while the node cannot be reached; then it answers again.
        chain.land();
        chain.with(|m| m.unreachable = false);
        assert_eq!(within(job).await.unwrap(), Outcome::Won);
        assert_eq!(chain.sent(), ["commit", "reveal"]);
        assert!(no_plan(&shared));
    }

    #[tokio::test]
    async fn a_node_unreachable_while_the_commitment_is_awaited_keeps_the_plan() {
        let world = World::new();
        let chain = &world.chain;
        chain.with(|m| m.hold = 1); // the commit waits in the mempool: its wait times out
        let shared = Arc::new(world.shared(FakeBackend::new()));
        let job = tokio::spawn(run(shared.clone(), 1, fresh(&world), stops()));
        until(|| chain.with(|m| m.looks >= 1)).await;
        chain.with(|m| m.unreachable = true);
        until(|| chain.with(|m| m.failed_calls >= 5)).await;
        assert_eq!(shared.store.pending().unwrap(), vec![1]);
        assert!(!job.is_finished(), "the job waits for the node");
        chain.land();
        chain.with(|m| m.unreachable = false);
        assert_eq!(within(job).await.unwrap(), Outcome::Won);
        assert_eq!(chain.sent(), ["commit", "reveal"]);
        assert!(no_plan(&shared));
    }

    #[tokio::test]
    async fn a_commit_lost_on_the_way_is_given_up_once_the_task_closes_to_commits() {
        let world = World::new();
        let chain = &world.chain;
        // A transport error, and the node never saw the commit: the provider cannot tell.
        chain.with(|m| m.faults.push_back(Fault::Lost));
        let shared = Arc::new(world.shared(FakeBackend::new()));
        let job = tokio::spawn(run(shared.clone(), 1, fresh(&world), stops()));
        until(|| chain.with(|m| m.looks >= 2)).await;
        assert_eq!(
            shared.store.pending().unwrap(),
            vec![1],
            "kept while unknown"
        );
        chain.with(|m| m.height = world.task.task.deadline_height);
        assert_eq!(within(job).await.unwrap(), Outcome::Failed("commit_failed"));
        assert_eq!(
            chain.sent(),
            Vec::<String>::new(),
            "nothing reached the node"
        );
        assert!(no_plan(&shared));
    }

    #[tokio::test]
    async fn a_stop_while_the_node_is_unreachable_keeps_the_plan_for_a_restart() {
        let world = World::new();
        let chain = &world.chain;
        chain.with(|m| {
            m.hold = 1;
            m.faults.push_back(Fault::NodeDown);
        });
        let shared = Arc::new(world.shared(FakeBackend::new()));
        let stops = stops();
        let shutdown = stops.shutdown.clone();
        let job = tokio::spawn(run(shared.clone(), 1, fresh(&world), stops));
        until(|| chain.with(|m| m.failed_calls >= 2)).await;
        shutdown.cancel();
        assert_eq!(within(job).await.unwrap(), Outcome::Abandoned);
        assert_eq!(shared.store.pending().unwrap(), vec![1]);
    }

    #[tokio::test]
    async fn a_reveal_whose_answer_was_lost_is_found_on_chain_and_not_sent_again() {
        let world = World::new();
        let chain = &world.chain;
        let is_commit = |msg: &ExecuteMsg| matches!(msg, ExecuteMsg::Commit { .. });
        // Once the commit is in: the reveal lands, but its answer is lost.
        chain.after(is_commit, |m| m.faults.push_back(Fault::AnswerLost));
        let shared = Arc::new(world.shared(FakeBackend::new()));
        let outcome = within(run(shared.clone(), 1, fresh(&world), stops())).await;
        assert_eq!(outcome, Outcome::Won);
        assert_eq!(chain.sent(), ["commit", "reveal"]);
        assert!(no_plan(&shared));
    }

    #[tokio::test]
    async fn a_task_that_ends_while_its_kernel_runs_is_not_committed() {
        for daemon_saw_it in [true, false] {
            let world = World::new();
            let stops = stops();
            let ended = stops.task_ended.clone();
            let chain = world.chain.clone();
            // The client cancels (or the task expires) while the kernel runs; the daemon may
            // or may not have passed the event on by the time the run ends.
            let backend = FakeBackend::new().during_run(move || {
                chain.with(|m| m.task(1).status = TaskStatus::Cancelled);
                if daemon_saw_it {
                    ended.cancel();
                }
            });
            let shared = Arc::new(world.shared(backend));
            let outcome = within(run(shared.clone(), 1, fresh(&world), stops)).await;
            let reason = if daemon_saw_it {
                "ended_during_run"
            } else {
                "ended_before_commit"
            };
            assert_eq!(outcome, Outcome::Dropped(reason));
            assert_eq!(world.chain.sent(), Vec::<String>::new(), "nothing sent");
            assert!(no_plan(&shared));
        }
    }

    /// Task 1 under `model`, with this provider's commitment revealed (valid): what is left
    /// is to wait for the task to settle.
    fn revealed_under(world: &World, model: CompetitionModel) {
        world.chain.with(|m| {
            m.task(1).model = model;
            m.commit(1, ME, HexBinary::from(vec![7; 32])).unwrap();
            m.height += 1;
            m.commitments.get_mut(&1).unwrap()[0].state = CommitmentState::Revealed {
                outputs_digest: HexBinary::from(vec![0; 32]),
                price: Some(Uint128::new(500)),
                height: m.height,
            };
        });
    }

    #[tokio::test]
    async fn a_job_awaiting_settlement_is_woken_by_the_tasks_end_not_by_polling() {
        let world = World::new();
        let chain = &world.chain;
        // Manual Confirmation: the client confirms (or the confirm window ends, 70 blocks on).
        revealed_under(&world, CompetitionModel::ManualConfirmation);
        let shared = Arc::new(world.shared(FakeBackend::new()));
        shared.heights.note_block(101); // blocks arrive from the event source
        let stops = stops();
        let ended = stops.task_ended.clone();
        let job = tokio::spawn(run(shared.clone(), 1, Start::AwaitSettlement, stops));
        until(|| chain.with(|m| m.info_reads >= 1)).await;
        // No event: the job waits, and does not look at the chain again.
        tokio::time::sleep(Duration::from_millis(1_200)).await;
        assert_eq!(chain.with(|m| m.info_reads), 1, "no polling while waiting");
        assert!(!job.is_finished());
        // The client confirms: the task is settled, and the daemon passes its event on.
        chain.with(|m| m.settle(1, ME));
        ended.cancel();
        let outcome = tokio::time::timeout(Duration::from_secs(1), job)
            .await
            .expect("woken by the event")
            .unwrap();
        assert_eq!(outcome, Outcome::Won);
        assert_eq!(chain.with(|m| m.info_reads), 2);
        assert_eq!(chain.with(|m| m.kernel_reads), 0, "no kernel read to wait");
    }

    #[tokio::test]
    async fn a_missed_end_event_is_caught_by_the_slow_poll() {
        let world = World::new();
        let chain = &world.chain;
        // An auction settles with its awardee's reveal: no height to wait for.
        revealed_under(
            &world,
            CompetitionModel::Auction {
                bid_reveal_blocks: 5,
                execute_blocks: 20,
            },
        );
        let shared = Arc::new(world.shared(FakeBackend::new()));
        let job = tokio::spawn(run(shared.clone(), 1, Start::AwaitSettlement, stops()));
        until(|| chain.with(|m| m.info_reads >= 1)).await;
        // Settled while the event source was reconnecting: no event reaches the job.
        chain.with(|m| m.settle(1, ME));
        let outcome = tokio::time::timeout(SETTLE_FALLBACK * 2, job)
            .await
            .expect("found by the fallback poll")
            .unwrap();
        assert_eq!(outcome, Outcome::Won);
    }

    #[tokio::test]
    async fn a_job_reads_the_task_without_its_kernel_while_it_waits() {
        let world = World::new();
        let shared = Arc::new(world.shared(FakeBackend::new()));
        let outcome = within(run(shared.clone(), 1, fresh(&world), stops())).await;
        assert_eq!(outcome, Outcome::Won);
        let (kernel_reads, info_reads) = world.chain.with(|m| (m.kernel_reads, m.info_reads));
        assert_eq!(kernel_reads, 0, "the kernel came with the task taken");
        assert!(info_reads >= 2, "{info_reads}");
    }

    #[cfg(feature = "failpoints")]
    #[test]
    fn the_corrupt_output_fail_point_is_off_unless_configured() {
        crate::fake::assert_fail_point_toggles(
            "provider::corrupt_output",
            corrupt_output_requested,
        );
    }
}
