//! `opengpu task commit` and `task reveal`: operating a provider by hand.
//!
//! `commit` hashes the output files with a fresh 32-byte salt (see
//! `opengpu_types::commitment`), saves what the reveal will need in
//! `$OPENGPU_HOME/reveals/<chain-id>/<task>-<provider>.json` *before* broadcasting (a
//! commitment whose salt is lost can never be opened), then sends `Commit`. `reveal` reads
//! that file and the same output files (checking they did not change), waits for a block
//! after the commit's, and sends `Reveal`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _, Result};
use clap::Args;
use cosmwasm_std::{Binary, HexBinary, Uint128};
use opengpu_client::config::parse_amount_in;
use opengpu_client::Opengpu;
use opengpu_types::commitment::{commitment, outputs_digest};
use opengpu_types::events::{TaskCommitted, TaskRevealed, TaskSettled};
use opengpu_types::market::{CommitmentState, CompetitionModel, ExecuteMsg, TaskInfo};
use opengpu_types::TaskId;
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::render;
use crate::cli::args::read_file;
use crate::cli::output::{tx_json, tx_line};
use crate::cli::{Context, Exit};

/// Salt length used for new commitments (the market takes 16 to 64 bytes).
const SALT_BYTES: usize = 32;
/// Exit code of `reveal` when verification rejected the outputs (the transaction succeeded,
/// the provider was slashed).
pub const EXIT_REJECTED: u8 = 4;

#[derive(Args, Debug)]
pub struct CommitArgs {
    /// Task id
    id: TaskId,
    /// Result files, one per output buffer of the task, in argument order
    #[arg(long, required = true, num_args = 1.., value_name = "FILE")]
    outputs: Vec<PathBuf>,
}

#[derive(Args, Debug)]
pub struct RevealArgs {
    /// Task id
    id: TaskId,
    /// Manual Confirmation only: the price asked, at most the task's payment (a bare number
    /// is in the task's denom)
    #[arg(long, value_name = "AMOUNT")]
    price: Option<String>,
}

/// What `commit` keeps for `reveal`.
#[derive(Serialize, Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RevealPlan {
    chain_id: String,
    task_id: TaskId,
    provider: String,
    outputs: Vec<OutputFile>,
    outputs_digest: HexBinary,
    salt: HexBinary,
    commitment: HexBinary,
    commit_txhash: Option<String>,
    commit_height: Option<u64>,
    reveal_txhash: Option<String>,
}

#[derive(Serialize, Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct OutputFile {
    path: PathBuf,
    bytes: u64,
    sha256: HexBinary,
}

fn plan_path(home: &Path, chain_id: &str, task_id: TaskId, provider: &str) -> PathBuf {
    home.join("reveals")
        .join(chain_id)
        .join(format!("{task_id}-{provider}.json"))
}

pub async fn commit(ctx: &mut Context, a: CommitArgs) -> Result<()> {
    let outputs: Vec<(PathBuf, Vec<u8>)> = a
        .outputs
        .iter()
        .map(|p| {
            let data = read_file(p, "output")?;
            let path = std::path::absolute(p).unwrap_or_else(|_| p.clone());
            Ok((path, data))
        })
        .collect::<Result<_>>()?;
    let contracts = ctx.contracts()?;
    let chain = ctx.chain().await?.clone();
    let chain_id = chain.config().chain_id.clone();
    let (info, mut signer) = ctx.signer().await?;
    let provider = info.address.clone();
    let q = Opengpu::new(&chain, &contracts);
    let task = q.task(a.id).await?.task;
    check_shape(&task, &outputs)?;

    let path = plan_path(ctx.home(), &chain_id, a.id, &provider);
    if path.exists() {
        let committed = q
            .commitments(a.id)
            .await?
            .into_iter()
            .any(|c| c.provider.as_str() == provider);
        if committed {
            bail!(
                "{provider} already committed to task {}; its reveal data is in {}: run \
                 `opengpu task reveal {}`",
                a.id,
                path.display(),
                a.id
            );
        }
    }

    let binaries: Vec<Binary> = outputs
        .iter()
        .map(|(_, d)| Binary::from(d.clone()))
        .collect();
    let digest = outputs_digest(&binaries);
    let mut salt = [0u8; SALT_BYTES];
    OsRng.fill_bytes(&mut salt);
    let hash = commitment(a.id, &provider, &digest, &salt);
    let mut plan = RevealPlan {
        chain_id,
        task_id: a.id,
        provider: provider.clone(),
        outputs: outputs
            .iter()
            .map(|(path, data)| OutputFile {
                path: path.clone(),
                bytes: data.len() as u64,
                sha256: HexBinary::from(Sha256::digest(data).to_vec()),
            })
            .collect(),
        outputs_digest: HexBinary::from(digest.to_vec()),
        salt: HexBinary::from(salt.to_vec()),
        commitment: HexBinary::from(hash.to_vec()),
        commit_txhash: None,
        commit_height: None,
        reveal_txhash: None,
    };
    save_plan(&path, &plan)?;

    let msg = ExecuteMsg::Commit {
        task_id: a.id,
        commitment: plan.commitment.clone(),
    };
    let tx = signer
        .execute(&chain, &contracts.task_market, &msg, &[])
        .await?;
    plan.commit_txhash = Some(tx.txhash.clone());
    plan.commit_height = Some(tx.height);
    save_plan(&path, &plan)?;
    let committed: Option<TaskCommitted> = tx.event(Some(&contracts.task_market))?;
    let reveal_deadline = committed.as_ref().map(|c| c.reveal_deadline);
    let json = tx_json(
        &tx,
        serde_json::json!({
            "task_id": a.id,
            "commitment": plan.commitment,
            "reveal_deadline_height": reveal_deadline,
            "reveal_file": path,
        }),
    );
    ctx.emit(&json, || {
        let mut lines = vec![tx_line(&tx)];
        lines.extend(render::market_events(&tx, &contracts.task_market));
        lines.push(format!(
            "reveal data saved in {}; reveal in a later block with `opengpu task reveal {}`",
            path.display(),
            a.id
        ));
        lines.join("\n")
    })
}

pub async fn reveal(ctx: &mut Context, a: RevealArgs) -> Result<()> {
    let contracts = ctx.contracts()?;
    let chain = ctx.chain().await?.clone();
    let chain_id = chain.config().chain_id.clone();
    let (info, mut signer) = ctx.signer().await?;
    let provider = info.address.clone();
    let path = plan_path(ctx.home(), &chain_id, a.id, &provider);
    let mut plan = load_plan(&path, a.id, &provider)?;
    if plan.chain_id != chain_id || plan.provider != provider || plan.task_id != a.id {
        bail!("{} is for another chain, task or provider", path.display());
    }
    let outputs = reload_outputs(&plan)?;
    let digest = outputs_digest(&outputs);
    if digest.as_slice() != plan.outputs_digest.as_slice()
        || commitment(a.id, &provider, &digest, plan.salt.as_slice()).as_slice()
            != plan.commitment.as_slice()
    {
        bail!("{} does not open its own commitment", path.display());
    }

    let q = Opengpu::new(&chain, &contracts);
    let task = q.task(a.id).await?.task;
    let price = reveal_price(&task, a.price.as_deref())?;
    let ours = q
        .commitments(a.id)
        .await?
        .into_iter()
        .find(|c| c.provider.as_str() == provider)
        .ok_or_else(|| {
            anyhow!(
                "{provider} has no commitment on task {} on chain: run `opengpu task commit` first",
                a.id
            )
        })?;
    if ours.commitment != plan.commitment {
        bail!(
            "the commitment on chain for task {} differs from the one in {}",
            a.id,
            path.display()
        );
    }
    // The market takes a reveal only in a later block than its commit.
    let spinner = ctx.spinner("waiting for the block after the commit");
    let waited = chain
        .wait_for_height_above(ours.committed_height, Duration::from_secs(60))
        .await;
    spinner.finish_and_clear();
    waited?;

    let msg = ExecuteMsg::Reveal {
        task_id: a.id,
        outputs,
        salt: plan.salt.clone(),
        price,
    };
    let tx = signer
        .execute(&chain, &contracts.task_market, &msg, &[])
        .await?;
    plan.reveal_txhash = Some(tx.txhash.clone());
    save_plan(&path, &plan)?;
    let market = contracts.task_market.as_str();
    let revealed: Option<TaskRevealed> = tx.event(Some(market))?;
    let settled: Option<TaskSettled> = tx.event(Some(market))?;
    let json = tx_json(
        &tx,
        serde_json::json!({
            "task_id": a.id,
            "valid": revealed.as_ref().map(|r| r.valid),
            "settled": settled.is_some(),
            "events": render::market_events_json(&tx, market),
        }),
    );
    ctx.emit(&json, || {
        std::iter::once(tx_line(&tx))
            .chain(render::market_events(&tx, market))
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    if revealed.is_some_and(|r| !r.valid) {
        let reason = q
            .commitments(a.id)
            .await?
            .into_iter()
            .find(|c| c.provider.as_str() == provider)
            .and_then(|c| match c.state {
                CommitmentState::Rejected { reason } => Some(reason),
                _ => None,
            })
            .unwrap_or_else(|| "verification failed".into());
        return Err(Exit {
            code: EXIT_REJECTED,
            message: format!(
                "the reveal was rejected ({reason}); the collateral of {} was slashed to the client",
                task.collateral
            ),
        }
        .into());
    }
    Ok(())
}

/// Outputs must match the task's declared buffers in number and size.
fn check_shape(task: &TaskInfo, outputs: &[(PathBuf, Vec<u8>)]) -> Result<()> {
    if task.status.is_final() {
        bail!(
            "task {} is {} and takes no commitments",
            task.id,
            task.status
        );
    }
    if outputs.len() != task.output_sizes.len() {
        bail!(
            "task {} has {} output buffers; --outputs names {} files",
            task.id,
            task.output_sizes.len(),
            outputs.len()
        );
    }
    for ((path, data), expected) in outputs.iter().zip(&task.output_sizes) {
        if data.len() as u64 != *expected {
            bail!(
                "{} has {} bytes; task {} expects {expected} for this output",
                path.display(),
                data.len(),
                task.id
            );
        }
    }
    Ok(())
}

fn reveal_price(task: &TaskInfo, price: Option<&str>) -> Result<Option<Uint128>> {
    match (task.model, price) {
        (CompetitionModel::ManualConfirmation, None) => bail!(
            "task {} is Manual Confirmation: pass --price (at most {}{})",
            task.id,
            task.budget,
            task.denom
        ),
        (CompetitionModel::ManualConfirmation, Some(p)) => {
            let price = parse_amount_in(p, &task.denom)?;
            if price.is_zero() || price > task.budget {
                bail!(
                    "--price must be between 1 and the task's payment {}{}",
                    task.budget,
                    task.denom
                );
            }
            Ok(Some(price))
        }
        (CompetitionModel::FirstResponse, Some(_)) => {
            bail!(
                "task {} is First Response: a reveal takes no --price",
                task.id
            )
        }
        (CompetitionModel::FirstResponse, None) => Ok(None),
    }
}

fn reload_outputs(plan: &RevealPlan) -> Result<Vec<Binary>> {
    plan.outputs
        .iter()
        .map(|file| {
            let data = read_file(&file.path, "output")?;
            if data.len() as u64 != file.bytes
                || Sha256::digest(&data)[..] != *file.sha256.as_slice()
            {
                bail!(
                    "{} changed since the commit: it no longer matches the committed hash",
                    file.path.display()
                );
            }
            Ok(Binary::from(data))
        })
        .collect()
}

fn load_plan(path: &Path, task_id: TaskId, provider: &str) -> Result<RevealPlan> {
    let text = std::fs::read_to_string(path).map_err(|_| {
        anyhow!(
            "no commit data for task {task_id} by {provider} (looked in {}): commit first with \
             `opengpu task commit {task_id} --outputs FILE...`",
            path.display()
        )
    })?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// Writes the plan through a temporary file and a rename, readable by its owner only.
fn save_plan(path: &Path, plan: &RevealPlan) -> Result<()> {
    let dir = path.parent().expect("plan paths have a parent");
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = path.with_extension("json.tmp");
    let text = serde_json::to_vec_pretty(plan)?;
    {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(&tmp)
            .with_context(|| format!("creating {}", tmp.display()))?;
        file.write_all(&text)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_round_trip_and_detect_changed_outputs() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("c.bin");
        std::fs::write(&out, [9u8; 8]).unwrap();
        let data = std::fs::read(&out).unwrap();
        let plan = RevealPlan {
            chain_id: "local-1".into(),
            task_id: 4,
            provider: "wasm1p".into(),
            outputs: vec![OutputFile {
                path: out.clone(),
                bytes: 8,
                sha256: HexBinary::from(Sha256::digest(&data).to_vec()),
            }],
            outputs_digest: HexBinary::from(vec![0; 32]),
            salt: HexBinary::from(vec![1; 32]),
            commitment: HexBinary::from(vec![2; 32]),
            commit_txhash: None,
            commit_height: None,
            reveal_txhash: None,
        };
        let path = plan_path(dir.path(), "local-1", 4, "wasm1p");
        assert!(path.ends_with("reveals/local-1/4-wasm1p.json"));
        save_plan(&path, &plan).unwrap();
        let loaded = load_plan(&path, 4, "wasm1p").unwrap();
        assert_eq!(reload_outputs(&loaded).unwrap(), vec![Binary::from(data)]);
        std::fs::write(&out, [8u8; 8]).unwrap();
        let err = reload_outputs(&loaded).unwrap_err().to_string();
        assert!(err.contains("changed since the commit"), "{err}");
        let missing = load_plan(&dir.path().join("x.json"), 5, "wasm1p").unwrap_err();
        assert!(missing.to_string().contains("commit first"));
    }
}
