//! `opengpu task`: publish and follow tasks as a client; commit and reveal as a provider;
//! bid, open bids and advance auctions.

mod auction;
mod kernel_check;
mod manage;
mod publish;
mod remote;
pub(super) mod render;
mod reveal;
mod watch;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Subcommand, ValueEnum};
use opengpu_types::market::TaskStatus;
use opengpu_types::TaskId;

use super::Context;

#[derive(Subcommand, Debug)]
pub enum TaskCommand {
    /// Publish an OpenCL kernel as a task, escrowing its payment; prints the task id
    Publish(Box<publish::PublishArgs>),
    /// Show a task: state, money, rules, the heights of its phases, kernel, commitments,
    /// offers, settlement and its shares; for an auction its bids and award
    Show {
        /// Task id
        id: TaskId,
    },
    /// List tasks, oldest first
    List {
        /// Only tasks in this state
        #[arg(long, value_enum)]
        status: Option<StatusArg>,
        /// Only tasks of this client (key name or address)
        #[arg(long, value_name = "NAME|ADDRESS")]
        client: Option<String>,
        /// List tasks with ids above this one
        #[arg(long, value_name = "ID")]
        start_after: Option<TaskId>,
        /// Most tasks to list
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Follow a task until it is settled (exit 0), cancelled (exit 2) or expired (exit 3); an
    /// auction's phase (bidding, revealing bids, executing by whom) with its end height
    Watch(watch::WatchArgs),
    /// Write a task's result (the winner's outputs) to files
    Result {
        /// Task id
        id: TaskId,
        /// Output file; repeat once per output buffer, or give one FILE and the outputs go
        /// to FILE, FILE.1, FILE.2, ...
        #[arg(long, required = true, value_name = "FILE")]
        out: Vec<PathBuf>,
        /// The outputs this provider revealed instead of the winner's
        #[arg(long, value_name = "ADDRESS")]
        provider: Option<String>,
    },
    /// List a task's valid revealed results (offers)
    Offers {
        /// Task id
        id: TaskId,
    },
    /// Manual Confirmation, client only: accept a provider's offer and settle
    Confirm {
        /// Task id
        id: TaskId,
        /// Provider whose offer to accept
        #[arg(long, value_name = "ADDRESS")]
        provider: String,
    },
    /// Client only, before any commitment (auction: any bid): cancel the task and get the
    /// payment back
    Cancel {
        /// Task id
        id: TaskId,
    },
    /// Anyone, after the deadline with no valid result: refund the client
    Expire {
        /// Task id
        id: TaskId,
    },
    /// Anyone: settle a task whose rules now name a winner
    Finalize {
        /// Task id
        id: TaskId,
    },
    /// Provider: commit to result files, and under Manual Confirmation to a price (a salted
    /// hash; the data stays local until reveal). Under Auction only the awardee commits,
    /// within its execution window, and takes no price (it is paid the clearing price)
    Commit(reveal::CommitArgs),
    /// Provider: reveal what `task commit` sealed, in a later block and, under Manual
    /// Confirmation and Consensus, once commits close (exit 4 when the outputs are proven
    /// wrong or outvoted and the collateral slashed, 7 when refused by the client's reference
    /// hash and the collateral released)
    Reveal(reveal::RevealArgs),
    /// Auction, provider: place a sealed bid (a salted hash of the price, saved under --home
    /// before it is sent); locks the task's collateral. Prints the commitment and the bid's
    /// seq
    Bid(auction::BidArgs),
    /// Auction, provider: open the bid saved by `task bid`, once bids close and before the
    /// bid reveals end; the last bid opened decides the award at once
    RevealBid {
        /// Task id
        id: TaskId,
    },
    /// Auction: list a task's bids (state, price once open, collateral) and its award
    Bids {
        /// Task id
        id: TaskId,
    },
    /// Auction, anyone: apply what the heights now decide: the award once the bid reveals are
    /// over, a hand-over to the next bidder once the awardee missed its execution window, the
    /// client's refund when nobody is left (exit 8 when nothing is due yet, with the reason)
    Advance {
        /// Task id
        id: TaskId,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum StatusArg {
    Open,
    Committed,
    Settled,
    Cancelled,
    Expired,
}

impl From<StatusArg> for TaskStatus {
    fn from(s: StatusArg) -> Self {
        match s {
            StatusArg::Open => TaskStatus::Open,
            StatusArg::Committed => TaskStatus::Committed,
            StatusArg::Settled => TaskStatus::Settled,
            StatusArg::Cancelled => TaskStatus::Cancelled,
            StatusArg::Expired => TaskStatus::Expired,
        }
    }
}

pub async fn run(ctx: &mut Context, cmd: TaskCommand) -> Result<()> {
    match cmd {
        TaskCommand::Publish(args) => publish::run(ctx, *args).await,
        TaskCommand::Show { id } => manage::show(ctx, id).await,
        TaskCommand::List {
            status,
            client,
            start_after,
            limit,
        } => manage::list(ctx, status.map(Into::into), client, start_after, limit).await,
        TaskCommand::Watch(args) => watch::run(ctx, args).await,
        TaskCommand::Result { id, out, provider } => manage::result(ctx, id, out, provider).await,
        TaskCommand::Offers { id } => manage::offers(ctx, id).await,
        TaskCommand::Confirm { id, provider } => manage::confirm(ctx, id, provider).await,
        TaskCommand::Cancel { id } => manage::close(ctx, manage::Close::Cancel, id).await,
        TaskCommand::Expire { id } => manage::close(ctx, manage::Close::Expire, id).await,
        TaskCommand::Finalize { id } => manage::close(ctx, manage::Close::Finalize, id).await,
        TaskCommand::Commit(args) => reveal::commit(ctx, args).await,
        TaskCommand::Reveal(args) => reveal::reveal(ctx, args).await,
        TaskCommand::Bid(args) => auction::bid(ctx, args).await,
        TaskCommand::RevealBid { id } => auction::reveal_bid(ctx, id).await,
        TaskCommand::Bids { id } => auction::bids(ctx, id).await,
        TaskCommand::Advance { id } => auction::advance(ctx, id).await,
    }
}
