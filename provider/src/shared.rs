//! What the daemon's main loop and its jobs share: the chain, the executor, the stores, the
//! bookkeeping of promised collateral and the latest height; and the words they speak to each
//! other (how a job ends, what stops it). The daemon and the jobs both import this module,
//! never each other's.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cosmrs::tendermint::Hash;
use cosmwasm_std::Uint128;
use opengpu_client::TxOutcome;
use opengpu_types::market::ExecuteMsg;
use opengpu_types::TaskId;
use tokio::sync::{watch, Notify, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::chain::Chain;
use crate::executor::Backend;
use crate::inputs::InputStore;
use crate::metrics::Metrics;
use crate::signer::SubmitError;
use crate::source::Included;
use crate::store::{BidStore, PlanStore};

/// What every job shares.
pub struct Shared {
    /// The market, read and written as this provider.
    pub chain: Arc<dyn Chain>,
    pub backend: Arc<dyn Backend>,
    /// Off-chain inputs, fetched and checked before a run.
    pub inputs: InputStore,
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

    /// Waits until the transaction is in a block, as [`Chain::wait_for_tx`] reports it. The
    /// block comes from the event source ([`Heights::note_included`]) the moment the daemon
    /// sees it; the node is asked only when no blocks arrive from the source, or when the
    /// transaction was not seen in them for [`TX_EVENT_GRACE`] (a block missed across a
    /// reconnect).
    pub async fn wait_for_tx(&self, hash: Hash) -> opengpu_client::Result<TxOutcome> {
        let mut seen = self.heights.included_seen.subscribe();
        let from_events = async {
            loop {
                if let Some(found) = self.heights.included(&hash) {
                    return found.result();
                }
                if seen.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        };
        let from_node = async {
            if self.heights.fresh() {
                tokio::time::sleep(TX_EVENT_GRACE).await;
            }
            self.chain.wait_for_tx(hash).await
        };
        tokio::select! {
            biased;
            found = from_events => found,
            found = from_node => found,
        }
    }

    /// Broadcasts `msg` to the market and waits for its block ([`Shared::wait_for_tx`]).
    pub async fn execute(&self, msg: &ExecuteMsg) -> Result<TxOutcome, SubmitError> {
        let hash = self.chain.broadcast(msg).await?;
        Ok(self.wait_for_tx(hash).await?)
    }
}

/// How long a transaction may go unseen in the blocks from the event source before the node
/// is asked about it as well.
#[cfg(not(test))]
const TX_EVENT_GRACE: Duration = Duration::from_secs(2);
#[cfg(test)]
const TX_EVENT_GRACE: Duration = Duration::from_millis(500);

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
/// as locked yet; and the vault's free stake as last read, so that a task is decided on
/// without a query of its own.
#[derive(Default, Clone)]
pub struct Reservations(Arc<Mutex<Promised>>);

#[derive(Default)]
struct Promised {
    tasks: HashMap<TaskId, Uint128>,
    /// The vault's free stake for this provider, and when it was read.
    free: Option<(Uint128, Instant)>,
    /// Bumped whenever the free stake may have changed: a read begun before is not kept.
    generation: u64,
}

/// The longest a free stake read from the vault is used. Within it, the cache is dropped when
/// this provider's own collateral moves (a commit lands, a job ends); beyond it, bonding and
/// unbonding from outside the daemon (and slashing) show.
const FREE_STAKE_TTL: Duration = Duration::from_secs(30);

impl Reservations {
    pub fn reserve(&self, task_id: TaskId, amount: Uint128) {
        self.0
            .lock()
            .expect("poisoned")
            .tasks
            .insert(task_id, amount);
    }
    /// The promise to `task_id` ends: its collateral is locked in the vault (or soon, or
    /// never), or the task is done with; the vault is read again at the next decision.
    pub fn release(&self, task_id: TaskId) {
        let mut promised = self.0.lock().expect("poisoned");
        if promised.tasks.remove(&task_id).is_some() {
            promised.forget_free();
        }
    }
    pub fn total(&self) -> Uint128 {
        self.0
            .lock()
            .expect("poisoned")
            .tasks
            .values()
            .copied()
            .sum()
    }

    /// Drops the cached free stake: the next decision reads the vault.
    pub fn forget_free_stake(&self) {
        self.0.lock().expect("poisoned").forget_free();
    }

    /// The vault's free stake for this provider (reservations not deducted): the cached
    /// value while it is fresh, else read from the chain.
    pub async fn vault_free_stake(&self, chain: &dyn Chain) -> opengpu_client::Result<Uint128> {
        let generation = {
            let promised = self.0.lock().expect("poisoned");
            if let Some((free, at)) = promised.free {
                if at.elapsed() < FREE_STAKE_TTL {
                    return Ok(free);
                }
            }
            promised.generation
        };
        let read_at = Instant::now();
        let free = chain.free_stake().await?;
        let mut promised = self.0.lock().expect("poisoned");
        if promised.generation == generation {
            promised.free = Some((free, read_at));
        }
        Ok(free)
    }
}

impl Promised {
    fn forget_free(&mut self) {
        self.free = None;
        self.generation += 1;
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
/// Blocks kept in [`Heights`]' record of included transactions.
const INCLUDED_KEPT_BLOCKS: u64 = 150;
/// Transactions kept there at most, however full the blocks.
const INCLUDED_KEPT_TXS: usize = 20_000;

/// The chain as the daemon last saw it, which jobs wait on: the latest height (new blocks
/// from the event source, and the heights jobs read themselves), and the transactions of the
/// latest blocks, so that a job learns that its transaction is in a block from the event
/// source rather than by asking the node.
pub struct Heights {
    latest: watch::Sender<u64>,
    /// When the event source last reported a block.
    block_seen: Mutex<Option<Instant>>,
    included: Mutex<RecentTxs>,
    /// Bumped after each block's transactions are recorded.
    included_seen: watch::Sender<u64>,
}

#[derive(Default)]
struct RecentTxs {
    by_hash: HashMap<Hash, Included>,
    /// In order of arrival, to forget the oldest.
    order: VecDeque<(u64, Hash)>,
}

impl Default for Heights {
    fn default() -> Self {
        Heights {
            latest: watch::channel(0).0,
            block_seen: Mutex::new(None),
            included: Mutex::new(RecentTxs::default()),
            included_seen: watch::channel(0).0,
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

    /// The latest height seen.
    pub fn latest(&self) -> u64 {
        *self.latest.borrow()
    }

    /// Whether blocks arrive from the event source (one was reported lately).
    pub fn fresh(&self) -> bool {
        let seen = *self.block_seen.lock().expect("poisoned");
        seen.is_some_and(|at| at.elapsed() < BLOCKS_FRESH)
    }

    /// The latest height, when blocks arrive from the event source: a height that is not
    /// older than a block or so, without asking the node.
    pub fn fresh_latest(&self) -> Option<u64> {
        let latest = self.latest();
        (self.fresh() && latest > 0).then_some(latest)
    }

    /// Records a block's transactions (from the event source), waking the jobs waiting for
    /// one of them; the block is committed, so its height is noted as reached.
    pub fn note_included(&self, txs: Vec<Included>) {
        let Some(height) = txs.iter().map(|tx| tx.height).max() else {
            return;
        };
        {
            let mut recent = self.included.lock().expect("poisoned");
            for tx in txs {
                recent.order.push_back((tx.height, tx.hash));
                recent.by_hash.insert(tx.hash, tx);
            }
            while let Some(&(at, hash)) = recent.order.front() {
                let old = at.saturating_add(INCLUDED_KEPT_BLOCKS) < height;
                if !old && recent.order.len() <= INCLUDED_KEPT_TXS {
                    break;
                }
                recent.order.pop_front();
                if recent.by_hash.get(&hash).is_some_and(|tx| tx.height == at) {
                    recent.by_hash.remove(&hash);
                }
            }
        }
        self.note(height);
        self.included_seen.send_modify(|n| *n += 1);
    }

    /// The transaction `hash`, if a recent block seen holds it.
    pub fn included(&self, hash: &Hash) -> Option<Included> {
        let recent = self.included.lock().expect("poisoned");
        recent.by_hash.get(hash).cloned()
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

#[cfg(test)]
mod tests {
    use opengpu_types::market::ExecuteMsg;

    use super::*;
    use crate::fake::{FakeBackend, World};

    fn commit() -> ExecuteMsg {
        ExecuteMsg::Commit {
            task_id: 1,
            commitment: cosmwasm_std::HexBinary::from(vec![7; 32]),
        }
    }

    #[tokio::test]
    async fn a_transaction_is_found_in_the_blocks_from_the_event_source() {
        let world = World::new();
        let shared = Arc::new(world.shared(FakeBackend::new()));
        shared.heights.note_block(100);
        world.chain.with(|m| m.hold = 1); // in the mempool: the node does not have it yet
        let hash = world.chain.broadcast(&commit()).await.unwrap();
        let waiting = tokio::spawn({
            let shared = shared.clone();
            async move { shared.wait_for_tx(hash).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished());
        world.chain.land();
        let block = world.chain.with(|m| m.included.clone());
        shared.heights.note_included(block);
        let found = tokio::time::timeout(Duration::from_millis(300), waiting)
            .await
            .expect("woken by the block, before the node is asked")
            .unwrap()
            .unwrap();
        assert_eq!(found.height, 101);
        assert_eq!(shared.heights.latest(), 101);
        assert_eq!(world.chain.with(|m| m.tx_waits), 0);
        // Found again (a second waiter) without the node.
        assert_eq!(shared.wait_for_tx(hash).await.unwrap().height, 101);
    }

    #[tokio::test]
    async fn the_node_is_asked_when_no_blocks_arrive_or_the_transaction_is_not_in_them() {
        let world = World::new();
        let shared = world.shared(FakeBackend::new());
        // No blocks from the event source: asked at once.
        let hash = world.chain.broadcast(&commit()).await.unwrap();
        let started = Instant::now();
        assert_eq!(shared.wait_for_tx(hash).await.unwrap().height, 101);
        assert!(started.elapsed() < Duration::from_millis(100));
        assert_eq!(world.chain.with(|m| m.tx_waits), 1);
        // Blocks arrive, but the one holding it was missed: asked after the grace.
        shared.heights.note_block(102);
        let started = Instant::now();
        assert_eq!(shared.wait_for_tx(hash).await.unwrap().height, 101);
        assert!(started.elapsed() >= TX_EVENT_GRACE);
        assert_eq!(world.chain.with(|m| m.tx_waits), 2);
    }

    #[test]
    fn the_record_of_included_transactions_keeps_recent_blocks_only() {
        let heights = Heights::default();
        let tx = |n: u64, height| Included {
            hash: Hash::Sha256(Sha256::digest(n.to_be_bytes()).into()),
            height,
            outcome: Err("failed".into()),
            out_of_gas: false,
        };
        heights.note_included(vec![tx(1, 10), tx(2, 10)]);
        heights.note_included(vec![tx(3, 10 + INCLUDED_KEPT_BLOCKS)]);
        assert!(heights.included(&tx(1, 0).hash).is_some());
        heights.note_included(vec![tx(4, 11 + INCLUDED_KEPT_BLOCKS)]);
        assert!(heights.included(&tx(1, 0).hash).is_none());
        assert!(heights.included(&tx(2, 0).hash).is_none());
        assert!(heights.included(&tx(3, 0).hash).is_some());
        assert_eq!(heights.latest(), 11 + INCLUDED_KEPT_BLOCKS);
        heights.note_included(vec![]);
        assert_eq!(heights.included.lock().unwrap().order.len(), 2);
    }

    use sha2::{Digest, Sha256};

    #[tokio::test]
    async fn the_free_stake_is_read_once_until_collateral_moves() {
        let world = World::new();
        let chain: &dyn Chain = world.chain.as_ref();
        let reservations = Reservations::default();
        assert_eq!(
            reservations.vault_free_stake(chain).await.unwrap(),
            Uint128::new(10_000)
        );
        world.chain.with(|m| m.free_stake = Uint128::new(9_000));
        assert_eq!(
            reservations.vault_free_stake(chain).await.unwrap(),
            Uint128::new(10_000),
            "cached"
        );
        reservations.reserve(1, Uint128::new(100));
        assert_eq!(reservations.total(), Uint128::new(100));
        // The commit landed: the vault shows the lock, and is read again.
        reservations.release(1);
        assert_eq!(
            reservations.vault_free_stake(chain).await.unwrap(),
            Uint128::new(9_000)
        );
        world.chain.with(|m| m.free_stake = Uint128::new(9_100));
        reservations.forget_free_stake();
        assert_eq!(
            reservations.vault_free_stake(chain).await.unwrap(),
            Uint128::new(9_100)
        );
    }
}
