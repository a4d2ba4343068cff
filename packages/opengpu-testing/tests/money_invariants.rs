//! Property tests of the money invariants (ARCHITECTURE.md, "Money invariants"): random
//! sequences of actions, most of them refused, must never create, destroy, strand or pay twice
//! any funds.
//!
//! After every step the suite's own invariants are checked, and the step is held to an exact
//! ledger: a refused action changes nothing at all; an accepted one moves exactly the money its
//! state transitions account for (a new task's escrow, a settlement's payment, fee and refund, a
//! cancel or expiry refund, a slashed collateral, a bond or a claim) and nothing else. A second
//! payment for a task would show up there as an unexplained balance change.

use std::collections::{BTreeMap, BTreeSet};

use cosmwasm_std::{coin, Addr, StdResult};
use opengpu_testing::{outputs, Suite, TaskSpec, SALT, STAKE_DENOM};
use opengpu_types::commitment::outputs_digest;
use opengpu_types::market::{
    self, CommitmentInfo, CommitmentState, CompetitionModel, TaskInfo, TaskStatus, TasksResponse,
};
use opengpu_types::registry;
use opengpu_types::vault::StakeResponse;
use opengpu_types::verification::VerificationPolicy;
use opengpu_types::TaskId;
use proptest::prelude::*;

const CLIENTS: usize = 3;
const PROVIDERS: usize = 3;
const CLIENT_FUNDS: u128 = 20_000;
const PROVIDER_BOND: u128 = 3_000;
/// Unbonded stake-denom a provider holds at start, for `Bond` actions.
const PROVIDER_WALLET: u128 = 5_000;
/// Past every window of any task: deadline (<= 30) + reveal (10) + confirm (20) blocks.
const PAST_ALL_WINDOWS: u64 = 100;
const WRONG_SALT: [u8; 32] = [0xa5; 32];

/// One step. Indices pick among the suite's actors and the tasks published so far (modulo their
/// count), so that shrinking keeps them meaningful.
#[derive(Clone, Debug)]
enum Action {
    Publish {
        client: usize,
        manual: bool,
        denom: usize,
        budget: u128,
        collateral: u128,
        deadline: u64,
        reference_hash: bool,
    },
    /// `seed` 0 commits to the correct outputs, others to wrong (but well-formed) ones.
    Commit {
        provider: usize,
        task: usize,
        seed: u32,
    },
    /// Opens a commitment; `price_permille` of the budget under Manual Confirmation, where 0
    /// sends the wrong kind of price for the model.
    Reveal {
        pick: Pick,
        wrong_salt: bool,
        price_permille: u128,
    },
    Confirm {
        sender: usize,
        pick: Pick,
    },
    Finalize {
        sender: usize,
        task: usize,
    },
    Cancel {
        sender: usize,
        task: usize,
    },
    Expire {
        sender: usize,
        task: usize,
    },
    Bond {
        provider: usize,
        amount: u128,
    },
    Unbond {
        provider: usize,
        amount: u128,
    },
    Claim {
        provider: usize,
    },
    /// Not a money action, but pausing or leaving the registry must not strand collateral.
    Registry {
        provider: usize,
        op: RegistryOp,
    },
    AdvanceBlocks(u64),
    AdvanceSeconds(u64),
}

#[derive(Clone, Copy, Debug)]
enum RegistryOp {
    Pause,
    Resume,
    Deregister,
    Register,
}

/// A (provider, task) pair: mostly one the model knows is ready for the action (committed and
/// unrevealed for a reveal, revealed for a confirm), so that some of them succeed.
#[derive(Clone, Debug)]
enum Pick {
    Modelled(usize),
    Any { provider: usize, task: usize },
}

/// Senders: 0 to 2 are the task's client, then the clients, the providers and a stranger.
const SENDERS: usize = 3 + CLIENTS + PROVIDERS + 1;
const STRANGER: usize = SENDERS - 1;

fn pick() -> impl Strategy<Value = Pick> {
    prop_oneof![
        4 => any::<usize>().prop_map(Pick::Modelled),
        1 => (0..PROVIDERS, any::<usize>())
            .prop_map(|(provider, task)| Pick::Any { provider, task }),
    ]
}

fn registry_op() -> impl Strategy<Value = RegistryOp> {
    prop_oneof![
        Just(RegistryOp::Pause),
        Just(RegistryOp::Resume),
        Just(RegistryOp::Deregister),
        Just(RegistryOp::Register),
    ]
}

fn publish() -> impl Strategy<Value = Action> {
    let model_and_denom = (any::<bool>(), 0..3usize);
    let amounts = (1..=5_000u128, 1..=500u128, 2..=30u64);
    (0..CLIENTS, model_and_denom, amounts, any::<bool>()).prop_map(
        |(client, (manual, denom), (budget, collateral, deadline), reference_hash)| {
            Action::Publish {
                client,
                manual,
                denom,
                budget,
                collateral,
                deadline,
                reference_hash,
            }
        },
    )
}

fn action() -> impl Strategy<Value = Action> {
    let seed = prop_oneof![3 => Just(0u32), 1 => 1..4u32];
    let price = prop_oneof![1 => Just(0u128), 9 => 1..=1_100u128];
    // Mostly short waits, so that reveals land inside their 10-block window.
    let blocks = prop_oneof![3 => 1..=3u64, 1 => 4..=15u64];
    let sender_task = || (0..SENDERS, any::<usize>());
    prop_oneof![
        3 => publish(),
        5 => (0..PROVIDERS, any::<usize>(), seed)
            .prop_map(|(provider, task, seed)| Action::Commit { provider, task, seed }),
        6 => (pick(), prop::bool::weighted(0.2), price).prop_map(
            |(pick, wrong_salt, price_permille)| Action::Reveal { pick, wrong_salt, price_permille }
        ),
        2 => (0..SENDERS, pick()).prop_map(|(sender, pick)| Action::Confirm { sender, pick }),
        2 => sender_task().prop_map(|(sender, task)| Action::Finalize { sender, task }),
        1 => sender_task().prop_map(|(sender, task)| Action::Cancel { sender, task }),
        1 => sender_task().prop_map(|(sender, task)| Action::Expire { sender, task }),
        1 => (0..PROVIDERS, 1..=2_000u128)
            .prop_map(|(provider, amount)| Action::Bond { provider, amount }),
        1 => (0..PROVIDERS, 1..=1_500u128)
            .prop_map(|(provider, amount)| Action::Unbond { provider, amount }),
        1 => (0..PROVIDERS).prop_map(|provider| Action::Claim { provider }),
        1 => (0..PROVIDERS, registry_op())
            .prop_map(|(provider, op)| Action::Registry { provider, op }),
        3 => blocks.prop_map(Action::AdvanceBlocks),
        1 => (1..=8_000u64).prop_map(Action::AdvanceSeconds),
    ]
}

/// Everything a step may change: bank balances, tasks, commitments and providers' stakes.
struct Snapshot {
    balances: BTreeMap<(Addr, String), u128>,
    tasks: BTreeMap<TaskId, TaskInfo>,
    commitments: BTreeMap<(TaskId, u32), CommitmentInfo>,
    stakes: Vec<StakeResponse>,
}

/// A suite with three funded clients and three bonded, registered providers, plus a model of the
/// tasks published and of the commitments not yet revealed.
struct Harness {
    suite: Suite,
    clients: Vec<Addr>,
    providers: Vec<Addr>,
    stranger: Addr,
    tasks: Vec<TaskId>,
    /// (provider index, task) -> seed of the outputs committed to, until revealed.
    unrevealed: BTreeMap<(usize, TaskId), u32>,
    /// (provider index, task) pairs that revealed.
    revealed: BTreeSet<(usize, TaskId)>,
    /// What the test minted, per denom.
    minted: BTreeMap<String, u128>,
    /// The state after the last step, which is the state before the next.
    last: Option<Snapshot>,
}

impl Harness {
    fn new() -> Self {
        let mut suite = Suite::new();
        let mut minted = BTreeMap::new();
        let clients: Vec<Addr> = (0..CLIENTS)
            .map(|i| suite.client_with_funds(&format!("client{i}"), CLIENT_FUNDS))
            .collect();
        for denom in &suite.denoms {
            *minted.entry(denom.clone()).or_default() += CLIENT_FUNDS * CLIENTS as u128;
        }
        let providers: Vec<Addr> = (0..PROVIDERS)
            .map(|i| {
                let provider = suite.provider_with_bond(&format!("provider{i}"), PROVIDER_BOND);
                suite.fund(&provider, vec![coin(PROVIDER_WALLET, STAKE_DENOM)]);
                provider
            })
            .collect();
        *minted.entry(STAKE_DENOM.to_string()).or_default() +=
            (PROVIDER_BOND + PROVIDER_WALLET) * PROVIDERS as u128;
        let stranger = suite.addr("stranger");
        Self {
            suite,
            clients,
            providers,
            stranger,
            tasks: vec![],
            unrevealed: BTreeMap::new(),
            revealed: BTreeSet::new(),
            minted,
            last: None,
        }
    }

    /// Every account money may reach.
    fn accounts(&self) -> Vec<Addr> {
        let s = &self.suite;
        let contracts = [
            &s.fee_collector,
            &s.market,
            &s.vault,
            &s.registry,
            &s.verification,
        ];
        self.clients
            .iter()
            .chain(&self.providers)
            .chain([&self.stranger])
            .chain(contracts)
            .cloned()
            .collect()
    }

    /// The task at `index` modulo the count; with no task yet, an unknown id.
    fn task_id(&self, index: usize) -> TaskId {
        match self.tasks.len() {
            0 => 1,
            n => self.tasks[index % n],
        }
    }

    /// The pair a `Pick` names when the model has none ready.
    fn any_pair(&self, pick: &Pick) -> (usize, TaskId) {
        match *pick {
            Pick::Modelled(k) => (k % PROVIDERS, self.task_id(k)),
            Pick::Any { provider, task } => (provider, self.task_id(task)),
        }
    }

    fn client_of(&self, task_id: TaskId) -> Addr {
        self.try_task(task_id)
            .map(|t| t.client)
            .unwrap_or_else(|| self.clients[0].clone())
    }

    fn try_task(&self, task_id: TaskId) -> Option<TaskInfo> {
        self.tasks
            .contains(&task_id)
            .then(|| self.suite.task(task_id))
    }

    fn sender(&self, who: usize, task_id: TaskId) -> Addr {
        match who {
            0..=2 => self.client_of(task_id),
            i if i < 3 + CLIENTS => self.clients[i - 3].clone(),
            i if i < 3 + CLIENTS + PROVIDERS => self.providers[i - 3 - CLIENTS].clone(),
            _ => self.stranger.clone(),
        }
    }

    /// The state now. Commitments of tasks already final in `previous` are carried over from it
    /// rather than re-read, which would dominate the run time; each case ends by checking them
    /// against the chain (`assert_closed_commitments_frozen`).
    fn snapshot(&self, previous: Option<&Snapshot>) -> Snapshot {
        let s = &self.suite;
        let mut balances = BTreeMap::new();
        for account in self.accounts() {
            for denom in &s.denoms {
                balances.insert((account.clone(), denom.clone()), s.balance(&account, denom));
            }
        }
        let tasks = all_tasks(s);
        let mut commitments = BTreeMap::new();
        for &id in tasks.keys() {
            match previous.filter(|p| p.tasks.get(&id).is_some_and(|t| t.status.is_final())) {
                Some(previous) => {
                    commitments.extend(task_commitments(previous, id).map(|(k, c)| (*k, c.clone())))
                }
                None => commitments.extend(s.commitments(id).into_iter().map(|c| ((id, c.seq), c))),
            }
        }
        let stakes = self.providers.iter().map(|p| s.stake(p)).collect();
        Snapshot {
            balances,
            tasks,
            commitments,
            stakes,
        }
    }

    /// Sends the action; on success, updates the model.
    fn execute(&mut self, action: &Action) -> StdResult<()> {
        match *action {
            Action::Publish {
                client,
                manual,
                denom,
                budget,
                collateral,
                deadline,
                reference_hash,
            } => {
                let verification = if reference_hash {
                    VerificationPolicy::ReferenceHash {
                        sha256: outputs_digest(&outputs(0)).into(),
                    }
                } else {
                    VerificationPolicy::Unverified {}
                };
                let spec = TaskSpec {
                    model: if manual {
                        CompetitionModel::ManualConfirmation
                    } else {
                        CompetitionModel::FirstResponse
                    },
                    budget: Some(coin(budget, self.suite.denoms[denom].as_str())),
                    collateral: collateral.into(),
                    deadline_blocks: deadline,
                    verification,
                    ..TaskSpec::default()
                };
                let client = self.clients[client].clone();
                let id = self.suite.publish(&client, spec)?;
                self.tasks.push(id);
            }
            Action::Commit {
                provider,
                task,
                seed,
            } => {
                let id = self.task_id(task);
                let addr = self.providers[provider].clone();
                self.suite.commit(&addr, id, &outputs(seed))?;
                self.unrevealed.insert((provider, id), seed);
            }
            Action::Reveal {
                ref pick,
                wrong_salt,
                price_permille,
            } => {
                let ((provider, id), seed) = match *pick {
                    Pick::Modelled(k) if !self.unrevealed.is_empty() => {
                        let n = self.unrevealed.len();
                        let (&pair, &seed) = self.unrevealed.iter().nth(k % n).unwrap();
                        (pair, seed)
                    }
                    _ => (self.any_pair(pick), 0),
                };
                let task = self.try_task(id);
                let manual = task
                    .as_ref()
                    .is_some_and(|t| t.model == CompetitionModel::ManualConfirmation);
                let budget = task.map_or(1, |t| t.budget.u128());
                let price = match (manual, price_permille) {
                    (true, 0) => None,
                    (false, 0) => Some(1),
                    (true, p) => Some((budget * p / 1_000).max(1)),
                    (false, _) => None,
                };
                let salt = if wrong_salt { WRONG_SALT } else { SALT };
                let addr = self.providers[provider].clone();
                self.suite
                    .reveal_with_salt(&addr, id, &outputs(seed), &salt, price)?;
                self.unrevealed.remove(&(provider, id));
                self.revealed.insert((provider, id));
            }
            Action::Confirm { sender, ref pick } => {
                let (provider, id) = match *pick {
                    Pick::Modelled(k) if !self.revealed.is_empty() => {
                        *self.revealed.iter().nth(k % self.revealed.len()).unwrap()
                    }
                    _ => self.any_pair(pick),
                };
                let sender = self.sender(sender, id);
                let provider = self.providers[provider].clone();
                self.suite.confirm(&sender, id, &provider)?;
            }
            Action::Finalize { sender, task } => {
                let id = self.task_id(task);
                let sender = self.sender(sender, id);
                self.suite.finalize(&sender, id)?;
            }
            Action::Cancel { sender, task } => {
                let id = self.task_id(task);
                let sender = self.sender(sender, id);
                self.suite.cancel(&sender, id)?;
            }
            Action::Expire { sender, task } => {
                let id = self.task_id(task);
                let sender = self.sender(sender, id);
                self.suite.expire(&sender, id)?;
            }
            Action::Bond { provider, amount } => {
                let addr = self.providers[provider].clone();
                self.suite.bond(&addr, amount)?;
            }
            Action::Unbond { provider, amount } => {
                let addr = self.providers[provider].clone();
                self.suite.unbond(&addr, amount)?;
            }
            Action::Claim { provider } => {
                let addr = self.providers[provider].clone();
                self.suite.claim(&addr)?;
            }
            Action::Registry { provider, op } => {
                let addr = self.providers[provider].clone();
                let msg = match op {
                    RegistryOp::Pause => registry::ExecuteMsg::Pause {},
                    RegistryOp::Resume => registry::ExecuteMsg::Resume {},
                    RegistryOp::Deregister => registry::ExecuteMsg::Deregister {},
                    RegistryOp::Register => {
                        self.suite.register(&addr)?;
                        return Ok(());
                    }
                };
                self.suite.execute_registry(&addr, &msg)?;
            }
            Action::AdvanceBlocks(blocks) => self.suite.advance_blocks(blocks),
            Action::AdvanceSeconds(seconds) => self.suite.advance_seconds(seconds),
        }
        Ok(())
    }

    /// Runs one action and checks every property of a step.
    fn step(&mut self, action: &Action) -> StdResult<()> {
        let before = match self.last.take() {
            Some(last) => last,
            None => self.snapshot(None),
        };
        let result = self.execute(action);
        self.suite.assert_money_invariants();
        let after = self.snapshot(Some(&before));
        match &result {
            Err(err) => assert_unchanged(&before, &after, &format!("refused {action:?} ({err})")),
            Ok(()) => {
                let expected = self.expected_balances(&before, &after, action);
                assert_balances(&expected, &after.balances, &format!("{action:?}"));
            }
        }
        assert_final_tasks_frozen(&before, &after);
        self.assert_locked_matches_open_commitments(&after);
        self.last = Some(after);
        result
    }

    /// Balances after an accepted step, derived from `before` and the transitions it made.
    fn expected_balances(
        &self,
        before: &Snapshot,
        after: &Snapshot,
        action: &Action,
    ) -> BTreeMap<(Addr, String), u128> {
        let s = &self.suite;
        let mut ledger = Ledger(before.balances.clone());
        for (id, task) in &after.tasks {
            let denom = &task.denom;
            let budget = task.budget.u128();
            let Some(old) = before.tasks.get(id) else {
                // Published: the budget moves into escrow.
                ledger.transfer(&task.client, &s.market, denom, budget);
                continue;
            };
            if old.status.is_final() || !task.status.is_final() {
                continue;
            }
            match task.status {
                TaskStatus::Settled => {
                    let settlement = task
                        .settlement
                        .as_ref()
                        .expect("a settled task records its settlement");
                    assert_settlement_consistent(task, after);
                    ledger.transfer(
                        &s.market,
                        &settlement.paid_to,
                        denom,
                        settlement.paid.u128(),
                    );
                    ledger.transfer(&s.market, &s.fee_collector, denom, settlement.fee.u128());
                    ledger.transfer(&s.market, &task.client, denom, settlement.refund.u128());
                }
                _ => ledger.transfer(&s.market, &task.client, denom, budget),
            }
        }
        for (key, entry) in &after.commitments {
            let was_slashed = before
                .commitments
                .get(key)
                .is_some_and(|c| is_slashed(&c.state));
            if is_slashed(&entry.state) && !was_slashed {
                let client = &after.tasks[&entry.task_id].client;
                ledger.transfer(&s.vault, client, STAKE_DENOM, entry.collateral.u128());
            }
        }
        match *action {
            Action::Bond { provider, amount } => {
                ledger.transfer(&self.providers[provider], &s.vault, STAKE_DENOM, amount);
            }
            Action::Claim { provider } => {
                let released = before.stakes[provider].unbonding - after.stakes[provider].unbonding;
                assert!(!released.is_zero(), "an accepted claim pays something");
                ledger.transfer(
                    &s.vault,
                    &self.providers[provider],
                    STAKE_DENOM,
                    released.u128(),
                );
            }
            _ => {}
        }
        ledger.0
    }

    /// A provider's locked stake is exactly the collateral of its commitments still at stake:
    /// committed or revealed, in a task not yet final.
    fn assert_locked_matches_open_commitments(&self, after: &Snapshot) {
        for (provider, stake) in self.providers.iter().zip(&after.stakes) {
            let at_stake: u128 = after
                .commitments
                .values()
                .filter(|c| c.provider == *provider && !after.tasks[&c.task_id].status.is_final())
                .filter(|c| {
                    matches!(
                        c.state,
                        CommitmentState::Committed {} | CommitmentState::Revealed { .. }
                    )
                })
                .map(|c| c.collateral.u128())
                .sum();
            assert_eq!(
                stake.locked.u128(),
                at_stake,
                "{provider}'s locked stake differs from the collateral of its open commitments"
            );
        }
    }

    /// Past every window, each unfinished task is closed by finalize or by expire: exactly one.
    fn drive_every_task_to_final(&mut self) {
        self.step(&Action::AdvanceBlocks(PAST_ALL_WINDOWS)).unwrap();
        for index in 0..self.tasks.len() {
            let id = self.tasks[index];
            if self.suite.task(id).status.is_final() {
                continue;
            }
            let finalized = self.step(&Action::Finalize {
                sender: STRANGER,
                task: index,
            });
            let expired = self.step(&Action::Expire {
                sender: STRANGER,
                task: index,
            });
            assert!(
                finalized.is_ok() != expired.is_ok(),
                "task {id}: exactly one of finalize ({finalized:?}) and expire ({expired:?}) must succeed"
            );
        }
    }

    fn assert_everything_closed_and_conserved(&self) {
        let s = &self.suite;
        for (id, task) in all_tasks(s) {
            assert!(task.status.is_final(), "task {id} ends {}", task.status);
        }
        for denom in &s.denoms {
            assert_eq!(s.balance(&s.market, denom), 0, "market keeps some {denom}");
            let total: u128 = self.accounts().iter().map(|a| s.balance(a, denom)).sum();
            assert_eq!(
                total, self.minted[denom],
                "total {denom} differs from what was minted"
            );
        }
        for provider in &self.providers {
            assert!(
                s.stake(provider).locked.is_zero(),
                "{provider} keeps locked stake"
            );
        }
    }

    /// The commitments of final tasks, carried over between snapshots, still match the chain.
    fn assert_closed_commitments_frozen(&self) {
        if let Some(last) = &self.last {
            assert!(
                self.snapshot(None).commitments == last.commitments,
                "a commitment of a final task changed after it closed"
            );
        }
    }
}

/// Balances under construction: transfers between accounts.
struct Ledger(BTreeMap<(Addr, String), u128>);

impl Ledger {
    fn transfer(&mut self, from: &Addr, to: &Addr, denom: &str, amount: u128) {
        let from = self.0.entry((from.clone(), denom.to_string())).or_default();
        *from = from.checked_sub(amount).unwrap_or_else(|| {
            panic!("the ledger expects a payment of {amount}{denom} its payer cannot afford")
        });
        *self.0.entry((to.clone(), denom.to_string())).or_default() += amount;
    }
}

fn all_tasks(suite: &Suite) -> BTreeMap<TaskId, TaskInfo> {
    let mut tasks = BTreeMap::new();
    let mut start_after = None;
    loop {
        let page: TasksResponse = suite
            .app
            .wrap()
            .query_wasm_smart(
                &suite.market,
                &market::QueryMsg::Tasks {
                    filter: None,
                    start_after,
                    limit: Some(30),
                },
            )
            .unwrap();
        let Some(last) = page.tasks.last() else {
            return tasks;
        };
        start_after = Some(last.id);
        tasks.extend(page.tasks.into_iter().map(|t| (t.id, t)));
    }
}

fn task_commitments(
    snapshot: &Snapshot,
    id: TaskId,
) -> impl Iterator<Item = (&(TaskId, u32), &CommitmentInfo)> {
    snapshot.commitments.range((id, 0)..=(id, u32::MAX))
}

fn is_slashed(state: &CommitmentState) -> bool {
    matches!(
        state,
        CommitmentState::Rejected { .. } | CommitmentState::Forfeited {}
    )
}

#[track_caller]
fn assert_balances(
    expected: &BTreeMap<(Addr, String), u128>,
    actual: &BTreeMap<(Addr, String), u128>,
    what: &str,
) {
    for (account, denom) in expected.keys().chain(actual.keys()) {
        let key = (account.clone(), denom.clone());
        let want = expected.get(&key).copied().unwrap_or_default();
        let got = actual.get(&key).copied().unwrap_or_default();
        assert_eq!(
            got, want,
            "after {what}: {account} holds {got}{denom}, the ledger says {want}"
        );
    }
}

#[track_caller]
fn assert_unchanged(before: &Snapshot, after: &Snapshot, what: &str) {
    assert_balances(&before.balances, &after.balances, what);
    assert!(before.tasks == after.tasks, "{what} changed a task");
    assert!(
        before.commitments == after.commitments,
        "{what} changed a commitment"
    );
    assert!(before.stakes == after.stakes, "{what} changed a stake");
}

/// Status only moves forward, and a final task (settlement included) never changes again.
#[track_caller]
fn assert_final_tasks_frozen(before: &Snapshot, after: &Snapshot) {
    use TaskStatus::*;
    for (id, old) in &before.tasks {
        let new = &after.tasks[id];
        let allowed = match old.status {
            Open => matches!(new.status, Open | Committed | Cancelled | Expired),
            Committed => matches!(new.status, Committed | Settled | Expired),
            Settled | Cancelled | Expired => new == old,
        };
        assert!(
            allowed,
            "task {id} went from {} ({:?}) to {} ({:?})",
            old.status, old.settlement, new.status, new.settlement
        );
    }
}

/// A settlement pays a valid offer its price, split into payment and fee, and refunds the rest.
#[track_caller]
fn assert_settlement_consistent(task: &TaskInfo, after: &Snapshot) {
    let s = task.settlement.as_ref().unwrap();
    assert_eq!(
        s.paid + s.fee,
        s.price,
        "task {}: paid + fee != price",
        task.id
    );
    assert_eq!(
        s.price + s.refund,
        task.budget,
        "task {}: price + refund != budget",
        task.id
    );
    assert_eq!(
        s.paid_to, s.winner,
        "task {}: no payout address was registered",
        task.id
    );
    let winning = after
        .commitments
        .values()
        .find(|c| c.task_id == task.id && c.provider == s.winner)
        .expect("the winner committed");
    let CommitmentState::Revealed { price, .. } = &winning.state else {
        panic!(
            "task {}: the winner's commitment is {:?}",
            task.id, winning.state
        );
    };
    let expected_price = match task.model {
        CompetitionModel::FirstResponse | CompetitionModel::Consensus { .. } => task.budget,
        CompetitionModel::ManualConfirmation => price.expect("offers carry a price"),
    };
    assert_eq!(
        s.price, expected_price,
        "task {}: settled at the wrong price",
        task.id
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn money_invariants_hold_after_every_step_of_random_sequences(
        actions in prop::collection::vec(action(), 1..60)
    ) {
        let mut harness = Harness::new();
        for action in &actions {
            let _ = harness.step(action);
        }
        harness.assert_closed_commitments_frozen();
    }

    #[test]
    fn every_task_ends_final_and_market_ends_empty(
        actions in prop::collection::vec(action(), 1..60)
    ) {
        let mut harness = Harness::new();
        for action in &actions {
            let _ = harness.step(action);
        }
        harness.drive_every_task_to_final();
        harness.assert_everything_closed_and_conserved();
        harness.assert_closed_commitments_frozen();
    }
}
