//! After the reveal: wait for the task to settle (finalizing it when the rules allow) and
//! judge how it ended for this provider.

use super::*;

/// Waits for the task to settle, finalizing it when the rules allow and nobody else has.
pub(super) async fn await_settlement(
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
pub(super) async fn finalize_height(
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
pub(super) async fn judge(
    shared: &Shared,
    task: &TaskInfo,
    cancel: &Stops,
) -> anyhow::Result<Outcome> {
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
pub(super) fn outcome_of(state: &CommitmentState) -> Outcome {
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
