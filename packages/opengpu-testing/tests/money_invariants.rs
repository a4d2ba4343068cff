//! Property tests of the money invariants (ARCHITECTURE.md, "Money invariants"): random
//! sequences of actions, most of them refused, must never create, destroy, strand or pay twice
//! any funds.
//!
//! The sequences drive every competition model (First Response, Manual Confirmation with sealed
//! offers whose price is inside the commitment, Consensus with 2 to 4 replicas, exact or within a
//! float tolerance, and the sealed-bid second-price auction, whose steps and oracle live in
//! `money_invariants/auction.rs`) under every verification policy (unverified, a correct or a lying
//! reference hash, Freivalds on a matrix product), with right, wrong, near-equal and malformed
//! answers, payout addresses changed at any time (to a cold wallet that may refuse payments, or to
//! a module account that always does), a fee collector that may refuse, claims withdrawn to any
//! recipient, the owner changing the fee, and the providers bonding, unbonding, claiming, pausing
//! and leaving. One provider is also a client, so it commits to its own tasks.
//!
//! After every step the invariants are checked on the chain's state, and the step is held to an
//! exact ledger: a refused action changes nothing at all (a refused transaction is rolled back
//! whole, so one in four is read back and compared in full); an accepted one moves exactly the
//! money its state transitions account for (a new task's escrow; a settlement's shares, fee and
//! refund, each paid or, when the bank refuses the payee, credited as a claim of its owner; a
//! cancel or expiry refund; a slashed, forfeited or outvoted collateral split as the rules say;
//! a bond, a matured unbond, a withdrawn claim) and nothing else. A second payment for a task
//! shows up there as an unexplained balance change. Settlements are checked against the model's
//! rules (the winner, the price, the fee fixed at publish, the payout fixed at commit), and
//! every Consensus tally against the grouping the types crate defines, applied here to the
//! answers the providers revealed.
//!
//! Besides single actions, a sequence has bursts that focus on one task (every provider
//! commits, every commitment is revealed, a whole round from publish to reveals, or an auction
//! from publish to its bid reveals), so that Consensus tasks fill up and their tallies run, and
//! auctions are awarded, handed over and settled. Each property prints how many random actions
//! and checked steps it ran, and what they reached (`cargo test -- --nocapture`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};

use cosmwasm_std::{coin, from_json, Addr, Binary, Coin, Decimal, StdResult, Uint128};
use opengpu_testing::{
    default_profile, matmul_kernel, matmul_outputs, matmul_outputs_off_by, matmul_policy, outputs,
    Suite, SuiteBuilder, TaskSpec, MATMUL_N, SALT, STAKE_DENOM,
};
use opengpu_types::commitment::outputs_digest;
use opengpu_types::consensus::{group, outputs_agree, winning_group, FloatTolerance};
use opengpu_types::market::{
    self, ClaimsResponse, CommitmentInfo, CommitmentState, CompetitionModel, TaskInfo, TaskStatus,
    TasksResponse,
};
use opengpu_types::registry;
use opengpu_types::vault::{StakeResponse, TotalsResponse};
use opengpu_types::verification::VerificationPolicy;
use opengpu_types::TaskId;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestRunner};

#[path = "money_invariants/auction.rs"]
mod auction;

use auction::AuctionAction;
use opengpu_types::auction::BidInfo;

const CLIENTS: usize = 3;
/// Registered providers: three of their own, and client 0, which takes tasks too.
const PROVIDERS: usize = 4;
const CLIENT_FUNDS: u128 = 20_000;
const PROVIDER_BOND: u128 = 3_000;
/// Unbonded stake-denom a provider holds at start, for `Bond` actions.
const PROVIDER_WALLET: u128 = 5_000;
/// Blocks a committer has to reveal (the suite's default is 10): longer, so that random
/// sequences reveal more of what they commit.
const REVEAL_WINDOW: u64 = 20;
/// Past every window of any task: deadline (<= 12) + reveal (20) + confirm (20) blocks.
const PAST_ALL_WINDOWS: u64 = 100;
const WRONG_SALT: [u8; 32] = [0xa5; 32];
/// Highest fee the owner may set (10%); `SetFee` also tries above it.
const MAX_FEE_BPS: u16 = 1_000;
/// The suite's own invariant check runs every this many steps (the harness checks the same
/// rules on every step from its snapshot).
const SUITE_CHECK_EVERY: usize = 16;
/// A step that cannot change the state (a refused transaction, a move of the chain) is read
/// back and compared every this many steps; otherwise its snapshot is the one before it.
const UNCHANGED_CHECK_EVERY: usize = 4;

/// Cases of each property, and random actions per case (uniform in 1..MAX_ACTIONS, after one
/// or two publishes): about 80 × 81.5 ≈ 6,500 random actions per property, 13,000 per run.
const CASES: u32 = 80;
const MAX_ACTIONS: usize = 160;

/// What each property ran, printed when it ends: random actions (a burst such as `CommitAll`
/// counts once) and checked steps (every transaction or chain move, each followed by the
/// checks; bursts and the final drive to closure included).
struct Counts {
    random: AtomicUsize,
    checked: AtomicUsize,
}

static COUNTS_ALL_STEPS: Counts = Counts {
    random: AtomicUsize::new(0),
    checked: AtomicUsize::new(0),
};
static COUNTS_END_FINAL: Counts = Counts {
    random: AtomicUsize::new(0),
    checked: AtomicUsize::new(0),
};

/// What the random steps reached, counted over both properties and printed with the step
/// counts, to see that the interesting paths are taken.
#[derive(Clone, Copy)]
enum Seen {
    Accepted,
    Refused,
    SettledFirstResponse,
    SettledManual,
    SettledConsensus,
    ConsensusNoQuorum,
    Expired,
    Cancelled,
    Rejected,
    RefusedReveal,
    Outvoted,
    Forfeited,
    ClaimCredited,
    ClaimWithdrawn,
    SettledAuction,
    SettledAfterHandover,
    AuctionExpired,
    Award,
    Handover,
    Defaulted,
    RefusedDelivery,
    Skipped,
    VoidBid,
    ForfeitedBid,
}

const SEEN_NAMES: [&str; 24] = [
    "accepted",
    "refused",
    "settled first_response",
    "settled manual_confirmation",
    "settled consensus",
    "consensus without quorum",
    "expired",
    "cancelled",
    "rejected reveals",
    "refused reveals",
    "outvoted",
    "forfeited",
    "claims credited",
    "claims withdrawn",
    "settled auction",
    "auctions settled after a hand-over",
    "expired auction",
    "auction awards",
    "hand-overs to a next bidder",
    "defaulted awardees",
    "refused deliveries",
    "skipped bidders",
    "void bids",
    "forfeited bids",
];

static SEEN: [AtomicUsize; 24] = [const { AtomicUsize::new(0) }; 24];

fn seen(what: Seen) {
    SEEN[what as usize].fetch_add(1, Ordering::Relaxed);
}

/// One step. Indices pick among the suite's actors and the tasks published so far (modulo their
/// count), so that shrinking keeps them meaningful.
#[derive(Clone, Debug)]
enum Action {
    Publish(Publish),
    /// `provider` PROVIDERS is the stranger, who never registered. `seed` picks the answer (0
    /// is the correct one). `price_permille` of the budget goes into a Manual Confirmation
    /// commitment (above 1000 is above the budget); 0 commits the wrong kind of price for the
    /// model (none under Manual Confirmation, 1 in the others).
    Commit {
        provider: usize,
        task: TaskPick,
        seed: u32,
        price_permille: u128,
    },
    /// Opens a commitment, with the committed outputs and price unless told otherwise.
    Reveal {
        pick: Pick,
        wrong_salt: bool,
        wrong_price: bool,
    },
    Confirm {
        sender: usize,
        pick: Pick,
    },
    Finalize {
        sender: usize,
        task: TaskPick,
    },
    Cancel {
        sender: usize,
        task: TaskPick,
    },
    Expire {
        sender: usize,
        task: TaskPick,
    },
    /// Mostly an owner of a claim; its whole claim in `denom` to `to`.
    WithdrawClaim {
        pick: Pick,
        denom: usize,
        to: Payee,
    },
    /// The provider's registry payout from now on (a commitment keeps the one it was made with).
    SetPayout {
        provider: usize,
        payout: Payee,
    },
    /// The bank refuses, or accepts again, payments to the cold wallet or the fee collector.
    TogglePayments {
        fee_collector: bool,
    },
    /// The owner sets the protocol fee (above 10% is refused).
    SetFee(u16),
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
    /// Every provider commits to one task that takes commits (one `Commit` step each), with
    /// its own answer and price: what fills a Consensus task.
    CommitAll {
        task: TaskPick,
        seeds: Vec<u32>,
        prices: Vec<u128>,
    },
    /// Every open commitment of one task is revealed (one `Reveal` step each).
    RevealAll {
        task: TaskPick,
    },
    /// A whole round in a few steps: publish, every provider commits, the chain moves to
    /// where reveals are accepted, every commitment is revealed.
    Round {
        publish: Publish,
        seeds: Vec<u32>,
        prices: Vec<u128>,
    },
    /// Moves the chain to the next height where a phase of a live task ends: past a commit
    /// deadline (sealed reveals open), a reveal phase or a confirm window; for an auction, past
    /// its bidding, its bid reveals or its awardee's execution window.
    NextPhase,
    /// Bids, bid reveals, `Advance`, the awardee's work, bidders leaving the line, and whole
    /// auctions: see `auction.rs`.
    Auction(AuctionAction),
}

/// A task: mostly one not yet final (`live`), so that actions on it may succeed; or any.
#[derive(Clone, Copy, Debug)]
struct TaskPick {
    live: bool,
    k: usize,
}

#[derive(Clone, Debug)]
struct Publish {
    client: usize,
    model: ModelPick,
    policy: PolicyPick,
    /// The 8×8 matrix product kernel rather than the vector addition (always under Freivalds).
    matmul: bool,
    denom: usize,
    budget: u128,
    collateral: u128,
    deadline: u64,
}

#[derive(Clone, Copy, Debug)]
enum ModelPick {
    FirstResponse,
    Manual,
    /// Consensus; float tolerance only on the matrix kernel.
    Consensus {
        replicas: u32,
        quorum: u32,
        tolerant: bool,
    },
    /// An auction; `heavy` multiplies the collateral by `auction::HEAVY`, so that a bidder
    /// can be short of free stake for it and still be eligible.
    Auction {
        bid_reveal_blocks: u64,
        execute_blocks: u64,
        heavy: bool,
    },
}

#[derive(Clone, Copy, Debug)]
enum PolicyPick {
    Unverified,
    /// The hash of the correct answer.
    ReferenceHash,
    /// The hash of a wrong answer: a lying client.
    LyingHash,
    Freivalds,
}

/// Where money may be sent: the payee itself, a cold wallet (whose payments the bank may be
/// told to refuse), a module account (always refused), or a treasury (never refused).
#[derive(Clone, Copy, Debug)]
enum Payee {
    Itself,
    Cold,
    Module,
    Treasury,
}

#[derive(Clone, Copy, Debug)]
enum RegistryOp {
    Pause,
    Resume,
    Deregister,
    Register,
}

/// A pick among what the model knows is ready (a commitment to reveal, an offer to confirm, a
/// claim to withdraw), so that some actions succeed; or any pair at all.
#[derive(Clone, Debug)]
enum Pick {
    Modelled(usize),
    Any { who: usize, task: usize },
}

/// What a provider committed to: the seed of its answer and its price.
type Committed = (u32, Option<u128>);

/// The answer kinds: which kernel a task runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kernel {
    Add,
    Matmul,
}

const SEEDS: u32 = 5;

/// Senders: 0 to 2 are the task's client, then the clients, the providers and the stranger.
const SENDERS: usize = 3 + CLIENTS + PROVIDERS + 1;
const STRANGER: usize = SENDERS - 1;

fn task_pick() -> impl Strategy<Value = TaskPick> {
    (prop::bool::weighted(0.85), any::<usize>()).prop_map(|(live, k)| TaskPick { live, k })
}

fn pick() -> impl Strategy<Value = Pick> {
    prop_oneof![
        4 => any::<usize>().prop_map(Pick::Modelled),
        1 => (0..SENDERS, any::<usize>()).prop_map(|(who, task)| Pick::Any { who, task }),
    ]
}

fn payee() -> impl Strategy<Value = Payee> {
    prop_oneof![
        2 => Just(Payee::Itself),
        2 => Just(Payee::Cold),
        1 => Just(Payee::Module),
        1 => Just(Payee::Treasury),
    ]
}

fn registry_op() -> impl Strategy<Value = RegistryOp> {
    prop_oneof![
        1 => Just(RegistryOp::Pause),
        2 => Just(RegistryOp::Resume),
        1 => Just(RegistryOp::Deregister),
        2 => Just(RegistryOp::Register),
    ]
}

fn model_pick() -> impl Strategy<Value = ModelPick> {
    model_pick_weighted(2, 2, 3, 2)
}

fn model_pick_weighted(
    first: u32,
    manual: u32,
    consensus: u32,
    auction: u32,
) -> impl Strategy<Value = ModelPick> {
    let agreeing = (
        prop_oneof![Just((2u32, 2u32)), Just((3, 2)), Just((3, 3)), Just((4, 3))],
        any::<bool>(),
    )
        .prop_map(|((replicas, quorum), tolerant)| ModelPick::Consensus {
            replicas,
            quorum,
            tolerant,
        });
    prop_oneof![
        first => Just(ModelPick::FirstResponse),
        manual => Just(ModelPick::Manual),
        consensus => agreeing,
        auction => auction::model(),
    ]
}

fn policy_pick() -> impl Strategy<Value = PolicyPick> {
    prop_oneof![
        4 => Just(PolicyPick::Unverified),
        2 => Just(PolicyPick::ReferenceHash),
        1 => Just(PolicyPick::LyingHash),
        2 => Just(PolicyPick::Freivalds),
    ]
}

fn publish() -> impl Strategy<Value = Action> {
    publish_with(model_pick()).prop_map(Action::Publish)
}

fn publish_with(model: impl Strategy<Value = ModelPick>) -> impl Strategy<Value = Publish> {
    let what = (0..CLIENTS, model, policy_pick(), any::<bool>());
    let amounts = (0..3usize, 1..=5_000u128, 1..=500u128, 2..=12u64);
    (what, amounts).prop_map(
        |((client, model, policy, matmul), (denom, budget, collateral, deadline))| Publish {
            client,
            model,
            policy,
            matmul,
            denom,
            budget,
            collateral,
            deadline,
        },
    )
}

fn seed() -> impl Strategy<Value = u32> {
    prop_oneof![4 => Just(0u32), 3 => 1..SEEDS]
}

/// One answer for most providers and another for each dissenter (about one in four): a
/// majority, a minority, or no agreement at all.
fn agreeing_seeds() -> impl Strategy<Value = Vec<u32>> {
    (
        seed(),
        1..SEEDS,
        prop::collection::vec(prop::bool::weighted(0.25), PROVIDERS),
    )
        .prop_map(|(majority, dissent, dissenters)| {
            dissenters
                .into_iter()
                .map(|d| {
                    if d {
                        (majority + dissent) % SEEDS
                    } else {
                        majority
                    }
                })
                .collect()
        })
}

fn price() -> impl Strategy<Value = u128> {
    prop_oneof![1 => Just(0u128), 9 => 1..=1_100u128]
}

fn action() -> impl Strategy<Value = Action> {
    let (seed, price) = (seed(), price());
    // Mostly short waits, so that reveals land inside their windows.
    let blocks = prop_oneof![6 => Just(1u64), 3 => 2..=3u64, 1 => 4..=12u64];
    // Mostly the task's client (who alone may confirm or cancel), else anyone.
    let sender = || prop_oneof![3 => 0..3usize, 1 => 3..SENDERS];
    let sender_task = || (sender(), task_pick());
    // Mostly a registered provider, sometimes the stranger.
    let committer = prop_oneof![9 => 0..PROVIDERS, 1 => Just(PROVIDERS)];
    prop_oneof![
        2 => publish(),
        8 => (committer, task_pick(), seed, price).prop_map(|(provider, task, seed, price)| {
            Action::Commit { provider, task, seed, price_permille: price }
        }),
        10 => (pick(), prop::bool::weighted(0.1), prop::bool::weighted(0.1)).prop_map(
            |(pick, wrong_salt, wrong_price)| Action::Reveal { pick, wrong_salt, wrong_price }
        ),
        2 => (sender(), pick()).prop_map(|(sender, pick)| Action::Confirm { sender, pick }),
        3 => sender_task().prop_map(|(sender, task)| Action::Finalize { sender, task }),
        1 => sender_task().prop_map(|(sender, task)| Action::Cancel { sender, task }),
        2 => sender_task().prop_map(|(sender, task)| Action::Expire { sender, task }),
        1 => (pick(), 0..3usize, payee())
            .prop_map(|(pick, denom, to)| Action::WithdrawClaim { pick, denom, to }),
        1 => (0..PROVIDERS, payee())
            .prop_map(|(provider, payout)| Action::SetPayout { provider, payout }),
        1 => any::<bool>().prop_map(|fee_collector| Action::TogglePayments { fee_collector }),
        1 => prop_oneof![4 => 0..=MAX_FEE_BPS, 1 => MAX_FEE_BPS + 1..=2 * MAX_FEE_BPS]
            .prop_map(Action::SetFee),
        1 => (0..PROVIDERS, 1..=2_000u128)
            .prop_map(|(provider, amount)| Action::Bond { provider, amount }),
        1 => (0..PROVIDERS, 1..=1_500u128)
            .prop_map(|(provider, amount)| Action::Unbond { provider, amount }),
        1 => (0..PROVIDERS).prop_map(|provider| Action::Claim { provider }),
        1 => (0..PROVIDERS, registry_op())
            .prop_map(|(provider, op)| Action::Registry { provider, op }),
        3 => blocks.prop_map(Action::AdvanceBlocks),
        1 => (1..=8_000u64).prop_map(Action::AdvanceSeconds),
        2 => Just(Action::NextPhase),
        2 => (task_pick(), agreeing_seeds(), prop::collection::vec(self::price(), PROVIDERS))
            .prop_map(|(task, seeds, prices)| Action::CommitAll { task, seeds, prices }),
        3 => task_pick().prop_map(|task| Action::RevealAll { task }),
        12 => auction::action().prop_map(Action::Auction),
        2 => (
            publish_with(model_pick_weighted(1, 1, 3, 0)),
            agreeing_seeds(),
            prop::collection::vec(self::price(), PROVIDERS),
        )
            .prop_map(|(publish, seeds, prices)| Action::Round { publish, seeds, prices }),
    ]
}

/// Everything a step may change.
#[derive(Clone)]
struct Snapshot {
    /// Every account's balance in every denom, read from the bank's store at once.
    balances: BTreeMap<(Addr, String), u128>,
    tasks: BTreeMap<TaskId, TaskInfo>,
    commitments: BTreeMap<(TaskId, u32), CommitmentInfo>,
    /// Auctions' bids, read like commitments.
    bids: BTreeMap<(TaskId, u32), BidInfo>,
    stakes: BTreeMap<Addr, StakeResponse>,
    totals: TotalsResponse,
    /// Claims of every account that may hold one (see `Harness::claimants`), nonzero only.
    claims: BTreeMap<(Addr, String), u128>,
    claim_totals: BTreeMap<String, u128>,
}

/// A suite with three funded clients and four bonded, registered providers (one of them client
/// 0), plus a model of what was published, committed and revealed, and of who is refused.
struct Harness {
    suite: Suite,
    clients: Vec<Addr>,
    providers: Vec<Addr>,
    stranger: Addr,
    cold: Addr,
    module: Addr,
    treasury: Addr,
    /// Answers by kernel and seed.
    answers: BTreeMap<(Kernel, u32), Vec<Binary>>,
    tasks: Vec<TaskId>,
    kernels: BTreeMap<TaskId, Kernel>,
    /// (provider index, task) -> what it committed to, until revealed.
    unrevealed: BTreeMap<(usize, TaskId), Committed>,
    /// (provider index, task) -> the seed of what it revealed (valid or not).
    revealed: BTreeMap<(usize, TaskId), u32>,
    /// Each provider's registry payout now.
    payouts: Vec<Addr>,
    /// Addresses the bank refuses payments to now.
    refused: BTreeSet<Addr>,
    /// Every address that may hold a claim: the fee collector, and each provider once it
    /// committed with a payout the bank may refuse. The snapshot reads their claims; the claim
    /// totals must equal their sum, so nobody else holds one.
    claimants: BTreeSet<Addr>,
    fee_bps: u16,
    /// What the test minted, per denom.
    minted: BTreeMap<String, u128>,
    /// The state after the last step, which is the state before the next.
    last: Option<Snapshot>,
    steps: usize,
    /// The claim a `WithdrawClaim` step took: (owner, denom, recipient).
    withdrawn: Option<(Addr, String, Addr)>,
    /// The harness's own record of the auctions' bids.
    auction: auction::Model,
}

impl Harness {
    fn new() -> Self {
        let mut suite = SuiteBuilder::new()
            .with_params(|p| p.reveal_window_blocks = REVEAL_WINDOW)
            .build();
        let clients: Vec<Addr> = (0..CLIENTS)
            .map(|i| suite.client_with_funds(&format!("client{i}"), CLIENT_FUNDS))
            .collect();
        let mut providers: Vec<Addr> = (0..PROVIDERS - 1)
            .map(|i| {
                let provider = suite.provider_with_bond(&format!("provider{i}"), PROVIDER_BOND);
                suite.fund(&provider, vec![coin(PROVIDER_WALLET, STAKE_DENOM)]);
                provider
            })
            .collect();
        // Client 0 bonds from its own stake-denom funds and takes tasks too.
        let both = clients[0].clone();
        suite.bond(&both, PROVIDER_BOND).unwrap();
        suite.register(&both).unwrap();
        providers.push(both);

        let module = suite.addr("module-account");
        suite.refuse_payments_to(&module);
        let kinds = [Kernel::Add, Kernel::Matmul];
        let answers = kinds
            .into_iter()
            .flat_map(|k| (0..SEEDS).map(move |s| ((k, s), answer(k, s))))
            .collect();
        let mut harness = Self {
            stranger: suite.addr("stranger"),
            cold: suite.addr("cold-wallet"),
            treasury: suite.addr("treasury"),
            fee_bps: 100,
            claimants: BTreeSet::from([suite.fee_collector.clone()]),
            payouts: providers.clone(),
            refused: BTreeSet::from([module.clone()]),
            module,
            suite,
            clients,
            providers,
            answers,
            tasks: vec![],
            kernels: BTreeMap::new(),
            unrevealed: BTreeMap::new(),
            revealed: BTreeMap::new(),
            minted: BTreeMap::new(),
            last: None,
            steps: 0,
            withdrawn: None,
            auction: auction::Model::default(),
        };
        harness.assert_bank_scan_matches_queries();
        // Everything that exists now (the clients' and providers' funds, the owner's gas
        // money) is all there will ever be.
        for ((_, denom), amount) in bank_balances(&harness.suite) {
            *harness.minted.entry(denom).or_default() += amount;
        }
        harness
    }

    fn payee(&self, payee: Payee, itself: &Addr) -> Addr {
        match payee {
            Payee::Itself => itself.clone(),
            Payee::Cold => self.cold.clone(),
            Payee::Module => self.module.clone(),
            Payee::Treasury => self.treasury.clone(),
        }
    }

    /// The task at `index` modulo the count; with no task yet, an unknown id.
    fn task_id(&self, index: usize) -> TaskId {
        match self.tasks.len() {
            0 => 1,
            n => self.tasks[index % n],
        }
    }

    fn try_task(&self, task_id: TaskId) -> Option<TaskInfo> {
        self.tasks
            .contains(&task_id)
            .then(|| self.suite.task(task_id))
    }

    fn client_of(&self, task_id: TaskId) -> Addr {
        self.try_task(task_id)
            .map(|t| t.client)
            .unwrap_or_else(|| self.clients[0].clone())
    }

    fn sender(&self, who: usize, task_id: TaskId) -> Addr {
        match who {
            0..=2 => self.client_of(task_id),
            i if i < 3 + CLIENTS => self.clients[i - 3].clone(),
            i if i < 3 + CLIENTS + PROVIDERS => self.providers[i - 3 - CLIENTS].clone(),
            _ => self.stranger.clone(),
        }
    }

    /// A live task (not final in `before`) when asked and there is one, else any task.
    fn pick_task(&self, pick: TaskPick, before: &Snapshot) -> TaskId {
        let live: Vec<TaskId> = before
            .tasks
            .values()
            .filter(|t| !t.status.is_final())
            .map(|t| t.id)
            .collect();
        match (pick.live, live.len()) {
            (true, n) if n > 0 => live[pick.k % n],
            _ => self.task_id(pick.k),
        }
    }

    /// Whether the provider's commitment to the task may be revealed now.
    fn ripe(&self, (provider, id): &(usize, TaskId), before: &Snapshot) -> bool {
        let height = self.suite.height();
        let Some(task) = before.tasks.get(id) else {
            return false;
        };
        task_commitments(before, *id)
            .map(|(_, c)| c)
            .find(|c| c.provider == self.providers[*provider])
            .is_some_and(|c| {
                height > c.committed_height
                    && height <= c.reveal_deadline_height
                    && (!task.model.is_sealed() || task.commits_closed(height))
            })
    }

    /// What the Consensus tally must decide for a task, computed here from the answers the
    /// providers revealed with the types crate's grouping rules: the winners' addresses, or
    /// `None` without a quorum.
    fn consensus_oracle(&self, task: &TaskInfo, after: &Snapshot) -> Option<Vec<Addr>> {
        let CompetitionModel::Consensus {
            quorum, tolerance, ..
        } = task.model
        else {
            unreachable!("only Consensus tasks are tallied")
        };
        let kernel = self.kernel_of(task.id);
        let valid: Vec<(Addr, &Vec<Binary>)> = task_commitments(after, task.id)
            .map(|(_, c)| c)
            .filter(|c| {
                matches!(
                    c.state,
                    CommitmentState::Revealed { .. } | CommitmentState::Outvoted {}
                )
            })
            .map(|c| {
                let index = self
                    .providers
                    .iter()
                    .position(|p| *p == c.provider)
                    .unwrap();
                let seed = self.revealed[&(index, task.id)];
                (c.provider.clone(), &self.answers[&(kernel, seed)])
            })
            .collect();
        let groups = group(valid.len(), |i, j| match &tolerance {
            None => outputs_digest(valid[i].1) == outputs_digest(valid[j].1),
            Some(tolerance) => outputs_agree(tolerance, valid[i].1, valid[j].1),
        });
        let winner = winning_group(&groups, quorum)?;
        Some(
            valid
                .iter()
                .zip(&groups)
                .filter(|(_, g)| **g == winner)
                .map(|((addr, _), _)| addr.clone())
                .collect(),
        )
    }

    /// The pair a `Pick` names when the model has none ready.
    fn any_pair(&self, pick: &Pick) -> (usize, TaskId) {
        match *pick {
            Pick::Modelled(k) => (k % PROVIDERS, self.task_id(k)),
            Pick::Any { who, task } => (who % PROVIDERS, self.task_id(task)),
        }
    }

    fn kernel_of(&self, task_id: TaskId) -> Kernel {
        self.kernels.get(&task_id).copied().unwrap_or(Kernel::Add)
    }

    /// Records an accepted commitment, to be revealed later.
    fn committed(&mut self, provider: usize, id: TaskId, what: Committed) {
        // A payout the bank may refuse makes the provider a possible claim owner.
        let payout = &self.payouts[provider];
        if *payout == self.cold || *payout == self.module {
            self.claimants.insert(self.providers[provider].clone());
        }
        self.unrevealed.insert((provider, id), what);
    }

    /// The state now. Tasks already final in `previous`, and their commitments, are carried
    /// over from it rather than re-read, which would dominate the run time; each case ends by
    /// checking them against the chain (`finish`).
    fn snapshot(&self, previous: Option<&Snapshot>) -> Snapshot {
        let s = &self.suite;
        let tasks = match previous {
            None => all_tasks(s),
            Some(previous) => {
                let mut tasks: BTreeMap<TaskId, TaskInfo> =
                    [TaskStatus::Open, TaskStatus::Committed]
                        .into_iter()
                        .flat_map(|status| s.tasks_with_status(status))
                        .map(|t| (t.id, t))
                        .collect();
                for (id, old) in &previous.tasks {
                    if old.status.is_final() {
                        tasks.insert(*id, old.clone());
                    } else if !tasks.contains_key(id) {
                        // Closed by this step.
                        tasks.insert(*id, s.task(*id));
                    }
                }
                tasks
            }
        };
        let mut commitments = BTreeMap::new();
        let mut bids = BTreeMap::new();
        for (&id, task) in &tasks {
            let auction = task.model.is_auction();
            match previous.filter(|p| p.tasks.get(&id).is_some_and(|t| t.status.is_final())) {
                Some(previous) => {
                    commitments
                        .extend(task_commitments(previous, id).map(|(k, c)| (*k, c.clone())));
                    bids.extend(auction::task_bids(previous, id).map(|b| ((id, b.seq), b.clone())));
                }
                None => {
                    commitments.extend(s.commitments(id).into_iter().map(|c| ((id, c.seq), c)));
                    if auction {
                        bids.extend(s.bids(id).into_iter().map(|b| ((id, b.seq), b)));
                    }
                }
            }
        }
        let stakes = s
            .stakers
            .iter()
            .map(|staker| (staker.clone(), s.stake(staker)))
            .collect();
        let mut claims = BTreeMap::new();
        for claimant in &self.claimants {
            for c in query_claims(
                s,
                &market::QueryMsg::Claims {
                    address: claimant.to_string(),
                },
            ) {
                let amount = coin_amount(&c);
                claims.insert((claimant.clone(), c.denom), amount);
            }
        }
        let claim_totals = query_claims(s, &market::QueryMsg::ClaimTotals {})
            .into_iter()
            .map(|c| (c.denom.clone(), coin_amount(&c)))
            .collect();
        Snapshot {
            balances: bank_balances(s),
            tasks,
            commitments,
            bids,
            stakes,
            totals: s.vault_totals(),
            claims,
            claim_totals,
        }
    }

    /// The bank scan behind `Snapshot::balances` reads multi-test's store directly; check it
    /// against ordinary balance queries.
    fn assert_bank_scan_matches_queries(&self) {
        let scanned = bank_balances(&self.suite);
        let s = &self.suite;
        let mut accounts: BTreeSet<Addr> = scanned.keys().map(|(a, _)| a.clone()).collect();
        accounts.extend([
            self.cold.clone(),
            self.module.clone(),
            self.treasury.clone(),
        ]);
        assert!(
            accounts.len() > CLIENTS + PROVIDERS,
            "the bank scan found too few accounts"
        );
        for account in &accounts {
            for denom in &s.denoms {
                let scan = scanned
                    .get(&(account.clone(), denom.clone()))
                    .copied()
                    .unwrap_or_default();
                assert_eq!(
                    scan,
                    s.balance(account, denom),
                    "bank scan of {account} {denom}"
                );
            }
        }
    }

    /// Sends the action; on success, updates the model.
    fn execute(&mut self, action: &Action, before: &Snapshot) -> StdResult<()> {
        match *action {
            Action::Publish(ref p) => {
                let kernel = match (p.policy, p.matmul) {
                    (PolicyPick::Freivalds, _) | (_, true) => Kernel::Matmul,
                    _ => Kernel::Add,
                };
                let verification = match p.policy {
                    PolicyPick::Unverified => VerificationPolicy::Unverified {},
                    PolicyPick::ReferenceHash => VerificationPolicy::ReferenceHash {
                        sha256: outputs_digest(&self.answers[&(kernel, 0)]).into(),
                    },
                    PolicyPick::LyingHash => VerificationPolicy::ReferenceHash {
                        sha256: outputs_digest(&self.answers[&(kernel, 2)]).into(),
                    },
                    PolicyPick::Freivalds => matmul_policy(),
                };
                let model = match p.model {
                    ModelPick::FirstResponse => CompetitionModel::FirstResponse,
                    ModelPick::Manual => CompetitionModel::ManualConfirmation,
                    ModelPick::Consensus {
                        replicas,
                        quorum,
                        tolerant,
                    } => CompetitionModel::Consensus {
                        replicas,
                        quorum,
                        tolerance: (tolerant && kernel == Kernel::Matmul).then_some(
                            FloatTolerance::Relative {
                                max: Decimal::permille(1),
                            },
                        ),
                    },
                    ModelPick::Auction {
                        bid_reveal_blocks,
                        execute_blocks,
                        ..
                    } => CompetitionModel::Auction {
                        bid_reveal_blocks,
                        execute_blocks,
                    },
                };
                let spec = TaskSpec {
                    kernel: match kernel {
                        Kernel::Add => opengpu_testing::default_kernel(),
                        Kernel::Matmul => matmul_kernel(),
                    },
                    model,
                    budget: Some(coin(p.budget, self.suite.denoms[p.denom].as_str())),
                    collateral: match p.model {
                        ModelPick::Auction { heavy: true, .. } => p.collateral * auction::HEAVY,
                        _ => p.collateral,
                    }
                    .into(),
                    deadline_blocks: p.deadline,
                    verification,
                    ..TaskSpec::default()
                };
                let client = self.clients[p.client].clone();
                let id = self.suite.publish(&client, spec)?;
                assert_eq!(
                    self.suite.task(id).fee_bps,
                    self.fee_bps,
                    "a task takes the fee of its publish time"
                );
                self.tasks.push(id);
                self.kernels.insert(id, kernel);
            }
            Action::Commit {
                provider,
                task,
                seed,
                price_permille,
            } => {
                let height = self.suite.height();
                let open: Vec<TaskId> = before
                    .tasks
                    .values()
                    .filter(|t| !t.status.is_final() && !t.commits_closed(height))
                    .map(|t| t.id)
                    .collect();
                let id = match open.len() {
                    n if task.live && n > 0 => open[task.k % n],
                    _ => self.pick_task(task, before),
                };
                let addr = match self.providers.get(provider) {
                    Some(addr) => addr.clone(),
                    None => self.stranger.clone(),
                };
                let info = self.try_task(id);
                let takes_price = info.as_ref().is_some_and(|t| t.model.takes_price());
                let budget = info.map_or(1, |t| t.budget.u128());
                let price = match (takes_price, price_permille) {
                    (true, 0) => None,
                    (false, 0) => Some(1),
                    (true, p) => Some((budget * p / 1_000).max(1)),
                    (false, _) => None,
                };
                let outputs = self.answers[&(self.kernel_of(id), seed)].clone();
                self.suite.commit_offer(&addr, id, &outputs, price)?;
                self.committed(provider, id, (seed, price));
            }
            Action::Reveal {
                ref pick,
                wrong_salt,
                wrong_price,
            } => {
                // Modelled: a commitment that may be revealed now if there is one.
                let ready: Vec<(&(usize, TaskId), &Committed)> = {
                    let ripe: Vec<_> = self
                        .unrevealed
                        .iter()
                        .filter(|(k, _)| self.ripe(k, before))
                        .collect();
                    if ripe.is_empty() {
                        self.unrevealed.iter().collect()
                    } else {
                        ripe
                    }
                };
                let ((provider, id), (seed, price)) = match *pick {
                    Pick::Modelled(k) if !ready.is_empty() => {
                        let (&pair, &committed) = ready[k % ready.len()];
                        (pair, committed)
                    }
                    _ => {
                        let pair = self.any_pair(pick);
                        (
                            pair,
                            self.unrevealed.get(&pair).copied().unwrap_or((0, None)),
                        )
                    }
                };
                let price = match (wrong_price, price) {
                    (false, price) => price,
                    (true, Some(p)) => Some(p + 1),
                    (true, None) => Some(1),
                };
                let salt = if wrong_salt { WRONG_SALT } else { SALT };
                let addr = self.providers[provider].clone();
                let outputs = self.answers[&(self.kernel_of(id), seed)].clone();
                self.suite
                    .reveal_with_salt(&addr, id, &outputs, &salt, price)?;
                self.unrevealed.remove(&(provider, id));
                self.revealed.insert((provider, id), seed);
            }
            Action::Confirm { sender, ref pick } => {
                // Modelled: a revealed offer of a Manual Confirmation task.
                let offers: Vec<&(usize, TaskId)> = self
                    .revealed
                    .keys()
                    .filter(|(_, id)| before.tasks[id].model.takes_price())
                    .collect();
                let (provider, id) = match *pick {
                    Pick::Modelled(k) if !offers.is_empty() => *offers[k % offers.len()],
                    _ => self.any_pair(pick),
                };
                let sender = self.sender(sender, id);
                let provider = self.providers[provider].clone();
                self.suite.confirm(&sender, id, &provider)?;
            }
            Action::Finalize { sender, task } => {
                let id = self.pick_task(task, before);
                let sender = self.sender(sender, id);
                self.suite.finalize(&sender, id)?;
            }
            Action::Cancel { sender, task } => {
                let id = self.pick_task(task, before);
                let sender = self.sender(sender, id);
                self.suite.cancel(&sender, id)?;
            }
            Action::Expire { sender, task } => {
                let id = self.pick_task(task, before);
                let sender = self.sender(sender, id);
                self.suite.expire(&sender, id)?;
                // On an auction, `Expire` is `Advance`.
                self.auction.touched = Some(id);
            }
            Action::WithdrawClaim {
                ref pick,
                denom,
                to,
            } => {
                let owed: Vec<&(Addr, String)> = before.claims.keys().collect();
                let (sender, denom) = match *pick {
                    Pick::Modelled(k) if !owed.is_empty() => owed[k % owed.len()].clone(),
                    _ => {
                        let who = match pick {
                            Pick::Modelled(k) | Pick::Any { who: k, .. } => *k,
                        };
                        (self.sender(who, 0), self.suite.denoms[denom].clone())
                    }
                };
                let to = self.payee(to, &sender);
                let recipient = (to != sender).then_some(&to);
                self.suite.withdraw_claim(&sender, &denom, recipient)?;
                self.withdrawn = Some((sender, denom, to));
            }
            Action::SetPayout { provider, payout } => {
                let addr = self.providers[provider].clone();
                let target = self.payee(payout, &addr);
                let mut profile = default_profile(&format!("provider{provider}"));
                profile.payout_addr = (target != addr).then(|| target.to_string());
                self.suite
                    .execute_registry(&addr, &registry::ExecuteMsg::Update { profile })?;
                self.payouts[provider] = target;
            }
            Action::TogglePayments { fee_collector } => {
                let addr = if fee_collector {
                    self.suite.fee_collector.clone()
                } else {
                    self.cold.clone()
                };
                if self.refused.remove(&addr) {
                    self.suite
                        .app
                        .init_modules(|router, _, storage| router.bank.accept(storage, &addr));
                } else {
                    self.suite.refuse_payments_to(&addr);
                    self.refused.insert(addr);
                }
            }
            Action::SetFee(fee_bps) => {
                let owner = self.suite.owner.clone();
                let msg = market::ExecuteMsg::UpdateConfig {
                    allowed_denoms: None,
                    fee_bps: Some(fee_bps),
                    fee_collector: None,
                    params: None,
                    ibc: None,
                    retention_blocks: None,
                };
                self.suite.execute_market(&owner, &msg, &[])?;
                self.fee_bps = fee_bps;
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
                        self.payouts[provider] = addr;
                        return Ok(());
                    }
                };
                self.suite.execute_registry(&addr, &msg)?;
            }
            Action::AdvanceBlocks(blocks) => self.suite.advance_blocks(blocks),
            Action::AdvanceSeconds(seconds) => self.suite.advance_seconds(seconds),
            Action::CommitAll { .. } | Action::RevealAll { .. } | Action::Round { .. } => {
                unreachable!("`play` runs bursts as single steps")
            }
            Action::Auction(ref action) => self.execute_auction(action, before)?,
            Action::NextPhase => {
                let height = self.suite.height();
                let next = before
                    .tasks
                    .values()
                    .filter(|t| !t.status.is_final())
                    .flat_map(auction::phase_ends)
                    .map(|end| end + 1)
                    .filter(|&after_end| after_end > height)
                    .min();
                self.suite
                    .advance_blocks(next.map_or(1, |next| next - height));
            }
        }
        Ok(())
    }

    /// Runs a random action: one step, or a burst of steps on one task.
    fn play(&mut self, action: &Action) {
        let index_of = |harness: &Self, id: TaskId| harness.tasks.iter().position(|t| *t == id);
        match action {
            Action::CommitAll {
                task,
                seeds,
                prices,
            } => {
                let before = self.last.take().unwrap_or_else(|| self.snapshot(None));
                let height = self.suite.height();
                // An open Consensus task when there is one: the model that needs many commits.
                let open = |consensus: bool| -> Vec<TaskId> {
                    before
                        .tasks
                        .values()
                        .filter(|t| !t.status.is_final() && !t.commits_closed(height))
                        .filter(|t| {
                            !consensus || matches!(t.model, CompetitionModel::Consensus { .. })
                        })
                        .map(|t| t.id)
                        .collect()
                };
                let (consensus, any_open) = (open(true), open(false));
                let id = match (consensus.len(), any_open.len()) {
                    (n, _) if task.live && n > 0 && task.k % 3 > 0 => consensus[task.k % n],
                    (_, n) if task.live && n > 0 => any_open[task.k % n],
                    _ => self.pick_task(*task, &before),
                };
                self.last = Some(before);
                let Some(k) = index_of(self, id) else { return };
                for (provider, (&seed, &price_permille)) in seeds.iter().zip(prices).enumerate() {
                    let task = TaskPick { live: false, k };
                    let _ = self.step(&Action::Commit {
                        provider,
                        task,
                        seed,
                        price_permille,
                    });
                }
            }
            Action::RevealAll { task } => {
                let before = self.last.take().unwrap_or_else(|| self.snapshot(None));
                let ripe: BTreeSet<TaskId> = self
                    .unrevealed
                    .keys()
                    .filter(|pair| self.ripe(pair, &before))
                    .map(|(_, id)| *id)
                    .collect();
                let ripe: Vec<TaskId> = ripe.into_iter().collect();
                let id = match ripe.len() {
                    n if task.live && n > 0 => ripe[task.k % n],
                    _ => self.pick_task(*task, &before),
                };
                self.last = Some(before);
                let Some(k) = index_of(self, id) else { return };
                let providers: Vec<usize> = self
                    .unrevealed
                    .keys()
                    .filter(|(_, t)| *t == id)
                    .map(|(p, _)| *p)
                    .collect();
                for who in providers {
                    let _ = self.step(&Action::Reveal {
                        pick: Pick::Any { who, task: k },
                        wrong_salt: false,
                        wrong_price: false,
                    });
                }
            }
            Action::Round {
                publish,
                seeds,
                prices,
            } => {
                if self.step(&Action::Publish(publish.clone())).is_err() {
                    return;
                }
                let k = self.tasks.len() - 1;
                let task = TaskPick { live: false, k };
                self.play(&Action::CommitAll {
                    task,
                    seeds: seeds.clone(),
                    prices: prices.clone(),
                });
                let id = self.tasks[k];
                let info = self.suite.task(id);
                let height = self.suite.height();
                let wait = if info.model.is_sealed() && !info.commits_closed(height) {
                    info.deadline_height + 1 - height
                } else {
                    1
                };
                let _ = self.step(&Action::AdvanceBlocks(wait));
                self.play(&Action::RevealAll { task });
            }
            Action::Auction(action) => self.play_auction(action),
            _ => {
                let _ = self.step(action);
            }
        }
    }

    /// Runs one action and checks every property of a step.
    fn step(&mut self, action: &Action) -> StdResult<()> {
        self.steps += 1;
        let before = match self.last.take() {
            Some(last) => last,
            None => self.snapshot(None),
        };
        self.withdrawn = None;
        self.auction.touched = None;
        let result = self.execute(action, &before);
        // A refused transaction is rolled back whole, and moving the chain or telling the bank
        // whom to refuse changes nothing the snapshot holds: such a step's state is the state
        // before it. That is still read back and compared every `UNCHANGED_CHECK_EVERY`th time.
        let unchanged = result.is_err()
            || matches!(
                action,
                Action::AdvanceBlocks(_)
                    | Action::AdvanceSeconds(_)
                    | Action::NextPhase
                    | Action::TogglePayments { .. }
            );
        let after = if unchanged && !self.steps.is_multiple_of(UNCHANGED_CHECK_EVERY) {
            before.clone()
        } else {
            self.snapshot(Some(&before))
        };
        self.assert_invariants(&after);
        if self.steps.is_multiple_of(SUITE_CHECK_EVERY) {
            self.suite.assert_money_invariants();
        }
        self.count_what_happened(&result, &before, &after);
        match &result {
            Err(err) => assert_unchanged(&before, &after, &format!("refused {action:?} ({err})")),
            Ok(()) if unchanged => assert_unchanged(&before, &after, &format!("{action:?}")),
            Ok(()) => {
                let expected = self.expected(&before, &after, action);
                let what = format!("{action:?}");
                assert_amounts(&expected.balances, &after.balances, "holds", &what);
                assert_amounts(&expected.claims, &after.claims, "is owed", &what);
            }
        }
        assert_final_tasks_frozen(&before, &after);
        self.assert_commitments_consistent(&before, &after);
        self.assert_locked_matches_open_commitments(&after);
        self.assert_auction_step(&before, &after, result.is_ok());
        // Modelled picks only name live tasks, and commitments still to be revealed (an
        // auction's failed awardee loses its commitment at the hand-over).
        let live = |id: &TaskId| !after.tasks[id].status.is_final();
        let still_committed = |provider: usize, id: TaskId| {
            task_commitments(&after, id).any(|(_, c)| {
                c.provider == self.providers[provider] && c.state == CommitmentState::Committed {}
            })
        };
        self.unrevealed
            .retain(|&(provider, id), _| live(&id) && still_committed(provider, id));
        self.revealed.retain(|(_, id), _| live(id));
        self.auction.forget_closed(|id| live(id));
        self.last = Some(after);
        result
    }

    fn count_what_happened(&self, result: &StdResult<()>, before: &Snapshot, after: &Snapshot) {
        seen(if result.is_ok() {
            Seen::Accepted
        } else {
            Seen::Refused
        });
        for (id, task) in &after.tasks {
            if before
                .tasks
                .get(id)
                .is_some_and(|t| t.status == task.status)
            {
                continue;
            }
            match (task.status, task.model) {
                (TaskStatus::Settled, CompetitionModel::FirstResponse) => {
                    seen(Seen::SettledFirstResponse)
                }
                (TaskStatus::Settled, CompetitionModel::ManualConfirmation) => {
                    seen(Seen::SettledManual)
                }
                (TaskStatus::Settled, CompetitionModel::Consensus { .. }) => {
                    seen(Seen::SettledConsensus)
                }
                (TaskStatus::Expired, CompetitionModel::Consensus { .. })
                    if task_commitments(after, *id)
                        .any(|(_, c)| matches!(c.state, CommitmentState::Revealed { .. })) =>
                {
                    seen(Seen::ConsensusNoQuorum)
                }
                (TaskStatus::Settled, CompetitionModel::Auction { .. }) => {
                    seen(Seen::SettledAuction);
                    if task.auction.as_ref().is_some_and(|a| a.handovers > 0) {
                        seen(Seen::SettledAfterHandover);
                    }
                }
                (TaskStatus::Expired, CompetitionModel::Auction { .. }) => {
                    seen(Seen::AuctionExpired)
                }
                (TaskStatus::Expired, _) => seen(Seen::Expired),
                (TaskStatus::Cancelled, _) => seen(Seen::Cancelled),
                _ => {}
            }
        }
        for (key, entry) in &after.commitments {
            if before
                .commitments
                .get(key)
                .is_some_and(|c| c.state == entry.state)
            {
                continue;
            }
            match entry.state {
                CommitmentState::Rejected { .. } => seen(Seen::Rejected),
                CommitmentState::Refused { .. } => seen(Seen::RefusedReveal),
                CommitmentState::Outvoted {} => seen(Seen::Outvoted),
                CommitmentState::Forfeited {} => seen(Seen::Forfeited),
                _ => {}
            }
        }
        for (key, amount) in &after.claims {
            if before.claims.get(key).is_none_or(|old| old < amount) {
                seen(Seen::ClaimCredited);
            }
        }
        if result.is_ok() && self.withdrawn.is_some() {
            seen(Seen::ClaimWithdrawn);
        }
        auction::count_bids(before, after);
    }

    /// The money invariants, on the snapshot: the market holds exactly the escrow of unfinished
    /// tasks plus the claims it owes, per denom, plus in the stake denom the collateral held from
    /// auctions' failed awardees (`auction::held`); the vault holds exactly bonded + unbonding, the
    /// sum over stakers; nobody has more locked than bonded; the total of every denom is what was
    /// minted.
    fn assert_invariants(&self, snap: &Snapshot) {
        let s = &self.suite;
        for denom in &s.denoms {
            let escrowed: u128 = snap
                .tasks
                .values()
                .filter(|t| !t.status.is_final() && &t.denom == denom)
                .map(|t| t.budget.u128())
                .sum();
            let owed = snap.claim_totals.get(denom).copied().unwrap_or_default();
            let collateral = if denom == STAKE_DENOM {
                auction::held(snap)
            } else {
                0
            };
            let held = balance(&snap.balances, &s.market, denom);
            assert_eq!(
                held,
                escrowed + owed + collateral,
                "market holds {held}{denom}, escrow {escrowed} + claims {owed} + auction \
                 collateral {collateral}"
            );
            let known: u128 = snap
                .claims
                .iter()
                .filter(|((_, d), _)| d == denom)
                .map(|(_, a)| a)
                .sum();
            assert_eq!(
                known, owed,
                "some {denom} claim is owed to an unexpected account"
            );
            let total: u128 = snap
                .balances
                .iter()
                .filter(|((_, d), _)| d == denom)
                .map(|(_, a)| a)
                .sum();
            assert_eq!(
                total, self.minted[denom],
                "total {denom} differs from what was minted"
            );
        }
        let totals = &snap.totals;
        assert_eq!(
            balance(&snap.balances, &s.vault, STAKE_DENOM),
            (totals.bonded + totals.unbonding).u128(),
            "vault balance differs from bonded + unbonding"
        );
        let mut sums = [Uint128::zero(); 3];
        for (staker, stake) in &snap.stakes {
            assert!(
                stake.locked <= stake.bonded,
                "{staker} has more locked than bonded"
            );
            sums[0] += stake.bonded;
            sums[1] += stake.locked;
            sums[2] += stake.unbonding;
        }
        assert_eq!(
            sums,
            [totals.bonded, totals.locked, totals.unbonding],
            "vault totals differ from the sums over stakers (bonded, locked, unbonding)"
        );
    }

    /// Balances and claims after an accepted step, derived from `before` and the transitions
    /// the step made; checks each settlement against its model's rules on the way.
    fn expected(&self, before: &Snapshot, after: &Snapshot, action: &Action) -> Ledger<'_> {
        let s = &self.suite;
        let mut ledger = Ledger {
            balances: before.balances.clone(),
            claims: before.claims.clone(),
            refused: &self.refused,
            market: &s.market,
        };
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
                    let settlement = self.assert_settlement_consistent(task, after, action);
                    for share in &settlement.shares {
                        ledger.pay(&share.provider, &share.paid_to, denom, share.amount.u128());
                    }
                    let collector = &s.fee_collector;
                    ledger.pay(collector, collector, denom, settlement.fee.u128());
                    ledger.pay(&task.client, &task.client, denom, settlement.refund.u128());
                }
                _ => {
                    assert_no_quorum_consistent(task, after);
                    if matches!(task.model, CompetitionModel::Consensus { .. }) {
                        assert_eq!(
                            self.consensus_oracle(task, after),
                            None,
                            "task {id}: expired although an answer had a quorum"
                        );
                    }
                    ledger.pay(&task.client, &task.client, denom, budget);
                }
            }
        }
        for (key, entry) in &after.commitments {
            let old = before.commitments.get(key).map(|c| &c.state);
            if !is_slashed(&entry.state) || old.is_some_and(is_slashed) {
                continue;
            }
            let task = &after.tasks[&entry.task_id];
            if task.model.is_auction() {
                // An auction's collateral is its bid's, followed by `auction_ledger`.
                continue;
            }
            let collateral = entry.collateral.u128();
            match entry.state {
                CommitmentState::Outvoted {} => {
                    // An equal part to each winner and the client, the client the remainder.
                    let shares = &task
                        .settlement
                        .as_ref()
                        .expect("outvoted by a winner")
                        .shares;
                    let each = collateral / (shares.len() as u128 + 1);
                    for share in shares {
                        ledger.transfer(&s.vault, &share.provider, STAKE_DENOM, each);
                    }
                    let rest = collateral - each * shares.len() as u128;
                    ledger.transfer(&s.vault, &task.client, STAKE_DENOM, rest);
                }
                _ => ledger.transfer(&s.vault, &task.client, STAKE_DENOM, collateral),
            }
        }
        match *action {
            Action::Bond { provider, amount } => {
                ledger.transfer(&self.providers[provider], &s.vault, STAKE_DENOM, amount);
            }
            Action::Claim { provider } => {
                let addr = &self.providers[provider];
                let released = before.stakes[addr].unbonding - after.stakes[addr].unbonding;
                assert!(!released.is_zero(), "an accepted claim pays something");
                ledger.transfer(&s.vault, addr, STAKE_DENOM, released.u128());
            }
            Action::WithdrawClaim { .. } => {
                // The sender's whole claim in the denom, to the recipient.
                let (owner, denom, recipient) = self.withdrawn.as_ref().expect("withdrawn");
                let key = (owner.clone(), denom.clone());
                let amount = before.claims.get(&key).copied().unwrap_or_default();
                assert!(amount > 0, "a withdrawal without a claim succeeded");
                ledger.claims.remove(&key);
                ledger.transfer(&s.market, recipient, denom, amount);
            }
            _ => {}
        }
        self.auction_ledger(before, after, &mut ledger);
        ledger
    }

    /// A settlement pays its shares at the commit-time payouts, takes the fee fixed at
    /// publish, and refunds the rest; its winners are the ones its model names.
    fn assert_settlement_consistent<'t>(
        &self,
        task: &'t TaskInfo,
        after: &Snapshot,
        action: &Action,
    ) -> &'t market::Settlement {
        let id = task.id;
        let s = task
            .settlement
            .as_ref()
            .expect("a settled task records its settlement");
        assert_eq!(
            s.paid + s.fee + s.refund,
            task.budget,
            "task {id}: paid + fee + refund"
        );
        assert_eq!(
            s.fee,
            s.price.multiply_ratio(u128::from(task.fee_bps), 10_000u128),
            "task {id}: fee at its publish-time rate"
        );
        let winners = s.shares.len() as u128;
        assert!(winners >= 1, "task {id}: settled without a winner");
        let each = (s.price - s.fee).u128() / winners;
        assert_eq!(s.paid.u128(), each * winners, "task {id}: paid");
        assert_eq!(
            (&s.winner, &s.paid_to),
            (&s.shares[0].provider, &s.shares[0].paid_to)
        );
        let commitments: Vec<&CommitmentInfo> =
            task_commitments(after, id).map(|(_, c)| c).collect();
        let entry_of = |provider: &Addr| {
            *commitments
                .iter()
                .find(|c| c.provider == *provider)
                .expect("a winner committed")
        };
        let mut digests = BTreeSet::new();
        for share in &s.shares {
            assert_eq!(share.amount.u128(), each, "task {id}: unequal shares");
            let entry = entry_of(&share.provider);
            assert_eq!(
                share.paid_to, entry.payout,
                "task {id}: not paid at the commit payout"
            );
            let CommitmentState::Revealed { outputs_digest, .. } = &entry.state else {
                panic!("task {id}: winner's commitment is {:?}", entry.state);
            };
            digests.insert(outputs_digest.clone());
        }
        let winner = entry_of(&s.winner);
        let revealed_price = |c: &CommitmentInfo| match &c.state {
            CommitmentState::Revealed { price, .. } => Some(price.unwrap_or_default()),
            _ => None,
        };
        match task.model {
            CompetitionModel::FirstResponse => {
                assert_eq!((winners, s.price), (1, task.budget), "task {id}");
                for earlier in commitments.iter().filter(|c| c.seq < winner.seq) {
                    assert!(
                        matches!(
                            earlier.state,
                            CommitmentState::Rejected { .. }
                                | CommitmentState::Refused { .. }
                                | CommitmentState::Forfeited {}
                        ),
                        "task {id}: an earlier commitment is {:?} at settlement",
                        earlier.state
                    );
                }
            }
            CompetitionModel::ManualConfirmation => {
                assert_eq!(winners, 1);
                assert_eq!(
                    Some(s.price),
                    revealed_price(winner),
                    "task {id}: offer price"
                );
                if let Action::Finalize { .. } = action {
                    let cheapest = commitments
                        .iter()
                        .filter_map(|c| revealed_price(c).map(|p| (p, c.seq)))
                        .min()
                        .unwrap();
                    assert_eq!(
                        cheapest,
                        (s.price, winner.seq),
                        "task {id}: not the cheapest"
                    );
                }
            }
            CompetitionModel::Consensus {
                quorum, tolerance, ..
            } => {
                assert_eq!(s.price, task.budget);
                assert!(
                    winners >= u128::from(quorum),
                    "task {id}: winners below quorum"
                );
                // Every valid result outside the agreeing group was outvoted.
                for c in &commitments {
                    let won = s.shares.iter().any(|sh| sh.provider == c.provider);
                    assert!(
                        won || !matches!(c.state, CommitmentState::Revealed { .. }),
                        "task {id}: a valid result neither won nor was outvoted"
                    );
                }
                if tolerance.is_none() {
                    assert_eq!(digests.len(), 1, "task {id}: winners disagree");
                }
                let paid: Vec<Addr> = s.shares.iter().map(|sh| sh.provider.clone()).collect();
                assert_eq!(
                    Some(paid),
                    self.consensus_oracle(task, after),
                    "task {id}: the tally paid others than the agreeing group"
                );
            }
            CompetitionModel::Auction { .. } => self.assert_auction_settlement(task, s, after),
        }
        s
    }

    /// Commitments keep their provider, collateral and payout; their state only moves forward.
    fn assert_commitments_consistent(&self, before: &Snapshot, after: &Snapshot) {
        for (key, new) in &after.commitments {
            let Some(old) = before.commitments.get(key) else {
                let provider = self.providers.iter().position(|p| *p == new.provider);
                let payout = &self.payouts[provider.expect("only providers commit")];
                assert_eq!(
                    &new.payout, payout,
                    "a commitment takes the payout of its time"
                );
                continue;
            };
            assert_eq!(
                (&old.provider, old.collateral, &old.payout, &old.commitment),
                (&new.provider, new.collateral, &new.payout, &new.commitment),
                "commitment {key:?} changed"
            );
            let allowed = match &old.state {
                CommitmentState::Committed {} => true,
                CommitmentState::Revealed { .. } => {
                    new.state == old.state || new.state == CommitmentState::Outvoted {}
                }
                _ => new.state == old.state,
            };
            assert!(
                allowed,
                "commitment {key:?} went from {:?} to {:?}",
                old.state, new.state
            );
        }
    }

    /// A provider's locked stake is exactly the collateral of its commitments still at stake:
    /// committed or revealed, in a task not yet final; in an auction, of its bids still at
    /// stake instead (see `auction::bids_at_stake`).
    fn assert_locked_matches_open_commitments(&self, after: &Snapshot) {
        for provider in &self.providers {
            let at_stake: u128 = after
                .commitments
                .values()
                .filter(|c| c.provider == *provider)
                .filter(|c| {
                    let task = &after.tasks[&c.task_id];
                    !task.status.is_final() && !task.model.is_auction()
                })
                .filter(|c| {
                    matches!(
                        c.state,
                        CommitmentState::Committed {} | CommitmentState::Revealed { .. }
                    )
                })
                .map(|c| c.collateral.u128())
                .sum::<u128>()
                + auction::bids_at_stake(after, provider);
            assert_eq!(
                after.stakes[provider].locked.u128(),
                at_stake,
                "{provider}'s locked stake differs from the collateral of its open commitments \
                 and bids"
            );
        }
    }

    /// Past every window, each unfinished task is closed by finalize or by expire: exactly one,
    /// whoever refuses payments. An auction takes one expire (its `Advance`) per award or
    /// hand-over, each after the awardee's window, at most one per bid and one to close. Then
    /// every claim is withdrawn.
    fn drive_every_task_to_final(&mut self) {
        self.step(&Action::AdvanceBlocks(PAST_ALL_WINDOWS)).unwrap();
        for index in 0..self.tasks.len() {
            let id = self.tasks[index];
            let task = TaskPick {
                live: false,
                k: index,
            };
            for round in 0.. {
                let info = self.suite.task(id);
                if info.status.is_final() {
                    break;
                }
                let awarded = info.auction.as_ref().and_then(|a| a.award.as_ref());
                if let Some(award) = awarded {
                    let height = self.suite.height();
                    let wait = (award.execute_deadline + 1).saturating_sub(height);
                    self.step(&Action::AdvanceBlocks(wait.max(1))).unwrap();
                }
                assert!(
                    round == 0 || (info.model.is_auction() && round <= info.max_committers + 1),
                    "task {id} is still {} after {round} rounds of finalize and expire",
                    info.status
                );
                let finalized = self.step(&Action::Finalize {
                    sender: STRANGER,
                    task,
                });
                let expired = self.step(&Action::Expire {
                    sender: STRANGER,
                    task,
                });
                assert!(
                    finalized.is_ok() != expired.is_ok(),
                    "task {id}: exactly one of finalize ({finalized:?}) and expire ({expired:?}) must succeed"
                );
                if !info.model.is_auction() {
                    break;
                }
            }
        }
        // The market now holds claims only; each owner takes its own to the treasury.
        while !self.last.as_ref().unwrap().claims.is_empty() {
            self.step(&Action::WithdrawClaim {
                pick: Pick::Modelled(0),
                denom: 0,
                to: Payee::Treasury,
            })
            .unwrap();
        }
    }

    fn assert_everything_closed_and_conserved(&self) {
        let s = &self.suite;
        s.assert_money_invariants();
        for (id, task) in all_tasks(s) {
            assert!(task.status.is_final(), "task {id} ends {}", task.status);
        }
        let balances = bank_balances(s);
        for denom in &s.denoms {
            assert_eq!(s.balance(&s.market, denom), 0, "market keeps some {denom}");
            let total: u128 = balances
                .iter()
                .filter(|((_, d), _)| d == denom)
                .map(|(_, a)| a)
                .sum();
            assert_eq!(
                total, self.minted[denom],
                "total {denom} differs from what was minted"
            );
        }
        assert!(query_claims(s, &market::QueryMsg::ClaimTotals {}).is_empty());
        for provider in &self.providers {
            assert!(
                s.stake(provider).locked.is_zero(),
                "{provider} keeps locked stake"
            );
        }
    }

    /// The final tasks and their commitments, carried over between snapshots, still match the
    /// chain, and the suite's own invariant check agrees.
    fn finish(&self) {
        self.suite.assert_money_invariants();
        self.assert_bank_scan_matches_queries();
        if let Some(last) = &self.last {
            let chain = self.snapshot(None);
            assert!(
                chain.tasks == last.tasks,
                "a final task changed after it closed"
            );
            assert!(
                chain.commitments == last.commitments,
                "a commitment of a final task changed after it closed"
            );
            assert!(
                chain.bids == last.bids,
                "a bid of a final auction changed after it closed"
            );
        }
    }
}

/// Balances and claims under construction.
struct Ledger<'s> {
    balances: BTreeMap<(Addr, String), u128>,
    claims: BTreeMap<(Addr, String), u128>,
    refused: &'s BTreeSet<Addr>,
    market: &'s Addr,
}

impl Ledger<'_> {
    fn transfer(&mut self, from: &Addr, to: &Addr, denom: &str, amount: u128) {
        if amount == 0 {
            return;
        }
        let from = self
            .balances
            .entry((from.clone(), denom.to_string()))
            .or_default();
        *from = from.checked_sub(amount).unwrap_or_else(|| {
            panic!("the ledger expects a payment of {amount}{denom} its payer cannot afford")
        });
        *self
            .balances
            .entry((to.clone(), denom.to_string()))
            .or_default() += amount;
    }

    /// A market payment to `recipient` on behalf of `owner`: sent, or, when the bank refuses
    /// the recipient, kept by the market as the owner's claim.
    fn pay(&mut self, owner: &Addr, recipient: &Addr, denom: &str, amount: u128) {
        if amount == 0 {
            return;
        }
        if self.refused.contains(recipient) {
            *self
                .claims
                .entry((owner.clone(), denom.to_string()))
                .or_default() += amount;
        } else {
            let market = self.market;
            self.transfer(market, recipient, denom, amount);
        }
    }
}

/// Answers to a task: seed 0 is correct; the others are wrong, near-equal or malformed.
fn answer(kernel: Kernel, seed: u32) -> Vec<Binary> {
    let n = (MATMUL_N * MATMUL_N) as usize;
    match (kernel, seed) {
        (Kernel::Add, 0..=3) => outputs(seed),
        (Kernel::Matmul, 0) => matmul_outputs(),
        // Off by 1e-5 relative in its largest element: passes Freivalds, agrees within the
        // tolerance, differs in its bytes.
        (Kernel::Matmul, 1) => {
            let product = matmul_outputs();
            let (index, value) = product[0]
                .chunks_exact(4)
                .map(|w| f32::from_le_bytes([w[0], w[1], w[2], w[3]]))
                .enumerate()
                .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
                .unwrap();
            matmul_outputs_off_by(index, value * 1e-5)
        }
        (Kernel::Matmul, 2) => matmul_outputs_off_by(9, 64.0),
        (Kernel::Matmul, 3) => vec![Binary::from(vec![0u8; 4 * n])],
        // Malformed: the wrong size.
        _ => vec![Binary::from(vec![0u8; 8])],
    }
}

/// Every balance of every account, read from multi-test's bank store in one range (its layout:
/// the `bank` namespace, then the `balances` map keyed by address). Checked against balance
/// queries at the start and end of each case.
fn bank_balances(suite: &Suite) -> BTreeMap<(Addr, String), u128> {
    use cosmwasm_std::Storage;
    let prefix = [b"\x00\x04bank".as_slice(), b"\x00\x08balances"].concat();
    let mut end = prefix.clone();
    *end.last_mut().unwrap() += 1;
    let mut balances = BTreeMap::new();
    for (key, value) in
        suite
            .app
            .storage()
            .range(Some(&prefix), Some(&end), cosmwasm_std::Order::Ascending)
    {
        let addr = Addr::unchecked(String::from_utf8(key[prefix.len()..].to_vec()).unwrap());
        let coins: Vec<Coin> = from_json(&value).expect("a bank balance");
        for c in coins {
            let amount = coin_amount(&c);
            if amount > 0 {
                balances.insert((addr.clone(), c.denom), amount);
            }
        }
    }
    balances
}

fn coin_amount(c: &Coin) -> u128 {
    Uint128::try_from(c.amount).unwrap().u128()
}

fn balance(balances: &BTreeMap<(Addr, String), u128>, addr: &Addr, denom: &str) -> u128 {
    balances
        .get(&(addr.clone(), denom.to_string()))
        .copied()
        .unwrap_or_default()
}

fn query_claims(suite: &Suite, msg: &market::QueryMsg) -> Vec<Coin> {
    let response: ClaimsResponse = suite
        .app
        .wrap()
        .query_wasm_smart(&suite.market, msg)
        .unwrap();
    response.claims
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
        let full = page.tasks.len() == 30;
        start_after = Some(last.id);
        tasks.extend(page.tasks.into_iter().map(|t| (t.id, t)));
        if !full {
            return tasks;
        }
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
        CommitmentState::Rejected { .. }
            | CommitmentState::Forfeited {}
            | CommitmentState::Outvoted {}
    )
}

/// A task that ended without settlement slashed nobody for disagreeing, and under exact
/// Consensus no answer had a quorum.
#[track_caller]
fn assert_no_quorum_consistent(task: &TaskInfo, after: &Snapshot) {
    let commitments: Vec<&CommitmentInfo> =
        task_commitments(after, task.id).map(|(_, c)| c).collect();
    assert!(
        !commitments
            .iter()
            .any(|c| c.state == CommitmentState::Outvoted {}),
        "task {}: outvoted without a winner",
        task.id
    );
    if let CompetitionModel::Consensus {
        quorum,
        tolerance: None,
        ..
    } = task.model
    {
        let mut groups: BTreeMap<_, u32> = BTreeMap::new();
        for c in &commitments {
            if let CommitmentState::Revealed { outputs_digest, .. } = &c.state {
                *groups.entry(outputs_digest.clone()).or_default() += 1;
            }
        }
        assert!(
            groups.values().all(|&size| size < quorum),
            "task {}: expired although an answer had a quorum",
            task.id
        );
    }
}

#[track_caller]
fn assert_amounts(
    expected: &BTreeMap<(Addr, String), u128>,
    actual: &BTreeMap<(Addr, String), u128>,
    verb: &str,
    what: &str,
) {
    for (account, denom) in expected.keys().chain(actual.keys()) {
        let key = (account.clone(), denom.clone());
        let want = expected.get(&key).copied().unwrap_or_default();
        let got = actual.get(&key).copied().unwrap_or_default();
        assert_eq!(
            got, want,
            "after {what}: {account} {verb} {got}{denom}, the ledger says {want}"
        );
    }
}

#[track_caller]
fn assert_unchanged(before: &Snapshot, after: &Snapshot, what: &str) {
    assert_amounts(&before.balances, &after.balances, "holds", what);
    assert_amounts(&before.claims, &after.claims, "is owed", what);
    assert!(
        before.claim_totals == after.claim_totals,
        "{what} changed the claims"
    );
    assert!(before.tasks == after.tasks, "{what} changed a task");
    assert!(
        before.commitments == after.commitments,
        "{what} changed a commitment"
    );
    assert!(before.bids == after.bids, "{what} changed a bid");
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

/// Runs `cases` random sequences of up to `max_len` actions through `property`, and prints how
/// many random steps ran.
fn run(name: &str, counts: &Counts, property: fn(&mut Harness, &[Action])) {
    let config = Config {
        cases: CASES,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/money_invariants.proptest-regressions"
        )))),
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    // Every sequence starts with a publish or two, so that its other steps have a task.
    let sequence = (
        prop::collection::vec(publish(), 1..3),
        prop::collection::vec(action(), 1..MAX_ACTIONS),
    )
        .prop_map(|(first, then)| [first, then].concat());
    let result = runner.run(&sequence, |actions| {
        let mut harness = Harness::new();
        property(&mut harness, &actions);
        counts.random.fetch_add(actions.len(), Ordering::Relaxed);
        counts.checked.fetch_add(harness.steps, Ordering::Relaxed);
        Ok(())
    });
    println!(
        "{name}: {} random actions, {} checked steps, in {CASES} cases",
        counts.random.load(Ordering::Relaxed),
        counts.checked.load(Ordering::Relaxed),
    );
    let seen: Vec<String> = SEEN_NAMES
        .iter()
        .zip(&SEEN)
        .map(|(name, n)| format!("{name} {}", n.load(Ordering::Relaxed)))
        .collect();
    println!("seen so far, both properties: {}", seen.join(", "));
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

#[test]
fn money_invariants_hold_after_every_step_of_random_sequences() {
    run(
        "money_invariants_hold_after_every_step_of_random_sequences",
        &COUNTS_ALL_STEPS,
        |harness, actions| {
            for action in actions {
                harness.play(action);
            }
            harness.finish();
        },
    );
}

#[test]
fn every_task_ends_final_and_market_ends_empty() {
    run(
        "every_task_ends_final_and_market_ends_empty",
        &COUNTS_END_FINAL,
        |harness, actions| {
            for action in actions {
                harness.play(action);
            }
            harness.drive_every_task_to_final();
            harness.assert_everything_closed_and_conserved();
            harness.finish();
        },
    );
}
