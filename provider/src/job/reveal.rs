//! From a commitment to its reveal: find the commitment on chain, wait until the model takes
//! reveals, reveal (retrying what the chain refused), then await the settlement.

use super::*;

/// Reveals the plan's commitment, then waits for the task to settle. The commitment may not
/// be on chain yet (its inclusion unknown, or a restart right after its broadcast): it is
/// awaited first ([`await_commitment`]), under `gate`, or the gate of the task's model when
/// `None` (a plan resumed after a restart). When the commit was just seen in its block
/// (`landed`, models that take reveals at once), nothing is read: the reveal goes out at once.
pub(super) async fn reveal_and_settle(
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
pub(super) async fn commitment_to_reveal(
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
pub(super) async fn reveal(
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
pub(super) async fn wait_for_commits_closed(
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
