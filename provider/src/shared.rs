//! What the daemon's main loop and its jobs share: the chain, the executor, the stores, the
//! bookkeeping of promised collateral and the latest height; and the words they speak to each
//! other (how a job ends, what stops it). The daemon and the jobs both import this module,
//! never each other's.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cosmwasm_std::Uint128;
use opengpu_types::TaskId;
use tokio::sync::{watch, Notify, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::chain::Chain;
use crate::executor::Backend;
use crate::metrics::Metrics;
use crate::store::{BidStore, PlanStore};

/// What every job shares.
pub struct Shared {
    /// The market, read and written as this provider.
    pub chain: Arc<dyn Chain>,
    pub backend: Arc<dyn Backend>,
    pub metrics: Metrics,
    /// Reveal plans kept until their commitment is opened.
    pub store: PlanStore,
    /// Sealed auction bids kept until they are opened.
    pub bids: BidStore,
    pub exec_slots: Semaphore,
    pub reservations: Reservations,
    /// The latest chain height the daemon has seen: auction jobs wait on it for their windows.
    pub heights: Heights,
}

impl Shared {
    /// This provider's address.
    pub fn address(&self) -> &str {
        self.chain.address()
    }
}

/// How a job ended; the daemon counts it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Won,
    /// Committed, but another provider was paid or the task expired.
    Lost,
    /// Taken but never committed: the task ended first or the kernel failed.
    Dropped(&'static str),
    Failed(&'static str),
    /// Run, but the result failed the task's own check: never committed.
    Refused(&'static str),
    /// Committed, and the market took the collateral: `rejected` (proven wrong at reveal),
    /// `outvoted` (outside the Consensus majority) or `forfeited` (not revealed in time).
    Slashed(&'static str),
    /// Stopped by shutdown; a saved reveal plan resumes it on restart.
    Abandoned,
}

/// Cancellation a job watches: its task ended on chain, or the daemon is stopping; and a
/// nudge when an event moved its task (auctions wait on it rather than poll).
#[derive(Clone)]
pub struct Stops {
    pub task_ended: CancellationToken,
    pub shutdown: CancellationToken,
    pub nudge: Arc<Notify>,
}

impl Stops {
    /// Waits until something may have moved the task: an event ended it or moved it (the
    /// daemon cancels [`task_ended`](Self::task_ended) or nudges), the chain reached `until`
    /// (when set), or `fallback` passed (an event missed across a reconnect). `false` once
    /// the daemon is stopping.
    pub async fn wait(&self, heights: &Heights, until: Option<u64>, fallback: Duration) -> bool {
        let mut latest = heights.subscribe();
        let reached = async move {
            match until {
                Some(target) => {
                    if latest.wait_for(|h| *h >= target).await.is_err() {
                        std::future::pending::<()>().await;
                    }
                }
                None => std::future::pending().await,
            }
        };
        // Once ended, the task is final at the next look; a node that lags behind the event
        // is polled, not spun on.
        let ended = self.task_ended.is_cancelled();
        let fallback = if ended {
            fallback.min(FAST_POLL)
        } else {
            fallback
        };
        tokio::select! {
            _ = self.shutdown.cancelled() => false,
            _ = self.task_ended.cancelled(), if !ended => true,
            _ = self.nudge.notified() => true,
            _ = reached => true,
            _ = tokio::time::sleep(fallback) => true,
        }
    }
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
    pub fn total(&self) -> Uint128 {
        self.0.lock().expect("poisoned").values().copied().sum()
    }
}

/// Longest wait between looks at the chain while new blocks arrive from the event source:
/// events and heights wake the job, the poll only guards against a missed one.
const SLOW_POLL: Duration = Duration::from_secs(5);
/// The same when no block came from the event source lately (its block subscription is down):
/// windows of a few blocks must not be missed.
const FAST_POLL: Duration = Duration::from_millis(500);
/// A block reported within this long means blocks are arriving.
const BLOCKS_FRESH: Duration = Duration::from_secs(3);
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
    pub(crate) fn poll(&self) -> Duration {
        let seen = *self.block_seen.lock().expect("poisoned");
        match seen {
            Some(at) if at.elapsed() < BLOCKS_FRESH => SLOW_POLL,
            _ => FAST_POLL,
        }
    }
}
