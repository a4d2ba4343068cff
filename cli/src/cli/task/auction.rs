//! `opengpu task bid`, `task reveal-bid`, `task bids` and `task advance`: the sealed-bid
//! auction by hand.
//!
//! `bid` seals a price with a fresh salt ([`SealedBid`], the recipe the daemon uses too), saves
//! it in `$OPENGPU_HOME/bids/<chain-id>/bid-<task>-<provider>.json` *before* broadcasting (a bid
//! whose salt is lost can never be opened, and its collateral is forfeited at the award), then
//! sends `Bid`. `reveal-bid` reads that file once bids close, waits for a block after the bid's,
//! sends `RevealBid`, and deletes the file. The awardee then delivers with the common `task
//! commit` and `task reveal`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _, Result};
use clap::Args;
use cosmwasm_std::Uint128;
use opengpu_client::bid::SealedBid;
use opengpu_client::config::parse_amount_in;
use opengpu_client::Opengpu;
use opengpu_types::auction::{BidInfo, BidState};
use opengpu_types::events::{
    AuctionAwarded, AuctionDefaulted, BidPlaced, BidRevealed, TaskExpired,
};
use opengpu_types::market::TaskInfo;
use opengpu_types::TaskId;

use super::render;
use crate::cli::output::{tx_json, tx_line};
use crate::cli::{Context, Exit};

/// Exit code of `task advance` when nothing is due yet (or the task is already final): the
/// market's "nothing to advance" with its reason on stderr.
pub const EXIT_NOTHING_TO_ADVANCE: u8 = 8;

#[derive(Args, Debug)]
pub struct BidArgs {
    /// Task id
    id: TaskId,
    /// The price asked for executing the task, 1 up to its maximum price (a bare number is in
    /// the task's denom). Sealed with a random salt, saved under --home before the bid is
    /// sent, opened later with `task reveal-bid`; it cannot change
    #[arg(long, value_name = "AMOUNT")]
    price: String,
}

/// Where bids placed on `chain_id` are kept (the files are named by [`SealedBid::path`]).
fn bid_dir(home: &Path, chain_id: &str) -> PathBuf {
    home.join("bids").join(chain_id)
}

/// Creates the bid directory readable by its owner only: a bid's salt gives its price away.
fn create_bid_dir(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))
}

/// The task, when it is an auction; a clear error naming its model when not.
fn ensure_auction(task: &TaskInfo, command: &str) -> Result<()> {
    if task.model.is_auction() {
        return Ok(());
    }
    bail!(
        "task {} is {}, not an auction: `opengpu task {command}` applies to auction tasks \
         (published with --model auction) only",
        task.id,
        render::model_label(&task.model)
    )
}

/// The price of a new bid: 1 up to the task's maximum (a bid outside would be void at reveal).
fn bid_price(task: &TaskInfo, price: &str) -> Result<Uint128> {
    let price = parse_amount_in(price, &task.denom)
        .with_context(|| format!("--price is in the task's denom {}", task.denom))?;
    if price.is_zero() {
        bail!(
            "--price must be at least 1{}: a zero bid is void at reveal",
            task.denom
        );
    }
    if price > task.budget {
        bail!(
            "--price {price}{d} is above task {}'s maximum price {}{d}: such a bid is void at \
             reveal",
            task.id,
            task.budget,
            d = task.denom
        );
    }
    Ok(price)
}

/// Whether a bid sent now can still land in the bidding phase: the next block must be at most
/// the deadline, with a bidder slot free.
fn check_bidding_open(task: &TaskInfo, height: u64) -> Result<()> {
    if task.status.is_final() {
        bail!("task {} is {}: it takes no bids", task.id, task.status);
    }
    if task.bids_closed(height.saturating_add(1)) {
        let bids = task.auction.as_ref().map_or(0, |a| a.bid_count);
        bail!(
            "bids on task {} are closed: they end at height {} or once all {} bidder slots are \
             taken ({bids} are), and the chain is at height {height}",
            task.id,
            task.deadline_height,
            task.max_committers
        );
    }
    Ok(())
}

/// Whether a bid reveal sent now lands in the bid-reveal phase: bids closed by the next block,
/// which is at most the end of bid reveals. Returns the height to wait past before sending
/// (the market simulates a transaction at the current height): the deadline when bids close
/// with the next block, else none.
fn check_bid_reveal_phase(task: &TaskInfo, height: u64) -> Result<Option<u64>> {
    if task.status.is_final() {
        bail!(
            "task {} is {}: its bids can no longer be opened",
            task.id,
            task.status
        );
    }
    let end = task.bid_reveal_end();
    if !task.bids_closed(height.saturating_add(1)) {
        let bids = task.auction.as_ref().map_or(0, |a| a.bid_count);
        bail!(
            "bids on task {} are still open (until height {}, or once all {} bidder slots are \
             taken; {bids} are) and the chain is at height {height}: run `opengpu task \
             reveal-bid {}` after height {} and by height {end}",
            task.id,
            task.deadline_height,
            task.max_committers,
            task.id,
            task.deadline_height,
        );
    }
    if height >= end {
        bail!(
            "the bid reveals of task {} end at height {end} and the chain is at height {height}: \
             the bid can no longer be opened in time (an unopened bid's collateral is forfeited \
             to the client at the award)",
            task.id
        );
    }
    Ok((!task.bids_closed(height)).then_some(task.deadline_height))
}

/// The bid `sealed` opens: `bidder`'s bid on chain, still sealed, with the same commitment.
/// `sealed` is `None` when no bid is saved under `path`.
fn bid_to_open<'a>(
    task: &TaskInfo,
    bids: &'a [BidInfo],
    bidder: &str,
    sealed: Option<&SealedBid>,
    path: &Path,
) -> Result<&'a BidInfo> {
    let id = task.id;
    let ours = bids.iter().find(|b| b.provider.as_str() == bidder);
    let Some(ours) = ours else {
        if sealed.is_some() {
            bail!(
                "{bidder} has no bid on task {id} on chain: the bid saved in {} was never \
                 placed (its transaction failed, or is still pending)",
                path.display()
            );
        }
        bail!(
            "{bidder} has no bid on task {id}, and no bid is saved in {}: bid first with \
             `opengpu task bid {id} --price AMOUNT`",
            path.display()
        );
    };
    if !matches!(ours.state, BidState::Sealed {}) {
        bail!(
            "{bidder}'s bid on task {id} is already {} ({}): nothing to reveal",
            ours.state.name(),
            render::bid_note(task, &ours.state)
        );
    }
    let Some(sealed) = sealed else {
        bail!(
            "no saved bid for task {id} by {bidder} (looked in {}): it was placed with another \
             --home, or the file was lost; without its salt the bid cannot be opened, and its \
             collateral is forfeited to the client at the award",
            path.display()
        );
    };
    if ours.commitment != sealed.commitment() {
        bail!(
            "the bid on chain for task {id} differs from the one saved in {}: it cannot be \
             opened with this file",
            path.display()
        );
    }
    Ok(ours)
}

pub async fn bid(ctx: &mut Context, a: BidArgs) -> Result<()> {
    let contracts = ctx.contracts()?;
    let chain = ctx.chain().await?.clone();
    let chain_id = chain.config().chain_id.clone();
    let (info, mut signer) = ctx.signer().await?;
    let bidder = info.address.clone();
    let q = Opengpu::new(&chain, &contracts);
    let task = q.task(a.id).await?.task;
    ensure_auction(&task, "bid")?;
    let price = bid_price(&task, &a.price)?;
    let stake_denom = q.vault_config().await?.stake_denom;
    check_bidding_open(&task, chain.height().await?)?;
    if let Some(ours) = q
        .bids(a.id)
        .await?
        .into_iter()
        .find(|b| b.provider.as_str() == bidder)
    {
        bail!(
            "{bidder} already bid on task {} (seq {}, {}): one bid per provider; open it with \
             `opengpu task reveal-bid {}` once bids close",
            a.id,
            ours.seq,
            ours.state.name(),
            a.id
        );
    }

    let dir = bid_dir(ctx.home(), &chain_id);
    let sealed = SealedBid::new(a.id, &bidder, price);
    create_bid_dir(&dir)?;
    let path = sealed
        .save(&dir)
        .context("saving the bid before sending it")?;
    let tx = match signer
        .execute(&chain, &contracts.task_market, &sealed.bid_msg(), &[])
        .await
    {
        Ok(tx) => tx,
        Err(e) => {
            // Refused outright: no bid exists, so its file opens nothing. Any other failure (a
            // timeout) may still land: the file stays.
            if matches!(
                e,
                opengpu_client::Error::Simulate(_)
                    | opengpu_client::Error::CheckTx(_)
                    | opengpu_client::Error::TxFailed { .. }
            ) {
                let _ = SealedBid::remove(&dir, a.id, &bidder);
            }
            return Err(anyhow!(e).context(format!("bidding on task {}", a.id)));
        }
    };
    let market = contracts.task_market.as_str();
    let placed: Option<BidPlaced> = tx.event(Some(market))?;
    let seq = placed.as_ref().map(|p| p.seq);
    let end = task.bid_reveal_end();
    let json = tx_json(
        &tx,
        serde_json::json!({
            "task_id": a.id,
            "provider": bidder,
            "price": price,
            "denom": task.denom,
            "commitment": sealed.commitment(),
            "seq": seq,
            "collateral": task.collateral,
            "bid_file": path,
            "bids_until_height": task.deadline_height,
            "bid_reveals_until_height": end,
        }),
    );
    ctx.emit(&json, || {
        let mut lines = vec![tx_line(&tx)];
        lines.extend(render::market_events(&tx, market));
        lines.push(format!(
            "bid of {price}{} sealed in commitment {} (seq {}); collateral {}{stake_denom} locked",
            task.denom,
            sealed.commitment(),
            seq.map_or("?".to_string(), |s| s.to_string()),
            task.collateral
        ));
        lines.push(format!(
            "bid saved in {}; open it with `opengpu task reveal-bid {}` once bids close (after \
             height {}, or when all {} bidder slots are taken) and by height {end}",
            path.display(),
            a.id,
            task.deadline_height,
            task.max_committers
        ));
        lines.join("\n")
    })
}

pub async fn reveal_bid(ctx: &mut Context, id: TaskId) -> Result<()> {
    let contracts = ctx.contracts()?;
    let chain = ctx.chain().await?.clone();
    let chain_id = chain.config().chain_id.clone();
    let (info, mut signer) = ctx.signer().await?;
    let bidder = info.address.clone();
    let q = Opengpu::new(&chain, &contracts);
    let task = q.task(id).await?.task;
    ensure_auction(&task, "reveal-bid")?;
    let dir = bid_dir(ctx.home(), &chain_id);
    let path = SealedBid::path(&dir, id, &bidder);
    let sealed = SealedBid::load(&dir, id, &bidder)?;
    let bids = q.bids(id).await?;
    let ours = bid_to_open(&task, &bids, &bidder, sealed.as_ref(), &path)?;
    let sealed = sealed.expect("bid_to_open checked it");
    let deadline = check_bid_reveal_phase(&task, chain.height().await?)?;
    // The market opens a bid only in a later block than the bid's, once bids are closed.
    let spinner = ctx.spinner("waiting for bids to close");
    let waited = chain
        .wait_for_height_above(
            ours.height.max(deadline.unwrap_or(0)),
            Duration::from_secs(60),
        )
        .await;
    spinner.finish_and_clear();
    waited?;

    let tx = signer
        .execute(&chain, &contracts.task_market, &sealed.reveal_msg(), &[])
        .await
        .with_context(|| format!("opening the bid on task {id}"))?;
    // Opened: the salt no longer matters.
    if let Err(e) = SealedBid::remove(&dir, id, &bidder) {
        eprintln!("warning: {e}");
    }
    let market = contracts.task_market.as_str();
    let revealed: Option<BidRevealed> = tx.event(Some(market))?;
    let awarded: Option<AuctionAwarded> = tx.event(Some(market))?;
    let expired: Option<TaskExpired> = tx.event(Some(market))?;
    let json = tx_json(
        &tx,
        serde_json::json!({
            "task_id": id,
            "provider": bidder,
            "price": sealed.price,
            "valid": revealed.as_ref().map(|r| r.valid),
            "awarded": awarded.as_ref().map(awarded_json),
            "expired": expired.as_ref().map(expired_json),
            "events": render::market_events_json(&tx, market),
        }),
    );
    ctx.emit(&json, || render::tx_with_events(&tx, market))
}

pub async fn bids(ctx: &mut Context, id: TaskId) -> Result<()> {
    let contracts = ctx.contracts()?;
    let chain = ctx.chain().await?;
    let q = Opengpu::new(chain, &contracts);
    let task = q.task(id).await?.task;
    ensure_auction(&task, "bids")?;
    let bids = q.bids(id).await?;
    let stake_denom = q.vault_config().await?.stake_denom;
    let height = chain.height().await?;
    let json = render::bids_json(&task, &bids, height, &stake_denom);
    ctx.emit(&json, || {
        render::bids_text(&task, &bids, height, &stake_denom)
    })
}

pub async fn advance(ctx: &mut Context, id: TaskId) -> Result<()> {
    let contracts = ctx.contracts()?;
    let chain = ctx.chain().await?.clone();
    let q = Opengpu::new(&chain, &contracts);
    let task = q.task(id).await?.task;
    ensure_auction(&task, "advance")?;
    let stake_denom = q.vault_config().await?.stake_denom;
    if task.status.is_final() {
        return Err(Exit {
            code: EXIT_NOTHING_TO_ADVANCE,
            message: format!("task {id} has nothing to advance: it is {}", task.status),
        }
        .into());
    }
    let (_, mut signer) = ctx.signer().await?;
    let msg = opengpu_types::market::ExecuteMsg::Advance { task_id: id };
    let tx = match signer
        .execute(&chain, &contracts.task_market, &msg, &[])
        .await
    {
        Ok(tx) => tx,
        Err(e) => {
            return Err(match nothing_to_advance(&e) {
                Some(reason) => Exit {
                    code: EXIT_NOTHING_TO_ADVANCE,
                    message: format!("task {id} has nothing to advance: {reason}"),
                }
                .into(),
                None => anyhow!(e).context(format!("advancing task {id}")),
            })
        }
    };
    let market = contracts.task_market.as_str();
    let awarded: Vec<AuctionAwarded> = tx.events(Some(market))?;
    let defaulted: Vec<AuctionDefaulted> = tx.events(Some(market))?;
    let expired: Option<TaskExpired> = tx.event(Some(market))?;
    let outcome = advance_outcome(
        !awarded.is_empty(),
        !defaulted.is_empty(),
        expired.is_some(),
    );
    let json = tx_json(
        &tx,
        serde_json::json!({
            "task_id": id,
            "outcome": outcome,
            "awarded": awarded.last().map(awarded_json),
            "defaulted": defaulted.last().map(defaulted_json),
            "expired": expired.as_ref().map(expired_json),
            "events": render::market_events_json(&tx, market),
        }),
    );
    ctx.emit(&json, || {
        let mut lines = vec![tx_line(&tx)];
        lines.extend(render::market_events(&tx, market));
        if let Some(e) = &expired {
            lines.push(format!(
                "no bidder is left in line for task {id}: the client got the budget of {}{} back, \
                 plus {}{stake_denom} of forfeited collateral",
                e.refund, task.denom, e.forfeited
            ));
        }
        lines.join("\n")
    })
}

/// What an `Advance` did: `awarded` (the first award), `handed_over` (an awardee defaulted and
/// the next bidder took the task), `expired` (nobody left: the client refunded), or
/// `advanced` (none of these events: should not happen).
fn advance_outcome(awarded: bool, defaulted: bool, expired: bool) -> &'static str {
    match (awarded, defaulted, expired) {
        (_, _, true) => "expired",
        (true, true, false) => "handed_over",
        (true, false, false) => "awarded",
        _ => "advanced",
    }
}

/// The reason of the market's "task N has nothing to advance: REASON", from a failed
/// simulation or transaction.
fn nothing_to_advance(e: &opengpu_client::Error) -> Option<String> {
    const MARKER: &str = "has nothing to advance: ";
    match e {
        opengpu_client::Error::Simulate(log)
        | opengpu_client::Error::CheckTx(log)
        | opengpu_client::Error::TxFailed { reason: log, .. } => log
            .split_once(MARKER)
            .map(|(_, reason)| reason.trim().to_string()),
        _ => None,
    }
}

fn awarded_json(e: &AuctionAwarded) -> serde_json::Value {
    serde_json::json!({
        "provider": e.provider,
        "bid": e.bid,
        "price": e.price,
        "execute_deadline": e.execute_deadline,
        "round": e.round,
    })
}

fn defaulted_json(e: &AuctionDefaulted) -> serde_json::Value {
    serde_json::json!({
        "provider": e.provider,
        "reason": e.reason,
        "slashed": e.slashed,
    })
}

fn expired_json(e: &TaskExpired) -> serde_json::Value {
    serde_json::json!({
        "refund": e.refund,
        "forfeited": e.forfeited,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::task::render::test_task;
    use cosmwasm_std::{Addr, HexBinary};
    use opengpu_types::market::{CompetitionModel, TaskStatus};

    fn auction() -> TaskInfo {
        test_task(CompetitionModel::Auction {
            bid_reveal_blocks: 5,
            execute_blocks: 20,
        })
    }

    fn on_chain(sealed: &SealedBid, state: BidState) -> BidInfo {
        BidInfo {
            task_id: sealed.task_id,
            provider: Addr::unchecked(&sealed.bidder),
            seq: 0,
            commitment: sealed.commitment(),
            collateral: Uint128::new(100),
            height: 150,
            state,
        }
    }

    #[test]
    fn only_auctions_take_bids() {
        assert!(ensure_auction(&auction(), "bid").is_ok());
        let err = ensure_auction(&test_task(CompetitionModel::FirstResponse), "bid")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "task 7 is First Response, not an auction: `opengpu task bid` applies to auction \
             tasks (published with --model auction) only"
        );
    }

    #[test]
    fn a_bid_price_is_one_up_to_the_maximum_in_the_tasks_denom() {
        let task = auction();
        assert_eq!(bid_price(&task, "300").unwrap(), Uint128::new(300));
        assert_eq!(bid_price(&task, "1000uatom").unwrap(), Uint128::new(1000));
        let err = bid_price(&task, "0").unwrap_err().to_string();
        assert!(err.contains("at least 1uatom: a zero bid is void"), "{err}");
        let err = bid_price(&task, "1001uatom").unwrap_err().to_string();
        assert!(
            err.contains("--price 1001uatom is above task 7's maximum price 1000uatom"),
            "{err}"
        );
        let err = format!("{:#}", bid_price(&task, "300ustake").unwrap_err());
        assert!(err.contains("the task's denom uatom"), "{err}");
        assert!(bid_price(&task, "lots").is_err());
    }

    #[test]
    fn bids_are_placed_until_the_deadline_or_full_slots() {
        let mut task = auction();
        assert!(check_bidding_open(&task, 150).is_ok());
        assert!(check_bidding_open(&task, 199).is_ok());
        // The next block is past the deadline.
        let err = check_bidding_open(&task, 200).unwrap_err().to_string();
        assert!(
            err.contains("end at height 200") && err.contains("chain is at height 200"),
            "{err}"
        );
        task.auction.as_mut().unwrap().bid_count = 3;
        assert!(check_bidding_open(&task, 150).is_err());
        task.status = TaskStatus::Settled;
        let err = check_bidding_open(&task, 150).unwrap_err().to_string();
        assert!(err.contains("is settled: it takes no bids"), "{err}");
    }

    #[test]
    fn bids_open_between_the_close_of_bidding_and_the_reveal_end() {
        let mut task = auction();
        let err = check_bid_reveal_phase(&task, 150).unwrap_err().to_string();
        assert!(
            err.contains("still open (until height 200")
                && err
                    .contains("run `opengpu task reveal-bid 7` after height 200 and by height 205"),
            "{err}"
        );
        // At the deadline, the next block is past it: wait for it (a transaction is simulated
        // at the current height).
        assert_eq!(check_bid_reveal_phase(&task, 200).unwrap(), Some(200));
        assert_eq!(check_bid_reveal_phase(&task, 201).unwrap(), None);
        assert_eq!(check_bid_reveal_phase(&task, 204).unwrap(), None);
        let err = check_bid_reveal_phase(&task, 205).unwrap_err().to_string();
        assert!(err.contains("end at height 205"), "{err}");
        // Every slot taken: bids are closed before the deadline.
        task.auction.as_mut().unwrap().bid_count = 3;
        assert_eq!(check_bid_reveal_phase(&task, 150).unwrap(), None);
    }

    #[test]
    fn a_saved_bid_must_match_a_sealed_bid_on_chain() {
        let task = auction();
        let path = Path::new("bids/local-1/bid-7-wasm1p.json");
        let sealed = SealedBid::new(7, "wasm1p", Uint128::new(300));
        let sealed_on_chain = [on_chain(&sealed, BidState::Sealed {})];
        assert_eq!(
            bid_to_open(&task, &sealed_on_chain, "wasm1p", Some(&sealed), path)
                .unwrap()
                .seq,
            0
        );
        let err = |bids: &[BidInfo], saved: Option<&SealedBid>| {
            bid_to_open(&task, bids, "wasm1p", saved, path)
                .unwrap_err()
                .to_string()
        };
        let e = err(&sealed_on_chain, None);
        assert!(
            e.starts_with(
                "no saved bid for task 7 by wasm1p (looked in bids/local-1/bid-7-wasm1p.json)"
            ) && e.contains("cannot be opened"),
            "{e}"
        );
        let e = err(&[], None);
        assert!(
            e.contains("bid first with `opengpu task bid 7 --price AMOUNT`"),
            "{e}"
        );
        let e = err(&[], Some(&sealed));
        assert!(e.contains("was never placed"), "{e}");
        let opened = [on_chain(
            &sealed,
            BidState::Revealed {
                price: Uint128::new(300),
                height: 201,
            },
        )];
        let e = err(&opened, Some(&sealed));
        assert!(
            e.contains("is already revealed") && e.contains("nothing to reveal"),
            "{e}"
        );
        let other = SealedBid::new(7, "wasm1p", Uint128::new(300));
        let e = err(&sealed_on_chain, Some(&other));
        assert!(e.contains("differs from the one saved"), "{e}");
        // Another provider's bid is not ours.
        let mut theirs = on_chain(&sealed, BidState::Sealed {});
        theirs.provider = Addr::unchecked("wasm1q");
        theirs.commitment = HexBinary::from(vec![0; 32]);
        assert!(err(&[theirs], Some(&sealed)).contains("has no bid on task 7"));
    }

    #[test]
    fn nothing_to_advance_is_read_from_the_markets_error() {
        let simulate = opengpu_client::Error::Simulate(
            "task 7 has nothing to advance: bids are open until height 200".into(),
        );
        assert_eq!(
            nothing_to_advance(&simulate).as_deref(),
            Some("bids are open until height 200")
        );
        let failed = opengpu_client::Error::TxFailed {
            txhash: "AB".into(),
            height: 9,
            reason: "task 7 has nothing to advance: wasm1p may deliver until height 230".into(),
        };
        assert_eq!(
            nothing_to_advance(&failed).as_deref(),
            Some("wasm1p may deliver until height 230")
        );
        let other = opengpu_client::Error::Simulate("task 7 is not an auction".into());
        assert_eq!(nothing_to_advance(&other), None);
        assert_eq!(
            nothing_to_advance(&opengpu_client::Error::NoPassphrase),
            None
        );
    }

    #[test]
    fn advance_outcomes_follow_the_events() {
        assert_eq!(advance_outcome(true, false, false), "awarded");
        assert_eq!(advance_outcome(true, true, false), "handed_over");
        assert_eq!(advance_outcome(false, true, true), "expired");
        assert_eq!(advance_outcome(false, false, true), "expired");
        assert_eq!(advance_outcome(false, false, false), "advanced");
    }

    #[test]
    fn bids_are_kept_per_chain_in_a_private_directory() {
        let home = tempfile::tempdir().unwrap();
        let dir = bid_dir(home.path(), "local-1");
        assert!(dir.ends_with("bids/local-1"));
        create_bid_dir(&dir).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        let sealed = SealedBid::new(7, "wasm1p", Uint128::new(300));
        let path = sealed.save(&dir).unwrap();
        assert_eq!(path, dir.join("bid-7-wasm1p.json"));
        assert_eq!(SealedBid::load(&dir, 7, "wasm1p").unwrap(), Some(sealed));
    }
}
