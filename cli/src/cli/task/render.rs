//! Text views of tasks, commitments, offers and the market events of a transaction.

use cosmwasm_std::{Addr, Decimal, Uint128};
use opengpu_client::TxOutcome;
use opengpu_types::auction::{AuctionState, Award, BidInfo, BidState};
use opengpu_types::consensus::FloatTolerance;
use opengpu_types::events::{
    AuctionAwarded, AuctionDefaulted, BidPlaced, BidRevealed, ClaimCredited, ClaimWithdrawn,
    ConsensusTallied, IbcTransferDelivered, IbcTransferFailed, IbcTransferSent, TaskCancelled,
    TaskCommitted, TaskExpired, TaskRevealed, TaskSettled,
};
use opengpu_types::kernel::{Kernel, KernelArg, Requirements};
use opengpu_types::market::{
    CommitmentInfo, CommitmentState, CompetitionModel, Offer, TaskInfo, TaskStatus,
};
use opengpu_types::verification::VerificationPolicy;
use serde::Serialize;

use crate::cli::args::tolerance_text;
use crate::cli::output::{bytes, fields, table};

/// What `task show` and `task watch` print about a task. `commitments` (when read) tell when
/// the committer slots filled up and the Consensus tally's outcome; `height` (the chain's, when
/// known) which phase the task is in.
pub struct TaskView<'a> {
    pub task: &'a TaskInfo,
    pub kernel: Option<&'a Kernel>,
    pub commitments: Option<&'a [CommitmentInfo]>,
    pub height: Option<u64>,
    /// Denom of the collateral (the vault's stake denom).
    pub stake_denom: &'a str,
}

/// The heights of a task's phases, for people and for JSON.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Phases {
    pub published_height: u64,
    /// Last height at which a commit is accepted.
    pub commits_until_height: u64,
    /// When every committer slot was taken before the deadline: the height of the last commit
    /// (commits are closed from then on).
    pub commits_full_height: Option<u64>,
    /// Sealed models: the first height at which reveals are accepted (after the deadline, or
    /// once every slot is taken). First Response: none, each commitment may reveal from the
    /// block after its commit.
    pub reveals_open_height: Option<u64>,
    /// After this height no reveal is accepted.
    pub reveals_close_height: u64,
    /// Manual Confirmation: the last height at which the client may confirm an offer (after
    /// it, anyone may finalize the cheapest).
    pub confirm_until_height: Option<u64>,
    /// The chain's height when read.
    pub height: Option<u64>,
    /// `commit`, `reveal`, `confirm`, `finalize` (anyone may now settle or expire the task);
    /// auctions: `bid`, `bid_reveal`, `award` (bid reveals are over: anyone may advance the
    /// task to its award, or its refund when no valid bid is left), `execute`, `hand_over`
    /// (the awardee missed its execution window: anyone may advance the task to the next
    /// bidder); or the final status. None when the height is unknown.
    pub phase: Option<&'static str>,
    /// The last height of the current phase: the deadline (commit, bid), the end of reveals
    /// (reveal), of confirmation (confirm), of bid reveals (bid_reveal), the awardee's
    /// execution deadline (execute); none when the phase lasts until someone acts or is final.
    pub phase_until_height: Option<u64>,
    /// Auctions: bids, bid reveals and the award.
    pub auction: Option<AuctionPhases>,
}

/// The heights and award of an auction.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct AuctionPhases {
    /// Last height at which a bid is accepted: the task's deadline (bids close earlier when
    /// every bidder slot is taken).
    pub bids_until_height: u64,
    /// Last height at which a bid may be opened.
    pub bid_reveals_until_height: u64,
    /// Blocks an awardee has to deliver, from its award.
    pub execute_blocks: u64,
    pub bid_count: u32,
    pub revealed_count: u32,
    /// The provider now bound to execute (after settlement: the one who delivered).
    pub awardee: Option<Addr>,
    /// What it bid.
    pub bid: Option<Uint128>,
    /// What it is paid on delivery: the next bid up, or the maximum price.
    pub clearing_price: Option<Uint128>,
    pub awarded_height: Option<u64>,
    /// Last height at which its result may be committed and revealed.
    pub execute_until_height: Option<u64>,
    /// Hand-overs so far: awardees that failed and passed the task on.
    pub handovers: u32,
    /// Collateral (stake denom) forfeited to the client: unopened bids, and a last defaulter's.
    pub forfeited: Uint128,
}

impl AuctionPhases {
    fn of(task: &TaskInfo) -> Option<Self> {
        let CompetitionModel::Auction { execute_blocks, .. } = task.model else {
            return None;
        };
        let state = task.auction.clone().unwrap_or_default();
        let award = state.award.as_ref();
        Some(AuctionPhases {
            bids_until_height: task.deadline_height,
            bid_reveals_until_height: task.bid_reveal_end(),
            execute_blocks,
            bid_count: state.bid_count,
            revealed_count: state.revealed_count,
            awardee: award.map(|a| a.provider.clone()),
            bid: award.map(|a| a.bid),
            clearing_price: award.map(|a| a.price),
            awarded_height: award.map(|a| a.awarded_height),
            execute_until_height: award.map(|a| a.execute_deadline),
            handovers: state.handovers,
            forfeited: state.forfeited,
        })
    }
}

/// An auction's phase at `height` and its last height, as the market's `Advance` decides it
/// (`contracts/task-market/src/execute/auction.rs`, `step`).
fn auction_phase(task: &TaskInfo, height: u64) -> (&'static str, Option<u64>) {
    if task.status.is_final() {
        return (task.status.as_str(), None);
    }
    let state = task.auction.clone().unwrap_or_default();
    match &state.award {
        Some(award) if height <= award.execute_deadline => {
            ("execute", Some(award.execute_deadline))
        }
        Some(_) => ("hand_over", None),
        None if !task.bids_closed(height) => ("bid", Some(task.deadline_height)),
        None if height <= task.bid_reveal_end() => ("bid_reveal", Some(task.bid_reveal_end())),
        None => ("award", None),
    }
}

impl Phases {
    pub fn of(
        task: &TaskInfo,
        commitments: Option<&[CommitmentInfo]>,
        height: Option<u64>,
    ) -> Self {
        let commits_full_height = (task.commit_count >= task.max_committers)
            .then(|| {
                commitments
                    .and_then(|c| c.iter().map(|c| c.committed_height).max())
                    .filter(|h| *h <= task.deadline_height)
            })
            .flatten();
        let reveals_open_height = task.model.is_sealed().then(|| {
            let after_deadline = task.deadline_height.saturating_add(1);
            commits_full_height.map_or(after_deadline, |full| full.min(after_deadline))
        });
        let confirm_until_height = (task.model == CompetitionModel::ManualConfirmation)
            .then(|| task.confirm_deadline_height());
        let current = height.map(|h| {
            if task.model.is_auction() {
                auction_phase(task, h)
            } else if task.status.is_final() {
                (task.status.as_str(), None)
            } else if !task.commits_closed(h) {
                ("commit", Some(task.deadline_height))
            } else if h <= task.reveals_close_height() {
                ("reveal", Some(task.reveals_close_height()))
            } else if let Some(until) = confirm_until_height.filter(|until| h <= *until) {
                ("confirm", Some(until))
            } else {
                ("finalize", None)
            }
        });
        Phases {
            published_height: task.created_height,
            commits_until_height: task.deadline_height,
            commits_full_height,
            reveals_open_height,
            reveals_close_height: task.reveals_close_height(),
            confirm_until_height,
            height,
            phase: current.map(|(phase, _)| phase),
            phase_until_height: current.and_then(|(_, until)| until),
            auction: AuctionPhases::of(task),
        }
    }
}

/// Human name of a model: `First Response`, `Manual Confirmation`, `Consensus`.
pub fn model_label(model: &CompetitionModel) -> &'static str {
    match model {
        CompetitionModel::FirstResponse => "First Response",
        CompetitionModel::ManualConfirmation => "Manual Confirmation",
        CompetitionModel::Consensus { .. } => "Consensus",
        CompetitionModel::Auction { .. } => "Auction",
    }
}

/// A model with its parameters: `Consensus of 3 replicas, quorum 2, exact agreement`.
pub fn model_line(model: &CompetitionModel) -> String {
    match model {
        CompetitionModel::Consensus {
            replicas,
            quorum,
            tolerance,
        } => format!(
            "Consensus of {replicas} replicas, quorum {quorum}, {}",
            agreement_line(tolerance.as_ref())
        ),
        CompetitionModel::ManualConfirmation => "Manual Confirmation (sealed offers)".into(),
        CompetitionModel::FirstResponse => "First Response".into(),
        CompetitionModel::Auction {
            bid_reveal_blocks,
            execute_blocks,
        } => format!(
            "Sealed-bid second-price auction (bid reveals {bid_reveal_blocks} blocks, \
             execution {execute_blocks} blocks)"
        ),
    }
}

fn agreement_line(tolerance: Option<&FloatTolerance>) -> String {
    match tolerance {
        None => "exact agreement (same outputs digest)".into(),
        Some(t @ FloatTolerance::Relative { max }) => format!(
            "agreement within relative error {max} per f32 element ({})",
            tolerance_text(t)
        ),
        Some(t @ FloatTolerance::Ulps { max }) => format!(
            "agreement within {max} ULPs per f32 element ({})",
            tolerance_text(t)
        ),
    }
}

/// `key: value` lines of a task: state, money, rules, phases with their heights, settlement.
pub fn task_fields(view: &TaskView) -> String {
    let task = view.task;
    let stake_denom = view.stake_denom;
    let phases = Phases::of(task, view.commitments, view.height);
    let mut pairs = vec![
        ("task", format!("{} ({})", task.id, task.status)),
        ("model", model_line(&task.model)),
        ("client", client_line(task)),
        if task.model.is_auction() {
            (
                "max price",
                format!(
                    "{}{} (escrowed; the winner is paid the next bid up, or this maximum)",
                    task.budget, task.denom
                ),
            )
        } else {
            ("payment", format!("{}{}", task.budget, task.denom))
        },
        (
            "fee",
            format!(
                "{} bps ({}% of the price), fixed at publish",
                task.fee_bps,
                Decimal::from_ratio(task.fee_bps, 100u128)
            ),
        ),
        (
            "collateral",
            format!(
                "{}{stake_denom} per {}",
                task.collateral,
                if task.model.is_auction() {
                    "bid"
                } else {
                    "committer"
                }
            ),
        ),
        ("verification", policy_line(&task.verification)),
        ("requirements", requirements_line(&task.requirements)),
        ("published", format!("height {}", phases.published_height)),
    ];
    if let Some(auction) = &phases.auction {
        pairs.extend(auction_fields(task, auction, stake_denom));
    } else {
        commit_reveal_fields(task, &phases, &mut pairs);
    }
    if let (Some(height), Some(phase)) = (phases.height, phases.phase) {
        let line = if task.model.is_auction() {
            auction_phase_line(task, phase, phases.phase_until_height)
        } else {
            phase_line(phase).to_string()
        };
        pairs.push(("now", format!("height {height}: {line}")));
    }
    if matches!(task.model, CompetitionModel::Consensus { .. }) {
        pairs.push(("tally", tally_line(task, view.commitments)));
    }
    pairs.push((
        "outputs",
        task.output_sizes
            .iter()
            .map(|s| bytes(*s))
            .collect::<Vec<_>>()
            .join(", "),
    ));
    if let Some(kernel) = view.kernel {
        pairs.push(("kernel", kernel_line(kernel)));
    }
    if let Some(s) = &task.settlement {
        pairs.push((
            "settlement",
            format!(
                "at height {}: price {}{d}, {}{d} to {} provider(s), fee {}{d}, client refund \
                 {}{d}",
                s.height,
                s.price,
                s.paid,
                s.shares.len(),
                s.fee,
                s.refund,
                d = task.denom
            ),
        ));
        for share in &s.shares {
            let to = match &share.route {
                Some(route) => format!(
                    " (sent over IBC to {} over {}; a failed transfer becomes the provider's \
                     claim)",
                    route.receiver, route.channel
                ),
                None if share.paid_to == share.provider => String::new(),
                None => format!(" (paid to {})", share.paid_to),
            };
            pairs.push((
                "share",
                format!("{}{} to {}{to}", share.amount, task.denom, share.provider),
            ));
        }
    }
    fields(&pairs)
}

/// The client, and for a task published from another chain who sent it (payments to the
/// client go back there over IBC).
fn client_line(task: &TaskInfo) -> String {
    match &task.remote_client {
        Some(remote) => format!(
            "{} over {} (remote: the market holds the task; refunds go back over IBC)",
            remote.sender, remote.channel
        ),
        None => task.client.to_string(),
    }
}

/// The commit and reveal heights of the models where providers commit results directly.
fn commit_reveal_fields(task: &TaskInfo, phases: &Phases, pairs: &mut Vec<(&'static str, String)>) {
    let slots = format!(
        "{} of {} slots taken",
        task.commit_count, task.max_committers
    );
    pairs.push((
        "commits until",
        match phases.commits_full_height {
            Some(full) => format!(
                "height {} (closed at height {full}: {slots})",
                phases.commits_until_height
            ),
            None => format!("height {} ({slots})", phases.commits_until_height),
        },
    ));
    pairs.push((
        "reveals open",
        match phases.reveals_open_height {
            Some(open) => format!("height {open} (sealed: once commits close)"),
            None => "the block after each commit".into(),
        },
    ));
    pairs.push((
        "reveals close",
        if task.model.is_sealed() {
            format!("after height {}", phases.reveals_close_height)
        } else {
            format!(
                "after height {} at the latest ({} blocks after each commit)",
                phases.reveals_close_height, task.reveal_window_blocks
            )
        },
    ));
    if let Some(until) = phases.confirm_until_height {
        pairs.push((
            "confirm until",
            format!("height {until} (then anyone may finalize the cheapest offer)"),
        ));
    }
}

/// An auction's bids, bid reveals, award and hand-overs.
fn auction_fields(
    task: &TaskInfo,
    auction: &AuctionPhases,
    stake_denom: &str,
) -> Vec<(&'static str, String)> {
    let mut pairs = vec![
        (
            "bids until",
            format!(
                "height {} ({} of {} bidder slots taken)",
                auction.bids_until_height, auction.bid_count, task.max_committers
            ),
        ),
        (
            "bid reveals",
            format!(
                "once bids close, until height {} ({} of {} open)",
                auction.bid_reveals_until_height, auction.revealed_count, auction.bid_count
            ),
        ),
    ];
    let state = task.auction.clone().unwrap_or_default();
    pairs.push((
        "award",
        match &state.award {
            Some(award) => award_line(task, award, state.handovers),
            None if task.status.is_final() => "none".into(),
            None => format!(
                "none yet: the lowest valid bid wins once every bid is open or bid reveals end; \
                 it then has {} blocks to deliver",
                auction.execute_blocks
            ),
        },
    ));
    if state.handovers > 0 {
        pairs.push((
            "hand-overs",
            format!(
                "{} (awardees that failed to deliver passed the task on)",
                state.handovers
            ),
        ));
    }
    if !state.forfeited.is_zero() {
        pairs.push((
            "forfeited",
            format!(
                "{}{stake_denom} of collateral to the client (unopened bids, a last defaulter)",
                state.forfeited
            ),
        ));
    }
    pairs
}

/// `wasm1x (bid 300uatom) at clearing price 700uatom, execute by height 230 (round 0)`.
pub fn award_line(task: &TaskInfo, award: &Award, round: u32) -> String {
    let d = &task.denom;
    let tail = if task.status == TaskStatus::Settled {
        "delivered".to_string()
    } else {
        format!("execute by height {}", award.execute_deadline)
    };
    format!(
        "{} (bid {}{d}) at clearing price {}{d}, {tail} (round {round})",
        award.provider, award.bid, award.price
    )
}

/// What an auction's phase means, with its end height and who acts.
pub fn auction_phase_line(task: &TaskInfo, phase: &str, until: Option<u64>) -> String {
    let id = task.id;
    let until = until.map_or(String::new(), |h| format!(" until height {h}"));
    let award = task.auction.as_ref().and_then(|a| a.award.as_ref());
    match phase {
        "bid" => format!("bidding{until}"),
        "bid_reveal" => format!("revealing bids{until}"),
        "award" => format!(
            "bid reveals are over: the award (or, with no valid bid, the refund) is due; anyone \
             may run `opengpu task advance {id}`"
        ),
        "execute" => match award {
            Some(award) => format!("executing by {}{until}", award.provider),
            None => format!("executing{until}"),
        },
        "hand_over" => match award {
            Some(award) => format!(
                "{} did not deliver by height {}: the hand-over to the next bidder is due; \
                 anyone may run `opengpu task advance {id}`",
                award.provider, award.execute_deadline
            ),
            None => format!("a hand-over is due: anyone may run `opengpu task advance {id}`"),
        },
        other => other.to_string(),
    }
}

fn phase_line(phase: &str) -> &str {
    match phase {
        "commit" => "commit phase",
        "reveal" => "reveal phase",
        "confirm" => "the client may confirm an offer",
        "finalize" => "reveals are over: anyone may finalize (or expire) the task",
        other => other,
    }
}

/// The outcome of a Consensus tally, as far as the task and its commitments tell.
fn tally_line(task: &TaskInfo, commitments: Option<&[CommitmentInfo]>) -> String {
    let outvoted = commitments.map(|c| {
        c.iter()
            .filter(|c| c.state == CommitmentState::Outvoted {})
            .count()
    });
    match (&task.settlement, task.status) {
        (Some(s), _) => format!(
            "quorum reached: {} agreeing result(s) paid{}",
            s.shares.len(),
            outvoted.map_or(String::new(), |o| format!(", {o} outvoted and slashed"))
        ),
        (None, TaskStatus::Expired) => {
            "no quorum (or no valid result): the client was refunded, nobody slashed for \
             disagreeing"
                .into()
        }
        (None, TaskStatus::Cancelled) => "none (cancelled)".into(),
        _ => format!(
            "pending: runs when every committer has revealed, or with `opengpu task finalize {}` \
             after height {}",
            task.id,
            task.reveals_close_height()
        ),
    }
}

pub fn policy_line(policy: &VerificationPolicy) -> String {
    match policy {
        VerificationPolicy::Unverified {} => {
            "UNVERIFIED: any outputs of the declared sizes pass".into()
        }
        VerificationPolicy::ReferenceHash { sha256 } => {
            format!("reference hash {sha256} (a mismatch is refused, not slashed)")
        }
        VerificationPolicy::Freivalds(spec) => format!(
            "Freivalds: output argument {} = argument {} ({}x{}) x argument {} ({}x{}), \
             tolerance {} (a failure is slashed)",
            spec.c_arg, spec.a_arg, spec.m, spec.k, spec.b_arg, spec.k, spec.n, spec.tolerance
        ),
    }
}

pub fn requirements_line(r: &Requirements) -> String {
    let mut parts = vec![r
        .device_type
        .map_or("any device".to_string(), |t| format!("a {t} device"))];
    if r.min_compute_units > 0 {
        parts.push(format!(">= {} compute units", r.min_compute_units));
    }
    if r.min_global_mem_bytes > 0 {
        parts.push(format!(
            ">= {} global memory",
            bytes(r.min_global_mem_bytes)
        ));
    }
    if r.fp64 {
        parts.push("fp64".into());
    }
    parts.join(", ")
}

pub fn kernel_line(k: &Kernel) -> String {
    let args: Vec<String> = k.args.iter().map(arg_short).collect();
    format!(
        "{}({}), global {:?}{}, {} bytes of source",
        k.entry_point,
        args.join(", "),
        k.global_work_size,
        k.local_work_size
            .as_ref()
            .map_or(String::new(), |l| format!(", local {l:?}")),
        k.source.len()
    )
}

fn arg_short(arg: &KernelArg) -> String {
    match arg {
        KernelArg::Input { data } => format!("in {}", bytes(data.len() as u64)),
        KernelArg::RemoteInput { sha256, size, .. } => {
            format!(
                "in {} off-chain sha256:{}",
                bytes(*size),
                &sha256.to_hex()[..12]
            )
        }
        KernelArg::Output { size } => format!("out {}", bytes(*size)),
        KernelArg::Local { size } => format!("local {}", bytes(*size)),
        KernelArg::U32 { value } => format!("u32 {value}"),
        KernelArg::I32 { value } => format!("i32 {value}"),
        KernelArg::U64 { value } => format!("u64 {value}"),
        KernelArg::I64 { value } => format!("i64 {value}"),
        KernelArg::F32 { bits } => format!("f32 {}", f32::from_bits(*bits)),
        KernelArg::F64 { bits } => format!("f64 {}", f64::from_bits(bits.u64())),
    }
}

/// One line per commitment: its state, including refused, outvoted and what it was paid.
pub fn commitments_table(task: &TaskInfo, commitments: &[CommitmentInfo]) -> String {
    let rows: Vec<Vec<String>> = commitments
        .iter()
        .map(|c| {
            vec![
                c.seq.to_string(),
                c.provider.to_string(),
                c.committed_height.to_string(),
                commitment_state_line(task, c),
            ]
        })
        .collect();
    table(&["seq", "provider", "height", "state"], &rows)
}

pub fn commitment_state_line(task: &TaskInfo, c: &CommitmentInfo) -> String {
    let denom = &task.denom;
    match &c.state {
        CommitmentState::Committed {} if task.model.is_sealed() => format!(
            "committed, reveal once commits close, by height {}",
            c.reveal_deadline_height
        ),
        CommitmentState::Committed {} => {
            format!("committed, reveal by height {}", c.reveal_deadline_height)
        }
        CommitmentState::Revealed { price, height, .. } => {
            let mut line = format!("revealed at {height}");
            if let Some(p) = price {
                line.push_str(&format!(", offers {p}{denom}"));
            }
            let paid = task
                .settlement
                .as_ref()
                .and_then(|s| s.shares.iter().find(|s| s.provider == c.provider));
            if let Some(share) = paid {
                line.push_str(&format!(", paid {}{denom}", share.amount));
            }
            line
        }
        CommitmentState::Rejected { reason } => format!("rejected, slashed: {reason}"),
        CommitmentState::Refused { reason } => {
            format!("refused, collateral released: {reason}")
        }
        CommitmentState::Outvoted {} => "outvoted by the quorum, slashed".into(),
        CommitmentState::Forfeited {} => "forfeited (never revealed)".into(),
        CommitmentState::Released {} => "released".into(),
    }
}

/// One line per bid: its state, price once open, collateral and what became of it.
pub fn bids_table(task: &TaskInfo, bids: &[BidInfo], stake_denom: &str) -> String {
    let rows: Vec<Vec<String>> = bids
        .iter()
        .map(|b| {
            vec![
                b.seq.to_string(),
                b.provider.to_string(),
                b.height.to_string(),
                b.state.name().to_string(),
                b.state
                    .price()
                    .map_or("-".to_string(), |p| format!("{p}{}", task.denom)),
                format!("{}{stake_denom}", b.collateral),
                bid_note(task, &b.state),
            ]
        })
        .collect();
    table(
        &[
            "seq",
            "provider",
            "height",
            "state",
            "price",
            "collateral",
            "note",
        ],
        &rows,
    )
}

/// What a bid's state means for its bidder.
pub fn bid_note(task: &TaskInfo, state: &BidState) -> String {
    let d = &task.denom;
    match state {
        BidState::Sealed {} => "price hidden until bids close".into(),
        BidState::Revealed { height, .. } if task.status.is_final() => {
            format!("opened at {height}, not awarded")
        }
        BidState::Revealed { height, .. } => format!("opened at {height}, in line"),
        BidState::Void { .. } => "zero or above the maximum: no part, collateral released".into(),
        BidState::Forfeited {} => "never opened: collateral forfeited to the client".into(),
        BidState::Awarded {
            clearing,
            execute_deadline,
            ..
        } => format!("awarded at {clearing}{d}, must deliver by height {execute_deadline}"),
        BidState::Won { clearing, .. } => {
            format!("delivered, paid the clearing price {clearing}{d} (less the fee)")
        }
        BidState::Defaulted { reason, .. } => format!("defaulted, slashed: {reason}"),
        BidState::Refused { reason, .. } => {
            format!("result refused, collateral released: {reason}")
        }
        BidState::Skipped { reason, .. } => format!("passed over: {reason}"),
    }
}

/// `task bids` in JSON: the auction's heights, counts and award, and every bid as the market
/// returns it.
pub fn bids_json(
    task: &TaskInfo,
    bids: &[BidInfo],
    height: u64,
    stake_denom: &str,
) -> serde_json::Value {
    let phases = Phases::of(task, None, Some(height));
    let state: AuctionState = task.auction.clone().unwrap_or_default();
    let award = state.award.as_ref().map(|a| {
        serde_json::json!({
            "provider": a.provider,
            "bid_seq": a.bid_seq,
            "bid": a.bid,
            "price": a.price,
            "awarded_height": a.awarded_height,
            "execute_deadline": a.execute_deadline,
            "round": state.handovers,
        })
    });
    serde_json::json!({
        "task_id": task.id,
        "status": task.status,
        "denom": task.denom,
        "max_price": task.budget,
        "collateral": task.collateral,
        "stake_denom": stake_denom,
        "height": height,
        "phase": phases.phase,
        "phase_until_height": phases.phase_until_height,
        "bids_until_height": task.deadline_height,
        "bid_reveals_until_height": task.bid_reveal_end(),
        "bid_count": state.bid_count,
        "revealed_count": state.revealed_count,
        "handovers": state.handovers,
        "forfeited": state.forfeited,
        "award": award,
        "bids": bids,
    })
}

/// `task bids` for people: the auction's phase and award, then the bids.
pub fn bids_text(task: &TaskInfo, bids: &[BidInfo], height: u64, stake_denom: &str) -> String {
    let phases = Phases::of(task, None, Some(height));
    let state = task.auction.clone().unwrap_or_default();
    let mut pairs = vec![
        (
            "task",
            format!(
                "{} ({}): auction, maximum price {}{}, collateral {}{stake_denom} per bid",
                task.id, task.status, task.budget, task.denom, task.collateral
            ),
        ),
        (
            "now",
            format!(
                "height {height}: {}",
                auction_phase_line(
                    task,
                    phases.phase.unwrap_or_default(),
                    phases.phase_until_height
                )
            ),
        ),
        (
            "award",
            state
                .award
                .as_ref()
                .map_or("none".to_string(), |a| award_line(task, a, state.handovers)),
        ),
    ];
    if !state.forfeited.is_zero() {
        pairs.push((
            "forfeited",
            format!(
                "{}{stake_denom} of collateral to the client",
                state.forfeited
            ),
        ));
    }
    let mut text = fields(&pairs);
    text.push_str("\n\n");
    if bids.is_empty() {
        text.push_str(&format!(
            "no bids yet (bids until height {})",
            task.deadline_height
        ));
    } else {
        text.push_str(&bids_table(task, bids, stake_denom));
    }
    text
}

pub fn offers_table(offers: &[Offer], denom: &str) -> String {
    let rows: Vec<Vec<String>> = offers
        .iter()
        .map(|o| {
            vec![
                o.seq.to_string(),
                o.provider.to_string(),
                o.price.map_or("-".to_string(), |p| format!("{p}{denom}")),
                o.revealed_height.to_string(),
                o.outputs_digest.to_hex(),
            ]
        })
        .collect();
    table(
        &["seq", "provider", "price", "height", "outputs digest"],
        &rows,
    )
}

pub fn tasks_table(tasks: &[TaskInfo]) -> String {
    let rows: Vec<Vec<String>> = tasks
        .iter()
        .map(|t| {
            vec![
                t.id.to_string(),
                t.status.to_string(),
                t.model.to_string(),
                format!("{}{}", t.budget, t.denom),
                t.collateral.to_string(),
                t.deadline_height.to_string(),
                t.commit_count.to_string(),
                t.client.to_string(),
            ]
        })
        .collect();
    table(
        &[
            "id",
            "status",
            "model",
            "payment",
            "collateral",
            "deadline",
            "commits",
            "client",
        ],
        &rows,
    )
}

/// Market events of a transaction, one line each.
/// The text of a market transaction: its tx line, then a line per market event.
pub fn tx_with_events(tx: &TxOutcome, market: &str) -> String {
    std::iter::once(crate::cli::output::tx_line(tx))
        .chain(market_events(tx, market))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn market_events(tx: &TxOutcome, market: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for e in tx.events::<TaskCommitted>(Some(market)).unwrap_or_default() {
        lines.push(format!(
            "task {} committed by {} (seq {}), reveal by height {}",
            e.task_id, e.provider, e.seq, e.reveal_deadline
        ));
    }
    for e in tx.events::<TaskRevealed>(Some(market)).unwrap_or_default() {
        let verdict = match e.outcome.as_str() {
            "valid" => "valid",
            "refused" => "REFUSED (no match with the client's reference; collateral released)",
            "rejected" => "REJECTED (proven wrong; slashed)",
            _ if e.valid => "valid",
            _ => "INVALID",
        };
        let price = if e.price.is_zero() {
            String::new()
        } else {
            format!(", price {}", e.price)
        };
        lines.push(format!(
            "task {} revealed by {}: {verdict}{price}",
            e.task_id, e.provider
        ));
    }
    for e in tx.events::<BidPlaced>(Some(market)).unwrap_or_default() {
        lines.push(format!(
            "task {}: sealed bid placed by {} (seq {})",
            e.task_id, e.provider, e.seq
        ));
    }
    for e in tx.events::<BidRevealed>(Some(market)).unwrap_or_default() {
        lines.push(bid_revealed_line(&e));
    }
    for e in tx
        .events::<AuctionDefaulted>(Some(market))
        .unwrap_or_default()
    {
        lines.push(auction_defaulted_line(&e));
    }
    for e in tx
        .events::<AuctionAwarded>(Some(market))
        .unwrap_or_default()
    {
        lines.push(auction_awarded_line(&e));
    }
    for e in tx
        .events::<ConsensusTallied>(Some(market))
        .unwrap_or_default()
    {
        lines.push(if e.winners == 0 {
            format!(
                "task {} tallied: {} distinct answer(s), none reached the quorum",
                e.task_id, e.groups
            )
        } else {
            format!(
                "task {} tallied: {} distinct answer(s); {} agreeing provider(s) paid, {} \
                 outvoted and slashed",
                e.task_id, e.groups, e.winners, e.outvoted
            )
        });
    }
    for e in tx.events::<TaskSettled>(Some(market)).unwrap_or_default() {
        lines.push(format!(
            "task {} settled: {} paid {} (fee {}), client refunded {}",
            e.task_id, e.winner, e.amount, e.fee, e.refund
        ));
    }
    for e in tx.events::<ClaimCredited>(Some(market)).unwrap_or_default() {
        lines.push(format!(
            "the bank refused {}{} for {}: it is now a claim of {} (`opengpu claim --denom \
             {}`)",
            e.amount, e.denom, e.recipient, e.beneficiary, e.denom
        ));
    }
    for e in tx
        .events::<ClaimWithdrawn>(Some(market))
        .unwrap_or_default()
    {
        lines.push(format!(
            "claim of {} withdrawn: {}{} sent to {}",
            e.beneficiary, e.amount, e.denom, e.recipient
        ));
    }
    for e in tx
        .events::<IbcTransferSent>(Some(market))
        .unwrap_or_default()
    {
        lines.push(format!(
            "IBC transfer {} sent: {}{} to {} over {} (pending until acknowledged)",
            e.transfer_id, e.amount, e.denom, e.receiver, e.channel
        ));
    }
    for e in tx
        .events::<IbcTransferDelivered>(Some(market))
        .unwrap_or_default()
    {
        lines.push(format!(
            "IBC transfer {} delivered: {}{} to {} over {}",
            e.transfer_id, e.amount, e.denom, e.receiver, e.channel
        ));
    }
    for e in tx
        .events::<IbcTransferFailed>(Some(market))
        .unwrap_or_default()
    {
        lines.push(format!(
            "IBC transfer {} failed ({}): {}{} credited to {}",
            e.transfer_id, e.reason, e.amount, e.denom, e.credited_to
        ));
    }
    for e in tx.events::<TaskCancelled>(Some(market)).unwrap_or_default() {
        lines.push(format!(
            "task {} cancelled: refunded {}",
            e.task_id, e.refund
        ));
    }
    for e in tx.events::<TaskExpired>(Some(market)).unwrap_or_default() {
        lines.push(format!(
            "task {} expired: refunded {}, forfeited collateral {}",
            e.task_id, e.refund, e.forfeited
        ));
    }
    lines
}

pub fn bid_revealed_line(e: &BidRevealed) -> String {
    if e.valid {
        format!(
            "task {}: bid of {} opened at {}",
            e.task_id, e.provider, e.price
        )
    } else {
        format!(
            "task {}: bid of {} opened at {}: VOID (zero or above the maximum price; no part in \
             the auction, collateral released)",
            e.task_id, e.provider, e.price
        )
    }
}

pub fn auction_awarded_line(e: &AuctionAwarded) -> String {
    let how = if e.round == 0 {
        "awarded to".to_string()
    } else {
        format!("handed over (round {}) to", e.round)
    };
    format!(
        "task {} {how} {} at price {} (its bid {}) until height {}",
        e.task_id, e.provider, e.price, e.bid, e.execute_deadline
    )
}

pub fn auction_defaulted_line(e: &AuctionDefaulted) -> String {
    let slashed = if e.slashed.is_zero() {
        "nothing slashed".to_string()
    } else {
        format!("{} of its collateral slashed", e.slashed)
    };
    format!(
        "task {}: awardee {} failed ({}); {slashed}",
        e.task_id, e.provider, e.reason
    )
}

/// The market's events of a transaction as JSON objects: `{"event": "task_settled", "task_id":
/// "3", ...}`.
pub fn market_events_json(tx: &TxOutcome, market: &str) -> Vec<serde_json::Value> {
    tx.events
        .iter()
        .filter(|e| e.contract() == Some(market))
        .filter_map(|e| {
            let name = e.kind.strip_prefix("wasm-")?;
            let mut object = serde_json::Map::new();
            object.insert("event".into(), name.into());
            for (k, v) in &e.attributes {
                if k != "_contract_address" && k != "msg_index" {
                    object.insert(k.clone(), v.clone().into());
                }
            }
            Some(serde_json::Value::Object(object))
        })
        .collect()
}

/// A task to render in tests: published at 100, commits until 200, reveal window 50, confirm
/// window 30, 3 committer slots, 1000uatom with a 1% fee.
#[cfg(test)]
pub(crate) fn test_task(model: CompetitionModel) -> TaskInfo {
    TaskInfo {
        id: 7,
        client: Addr::unchecked("wasm1client"),
        model,
        requirements: Requirements::default(),
        verification: VerificationPolicy::Unverified {},
        denom: "uatom".into(),
        budget: Uint128::new(1000),
        collateral: Uint128::new(100),
        output_sizes: vec![16],
        fee_bps: 100,
        created_height: 100,
        deadline_height: 200,
        reveal_window_blocks: 50,
        confirm_window_blocks: 30,
        max_committers: 3,
        status: TaskStatus::Open,
        commit_count: 0,
        settlement: None,
        auction: model.is_auction().then(AuctionState::default),
        remote_client: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::HexBinary;
    use opengpu_types::market::{Settlement, Share};

    fn commitment(seq: u32, provider: &str, height: u64, state: CommitmentState) -> CommitmentInfo {
        CommitmentInfo {
            task_id: 7,
            provider: Addr::unchecked(provider),
            seq,
            commitment: HexBinary::from(vec![seq as u8; 32]),
            collateral: Uint128::new(100),
            payout: Addr::unchecked(provider),
            payout_route: None,
            committed_height: height,
            reveal_deadline_height: 250,
            state,
        }
    }

    #[test]
    fn sealed_phases_open_reveals_when_commits_close() {
        let mut task = test_task(CompetitionModel::ManualConfirmation);
        let phases = |task: &TaskInfo, c: Option<&[CommitmentInfo]>, h| Phases::of(task, c, h);
        let p = phases(&task, None, Some(150));
        assert_eq!(
            p,
            Phases {
                published_height: 100,
                commits_until_height: 200,
                commits_full_height: None,
                reveals_open_height: Some(201),
                reveals_close_height: 250,
                confirm_until_height: Some(280),
                height: Some(150),
                phase: Some("commit"),
                phase_until_height: Some(200),
                auction: None,
            }
        );
        assert_eq!(phases(&task, None, Some(200)).phase, Some("commit"));
        assert_eq!(phases(&task, None, Some(201)).phase, Some("reveal"));
        assert_eq!(phases(&task, None, Some(260)).phase, Some("confirm"));
        assert_eq!(phases(&task, None, Some(281)).phase, Some("finalize"));
        // Every slot taken at height 140: commits are closed from then on.
        task.commit_count = 3;
        task.status = TaskStatus::Committed;
        let taken = [
            commitment(0, "wasm1a", 120, CommitmentState::Committed {}),
            commitment(1, "wasm1b", 130, CommitmentState::Committed {}),
            commitment(2, "wasm1c", 140, CommitmentState::Committed {}),
        ];
        let p = phases(&task, Some(&taken), Some(150));
        assert_eq!(
            (p.commits_full_height, p.reveals_open_height, p.phase),
            (Some(140), Some(140), Some("reveal"))
        );
        task.status = TaskStatus::Settled;
        assert_eq!(
            phases(&task, Some(&taken), Some(150)).phase,
            Some("settled")
        );
        assert_eq!(phases(&task, None, None).phase, None);
    }

    #[test]
    fn first_response_reveals_after_each_commit() {
        let task = test_task(CompetitionModel::FirstResponse);
        let p = Phases::of(&task, None, Some(150));
        assert_eq!(
            (p.reveals_open_height, p.confirm_until_height, p.phase),
            (None, None, Some("commit"))
        );
        let text = task_fields(&TaskView {
            task: &task,
            kernel: None,
            commitments: None,
            height: Some(150),
            stake_denom: "ustake",
        });
        assert!(text.contains("the block after each commit"), "{text}");
        assert!(
            text.contains("100 bps (1% of the price), fixed at publish"),
            "{text}"
        );
        assert!(!text.contains("confirm until"), "{text}");
        assert!(!text.contains("tally"), "{text}");
    }

    #[test]
    fn consensus_shows_its_rules_tally_and_shares() {
        let mut task = test_task(CompetitionModel::Consensus {
            replicas: 3,
            quorum: 2,
            tolerance: Some(FloatTolerance::Relative {
                max: Decimal::bps(1),
            }),
        });
        task.status = TaskStatus::Settled;
        task.commit_count = 3;
        task.settlement = Some(Settlement {
            winner: Addr::unchecked("wasm1a"),
            paid_to: Addr::unchecked("wasm1a"),
            price: Uint128::new(1000),
            paid: Uint128::new(990),
            fee: Uint128::new(10),
            refund: Uint128::zero(),
            height: 230,
            shares: vec![
                Share {
                    provider: Addr::unchecked("wasm1a"),
                    paid_to: Addr::unchecked("wasm1a"),
                    amount: Uint128::new(495),
                    route: None,
                },
                Share {
                    provider: Addr::unchecked("wasm1b"),
                    paid_to: Addr::unchecked("wasm1payout"),
                    amount: Uint128::new(495),
                    route: None,
                },
            ],
        });
        let revealed = |height| CommitmentState::Revealed {
            outputs_digest: HexBinary::from(vec![1; 32]),
            price: None,
            height,
        };
        let commitments = [
            commitment(0, "wasm1a", 120, revealed(210)),
            commitment(1, "wasm1b", 130, revealed(211)),
            commitment(2, "wasm1c", 140, CommitmentState::Outvoted {}),
        ];
        let text = task_fields(&TaskView {
            task: &task,
            kernel: None,
            commitments: Some(&commitments),
            height: Some(300),
            stake_denom: "ustake",
        });
        for expected in [
            "Consensus of 3 replicas, quorum 2, agreement within relative error 0.0001 per f32 \
             element (rel:0.0001)",
            "tally:",
            "quorum reached: 2 agreeing result(s) paid, 1 outvoted and slashed",
            "closed at height 140: 3 of 3 slots taken",
            "reveals open:",
            "height 140 (sealed: once commits close)",
            "495uatom to wasm1a",
            "495uatom to wasm1b (paid to wasm1payout)",
            "990uatom to 2 provider(s), fee 10uatom",
            "height 300: settled",
        ] {
            assert!(text.contains(expected), "{expected:?} missing in\n{text}");
        }
        let table = commitments_table(&task, &commitments);
        assert!(table.contains("revealed at 211, paid 495uatom"), "{table}");
        assert!(table.contains("outvoted by the quorum, slashed"), "{table}");

        task.settlement = None;
        task.status = TaskStatus::Expired;
        assert!(tally_line(&task, None).starts_with("no quorum"));
        task.status = TaskStatus::Committed;
        assert!(tally_line(&task, None).contains("`opengpu task finalize 7` after height 250"));
    }

    #[test]
    fn every_commitment_state_reads_with_its_consequence() {
        let task = test_task(CompetitionModel::ManualConfirmation);
        let line = |state| commitment_state_line(&task, &commitment(0, "wasm1a", 120, state));
        assert_eq!(
            line(CommitmentState::Committed {}),
            "committed, reveal once commits close, by height 250"
        );
        assert_eq!(
            line(CommitmentState::Revealed {
                outputs_digest: HexBinary::from(vec![1; 32]),
                price: Some(Uint128::new(300)),
                height: 210
            }),
            "revealed at 210, offers 300uatom"
        );
        assert_eq!(
            line(CommitmentState::Refused {
                reason: "no match".into()
            }),
            "refused, collateral released: no match"
        );
        assert_eq!(
            line(CommitmentState::Rejected {
                reason: "wrong size".into()
            }),
            "rejected, slashed: wrong size"
        );
        let first = test_task(CompetitionModel::FirstResponse);
        assert_eq!(
            commitment_state_line(
                &first,
                &commitment(0, "wasm1a", 120, CommitmentState::Committed {})
            ),
            "committed, reveal by height 250"
        );
    }

    fn auction_task() -> TaskInfo {
        test_task(CompetitionModel::Auction {
            bid_reveal_blocks: 5,
            execute_blocks: 20,
        })
    }

    fn award(provider: &str, execute_deadline: u64) -> Award {
        Award {
            provider: Addr::unchecked(provider),
            bid_seq: 1,
            bid: Uint128::new(300),
            price: Uint128::new(700),
            awarded_height: execute_deadline - 20,
            execute_deadline,
        }
    }

    fn bid(seq: u32, provider: &str, state: BidState) -> BidInfo {
        BidInfo {
            task_id: 7,
            provider: Addr::unchecked(provider),
            seq,
            commitment: HexBinary::from(vec![seq as u8; 32]),
            collateral: Uint128::new(100),
            height: 150 + u64::from(seq),
            state,
        }
    }

    fn auction_view(task: &TaskInfo, height: u64) -> String {
        task_fields(&TaskView {
            task,
            kernel: None,
            commitments: None,
            height: Some(height),
            stake_denom: "ustake",
        })
    }

    #[test]
    fn auction_phases_follow_bids_reveals_award_and_execution() {
        let mut task = auction_task();
        let at = |task: &TaskInfo, h| {
            let p = Phases::of(task, None, Some(h));
            (p.phase, p.phase_until_height)
        };
        let p = Phases::of(&task, None, Some(150));
        assert_eq!(
            (p.phase, p.phase_until_height, p.reveals_open_height),
            (Some("bid"), Some(200), None)
        );
        let auction = p.auction.expect("an auction has auction phases");
        assert_eq!(
            (
                auction.bids_until_height,
                auction.bid_reveals_until_height,
                auction.execute_blocks,
                auction.awardee,
            ),
            (200, 205, 20, None)
        );
        assert_eq!(at(&task, 200), (Some("bid"), Some(200)));
        assert_eq!(at(&task, 201), (Some("bid_reveal"), Some(205)));
        assert_eq!(at(&task, 205), (Some("bid_reveal"), Some(205)));
        assert_eq!(at(&task, 206), (Some("award"), None));
        // Every bidder slot taken: bids close before the deadline.
        let state = task.auction.as_mut().unwrap();
        state.bid_count = 3;
        assert_eq!(at(&task, 150), (Some("bid_reveal"), Some(205)));
        let state = task.auction.as_mut().unwrap();
        state.revealed_count = 3;
        state.award = Some(award("wasm1b", 223));
        assert_eq!(at(&task, 210), (Some("execute"), Some(223)));
        assert_eq!(at(&task, 223), (Some("execute"), Some(223)));
        assert_eq!(at(&task, 224), (Some("hand_over"), None));
        let auction = Phases::of(&task, None, Some(210)).auction.unwrap();
        assert_eq!(
            (
                auction.awardee,
                auction.clearing_price,
                auction.execute_until_height
            ),
            (
                Some(Addr::unchecked("wasm1b")),
                Some(Uint128::new(700)),
                Some(223)
            )
        );
        task.status = TaskStatus::Settled;
        assert_eq!(at(&task, 230), (Some("settled"), None));
        // Other models carry no auction phases.
        let first = test_task(CompetitionModel::FirstResponse);
        assert_eq!(Phases::of(&first, None, Some(150)).auction, None);
        assert_eq!(
            Phases::of(&first, None, Some(150)).phase_until_height,
            Some(200)
        );
    }

    #[test]
    fn task_show_of_an_auction_names_its_phase_award_and_end_height() {
        let mut task = auction_task();
        task.status = TaskStatus::Committed;
        let text = auction_view(&task, 150);
        for expected in [
            "max price:",
            "1000uatom (escrowed; the winner is paid the next bid up, or this maximum)",
            "100ustake per bid",
            "Sealed-bid second-price auction (bid reveals 5 blocks, execution 20 blocks)",
            "bids until:",
            "height 200 (0 of 3 bidder slots taken)",
            "once bids close, until height 205 (0 of 0 open)",
            "none yet: the lowest valid bid wins",
            "it then has 20 blocks to deliver",
            "height 150: bidding until height 200",
        ] {
            assert!(text.contains(expected), "{expected:?} missing in\n{text}");
        }
        for absent in ["commits until", "reveals open", "reveals close", "payment:"] {
            assert!(!text.contains(absent), "{absent:?} in\n{text}");
        }
        let state = task.auction.as_mut().unwrap();
        state.bid_count = 2;
        let text = auction_view(&task, 203);
        assert!(
            text.contains("height 203: revealing bids until height 205"),
            "{text}"
        );
        let text = auction_view(&task, 206);
        assert!(
            text.contains("the award (or, with no valid bid, the refund) is due")
                && text.contains("`opengpu task advance 7`"),
            "{text}"
        );
        let state = task.auction.as_mut().unwrap();
        state.revealed_count = 2;
        state.award = Some(award("wasm1b", 223));
        let text = auction_view(&task, 210);
        for expected in [
            "wasm1b (bid 300uatom) at clearing price 700uatom, execute by height 223 (round 0)",
            "height 210: executing by wasm1b until height 223",
            "(2 of 2 open)",
        ] {
            assert!(text.contains(expected), "{expected:?} missing in\n{text}");
        }
        let text = auction_view(&task, 224);
        assert!(
            text.contains("wasm1b did not deliver by height 223: the hand-over to the next bidder")
                && text.contains("`opengpu task advance 7`"),
            "{text}"
        );
        let state = task.auction.as_mut().unwrap();
        state.award = None;
        state.handovers = 1;
        state.forfeited = Uint128::new(100);
        task.status = TaskStatus::Expired;
        let text = auction_view(&task, 300);
        for expected in [
            "award:",
            "hand-overs:",
            "1 (awardees that failed to deliver",
            "forfeited:",
            "100ustake of collateral to the client",
            "height 300: expired",
        ] {
            assert!(text.contains(expected), "{expected:?} missing in\n{text}");
        }
    }

    #[test]
    fn bids_show_their_state_price_once_open_and_the_award() {
        let mut task = auction_task();
        task.status = TaskStatus::Committed;
        let state = task.auction.as_mut().unwrap();
        state.bid_count = 4;
        state.revealed_count = 3;
        state.award = Some(award("wasm1b", 223));
        let bids = [
            bid(
                0,
                "wasm1a",
                BidState::Revealed {
                    price: Uint128::new(700),
                    height: 201,
                },
            ),
            bid(
                1,
                "wasm1b",
                BidState::Awarded {
                    price: Uint128::new(300),
                    clearing: Uint128::new(700),
                    execute_deadline: 223,
                },
            ),
            bid(2, "wasm1c", BidState::Forfeited {}),
            bid(
                3,
                "wasm1d",
                BidState::Void {
                    price: Uint128::new(5000),
                },
            ),
        ];
        let table = bids_table(&task, &bids, "ustake");
        let lines: Vec<&str> = table.lines().collect();
        assert!(
            lines[0].starts_with("SEQ  PROVIDER  HEIGHT  STATE"),
            "{table}"
        );
        assert!(lines[0].ends_with("PRICE      COLLATERAL  NOTE"), "{table}");
        assert!(
            lines[1].contains("revealed   700uatom   100ustake   opened at 201, in line"),
            "{table}"
        );
        assert!(
            lines[2].contains("awarded    300uatom")
                && lines[2].contains("awarded at 700uatom, must deliver by height 223"),
            "{table}"
        );
        assert!(
            lines[3].contains("forfeited  -") && lines[3].contains("collateral forfeited"),
            "{table}"
        );
        assert!(
            lines[4].contains("void") && lines[4].contains("5000uatom"),
            "{table}"
        );

        let text = bids_text(&task, &bids, 210, "ustake");
        assert!(
            text.contains(
                "7 (committed): auction, maximum price 1000uatom, collateral 100ustake per bid"
            ),
            "{text}"
        );
        assert!(
            text.contains("height 210: executing by wasm1b until height 223"),
            "{text}"
        );
        assert!(
            text.contains(
                "wasm1b (bid 300uatom) at clearing price 700uatom, execute by height 223 (round 0)"
            ),
            "{text}"
        );

        let json = bids_json(&task, &bids, 210, "ustake");
        assert_eq!(json["phase"], "execute");
        assert_eq!(json["phase_until_height"], 223);
        assert_eq!(json["max_price"], "1000");
        assert_eq!(json["bids_until_height"], 200);
        assert_eq!(json["bid_reveals_until_height"], 205);
        assert_eq!(json["award"]["provider"], "wasm1b");
        assert_eq!(json["award"]["bid"], "300");
        assert_eq!(json["award"]["price"], "700");
        assert_eq!(json["award"]["execute_deadline"], 223);
        assert_eq!(json["award"]["round"], 0);
        assert_eq!(json["bids"][0]["state"]["revealed"]["price"], "700");
        assert_eq!(
            json["bids"][2]["state"],
            serde_json::json!({"forfeited": {}})
        );
        assert_eq!(json["bids"].as_array().unwrap().len(), 4);

        task.auction.as_mut().unwrap().award = None;
        let json = bids_json(&task, &[], 150, "ustake");
        assert_eq!(json["award"], serde_json::Value::Null);
        assert!(
            bids_text(&task, &[], 150, "ustake").contains("no bids yet (bids until height 200)")
        );
    }

    #[test]
    fn auction_events_read_as_what_happened() {
        let awarded = |round| AuctionAwarded {
            task_id: 7,
            provider: "wasm1b".into(),
            bid: Uint128::new(300),
            price: Uint128::new(700),
            execute_deadline: 223,
            round,
        };
        assert_eq!(
            auction_awarded_line(&awarded(0)),
            "task 7 awarded to wasm1b at price 700 (its bid 300) until height 223"
        );
        assert_eq!(
            auction_awarded_line(&awarded(1)),
            "task 7 handed over (round 1) to wasm1b at price 700 (its bid 300) until height 223"
        );
        let defaulted = AuctionDefaulted {
            task_id: 7,
            provider: "wasm1b".into(),
            reason: "no result by height 223".into(),
            slashed: Uint128::new(100),
        };
        assert_eq!(
            auction_defaulted_line(&defaulted),
            "task 7: awardee wasm1b failed (no result by height 223); 100 of its collateral \
             slashed"
        );
        let void = BidRevealed {
            task_id: 7,
            provider: "wasm1d".into(),
            price: Uint128::new(5000),
            valid: false,
        };
        assert!(bid_revealed_line(&void).contains("VOID"));
    }

    #[test]
    fn policies_say_what_a_failure_costs() {
        assert!(policy_line(&VerificationPolicy::Unverified {}).starts_with("UNVERIFIED"));
        let spec = opengpu_types::freivalds::FreivaldsSpec {
            a_arg: 0,
            b_arg: 1,
            c_arg: 2,
            m: 64,
            k: 32,
            n: 16,
            tolerance: Decimal::bps(1),
        };
        assert_eq!(
            policy_line(&VerificationPolicy::Freivalds(spec)),
            "Freivalds: output argument 2 = argument 0 (64x32) x argument 1 (32x16), tolerance \
             0.0001 (a failure is slashed)"
        );
    }
}
