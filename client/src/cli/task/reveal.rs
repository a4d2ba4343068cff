//! `opengpu task commit` and `task reveal`: operating a provider by hand.
//!
//! `commit` hashes the output files, under Manual Confirmation the offered price, and a fresh
//! 32-byte salt (see `opengpu_types::commitment`), saves what the reveal will need in
//! `$OPENGPU_HOME/reveals/<chain-id>/<task>-<provider>.json` *before* broadcasting (a
//! commitment whose salt is lost can never be opened), then sends `Commit`. `reveal` reads
//! that file and the same output files (checking they did not change), checks that the
//! reveal phase is open (sealed models: once commits close), waits for a block after the
//! commit's, and sends `Reveal` with the sealed price.
//!
//! Under Auction the awardee delivers with these same commands, within its execution window:
//! no price (it is paid the clearing price), and the reveal may come a block after the commit,
//! as under First Response (an auction's result is not sealed: only the awardee computes).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _, Result};
use clap::Args;
use cosmwasm_std::{Binary, HexBinary, Uint128};
use opengpu_client::config::parse_amount_in;
use opengpu_client::Opengpu;
use opengpu_types::commitment::{commitment, outputs_digest};
use opengpu_types::events::{
    AuctionAwarded, TaskCommitted, TaskExpired, TaskRevealed, TaskSettled,
};
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
/// Exit code of `reveal` when the outputs were judged wrong and the collateral slashed: the
/// verification proved them wrong, or (Consensus, when the reveal ran the tally) the quorum
/// outvoted them. The transaction itself succeeded.
pub const EXIT_REJECTED: u8 = 4;
/// Exit code of `reveal` when the outputs did not match the client's reference hash: refused,
/// no proof of a fault, the collateral was released.
pub const EXIT_REFUSED: u8 = 7;

#[derive(Args, Debug)]
pub struct CommitArgs {
    /// Task id
    id: TaskId,
    /// Result files, one per output buffer of the task, in argument order
    #[arg(long, required = true, num_args = 1.., value_name = "FILE")]
    outputs: Vec<PathBuf>,
    /// Manual Confirmation only, and required there: the price offered, 1 up to the task's
    /// payment (a bare number is in the task's denom). It is sealed in the commitment and
    /// saved for the reveal; it cannot change later
    #[arg(long, value_name = "AMOUNT")]
    price: Option<String>,
}

#[derive(Args, Debug)]
pub struct RevealArgs {
    /// Task id
    id: TaskId,
    /// Manual Confirmation: the price is the one sealed at commit and read from the reveal
    /// data; given here, it must equal it (a check, not a change)
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
    /// Manual Confirmation: the offered price (in the task's denom), inside the commitment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    price: Option<Uint128>,
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
    let price = commit_price(&task, a.price.as_deref())?;
    if task.model.is_auction() {
        check_awardee(&task, &provider, chain.height().await?)?;
    }

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
    let hash = commitment(a.id, &provider, &digest, price, &salt);
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
        price,
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
    let reveals_open = reveals_open_after(&task);
    let json = tx_json(
        &tx,
        serde_json::json!({
            "task_id": a.id,
            "commitment": plan.commitment,
            "price": plan.price,
            "reveals_open_after_height": reveals_open,
            "reveal_deadline_height": reveal_deadline,
            "reveal_file": path,
        }),
    );
    ctx.emit(&json, || {
        let mut lines = vec![tx_line(&tx)];
        lines.extend(render::market_events(&tx, &contracts.task_market));
        if let Some(price) = plan.price {
            lines.push(format!(
                "offer of {price}{} sealed in the commitment",
                task.denom
            ));
        }
        lines.push(format!(
            "reveal data saved in {}; reveal {} with `opengpu task reveal {}`",
            path.display(),
            match reveals_open {
                Some(after) => format!(
                    "once commits close (after height {after}, or when all {} slots are taken)",
                    task.max_committers
                ),
                None => match reveal_deadline {
                    Some(deadline) if task.model.is_auction() => format!(
                        "in a later block, by height {deadline} (the end of the execution window)"
                    ),
                    _ => "in a later block".into(),
                },
            },
            a.id
        ));
        lines.join("\n")
    })
}

/// Sealed models: the height after which commits close at the latest (reveals open then, or
/// earlier when every committer slot is taken). First Response: none.
fn reveals_open_after(task: &TaskInfo) -> Option<u64> {
    task.model.is_sealed().then_some(task.deadline_height)
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
        || commitment(a.id, &provider, &digest, plan.price, plan.salt.as_slice()).as_slice()
            != plan.commitment.as_slice()
    {
        bail!("{} does not open its own commitment", path.display());
    }

    let q = Opengpu::new(&chain, &contracts);
    let task = q.task(a.id).await?.task;
    let price = reveal_price(&task, plan.price, a.price.as_deref(), &path)?;
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
    if !matches!(ours.state, CommitmentState::Committed {}) {
        bail!(
            "{provider}'s commitment to task {} is already {}: nothing to reveal",
            a.id,
            render::commitment_state_line(&task, &ours)
        );
    }
    let height = chain.height().await?;
    check_reveal_phase(&task, ours.reveal_deadline_height, height)?;
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
            "outcome": revealed.as_ref().map(|r| r.outcome.clone()),
            "price": price,
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
    let outcome = revealed.map(|r| r.outcome).unwrap_or_default();
    let needs_state = matches!(outcome.as_str(), "rejected" | "refused")
        || matches!(task.model, CompetitionModel::Consensus { .. });
    let state = if needs_state {
        q.commitments(a.id)
            .await?
            .into_iter()
            .find(|c| c.provider.as_str() == provider)
            .map(|c| c.state)
    } else {
        None
    };
    let passed_on = task
        .model
        .is_auction()
        .then(|| award_passed_on(&tx, market));
    match (outcome.as_str(), state) {
        ("rejected", state) => {
            let reason = match state {
                Some(CommitmentState::Rejected { reason }) => reason,
                _ => "verification failed".into(),
            };
            Err(Exit {
                code: EXIT_REJECTED,
                message: if let Some(passed_on) = &passed_on {
                    format!(
                        "the reveal was rejected ({reason}); the collateral of {} was slashed \
                         (to the next bidder in line, or to the client when none is left); \
                         {passed_on}",
                        task.collateral
                    )
                } else {
                    format!(
                        "the reveal was rejected ({reason}); the collateral of {} was slashed to \
                         the client",
                        task.collateral
                    )
                },
            }
            .into())
        }
        ("refused", state) => {
            let reason = match state {
                Some(CommitmentState::Refused { reason }) => reason,
                _ => "no match with the client's reference hash".into(),
            };
            Err(Exit {
                code: EXIT_REFUSED,
                message: format!(
                    "the reveal was refused ({reason}): a mismatch with the client's reference \
                     hash proves no fault, so the collateral of {} was released; {}",
                    task.collateral,
                    passed_on
                        .as_deref()
                        .unwrap_or("the result takes no part in the task")
                ),
            }
            .into())
        }
        (_, Some(CommitmentState::Outvoted {})) => Err(Exit {
            code: EXIT_REJECTED,
            message: format!(
                "the tally this reveal ran outvoted it: a quorum agreed on another result; the \
                 collateral of {} was slashed to the winners and the client",
                task.collateral
            ),
        }
        .into()),
        _ => Ok(()),
    }
}

/// Auction: where the award went after the awardee's reveal failed, from the transaction's
/// events.
fn award_passed_on(tx: &opengpu_client::TxOutcome, market: &str) -> String {
    let awarded: Option<AuctionAwarded> = tx.event(Some(market)).ok().flatten();
    let expired: Option<TaskExpired> = tx.event(Some(market)).ok().flatten();
    match (awarded, expired) {
        (Some(a), _) => format!(
            "the award passed to {} at price {} until height {}",
            a.provider, a.price, a.execute_deadline
        ),
        (None, Some(e)) => format!(
            "nobody was left in line: the task expired and the client got {} back",
            e.refund
        ),
        (None, None) => "the award passed on".into(),
    }
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

/// Auction: whether `provider` may commit a result now. The award is its, and the next block is
/// within its execution window; or an award or hand-over is due at the current height (the
/// market simulates a transaction there, and applies what is due before taking a commit), so
/// the market decides. Refused here: no award yet and none due, an award to someone else
/// whose window is open, or `provider`'s own window is over.
fn check_awardee(task: &TaskInfo, provider: &str, height: u64) -> Result<()> {
    let id = task.id;
    let state = task.auction.clone().unwrap_or_default();
    match &state.award {
        Some(award) if award.provider.as_str() == provider => {
            if height >= award.execute_deadline {
                bail!(
                    "the execution window of {provider} on task {id} ends at height {} and the \
                     chain is at height {height}: a commit can no longer be revealed in time; \
                     the award passes to the next bidder in line (anyone may run `opengpu task \
                     advance {id}` after height {})",
                    award.execute_deadline,
                    award.execute_deadline
                );
            }
            Ok(())
        }
        Some(award) if height <= award.execute_deadline => bail!(
            "task {id} is an auction awarded to {}, who alone may commit a result until height \
             {}; {provider} is not the awardee (`opengpu task bids {id}`)",
            award.provider,
            award.execute_deadline
        ),
        // A hand-over is due: the market applies it first and then decides.
        Some(_) => Ok(()),
        None => {
            let all_open = state.bid_count > 0 && state.revealed_count == state.bid_count;
            let award_due =
                task.bids_closed(height) && (all_open || height > task.bid_reveal_end());
            if award_due {
                return Ok(());
            }
            let phase = if task.bids_closed(height) {
                format!("bids may be opened until height {}", task.bid_reveal_end())
            } else {
                format!("bids are open until height {}", task.deadline_height)
            };
            bail!(
                "task {id} is an auction with no award yet ({phase}): only the awardee commits a \
                 result, within its execution window after the award (`opengpu task bids {id}`)"
            )
        }
    }
}

/// The price sealed in a new commitment: Manual Confirmation requires one, 1 up to the budget;
/// the other models take none.
fn commit_price(task: &TaskInfo, price: Option<&str>) -> Result<Option<Uint128>> {
    match (task.model.takes_price(), price) {
        (true, None) => bail!(
            "task {} is Manual Confirmation: the offer is sealed in the commitment, so pass \
             --price AMOUNT here (1 up to {}{})",
            task.id,
            task.budget,
            task.denom
        ),
        (true, Some(p)) => {
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
        (false, Some(_)) if task.model.is_auction() => bail!(
            "task {} is an auction: the awardee's commitment takes no --price (it is paid the \
             clearing price of its award); a price is bid with `opengpu task bid {} --price \
             AMOUNT`",
            task.id,
            task.id
        ),
        (false, Some(_)) => bail!(
            "task {} is {}: a commitment takes no --price",
            task.id,
            render::model_label(&task.model)
        ),
        (false, None) => Ok(None),
    }
}

/// The price to reveal: the one sealed at commit (from the reveal data). A `--price` given at
/// reveal must equal it.
fn reveal_price(
    task: &TaskInfo,
    sealed: Option<Uint128>,
    given: Option<&str>,
    plan: &Path,
) -> Result<Option<Uint128>> {
    if !task.model.takes_price() {
        if given.is_some() {
            bail!(
                "task {} is {}: a reveal takes no --price",
                task.id,
                render::model_label(&task.model)
            );
        }
        if sealed.is_some() {
            bail!(
                "{} holds a price, but task {} is {} and takes none",
                plan.display(),
                task.id,
                render::model_label(&task.model)
            );
        }
        return Ok(None);
    }
    let Some(sealed) = sealed else {
        bail!(
            "{} holds no price, but task {} is Manual Confirmation: its commitment cannot be \
             opened with an offer",
            plan.display(),
            task.id
        );
    };
    if let Some(given) = given {
        let given = parse_amount_in(given, &task.denom)?;
        if given != sealed {
            bail!(
                "--price {given}{d} differs from the offer of {sealed}{d} sealed in the commitment \
                 at commit time; a sealed offer cannot change (leave --price out to reveal it)",
                d = task.denom
            );
        }
    }
    Ok(Some(sealed))
}

/// Whether a reveal is accepted at `height`: sealed models only once commits are closed, every
/// model only until the commitment's reveal deadline.
fn check_reveal_phase(task: &TaskInfo, reveal_deadline: u64, height: u64) -> Result<()> {
    if task.model.is_sealed() && !task.commits_closed(height) {
        bail!(
            "task {} is {}: its reveals open once commits close, after height {} (or as soon as \
             every committer slot is taken; {} of {} are). The chain is at height {height}: run \
             `opengpu task reveal {}` again after height {} and by height {}",
            task.id,
            render::model_label(&task.model),
            task.deadline_height,
            task.commit_count,
            task.max_committers,
            task.id,
            task.deadline_height,
            reveal_deadline
        );
    }
    if height >= reveal_deadline {
        bail!(
            "the reveal window of this commitment closes at height {reveal_deadline} and the \
             chain is at height {height}: a reveal can no longer be included in time"
        );
    }
    Ok(())
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
            price: Some(Uint128::new(300)),
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

    use super::render::test_task;

    #[test]
    fn manual_confirmation_seals_its_price_at_commit() {
        let mc = test_task(CompetitionModel::ManualConfirmation);
        assert_eq!(
            commit_price(&mc, Some("300uatom")).unwrap(),
            Some(Uint128::new(300))
        );
        assert_eq!(
            commit_price(&mc, Some("300")).unwrap(),
            Some(Uint128::new(300))
        );
        let err = commit_price(&mc, None).unwrap_err().to_string();
        assert!(
            err.contains("pass --price AMOUNT here (1 up to 1000uatom)"),
            "{err}"
        );
        for bad in ["0", "1001uatom"] {
            let err = commit_price(&mc, Some(bad)).unwrap_err().to_string();
            assert!(
                err.contains("between 1 and the task's payment"),
                "{bad}: {err}"
            );
        }
        assert!(commit_price(&mc, Some("300ustake")).is_err(), "wrong denom");
        for model in [
            CompetitionModel::FirstResponse,
            CompetitionModel::Consensus {
                replicas: 3,
                quorum: 2,
                tolerance: None,
            },
            auction_model(),
        ] {
            let task = test_task(model);
            assert_eq!(commit_price(&task, None).unwrap(), None);
            let err = commit_price(&task, Some("300")).unwrap_err().to_string();
            assert!(err.contains("takes no --price"), "{err}");
        }
        let err = commit_price(&test_task(auction_model()), Some("300"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`opengpu task bid 7 --price AMOUNT`"), "{err}");
    }

    fn auction_model() -> CompetitionModel {
        CompetitionModel::Auction {
            bid_reveal_blocks: 5,
            execute_blocks: 20,
        }
    }

    #[test]
    fn only_the_awardee_commits_to_an_auction_within_its_window() {
        use cosmwasm_std::Addr;
        use opengpu_types::auction::Award;
        let mut task = test_task(auction_model());
        // Bidding, then revealing bids: no award yet, none due.
        let err = check_awardee(&task, "wasm1b", 150).unwrap_err().to_string();
        assert!(
            err.contains("no award yet (bids are open until height 200)")
                && err.contains("only the awardee commits"),
            "{err}"
        );
        let state = task.auction.as_mut().unwrap();
        state.bid_count = 2;
        state.revealed_count = 1;
        for height in [202, 205] {
            let err = check_awardee(&task, "wasm1b", height)
                .unwrap_err()
                .to_string();
            assert!(err.contains("bids may be opened until height 205"), "{err}");
        }
        // The bid reveals are over: the market awards first, then decides.
        assert!(check_awardee(&task, "wasm1b", 206).is_ok());
        let state = task.auction.as_mut().unwrap();
        state.award = Some(Award {
            provider: Addr::unchecked("wasm1b"),
            bid_seq: 1,
            bid: Uint128::new(300),
            price: Uint128::new(700),
            awarded_height: 206,
            execute_deadline: 226,
        });
        assert!(check_awardee(&task, "wasm1b", 210).is_ok());
        assert!(check_awardee(&task, "wasm1b", 225).is_ok());
        for height in [210, 226] {
            let err = check_awardee(&task, "wasm1a", height)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("awarded to wasm1b, who alone may commit a result until height 226"),
                "{err}"
            );
        }
        let err = check_awardee(&task, "wasm1b", 226).unwrap_err().to_string();
        assert!(
            err.contains("ends at height 226")
                && err.contains("`opengpu task advance 7` after height 226"),
            "{err}"
        );
        // Another bidder, once the awardee's window is over: the hand-over may make it next.
        assert!(check_awardee(&task, "wasm1a", 227).is_ok());
        // An auction's result reveals as First Response does: a block after the commit, by the
        // end of the execution window.
        assert!(!task.model.is_sealed());
        assert_eq!(reveals_open_after(&task), None);
        assert!(check_reveal_phase(&task, 226, 210).is_ok());
        assert!(check_reveal_phase(&task, 226, 226).is_err());
    }

    #[test]
    fn a_reveal_uses_the_sealed_price_and_refuses_another() {
        let mc = test_task(CompetitionModel::ManualConfirmation);
        let plan = Path::new("plan.json");
        let sealed = Some(Uint128::new(300));
        assert_eq!(reveal_price(&mc, sealed, None, plan).unwrap(), sealed);
        assert_eq!(
            reveal_price(&mc, sealed, Some("300uatom"), plan).unwrap(),
            sealed
        );
        let err = reveal_price(&mc, sealed, Some("250"), plan)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--price 250uatom differs from the offer of 300uatom sealed"),
            "{err}"
        );
        let err = reveal_price(&mc, None, None, plan).unwrap_err().to_string();
        assert!(err.contains("holds no price"), "{err}");

        let first = test_task(CompetitionModel::FirstResponse);
        assert_eq!(reveal_price(&first, None, None, plan).unwrap(), None);
        assert!(reveal_price(&first, None, Some("1"), plan).is_err());
        assert!(reveal_price(&first, sealed, None, plan).is_err());
    }

    #[test]
    fn sealed_reveals_wait_for_commits_to_close() {
        let mut mc = test_task(CompetitionModel::ManualConfirmation);
        mc.commit_count = 1;
        let err = check_reveal_phase(&mc, 250, 150).unwrap_err().to_string();
        assert!(
            err.contains("reveals open once commits close, after height 200")
                && err.contains("1 of 3")
                && err.contains("chain is at height 150"),
            "{err}"
        );
        // At the deadline the next block may still take commits.
        assert!(check_reveal_phase(&mc, 250, 200).is_err());
        assert!(check_reveal_phase(&mc, 250, 201).is_ok());
        // Every slot taken: commits are closed before the deadline.
        mc.commit_count = 3;
        assert!(check_reveal_phase(&mc, 250, 150).is_ok());
        // The last block of the window is the current one: too late for a new transaction.
        let err = check_reveal_phase(&mc, 250, 250).unwrap_err().to_string();
        assert!(err.contains("closes at height 250"), "{err}");
        // First Response reveals during the commit phase.
        let first = test_task(CompetitionModel::FirstResponse);
        assert!(check_reveal_phase(&first, 180, 150).is_ok());
    }

    #[test]
    fn plans_without_a_price_still_load() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.json");
        std::fs::write(
            &path,
            r#"{"chain_id":"c","task_id":1,"provider":"p","outputs":[],"outputs_digest":"00",
                "salt":"01","commitment":"02","commit_txhash":null,"commit_height":null,
                "reveal_txhash":null}"#,
        )
        .unwrap();
        assert_eq!(load_plan(&path, 1, "p").unwrap().price, None);
    }
}
