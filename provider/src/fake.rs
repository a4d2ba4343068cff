//! An in-memory market and executor for the unit tests of the daemon and its jobs: the
//! [`Chain`] they see, with the market's rules for commits and reveals (First Response), and
//! hooks to play the other providers and the client between this provider's transactions.
//!
//! Every transaction of this provider lands in a block of its own at once (the height goes up
//! by one), unless [`Market::hold`] keeps it in the mempool until [`FakeChain::land`]: its
//! wait for inclusion times out meanwhile, as with a slow node. Faults of the node and the
//! network are played with [`Market::faults`] (what befalls the next broadcasts: refused by
//! CheckTx, or a transport error before or after the node took it) and
//! [`Market::unreachable`] (every call fails as with a node that cannot be reached).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use cosmrs::tendermint::Hash;
use cosmwasm_std::{Addr, Binary, HexBinary, Uint128};
use opengpu_client::events::TxEvent;
use opengpu_client::TxOutcome;
use opengpu_types::auction::BidInfo;
use opengpu_types::commitment::{commitment, outputs_digest};
use opengpu_types::events::{ContractEvent, TaskCommitted, TaskRevealed, TaskSettled};
use opengpu_types::kernel::{Kernel, KernelArg, Requirements};
use opengpu_types::market::{
    CommitmentInfo, CommitmentState, CompetitionModel, ExecuteMsg, Settlement, Share, TaskInfo,
    TaskResponse, TaskStatus,
};
use opengpu_types::registry::{DeviceInfo, DeviceType};
use opengpu_types::verification::VerificationPolicy;
use opengpu_types::TaskId;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::chain::Chain;
use crate::executor::{Backend, ExecError, RunOutput};
use crate::inputs::InputStore;
use crate::metrics::Metrics;
use crate::shared::{Reservations, Shared};
use crate::signer::SubmitError;
use crate::source::Included;
use crate::store::{BidStore, PlanStore};

/// This provider.
pub const ME: &str = "wasm1me";
/// Another provider, racing it.
pub const OTHER: &str = "wasm1other";
pub const MARKET: &str = "wasm1market";
/// What the fake kernel computes.
pub const RESULT: [u8; 4] = [1, 2, 3, 4];

/// A message of this provider's a hook waits for.
type When = Box<dyn Fn(&ExecuteMsg) -> bool + Send>;
/// What happens on chain after it.
type Then = Box<dyn FnOnce(&mut Market) + Send>;

/// The market's state, and what this provider sent it.
pub struct Market {
    pub height: u64,
    pub tasks: BTreeMap<TaskId, TaskResponse>,
    pub commitments: BTreeMap<TaskId, Vec<CommitmentInfo>>,
    pub free_stake: Uint128,
    /// Every message of this provider's the node received, in order (refused ones too).
    pub sent: Vec<ExecuteMsg>,
    /// How many of the next broadcasts stay in the mempool, not in a block.
    pub hold: u32,
    /// What befalls the next broadcasts that reach for the node, one each, in order.
    pub faults: VecDeque<Fault>,
    /// The node cannot be reached: every call fails with a transport error (a wait for
    /// inclusion with a timeout) until this is cleared.
    pub unreachable: bool,
    /// Calls that failed because the node could not be reached.
    pub failed_calls: u32,
    /// Looks at the commitments of a task so far.
    pub looks: u32,
    /// Reads of a task with its kernel ([`Chain::task`]) so far.
    pub kernel_reads: u32,
    /// Reads of a task without its kernel ([`Chain::task_info`]) so far.
    pub info_reads: u32,
    /// Waits for inclusion asked of the node ([`Chain::wait_for_tx`]) so far.
    pub tx_waits: u32,
    /// While set, reads of a task with its kernel wait until it is notified.
    pub stall_task_reads: Option<Arc<tokio::sync::Notify>>,
    /// This provider's transactions in blocks, in order, as the event source reports them.
    pub included: Vec<Included>,
    mempool: Vec<(Hash, ExecuteMsg)>,
    /// Outcome of each transaction: the block it is in, or why it failed there.
    txs: HashMap<Hash, Result<TxOutcome, String>>,
    hooks: Vec<(When, Then)>,
}

/// What befalls one broadcast on its way to the node and back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// CheckTx refuses it: it never enters the mempool.
    Refused,
    /// The node takes it (into a block, or into the mempool under [`Market::hold`]), but its
    /// answer is lost: the provider sees a transport error.
    AnswerLost,
    /// Lost on the way: the provider sees a transport error, and the node never saw it.
    Lost,
    /// The node takes it as under [`Fault::AnswerLost`], then cannot be reached any more
    /// (until [`Market::unreachable`] is cleared).
    NodeDown,
}

impl Market {
    /// A First Response task paying 1000uatom for [`RESULT`], open from the current height
    /// for 30 blocks, checked against the result's digest.
    pub fn first_response_task(&self, id: TaskId) -> TaskResponse {
        let digest = outputs_digest(&[Binary::from(RESULT.to_vec())]);
        TaskResponse {
            task: TaskInfo {
                id,
                client: Addr::unchecked("wasm1client"),
                model: CompetitionModel::FirstResponse,
                requirements: Requirements::default(),
                verification: VerificationPolicy::ReferenceHash {
                    sha256: HexBinary::from(digest.to_vec()),
                },
                denom: "uatom".into(),
                budget: Uint128::new(1_000),
                collateral: Uint128::new(100),
                output_sizes: vec![RESULT.len() as u64],
                fee_bps: 0,
                created_height: self.height,
                deadline_height: self.height + 30,
                reveal_window_blocks: 20,
                confirm_window_blocks: 20,
                max_committers: 5,
                status: TaskStatus::Open,
                commit_count: 0,
                settlement: None,
                auction: None,
                remote_client: None,
            },
            kernel: Kernel {
                source: "__kernel void k(__global uchar *o) { o[get_global_id(0)] = 1; }".into(),
                entry_point: "k".into(),
                global_work_size: vec![RESULT.len() as u64],
                local_work_size: None,
                args: vec![KernelArg::Output {
                    size: RESULT.len() as u64,
                }],
            },
        }
    }

    pub fn task(&mut self, id: TaskId) -> &mut TaskInfo {
        &mut self.tasks.get_mut(&id).expect("published").task
    }

    /// `provider`'s commitment to `task_id`.
    pub fn commitment(&self, task_id: TaskId, provider: &str) -> Option<&CommitmentInfo> {
        self.commitments
            .get(&task_id)?
            .iter()
            .find(|c| c.provider.as_str() == provider)
    }

    /// `Commit` by `provider`, at the current height, as the market takes it.
    pub fn commit(
        &mut self,
        task_id: TaskId,
        provider: &str,
        hash: HexBinary,
    ) -> Result<(), String> {
        let height = self.height;
        let task = self.task(task_id).clone();
        if task.status.is_final() {
            return Err(format!("task {task_id} is {}", task.status));
        }
        if height > task.deadline_height {
            return Err("commit after the deadline".into());
        }
        if task.commit_count >= task.max_committers {
            return Err("too many committers".into());
        }
        if self.commitment(task_id, provider).is_some() {
            return Err("already committed".into());
        }
        let entry = CommitmentInfo {
            task_id,
            provider: Addr::unchecked(provider),
            seq: task.commit_count,
            commitment: hash,
            collateral: task.collateral,
            payout: Addr::unchecked(provider),
            payout_route: None,
            committed_height: height,
            reveal_deadline_height: task.reveal_deadline_for(height),
            state: CommitmentState::Committed {},
        };
        self.commitments.entry(task_id).or_default().push(entry);
        let task = self.task(task_id);
        task.commit_count += 1;
        task.status = TaskStatus::Committed;
        Ok(())
    }

    /// Pays `winner` the budget and releases every other commitment still open.
    pub fn settle(&mut self, task_id: TaskId, winner: &str) {
        let height = self.height;
        let task = self.task(task_id);
        task.status = TaskStatus::Settled;
        task.settlement = Some(Settlement {
            winner: Addr::unchecked(winner),
            paid_to: Addr::unchecked(winner),
            price: task.budget,
            paid: task.budget,
            fee: Uint128::zero(),
            refund: Uint128::zero(),
            height,
            shares: vec![Share {
                provider: Addr::unchecked(winner),
                paid_to: Addr::unchecked(winner),
                amount: task.budget,
                route: None,
            }],
        });
        for c in self.commitments.entry(task_id).or_default() {
            if c.provider.as_str() != winner && c.state == (CommitmentState::Committed {}) {
                c.state = CommitmentState::Released {};
            }
        }
    }

    /// `Reveal` by `provider` under First Response: a valid result settles the task when no
    /// earlier commitment is still open.
    fn reveal(
        &mut self,
        provider: &str,
        task_id: TaskId,
        outputs: &[Binary],
        salt: &HexBinary,
        price: Option<Uint128>,
    ) -> Result<Vec<TxEvent>, String> {
        let height = self.height;
        let task = self.task(task_id).clone();
        if task.status.is_final() {
            return Err(format!("task {task_id} is {}", task.status));
        }
        let mine = self
            .commitment(task_id, provider)
            .ok_or("no commitment")?
            .clone();
        if mine.state != (CommitmentState::Committed {}) {
            return Err("already revealed".into());
        }
        if height <= mine.committed_height {
            return Err("reveal in the commit's block".into());
        }
        if height > mine.reveal_deadline_height {
            return Err("reveal window closed".into());
        }
        let digest = outputs_digest(outputs);
        let opened = commitment(task_id, provider, &digest, price, salt.as_slice());
        if opened.as_slice() != mine.commitment.as_slice() {
            return Err("commitment mismatch".into());
        }
        let valid = match &task.verification {
            VerificationPolicy::ReferenceHash { sha256 } => sha256.as_slice() == digest,
            _ => true,
        };
        let state = if valid {
            CommitmentState::Revealed {
                outputs_digest: HexBinary::from(digest.to_vec()),
                price,
                height,
            }
        } else {
            CommitmentState::Refused {
                reason: "no match with the reference hash".into(),
            }
        };
        let earlier_open = self.commitments[&task_id]
            .iter()
            .any(|c| c.seq < mine.seq && matches!(c.state, CommitmentState::Committed {}));
        for c in self.commitments.get_mut(&task_id).expect("committed") {
            if c.provider.as_str() == provider {
                c.state = state.clone();
            }
        }
        let mut events = vec![event(TaskRevealed {
            task_id,
            provider: provider.into(),
            valid,
            price: price.unwrap_or_default(),
            outcome: if valid { "valid" } else { "refused" }.into(),
        })];
        if valid && !earlier_open && task.model == CompetitionModel::FirstResponse {
            self.settle(task_id, provider);
            events.push(event(TaskSettled {
                task_id,
                winner: provider.into(),
                amount: task.budget,
                fee: Uint128::zero(),
                refund: Uint128::zero(),
            }));
        }
        Ok(events)
    }

    /// A call to the node: fails, counted, while the node cannot be reached.
    fn reach(&mut self) -> opengpu_client::Result<()> {
        if self.unreachable {
            self.failed_calls += 1;
            return Err(transport_error());
        }
        Ok(())
    }

    /// Puts this provider's `msg` in a new block, then runs the first hook waiting for it in
    /// the block after.
    fn include(&mut self, hash: Hash, msg: &ExecuteMsg) {
        self.height += 1;
        let height = self.height;
        let outcome = self.apply(msg).map(|events| TxOutcome {
            txhash: hash.to_string(),
            height,
            gas_wanted: 0,
            gas_used: 0,
            events,
        });
        self.included.push(Included {
            hash,
            height,
            outcome: outcome.clone(),
            out_of_gas: false,
        });
        self.txs.insert(hash, outcome);
        if let Some(due) = self.hooks.iter().position(|(when, _)| when(msg)) {
            let (_, then) = self.hooks.remove(due);
            self.height += 1;
            then(self);
        }
    }

    /// Executes this provider's `msg` in the current block.
    fn apply(&mut self, msg: &ExecuteMsg) -> Result<Vec<TxEvent>, String> {
        match msg {
            ExecuteMsg::Commit {
                task_id,
                commitment,
            } => {
                self.commit(*task_id, ME, commitment.clone())?;
                let mine = self.commitment(*task_id, ME).expect("just committed");
                Ok(vec![event(TaskCommitted {
                    task_id: *task_id,
                    provider: ME.into(),
                    seq: mine.seq,
                    reveal_deadline: mine.reveal_deadline_height,
                })])
            }
            ExecuteMsg::Reveal {
                task_id,
                outputs,
                salt,
                price,
            } => self.reveal(ME, *task_id, outputs, salt, *price),
            ExecuteMsg::Finalize { .. } => Err("nothing to finalize".into()),
            other => Err(format!("the fake market does not take {other:?}")),
        }
    }
}

/// `e` as the market emits it.
fn event<E: ContractEvent + Into<cosmwasm_std::Event>>(e: E) -> TxEvent {
    let event: cosmwasm_std::Event = e.into();
    let mut attributes = vec![("_contract_address".to_string(), MARKET.to_string())];
    attributes.extend(event.attributes.into_iter().map(|a| (a.key, a.value)));
    TxEvent {
        kind: E::chain_type(),
        attributes,
    }
}

/// The in-memory chain.
pub struct FakeChain {
    market: Mutex<Market>,
}

impl FakeChain {
    /// A chain at height 100 where this provider has 10000ustake free.
    pub fn new() -> Arc<FakeChain> {
        Arc::new(FakeChain {
            market: Mutex::new(Market {
                height: 100,
                tasks: BTreeMap::new(),
                commitments: BTreeMap::new(),
                free_stake: Uint128::new(10_000),
                sent: vec![],
                hold: 0,
                faults: VecDeque::new(),
                unreachable: false,
                failed_calls: 0,
                looks: 0,
                kernel_reads: 0,
                info_reads: 0,
                tx_waits: 0,
                stall_task_reads: None,
                included: vec![],
                mempool: vec![],
                txs: HashMap::new(),
                hooks: vec![],
            }),
        })
    }

    /// Reads or changes the market.
    pub fn with<R>(&self, f: impl FnOnce(&mut Market) -> R) -> R {
        f(&mut self.market.lock().expect("poisoned"))
    }

    /// Publishes [`Market::first_response_task`] as task `id`.
    pub fn publish(&self, id: TaskId) -> TaskResponse {
        self.with(|m| {
            let task = m.first_response_task(id);
            m.tasks.insert(id, task.clone());
            task
        })
    }

    /// Runs `then` on the market once, in the block after the first message of this provider
    /// that `when` picks (the message itself is in the block before).
    pub fn after(
        &self,
        when: impl Fn(&ExecuteMsg) -> bool + Send + 'static,
        then: impl FnOnce(&mut Market) + Send + 'static,
    ) {
        self.with(|m| m.hooks.push((Box::new(when), Box::new(then))));
    }

    /// Puts the transactions held in the mempool in blocks.
    pub fn land(&self) {
        self.with(|m| {
            for (hash, msg) in std::mem::take(&mut m.mempool) {
                m.include(hash, &msg);
            }
        });
    }

    /// Names of the messages this provider sent, in order (`commit`, `reveal`, ...).
    pub fn sent(&self) -> Vec<String> {
        self.with(|m| {
            m.sent
                .iter()
                .map(|msg| {
                    let json = serde_json::to_value(msg).expect("serializable");
                    json.as_object()
                        .and_then(|o| o.keys().next().cloned())
                        .unwrap_or_default()
                })
                .collect()
        })
    }
}

fn not_found(what: &str) -> opengpu_client::Error {
    opengpu_client::Error::ContractQuery(format!("{what} not found"))
}

/// What the client library reports when the node cannot be reached.
fn transport_error() -> opengpu_client::Error {
    opengpu_client::Error::Rpc {
        url: "http://fake-node:26657".into(),
        reason: "HTTP error: connection refused".into(),
    }
}

#[async_trait]
impl Chain for FakeChain {
    fn address(&self) -> &str {
        ME
    }

    fn market(&self) -> &str {
        MARKET
    }

    async fn height(&self) -> opengpu_client::Result<u64> {
        self.with(|m| {
            m.reach()?;
            Ok(m.height)
        })
    }

    async fn wait_for_height_above(
        &self,
        height: u64,
        _timeout: Duration,
    ) -> opengpu_client::Result<u64> {
        self.with(|m| {
            m.reach()?;
            m.height = m.height.max(height + 1);
            Ok(m.height)
        })
    }

    async fn task(&self, task_id: TaskId) -> opengpu_client::Result<TaskResponse> {
        if let Some(stall) = self.with(|m| m.stall_task_reads.clone()) {
            stall.notified().await;
        }
        self.with(|m| {
            m.reach()?;
            m.kernel_reads += 1;
            m.tasks
                .get(&task_id)
                .cloned()
                .ok_or_else(|| not_found("task"))
        })
    }

    async fn task_info(&self, task_id: TaskId) -> opengpu_client::Result<TaskInfo> {
        self.with(|m| {
            m.reach()?;
            m.info_reads += 1;
            m.tasks
                .get(&task_id)
                .map(|t| t.task.clone())
                .ok_or_else(|| not_found("task"))
        })
    }

    async fn commitments(&self, task_id: TaskId) -> opengpu_client::Result<Vec<CommitmentInfo>> {
        self.with(|m| {
            m.reach()?;
            m.looks += 1;
            Ok(m.commitments.get(&task_id).cloned().unwrap_or_default())
        })
    }

    async fn bids(&self, _task_id: TaskId) -> opengpu_client::Result<Vec<BidInfo>> {
        self.with(|m| m.reach()).map(|()| vec![])
    }

    async fn free_stake(&self) -> opengpu_client::Result<Uint128> {
        self.with(|m| {
            m.reach()?;
            Ok(m.free_stake)
        })
    }

    async fn broadcast_scaled(
        &self,
        msg: &ExecuteMsg,
        _gas_scale: f64,
    ) -> Result<Hash, SubmitError> {
        self.with(|m| {
            m.reach()?;
            let fault = m.faults.pop_front();
            if fault == Some(Fault::Lost) {
                return Err(transport_error().into());
            }
            m.sent.push(msg.clone());
            if fault == Some(Fault::Refused) {
                let log = "refused by the fake CheckTx".to_string();
                return Err(opengpu_client::Error::CheckTx(log).into());
            }
            let hash = Hash::Sha256(Sha256::digest(m.sent.len().to_be_bytes()).into());
            if m.hold > 0 {
                m.hold -= 1;
                m.mempool.push((hash, msg.clone()));
            } else {
                m.include(hash, msg);
            }
            match fault {
                Some(Fault::AnswerLost) => return Err(transport_error().into()),
                Some(Fault::NodeDown) => {
                    m.unreachable = true;
                    return Err(transport_error().into());
                }
                _ => {}
            }
            Ok(hash)
        })
    }

    /// The fake node takes no simulation: every message goes out as with known gas.
    fn gas_known(&self, _msg: &ExecuteMsg) -> bool {
        true
    }

    async fn wait_for_tx(&self, hash: Hash) -> opengpu_client::Result<TxOutcome> {
        self.with(|m| {
            m.tx_waits += 1;
            let timeout = opengpu_client::Error::TxTimeout {
                txhash: hash.to_string(),
                seconds: 60,
            };
            // The client waits out a node it cannot reach, up to its timeout.
            if m.reach().is_err() || m.mempool.iter().any(|(held, _)| *held == hash) {
                return Err(timeout);
            }
            match m.txs.get(&hash).cloned().ok_or_else(|| not_found("tx"))? {
                Ok(outcome) => Ok(outcome),
                Err(reason) => Err(opengpu_client::Error::TxFailed {
                    txhash: hash.to_string(),
                    height: m.height,
                    reason,
                }),
            }
        })
    }
}

/// A device that computes [`RESULT`] for any kernel, after running `during_run` (once), which
/// may change the chain while the "kernel" runs.
pub struct FakeBackend {
    device: DeviceInfo,
    during_run: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

impl FakeBackend {
    pub fn new() -> Self {
        FakeBackend {
            device: DeviceInfo {
                name: "fake".into(),
                device_type: DeviceType::Cpu,
                compute_units: 1,
                global_mem_bytes: 1 << 30,
                max_work_group_size: 1024,
                fp64: false,
            },
            during_run: Mutex::new(None),
        }
    }

    pub fn during_run(self, f: impl FnOnce() + Send + 'static) -> Self {
        *self.during_run.lock().expect("poisoned") = Some(Box::new(f));
        self
    }
}

impl Backend for FakeBackend {
    fn device(&self) -> &DeviceInfo {
        &self.device
    }

    fn run(&self, _kernel: &Kernel) -> Result<RunOutput, ExecError> {
        if let Some(f) = self.during_run.lock().expect("poisoned").take() {
            f();
        }
        Ok(RunOutput {
            outputs: vec![RESULT.to_vec()],
            elapsed: Duration::from_millis(1),
            kernel_elapsed: Duration::from_millis(1),
            cache_hit: false,
        })
    }
}

/// The fail points, to this test alone while it holds the guard, none configured: a test that
/// configures one and a test that runs a job never overlap.
pub fn fail_points() -> fail::FailScenario<'static> {
    fail::FailScenario::setup()
}

/// Checks that fail point `name` is off until configured, on while it is, and off again once
/// removed, as `requested` reads it.
#[cfg(feature = "failpoints")]
pub fn assert_fail_point_toggles(name: &str, requested: fn() -> bool) {
    let _exclusive = fail_points();
    assert!(!requested());
    fail::cfg(name, "return").unwrap();
    assert!(requested());
    fail::remove(name);
    assert!(!requested());
}

/// One test's world: a fake chain with task 1 published, a state directory, and the fail
/// points to itself ([`fail_points`]).
pub struct World {
    pub chain: Arc<FakeChain>,
    /// Task 1 as published.
    pub task: TaskResponse,
    dir: tempfile::TempDir,
    _fail_points: fail::FailScenario<'static>,
}

impl World {
    pub fn new() -> World {
        let fail_points = fail_points();
        let chain = FakeChain::new();
        let task = chain.publish(1);
        World {
            chain,
            task,
            dir: tempfile::tempdir().expect("temporary directory"),
            _fail_points: fail_points,
        }
    }

    /// What jobs share in this world, computing on `backend`.
    pub fn shared(&self, backend: FakeBackend) -> Shared {
        Shared {
            chain: self.chain.clone(),
            backend: Arc::new(backend),
            inputs: InputStore::in_state_dir(self.dir.path(), test_fetch_limits())
                .expect("input store"),
            metrics: Metrics::new(),
            store: PlanStore::open(self.dir.path(), ME).expect("plan store"),
            bids: BidStore::open(self.dir.path()).expect("bid store"),
            exec_slots: Semaphore::new(2),
            reservations: Reservations::default(),
            heights: Default::default(),
        }
    }
}

/// Small, quick limits for off-chain inputs in tests.
pub fn test_fetch_limits() -> crate::inputs::FetchLimits {
    crate::inputs::FetchLimits {
        max_task_bytes: 1 << 20,
        attempt_timeout: std::time::Duration::from_secs(5),
        attempts: 2,
        cache_bytes: 1 << 20,
    }
}

/// Plays the event source for `shared`: every block of the fake chain with this provider's
/// transactions is reported (its transactions, then its height) a moment after it is made,
/// and the height every few milliseconds, so that blocks count as arriving. Runs until
/// aborted.
pub fn follow_blocks(chain: Arc<FakeChain>, shared: Arc<Shared>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut reported = 0;
        loop {
            let (new, height) = chain.with(|m| (m.included[reported..].to_vec(), m.height));
            reported += new.len();
            shared.heights.note_included(new);
            shared.heights.note_block(height);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
}

/// Whether `shared` keeps no reveal plan.
pub fn no_plan(shared: &Shared) -> bool {
    shared.store.pending().expect("readable") == Vec::<TaskId>::new()
}
