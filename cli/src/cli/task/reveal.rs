//! `opengpu task commit` and `task reveal`: operating a provider by hand.
//!
//! `commit` hashes the output files, under Manual Confirmation the offered price, and a fresh
//! salt (the recipe of `opengpu_client::reveal`, the daemon's too), saves what the reveal will
//! need in `$OPENGPU_HOME/reveals/<chain-id>/<task>-<provider>.json` *before* broadcasting (a
//! commitment whose salt is lost can never be opened; the file's format is documented in
//! `opengpu_client::reveal`), then sends `Commit`. `reveal` reads that file and the same output
//! files (checking they did not change), checks that the reveal phase is open (sealed models:
//! once commits close), waits for a block after the commit's, and sends `Reveal` with the
//! sealed price.
//!
//! Under Auction the awardee delivers with these same commands, within its execution window:
//! no price (it is paid the clearing price), and the reveal may come a block after the commit,
//! as under First Response (an auction's result is not sealed: only the awardee computes).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use clap::Args;
use cosmwasm_std::Uint128;
use opengpu_client::config::parse_amount_in;
use opengpu_client::reveal::{PlanStore, RevealPlan};
use opengpu_client::Opengpu;
use opengpu_types::events::{
    AuctionAwarded, TaskCommitted, TaskExpired, TaskRevealed, TaskSettled,
};
use opengpu_types::market::{CommitmentState, CompetitionModel, PriceError, TaskInfo};
use opengpu_types::verification::{check_output_shape, ShapeError};
use opengpu_types::TaskId;

use super::render;
use crate::cli::args::read_file;
use crate::cli::output::{tx_json, tx_line};
use crate::cli::{Context, Exit};

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

/// Where the reveal plans of commitments made on `chain_id` are kept.
fn plan_store(home: &Path, chain_id: &str) -> PlanStore {
    PlanStore::new(home.join("reveals").join(chain_id))
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

    let store = plan_store(ctx.home(), &chain_id);
    let path = store.path(a.id, &provider);
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

    let mut plan = RevealPlan::for_files(a.id, &provider, &outputs, price);
    store.save(&plan)?;

    let tx = signer
        .execute(&chain, &contracts.task_market, &plan.commit_msg(), &[])
        .await?;
    plan.commit_txhash = Some(tx.txhash.clone());
    plan.commit_height = Some(tx.height);
    store.save(&plan)?;
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
    let store = plan_store(ctx.home(), &chain_id);
    let path = store.path(a.id, &provider);
    let mut plan = store.load(a.id, &provider)?.ok_or_else(|| {
        anyhow!(
            "no commit data for task {id} by {provider} (looked in {}): commit first with \
             `opengpu task commit {id} --outputs FILE...`",
            path.display(),
            id = a.id
        )
    })?;
    // Reads the output files again (they must not have changed) and checks the plan opens
    // its own commitment.
    let msg = plan.reveal_msg().map_err(|e| match e {
        opengpu_client::Error::PlanDoesNotOpen { .. } => {
            anyhow!("{} does not open its own commitment", path.display())
        }
        e => e.into(),
    })?;

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
    if !plan.opens(&ours.commitment) {
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

    let tx = signer
        .execute(&chain, &contracts.task_market, &msg, &[])
        .await?;
    plan.reveal_txhash = Some(tx.txhash.clone());
    store.save(&plan)?;
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
    ctx.emit(&json, || render::tx_with_events(&tx, market))?;
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
    // The verification contract's rule; a reveal that breaks it is slashed.
    let sizes: Vec<u64> = outputs.iter().map(|(_, data)| data.len() as u64).collect();
    check_output_shape(&task.output_sizes, &sizes).map_err(|e| match e {
        ShapeError::Count { got, expected } => anyhow!(
            "task {} has {expected} output buffers; --outputs names {got} files",
            task.id
        ),
        ShapeError::Size {
            index,
            got,
            expected,
        } => anyhow!(
            "{} has {got} bytes; task {} expects {expected} for this output",
            outputs[index].0.display(),
            task.id
        ),
    })
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

/// The price sealed in a new commitment: the market's rule (`TaskInfo::check_price`: Manual
/// Confirmation requires one, 1 up to the budget; the other models take none), said in the
/// CLI's words.
fn commit_price(task: &TaskInfo, price: Option<&str>) -> Result<Option<Uint128>> {
    let price = price.map(|p| parse_amount_in(p, &task.denom)).transpose()?;
    match task.check_price(price) {
        Ok(()) => Ok(price),
        Err(PriceError::Required { .. }) => bail!(
            "task {} is Manual Confirmation: the offer is sealed in the commitment, so pass \
             --price AMOUNT here (1 up to {}{})",
            task.id,
            task.budget,
            task.denom
        ),
        Err(PriceError::Zero | PriceError::AboveBudget { .. }) => bail!(
            "--price must be between 1 and the task's payment {}{}",
            task.budget,
            task.denom
        ),
        Err(PriceError::NotAccepted { .. }) if task.model.is_auction() => bail!(
            "task {} is an auction: the awardee's commitment takes no --price (it is paid the \
             clearing price of its award); a price is bid with `opengpu task bid {} --price \
             AMOUNT`",
            task.id,
            task.id
        ),
        Err(PriceError::NotAccepted { .. }) => bail!(
            "task {} is {}: a commitment takes no --price",
            task.id,
            render::model_label(&task.model)
        ),
    }
}

/// The price to reveal: the one sealed at commit (from the reveal data), which the market's
/// rule must accept. A `--price` given at reveal must equal it.
fn reveal_price(
    task: &TaskInfo,
    sealed: Option<Uint128>,
    given: Option<&str>,
    plan: &Path,
) -> Result<Option<Uint128>> {
    if let Some(given) = given {
        if !task.model.takes_price() {
            bail!(
                "task {} is {}: a reveal takes no --price",
                task.id,
                render::model_label(&task.model)
            );
        }
        let given = parse_amount_in(given, &task.denom)?;
        if let Some(sealed) = sealed.filter(|sealed| *sealed != given) {
            bail!(
                "--price {given}{d} differs from the offer of {sealed}{d} sealed in the commitment \
                 at commit time; a sealed offer cannot change (leave --price out to reveal it)",
                d = task.denom
            );
        }
    }
    match task.check_price(sealed) {
        Ok(()) => Ok(sealed),
        Err(PriceError::NotAccepted { .. }) => bail!(
            "{} holds a price, but task {} is {} and takes none",
            plan.display(),
            task.id,
            render::model_label(&task.model)
        ),
        Err(PriceError::Required { .. }) => bail!(
            "{} holds no price, but task {} is Manual Confirmation: its commitment cannot be \
             opened with an offer",
            plan.display(),
            task.id
        ),
        Err(e @ (PriceError::Zero | PriceError::AboveBudget { .. })) => bail!(
            "{} holds an offer the market refuses ({e}): its commitment cannot be opened",
            plan.display()
        ),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let err = reveal_price(&mc, Some(Uint128::new(1_001)), None, plan)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("refuses (price 1001 is above the task budget 1000)"),
            "{err}"
        );

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
    fn outputs_must_have_the_tasks_shape_named_by_file() {
        let mut task = test_task(CompetitionModel::FirstResponse);
        task.output_sizes = vec![16, 8];
        let file = |name: &str, len: usize| (PathBuf::from(name), vec![0u8; len]);
        assert!(check_shape(&task, &[file("a.bin", 16), file("b.bin", 8)]).is_ok());
        let err =
            |outputs: &[(PathBuf, Vec<u8>)]| check_shape(&task, outputs).unwrap_err().to_string();
        assert_eq!(
            err(&[file("a.bin", 16)]),
            "task 7 has 2 output buffers; --outputs names 1 files"
        );
        assert_eq!(
            err(&[file("a.bin", 16), file("b.bin", 9)]),
            "b.bin has 9 bytes; task 7 expects 8 for this output"
        );
    }
}
