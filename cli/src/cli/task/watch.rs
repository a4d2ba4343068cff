//! `opengpu task watch`: follow a task until it reaches a final state.

use std::time::Instant;

use anyhow::{bail, Result};
use clap::Args;
use opengpu_client::Opengpu;
use opengpu_types::market::{
    CommitmentInfo, CommitmentState, CompetitionModel, TaskInfo, TaskStatus,
};
use opengpu_types::TaskId;

use super::render;
use crate::cli::{Context, Exit};

#[derive(Args, Debug)]
pub struct WatchArgs {
    /// Task id
    id: TaskId,
    /// Time between two looks at the chain
    #[arg(long, default_value = "1s", value_name = "DURATION")]
    interval: humantime::Duration,
    /// Give up (exit 1) after this long [default: wait until the task is final]
    #[arg(long, value_name = "DURATION")]
    max_wait: Option<humantime::Duration>,
}

/// Exit code when the task was cancelled.
pub const EXIT_CANCELLED: u8 = 2;
/// Exit code when the task expired.
pub const EXIT_EXPIRED: u8 = 3;

pub async fn run(ctx: &mut Context, a: WatchArgs) -> Result<()> {
    let contracts = ctx.contracts()?;
    let chain = ctx.chain().await?.clone();
    let q = Opengpu::new(&chain, &contracts);
    let started = Instant::now();
    let spinner = ctx.spinner(format!("task {}", a.id));
    let say = |line: String| {
        if spinner.is_hidden() {
            if !ctx.json() {
                println!("{line}");
            }
        } else {
            spinner.println(line);
        }
    };
    let mut last_line = String::new();
    let mut last_hint = String::new();
    let stake_denom = q.vault_config().await?.stake_denom;
    let task = loop {
        let task = q.task(a.id).await?.task;
        if task.status.is_final() {
            break task;
        }
        let height = chain.height().await?;
        let offers = q.offers(a.id).await?.offers;
        let line = progress(&task, offers.len(), height);
        if line != last_line {
            say(format!("height {height}: {line}"));
            last_line = line;
        }
        let earlier_open = match offers.iter().map(|o| o.seq).min() {
            Some(best) if task.model == CompetitionModel::FirstResponse => q
                .commitments(a.id)
                .await?
                .iter()
                .filter(|c| c.seq < best && c.state == CommitmentState::Committed {})
                .map(|c| c.reveal_deadline_height)
                .filter(|deadline| *deadline >= height)
                .max(),
            _ => None,
        };
        let hint = hint(&task, offers.len(), earlier_open, height);
        if !hint.is_empty() && hint != last_hint {
            say(hint.clone());
            last_hint = hint;
        }
        spinner.set_message(format!("task {}: {} at height {height}", a.id, task.status));
        if let Some(max) = a.max_wait {
            if started.elapsed() >= *max {
                spinner.finish_and_clear();
                bail!("task {} is still {} after {max}", a.id, task.status);
            }
        }
        tokio::time::sleep(*a.interval).await;
    };
    spinner.finish_and_clear();
    let commitments = q.commitments(a.id).await?;
    finish(ctx, task, &commitments, &stake_denom)
}

fn finish(
    ctx: &Context,
    task: TaskInfo,
    commitments: &[CommitmentInfo],
    stake_denom: &str,
) -> Result<()> {
    let id = task.id;
    ctx.emit(&task, || {
        render::task_fields(&render::TaskView {
            task: &task,
            kernel: None,
            commitments: Some(commitments),
            height: None,
            stake_denom,
        })
    })?;
    match task.status {
        TaskStatus::Settled => Ok(()),
        TaskStatus::Cancelled => Err(Exit {
            code: EXIT_CANCELLED,
            message: format!(
                "task {id} was cancelled by its client before any {}; the payment of {}{} was \
                 refunded",
                if task.model.is_auction() {
                    "bid"
                } else {
                    "commitment"
                },
                task.budget,
                task.denom
            ),
        }
        .into()),
        _ => Err(Exit {
            code: EXIT_EXPIRED,
            message: match task.model {
                CompetitionModel::Auction { .. } => auction_expiry(&task, stake_denom),
                CompetitionModel::Consensus { quorum, .. } => format!(
                    "task {id} expired: no {quorum} agreeing valid results by height {}; the \
                     payment of {}{} was refunded",
                    task.reveals_close_height(),
                    task.budget,
                    task.denom
                ),
                _ => format!(
                    "task {id} expired: no valid result arrived by height {}; the payment of \
                     {}{} was refunded",
                    task.reveals_close_height(),
                    task.budget,
                    task.denom
                ),
            },
        }
        .into()),
    }
}

/// Why an auction expired, and what the client got back.
fn auction_expiry(task: &TaskInfo, stake_denom: &str) -> String {
    let state = task.auction.clone().unwrap_or_default();
    let why = match (state.bid_count, state.handovers) {
        (0, _) => "no provider bid".to_string(),
        (_, 0) => "no valid bid was opened".to_string(),
        (_, handovers) => {
            format!("no bidder delivered a valid result ({handovers} awardee(s) failed in turn)")
        }
    };
    let forfeited = if state.forfeited.is_zero() {
        String::new()
    } else {
        format!(
            ", plus {}{stake_denom} of forfeited collateral",
            state.forfeited
        )
    };
    format!(
        "task {} expired: {why}; the budget of {}{} was refunded{forfeited}",
        task.id, task.budget, task.denom
    )
}

fn progress(task: &TaskInfo, offers: usize, height: u64) -> String {
    if task.model.is_auction() {
        let phases = render::Phases::of(task, None, Some(height));
        let state = task.auction.clone().unwrap_or_default();
        return format!(
            "{}: {} bid(s), {} open; {}",
            task.status,
            state.bid_count,
            state.revealed_count,
            render::auction_phase_line(
                task,
                phases.phase.unwrap_or_default(),
                phases.phase_until_height
            )
        );
    }
    match task.status {
        TaskStatus::Open => format!(
            "open, waiting for commitments until height {}",
            task.deadline_height
        ),
        _ => format!(
            "{}: {} commitment(s), {offers} valid result(s)",
            task.status, task.commit_count
        ),
    }
}

/// What someone must do when the chain will not move the task on by itself. `earlier_open`:
/// under First Response, the last height at which a committer earlier than the best valid
/// result may still reveal.
fn hint(task: &TaskInfo, offers: usize, earlier_open: Option<u64>, height: u64) -> String {
    let id = task.id;
    let reveals_closed = height > task.reveals_close_height();
    match task.model {
        // The progress line names the phase, its end, and who may act.
        CompetitionModel::Auction { .. } => String::new(),
        _ if offers == 0 && reveals_closed => {
            format!("no valid result came in time: anyone may now run `opengpu task expire {id}`")
        }
        _ if offers == 0 && task.status == TaskStatus::Open && height > task.deadline_height => {
            format!(
                "the commit deadline passed; expiry is possible after height {}",
                task.reveals_close_height()
            )
        }
        _ if task.model.is_sealed() && !task.commits_closed(height) && task.commit_count > 0 => {
            format!(
                "commitments are sealed: reveals open after height {} (or once all {} \
                 committer slots are taken)",
                task.deadline_height, task.max_committers
            )
        }
        CompetitionModel::FirstResponse if offers > 0 => match earlier_open {
            Some(until) => format!(
                "a valid result waits for earlier committers, who may reveal until height {until}"
            ),
            None => format!("a valid result waits: anyone may run `opengpu task finalize {id}`"),
        },
        CompetitionModel::ManualConfirmation if offers > 0 => {
            if height > task.confirm_deadline_height() {
                format!("the confirm window is over: anyone may run `opengpu task finalize {id}`")
            } else {
                format!(
                    "offers are in: the client may `opengpu task confirm {id} --provider ADDRESS` \
                     until height {}",
                    task.confirm_deadline_height()
                )
            }
        }
        CompetitionModel::Consensus { .. } if offers > 0 => {
            if reveals_closed {
                format!(
                    "the reveal phase is over: anyone may run `opengpu task finalize {id}` to \
                     tally"
                )
            } else {
                format!(
                    "results are coming in: the tally runs when every committer has revealed, or \
                     with `opengpu task finalize {id}` after height {}",
                    task.reveals_close_height()
                )
            }
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::task::render::test_task;
    use cosmwasm_std::{Addr, Uint128};
    use opengpu_types::auction::Award;

    fn auction() -> TaskInfo {
        test_task(CompetitionModel::Auction {
            bid_reveal_blocks: 5,
            execute_blocks: 20,
        })
    }

    #[test]
    fn an_auctions_progress_is_its_phase_until_its_end() {
        let mut task = auction();
        assert_eq!(
            progress(&task, 0, 150),
            "open: 0 bid(s), 0 open; bidding until height 200"
        );
        task.status = TaskStatus::Committed;
        let state = task.auction.as_mut().unwrap();
        state.bid_count = 2;
        state.revealed_count = 1;
        assert_eq!(
            progress(&task, 0, 203),
            "committed: 2 bid(s), 1 open; revealing bids until height 205"
        );
        assert!(progress(&task, 0, 206).contains("`opengpu task advance 7`"));
        let state = task.auction.as_mut().unwrap();
        state.revealed_count = 2;
        state.award = Some(Award {
            provider: Addr::unchecked("wasm1b"),
            bid_seq: 1,
            bid: Uint128::new(300),
            price: Uint128::new(700),
            awarded_height: 203,
            execute_deadline: 223,
        });
        assert_eq!(
            progress(&task, 0, 210),
            "committed: 2 bid(s), 2 open; executing by wasm1b until height 223"
        );
        // No First Response or Consensus hint misleads an auction's watcher: past the result
        // reveal window of the other models, the auction still runs.
        assert_eq!(hint(&task, 0, None, 260), "");
        assert!(progress(&task, 0, 224).contains("wasm1b did not deliver by height 223"));
    }

    #[test]
    fn an_expired_auction_says_why_and_what_was_refunded() {
        let mut task = auction();
        task.status = TaskStatus::Expired;
        assert_eq!(
            auction_expiry(&task, "ustake"),
            "task 7 expired: no provider bid; the budget of 1000uatom was refunded"
        );
        let state = task.auction.as_mut().unwrap();
        state.bid_count = 2;
        state.forfeited = Uint128::new(100);
        assert_eq!(
            auction_expiry(&task, "ustake"),
            "task 7 expired: no valid bid was opened; the budget of 1000uatom was refunded, plus \
             100ustake of forfeited collateral"
        );
        task.auction.as_mut().unwrap().handovers = 2;
        assert!(auction_expiry(&task, "ustake").contains("2 awardee(s) failed in turn"));
    }
}
