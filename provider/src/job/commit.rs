//! From a slot to a commitment on chain: run the kernel, check the result, save the plan,
//! commit, and learn whether the commit landed.

use super::*;

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
pub(super) async fn task_now(
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
pub(super) async fn execute_read_at(
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
pub(super) struct Landed {
    pub(super) committed_height: u64,
    pub(super) reveal_deadline_height: u64,
}

impl Landed {
    /// From the commit's outcome (its `task_committed` event).
    pub(super) fn from_commit(shared: &Shared, task_id: TaskId, tx: &TxOutcome) -> Option<Landed> {
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
pub(super) async fn await_commitment(
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
pub(super) async fn my_commitment(
    shared: &Shared,
    task_id: TaskId,
    cancel: &Stops,
) -> anyhow::Result<Option<CommitmentInfo>> {
    Ok(patiently(cancel, || shared.chain.commitments(task_id))
        .await?
        .into_iter()
        .find(|c| c.provider.as_str() == shared.address()))
}
