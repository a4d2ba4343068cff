//! Text views of tasks, commitments, offers and the market events of a transaction.

use opengpu_client::TxOutcome;
use opengpu_types::events::{TaskCancelled, TaskCommitted, TaskExpired, TaskRevealed, TaskSettled};
use opengpu_types::kernel::{Kernel, KernelArg, Requirements};
use opengpu_types::market::{CommitmentInfo, CommitmentState, CompetitionModel, Offer, TaskInfo};
use opengpu_types::verification::VerificationPolicy;

use crate::cli::output::{bytes, fields, table};

/// `stake_denom` is the denom of the collateral (the vault's).
pub fn task_fields(task: &TaskInfo, kernel: Option<&Kernel>, stake_denom: &str) -> String {
    let mut pairs = vec![
        (
            "task",
            format!("{} ({}, {})", task.id, task.status, task.model),
        ),
        ("client", task.client.to_string()),
        ("payment", format!("{}{}", task.budget, task.denom)),
        (
            "collateral",
            format!("{}{stake_denom} per committer", task.collateral),
        ),
        ("verification", policy_line(&task.verification)),
        ("requirements", requirements_line(&task.requirements)),
        ("published", format!("height {}", task.created_height)),
        ("commits until", format!("height {}", task.deadline_height)),
        (
            "reveals until",
            format!("height {}", task.reveals_close_height()),
        ),
    ];
    if task.model == CompetitionModel::ManualConfirmation {
        pairs.push((
            "confirm until",
            format!("height {}", task.confirm_deadline_height()),
        ));
    }
    pairs.push((
        "commitments",
        format!("{} of at most {}", task.commit_count, task.max_committers),
    ));
    pairs.push((
        "outputs",
        task.output_sizes
            .iter()
            .map(|s| bytes(*s))
            .collect::<Vec<_>>()
            .join(", "),
    ));
    if let Some(kernel) = kernel {
        pairs.push(("kernel", kernel_line(kernel)));
    }
    if let Some(s) = &task.settlement {
        pairs.push((
            "settlement",
            format!(
                "winner {} paid {}{} to {} (fee {}, refund {}) at height {}",
                s.winner, s.paid, task.denom, s.paid_to, s.fee, s.refund, s.height
            ),
        ));
    }
    fields(&pairs)
}

pub fn policy_line(policy: &VerificationPolicy) -> String {
    match policy {
        VerificationPolicy::Unverified {} => "well-formed outputs".into(),
        VerificationPolicy::ReferenceHash { sha256 } => format!("reference hash {sha256}"),
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

pub fn commitments_table(commitments: &[CommitmentInfo]) -> String {
    let rows: Vec<Vec<String>> = commitments
        .iter()
        .map(|c| {
            let state = match &c.state {
                CommitmentState::Committed {} => {
                    format!("committed, reveal by height {}", c.reveal_deadline_height)
                }
                CommitmentState::Revealed { price, height, .. } => match price {
                    Some(p) => format!("revealed at {height}, asks {p}"),
                    None => format!("revealed at {height}"),
                },
                CommitmentState::Rejected { reason } => format!("rejected: {reason}"),
                CommitmentState::Forfeited {} => "forfeited (never revealed)".into(),
                CommitmentState::Released {} => "released".into(),
            };
            vec![
                c.seq.to_string(),
                c.provider.to_string(),
                c.committed_height.to_string(),
                state,
            ]
        })
        .collect();
    table(&["seq", "provider", "height", "state"], &rows)
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
        let verdict = if e.valid {
            "valid"
        } else {
            "INVALID (slashed)"
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
    for e in tx.events::<TaskSettled>(Some(market)).unwrap_or_default() {
        lines.push(format!(
            "task {} settled: {} paid {} (fee {}), client refunded {}",
            e.task_id, e.winner, e.amount, e.fee, e.refund
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
