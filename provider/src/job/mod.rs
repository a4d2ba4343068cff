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

mod commit;
mod reveal;
mod settle;
#[cfg(test)]
mod tests;

use commit::{await_commitment, execute_read_at, my_commitment, Landed};
pub(crate) use commit::{execute, CommitGate, Execution};
use reveal::reveal_and_settle;
use settle::{await_settlement, judge};

/// The daemon began stopping while a job waited for the node: the job ends as
/// [`Outcome::Abandoned`], and a saved plan resumes it on restart.
#[derive(Debug, thiserror::Error)]
#[error("the daemon is stopping")]
pub(super) struct Stopping;

/// Reads the chain until it answers. A node that cannot be reached, or that answers with an
/// RPC error, is asked again after a pause that doubles from [`RETRY_PAUSE`] up to
/// [`RETRY_MAX_PAUSE`]; any other error (a contract refusing the query, say) is returned, and
/// [`Stopping`] once the daemon stops.
pub(super) async fn patiently<T, F>(
    cancel: &Stops,
    mut read: impl FnMut() -> F,
) -> anyhow::Result<T>
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
pub(super) fn to_hash(bytes: &cosmwasm_std::HexBinary) -> [u8; 32] {
    bytes
        .as_slice()
        .try_into()
        .expect("a plan's digest and commitment are SHA-256 hashes")
}

/// Fail point `provider::corrupt_output` (feature `failpoints`,
/// `FAILPOINTS=provider::corrupt_output=return`): commit a wrong result, unchecked, so the
/// end-to-end tests see the chain slash it.
pub(super) fn corrupt_output_requested() -> bool {
    fail::fail_point!("provider::corrupt_output", |_| true);
    false
}

/// Why a task can no longer take a commit, if it cannot ([`policy::closed_to_commits`]), as
/// the reason a job is dropped.
pub(super) fn not_committable(task: &TaskInfo) -> Option<&'static str> {
    policy::closed_to_commits(task).map(|closed| match closed {
        policy::Skip::NotOpen(_) => "ended_before_commit",
        other => other.label(),
    })
}
