//! Text views of tasks, commitments, offers and the market events of a transaction.

use cosmwasm_std::Decimal;
use opengpu_client::TxOutcome;
use opengpu_types::consensus::FloatTolerance;
use opengpu_types::events::{
    ClaimCredited, ClaimWithdrawn, ConsensusTallied, TaskCancelled, TaskCommitted, TaskExpired,
    TaskRevealed, TaskSettled,
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
    /// `commit`, `reveal`, `confirm`, `finalize` (anyone may now settle or expire the task),
    /// or the final status; none when the height is unknown.
    pub phase: Option<&'static str>,
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
        let phase = height.map(|h| {
            if task.status.is_final() {
                task.status.as_str()
            } else if !task.commits_closed(h) {
                "commit"
            } else if h <= task.reveals_close_height() {
                "reveal"
            } else if confirm_until_height.is_some_and(|until| h <= until) {
                "confirm"
            } else {
                "finalize"
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
            phase,
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
        ("client", task.client.to_string()),
        ("payment", format!("{}{}", task.budget, task.denom)),
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
            format!("{}{stake_denom} per committer", task.collateral),
        ),
        ("verification", policy_line(&task.verification)),
        ("requirements", requirements_line(&task.requirements)),
        ("published", format!("height {}", phases.published_height)),
    ];
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
    if let (Some(height), Some(phase)) = (phases.height, phases.phase) {
        pairs.push(("now", format!("height {height}: {}", phase_line(phase))));
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
            let to = if share.paid_to == share.provider {
                String::new()
            } else {
                format!(" (paid to {})", share.paid_to)
            };
            pairs.push((
                "share",
                format!("{}{} to {}{to}", share.amount, task.denom, share.provider),
            ));
        }
    }
    fields(&pairs)
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
            "the bank refused {}{} for {}: it is now a claim of {} (`opengpu market \
             withdraw-claim {}`)",
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
    use cosmwasm_std::{Addr, Uint128};
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
        auction: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::{Addr, HexBinary, Uint128};
    use opengpu_types::market::{Settlement, Share};

    fn commitment(seq: u32, provider: &str, height: u64, state: CommitmentState) -> CommitmentInfo {
        CommitmentInfo {
            task_id: 7,
            provider: Addr::unchecked(provider),
            seq,
            commitment: HexBinary::from(vec![seq as u8; 32]),
            collateral: Uint128::new(100),
            payout: Addr::unchecked(provider),
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
                },
                Share {
                    provider: Addr::unchecked("wasm1b"),
                    paid_to: Addr::unchecked("wasm1payout"),
                    amount: Uint128::new(495),
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
