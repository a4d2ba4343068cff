//! Where the provider learns about tasks: a CometBFT websocket subscription to the market's
//! events, and a paginated query of every open task after each (re)connect. The subscription
//! is made before the query, so a task published in between shows up in one or both; the
//! daemon drops duplicates. Nothing published while disconnected is missed: the catch-up
//! query finds it.
//!
//! Auctions move by height as much as by transactions (bids close, reveal and execution
//! windows end), so the source also follows new blocks: it reports each height, the auction
//! events (bid placed or opened, award, default) and the task moves (commitments made and
//! opened, tasks ended) of the block's transactions, so that the job following that task
//! looks at once instead of polling. One `NewBlock`
//! subscription carries both: a node serves at most `max_subscriptions_per_client` (5 by
//! default) per connection and silently ignores any beyond (CometBFT answers with an error
//! the client library does not surface), so the source holds exactly five: four task events
//! and new blocks. A block subscription that fails is dropped with a warning, not the session:
//! jobs then fall back to a faster poll.

use std::time::Duration;

use cosmrs::tendermint::abci::types::ExecTxResult;
use cosmrs::tendermint::Hash;
use futures::stream::{SelectAll, StreamExt};
use opengpu_client::error::readable_log;
use opengpu_client::events::{typed_events, TxEvent};
use opengpu_client::{ChainClient, ContractAddrs, Opengpu, TxOutcome};
use opengpu_types::events::{
    AuctionAwarded, AuctionDefaulted, BidPlaced, BidRevealed, ConsensusTallied, ContractEvent,
    TaskCancelled, TaskCommitted, TaskExpired, TaskPublished, TaskRevealed, TaskSettled,
};
use opengpu_types::market::{TaskFilter, TaskStatus};
use opengpu_types::TaskId;
use sha2::{Digest, Sha256};
use tendermint_rpc::client::CompatMode;
use tendermint_rpc::event::{Event, EventData};
use tendermint_rpc::query::{EventType, Query};
use tendermint_rpc::{Subscription, SubscriptionClient, WebSocketClient};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;

/// Most tasks a catch-up reads per status; far above what a market holds open at once.
const CATCH_UP_LIMIT: usize = 10_000;
/// First wait before reconnecting; doubles up to the configured maximum.
const INITIAL_BACKOFF: Duration = Duration::from_secs(1);

/// What the source reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceEvent {
    /// A task that may take commits: just published, or found open by a catch-up.
    Available { task_id: TaskId, via: Via },
    /// A task reached a final state; work on it can stop.
    Ended { task_id: TaskId, status: TaskStatus },
    /// A catch-up finished: every task open at `height` has been reported.
    CaughtUp { open_tasks: usize },
    /// An auction moved: a bid was placed or opened, the task was awarded (`awardee` is set)
    /// or its awardee defaulted.
    Auction {
        task_id: TaskId,
        awardee: Option<String>,
    },
    /// A task moved without ending: a commitment was made or opened. Jobs waiting for
    /// commits to close (the last slot taken) look again.
    Moved { task_id: TaskId },
    /// This block's transactions, each with its outcome: jobs waiting for a transaction of
    /// theirs learn of its inclusion from here rather than by asking the node. Reported
    /// before the block's [`SourceEvent::Block`].
    Included(Vec<Included>),
    /// A new block at this height.
    Block(u64),
}

/// A transaction in a block, with its outcome as the node's `tx` query reports it.
#[derive(Clone, Debug)]
pub struct Included {
    pub hash: Hash,
    pub height: u64,
    /// The outcome; `Err` with the readable reason when it failed in its block.
    pub outcome: Result<TxOutcome, String>,
    /// It failed in its block for want of gas.
    pub out_of_gas: bool,
}

impl PartialEq for Included {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && self.height == other.height
    }
}

impl Eq for Included {}

impl Included {
    /// The outcome as [`opengpu_client::ChainClient::wait_for_tx`] returns it.
    pub fn result(&self) -> opengpu_client::Result<TxOutcome> {
        self.outcome
            .clone()
            .map_err(|reason| opengpu_client::Error::TxFailed {
                txhash: self.hash.to_string(),
                height: self.height,
                reason,
            })
    }

    /// The transactions of a block (`txs`, as its data holds them) with their results, in
    /// the block's order.
    pub fn from_block(height: u64, txs: &[Vec<u8>], results: &[ExecTxResult]) -> Vec<Included> {
        txs.iter()
            .zip(results)
            .map(|(tx, result)| {
                let hash = Hash::Sha256(Sha256::digest(tx).into());
                let outcome = if result.code.is_ok() {
                    Ok(TxOutcome {
                        txhash: hash.to_string(),
                        height,
                        gas_wanted: result.gas_wanted.max(0) as u64,
                        gas_used: result.gas_used.max(0) as u64,
                        events: result.events.iter().map(TxEvent::from).collect(),
                    })
                } else {
                    Err(readable_log(&result.log))
                };
                // The SDK's ErrOutOfGas (codespace sdk, code 11).
                let out_of_gas = result.code.is_err()
                    && ((result.codespace == "sdk" && result.code.value() == 11)
                        || result.log.contains("out of gas"));
                Included {
                    hash,
                    height,
                    outcome,
                    out_of_gas,
                }
            })
            .collect()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    Websocket,
    CatchUp,
}

pub struct EventSource {
    pub websocket_url: String,
    pub chain: ChainClient,
    pub contracts: ContractAddrs,
    pub max_backoff: Duration,
    pub metrics: Metrics,
}

impl EventSource {
    /// Runs until `shutdown` or until the receiver is gone: connect, subscribe, catch up,
    /// follow; on any failure wait (backoff) and start over.
    pub async fn run(self, out: mpsc::Sender<SourceEvent>, shutdown: CancellationToken) {
        let mut backoff = INITIAL_BACKOFF;
        let mut first = true;
        loop {
            if !first {
                self.metrics.reconnects.inc();
            }
            first = false;
            let outcome = tokio::select! {
                _ = shutdown.cancelled() => return,
                outcome = self.session(&out, &mut backoff) => outcome,
            };
            match outcome {
                Ok(()) => return, // the daemon stopped listening
                Err(e) => tracing::warn!(error = %e, retry_in = ?backoff, "event source lost"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(self.max_backoff);
        }
    }

    /// One connection's life. `Ok` only when the receiver is gone.
    async fn session(
        &self,
        out: &mpsc::Sender<SourceEvent>,
        backoff: &mut Duration,
    ) -> anyhow::Result<()> {
        let url = self
            .websocket_url
            .parse()
            .map_err(|e| anyhow::anyhow!("websocket URL {}: {e}", self.websocket_url))?;
        let (client, driver) = WebSocketClient::builder(url)
            .compat_mode(CompatMode::V0_38)
            .build()
            .await?;
        let mut driver = tokio::spawn(driver.run());
        let market = self.contracts.task_market.clone();
        let mut streams = SelectAll::new();
        for kind in [
            TaskPublished::chain_type(),
            TaskSettled::chain_type(),
            TaskExpired::chain_type(),
            TaskCancelled::chain_type(),
        ] {
            let query = Query::from(EventType::Tx)
                .and_eq(format!("{kind}._contract_address"), market.clone());
            streams.push(client.subscribe(query).await?);
        }
        let mut blocks = match client.subscribe(Query::from(EventType::NewBlock)).await {
            Ok(blocks) => Some(blocks),
            Err(e) => {
                tracing::warn!(error = %e, "no block subscription: auction jobs poll for heights");
                None
            }
        };
        tracing::info!(url = %self.websocket_url, "subscribed to market events and new blocks");

        let open_tasks = self.catch_up(out).await?;
        if out
            .send(SourceEvent::CaughtUp { open_tasks })
            .await
            .is_err()
        {
            return Ok(());
        }
        *backoff = INITIAL_BACKOFF; // a full session start: the node is healthy again

        loop {
            tokio::select! {
                next = streams.next() => match next {
                    Some(Ok(event)) => {
                        for reported in self.read(&event) {
                            if out.send(reported).await.is_err() {
                                return Ok(());
                            }
                        }
                    }
                    Some(Err(e)) => anyhow::bail!("subscription error: {e}"),
                    None => anyhow::bail!("subscriptions closed"),
                },
                block = next_block(&mut blocks) => match block {
                    Some(Ok(event)) => {
                        for reported in self.read_block(&event) {
                            if out.send(reported).await.is_err() {
                                return Ok(());
                            }
                        }
                    }
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "block subscription failed: auction jobs poll for heights");
                        blocks = None;
                    }
                    None => blocks = None,
                },
                ended = &mut driver => {
                    let reason = match ended {
                        Ok(Ok(())) => "closed".to_string(),
                        Ok(Err(e)) => e.to_string(),
                        Err(e) => e.to_string(),
                    };
                    anyhow::bail!("websocket connection ended: {reason}");
                }
            }
        }
    }

    /// Reports every task that can still take commits, oldest first.
    async fn catch_up(&self, out: &mpsc::Sender<SourceEvent>) -> anyhow::Result<usize> {
        let market = Opengpu::new(&self.chain, &self.contracts);
        let mut ids = Vec::new();
        for status in [TaskStatus::Open, TaskStatus::Committed] {
            let filter = TaskFilter {
                status: Some(status),
                client: None,
            };
            let tasks = market.tasks(filter, None, CATCH_UP_LIMIT).await?;
            ids.extend(tasks.iter().map(|t| t.id));
        }
        ids.sort_unstable();
        tracing::info!(open = ids.len(), "caught up with open tasks");
        for task_id in &ids {
            let event = SourceEvent::Available {
                task_id: *task_id,
                via: Via::CatchUp,
            };
            if out.send(event).await.is_err() {
                break;
            }
        }
        Ok(ids.len())
    }

    fn read(&self, event: &Event) -> Vec<SourceEvent> {
        let EventData::Tx { tx_result } = &event.data else {
            return Vec::new();
        };
        let events: Vec<TxEvent> = tx_result.result.events.iter().map(TxEvent::from).collect();
        read_market_events(&events, &self.contracts.task_market)
    }
}

/// The next new-block event, or never when there is no block subscription.
async fn next_block(
    blocks: &mut Option<Subscription>,
) -> Option<Result<Event, tendermint_rpc::Error>> {
    match blocks {
        Some(blocks) => blocks.next().await,
        None => std::future::pending().await,
    }
}

impl EventSource {
    /// A new block: the auction events and the task moves ([`read_task_moves`]) of its
    /// successful transactions, then its height (so that a job woken by the height sees the
    /// block's events already reported).
    fn read_block(&self, event: &Event) -> Vec<SourceEvent> {
        let EventData::NewBlock {
            block: Some(block),
            result_finalize_block,
            ..
        } = &event.data
        else {
            return Vec::new();
        };
        let height = block.header.height.value();
        let results = result_finalize_block
            .as_ref()
            .map_or(&[][..], |result| &result.tx_results[..]);
        let mut reported: Vec<SourceEvent> = results
            .iter()
            .filter(|tx| tx.code.is_ok())
            .flat_map(|tx| {
                let events: Vec<TxEvent> = tx.events.iter().map(TxEvent::from).collect();
                let market = &self.contracts.task_market;
                let mut reported = read_auction_events(&events, market);
                reported.extend(read_task_moves(&events, market));
                reported
            })
            .collect();
        let included = Included::from_block(height, &block.data, results);
        if !included.is_empty() {
            reported.push(SourceEvent::Included(included));
        }
        reported.push(SourceEvent::Block(height));
        reported
    }
}

/// The market's task events among one transaction's events, in order.
pub fn read_market_events(events: &[TxEvent], market: &str) -> Vec<SourceEvent> {
    let mut reported = Vec::new();
    let market = Some(market);
    let log = |kind: &str, e: &dyn std::fmt::Display| {
        tracing::warn!(event = kind, error = %e, "unreadable market event ignored");
    };
    match typed_events::<TaskPublished>(events, market) {
        Ok(published) => reported.extend(published.into_iter().map(|e| SourceEvent::Available {
            task_id: e.task_id,
            via: Via::Websocket,
        })),
        Err(e) => log("task_published", &e),
    }
    let mut ended = |task_id, status| reported.push(SourceEvent::Ended { task_id, status });
    match typed_events::<TaskSettled>(events, market) {
        Ok(list) => list
            .iter()
            .for_each(|e| ended(e.task_id, TaskStatus::Settled)),
        Err(e) => log("task_settled", &e),
    }
    match typed_events::<TaskExpired>(events, market) {
        Ok(list) => list
            .iter()
            .for_each(|e| ended(e.task_id, TaskStatus::Expired)),
        Err(e) => log("task_expired", &e),
    }
    match typed_events::<TaskCancelled>(events, market) {
        Ok(list) => list
            .iter()
            .for_each(|e| ended(e.task_id, TaskStatus::Cancelled)),
        Err(e) => log("task_cancelled", &e),
    }
    // A tally settles the task (or expires it when no group reached the quorum), with its
    // own event too: either one ends the task.
    match typed_events::<ConsensusTallied>(events, market) {
        Ok(list) => list.iter().for_each(|e| {
            let status = if e.winners > 0 {
                TaskStatus::Settled
            } else {
                TaskStatus::Expired
            };
            ended(e.task_id, status)
        }),
        Err(e) => log("consensus_tallied", &e),
    }
    reported
}

/// What a block's transactions tell the jobs waiting on a task, beyond publications (which
/// the task subscriptions report): commitments made and opened ([`SourceEvent::Moved`]), and
/// tasks ended (reported by the task subscriptions as well; a duplicate is harmless, and a
/// job waiting on the end of its task does not depend on one path alone).
pub fn read_task_moves(events: &[TxEvent], market: &str) -> Vec<SourceEvent> {
    let mut reported: Vec<SourceEvent> = read_market_events(events, market)
        .into_iter()
        .filter(|e| matches!(e, SourceEvent::Ended { .. }))
        .collect();
    let market = Some(market);
    let log = |kind: &str, e: &dyn std::fmt::Display| {
        tracing::warn!(event = kind, error = %e, "unreadable market event ignored");
    };
    match typed_events::<TaskCommitted>(events, market) {
        Ok(list) => reported.extend(
            list.iter()
                .map(|e| SourceEvent::Moved { task_id: e.task_id }),
        ),
        Err(e) => log("task_committed", &e),
    }
    match typed_events::<TaskRevealed>(events, market) {
        Ok(list) => reported.extend(
            list.iter()
                .map(|e| SourceEvent::Moved { task_id: e.task_id }),
        ),
        Err(e) => log("task_revealed", &e),
    }
    reported
}

/// The market's auction events among one transaction's events, in order of kind.
pub fn read_auction_events(events: &[TxEvent], market: &str) -> Vec<SourceEvent> {
    let mut reported = Vec::new();
    let market = Some(market);
    let log = |kind: &str, e: &dyn std::fmt::Display| {
        tracing::warn!(event = kind, error = %e, "unreadable market event ignored");
    };
    let mut moved = |task_id, awardee| reported.push(SourceEvent::Auction { task_id, awardee });
    match typed_events::<BidPlaced>(events, market) {
        Ok(list) => list.iter().for_each(|e| moved(e.task_id, None)),
        Err(e) => log("bid_placed", &e),
    }
    match typed_events::<BidRevealed>(events, market) {
        Ok(list) => list.iter().for_each(|e| moved(e.task_id, None)),
        Err(e) => log("bid_revealed", &e),
    }
    match typed_events::<AuctionDefaulted>(events, market) {
        Ok(list) => list.iter().for_each(|e| moved(e.task_id, None)),
        Err(e) => log("auction_defaulted", &e),
    }
    match typed_events::<AuctionAwarded>(events, market) {
        Ok(list) => list
            .into_iter()
            .for_each(|e| moved(e.task_id, Some(e.provider))),
        Err(e) => log("auction_awarded", &e),
    }
    reported
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, contract: &str, attrs: &[(&str, &str)]) -> TxEvent {
        let mut attributes = vec![("_contract_address".to_string(), contract.to_string())];
        attributes.extend(attrs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        TxEvent {
            kind: kind.into(),
            attributes,
        }
    }

    #[test]
    fn only_the_markets_task_events_are_reported() {
        let published = [
            ("action", "publish_task"),
            ("task_id", "7"),
            ("client", "wasm1client"),
            ("model", "first_response"),
            ("denom", "uatom"),
            ("amount", "100"),
            ("collateral", "10"),
            ("deadline", "99"),
        ];
        let settled = [
            ("action", "reveal"),
            ("task_id", "3"),
            ("winner", "wasm1p"),
            ("amount", "99"),
            ("fee", "1"),
            ("refund", "0"),
        ];
        let events = vec![
            event("wasm-task_published", "wasm1market", &published),
            event("wasm-task_published", "wasm1impostor", &published),
            event("wasm-task_settled", "wasm1market", &settled),
        ];
        assert_eq!(
            read_market_events(&events, "wasm1market"),
            vec![
                SourceEvent::Available {
                    task_id: 7,
                    via: Via::Websocket
                },
                SourceEvent::Ended {
                    task_id: 3,
                    status: TaskStatus::Settled
                },
            ]
        );
    }

    #[test]
    fn a_blocks_commits_reveals_and_task_ends_are_reported_for_waiting_jobs() {
        let committed = [
            ("task_id", "4"),
            ("provider", "wasm1p"),
            ("seq", "2"),
            ("reveal_deadline", "140"),
        ];
        let revealed = [
            ("task_id", "5"),
            ("provider", "wasm1p"),
            ("valid", "true"),
            ("price", "0"),
            ("outcome", "valid"),
        ];
        let tallied = |task_id, winners| {
            [
                ("task_id", task_id),
                ("groups", "1"),
                ("winners", winners),
                ("outvoted", "0"),
            ]
        };
        let expired = [("task_id", "8"), ("refund", "100"), ("forfeited", "0")];
        let published = [
            ("task_id", "9"),
            ("client", "wasm1client"),
            ("model", "first_response"),
            ("denom", "uatom"),
            ("amount", "100"),
            ("collateral", "10"),
            ("deadline", "99"),
        ];
        let events = vec![
            event("wasm-task_committed", "wasm1market", &committed),
            event("wasm-task_committed", "wasm1impostor", &committed),
            event("wasm-task_revealed", "wasm1market", &revealed),
            event("wasm-consensus_tallied", "wasm1market", &tallied("6", "2")),
            event("wasm-consensus_tallied", "wasm1market", &tallied("7", "0")),
            event("wasm-task_expired", "wasm1market", &expired),
            event("wasm-task_published", "wasm1market", &published),
        ];
        let ended = |task_id, status| SourceEvent::Ended { task_id, status };
        assert_eq!(
            read_task_moves(&events, "wasm1market"),
            vec![
                ended(8, TaskStatus::Expired),
                ended(6, TaskStatus::Settled),
                ended(7, TaskStatus::Expired),
                SourceEvent::Moved { task_id: 4 },
                SourceEvent::Moved { task_id: 5 },
            ],
            "publications are left to the task subscriptions"
        );
        // A tally ends its task among the subscriptions' events too.
        assert!(read_market_events(&events, "wasm1market").contains(&ended(6, TaskStatus::Settled)));
    }

    #[test]
    fn a_blocks_transactions_are_reported_by_hash_with_their_outcome() {
        use cosmrs::tendermint::abci::Code;
        let ok = ExecTxResult {
            gas_wanted: 200,
            gas_used: 150,
            events: vec![cosmrs::tendermint::abci::Event::new(
                "wasm-task_committed",
                [("task_id", "4")],
            )],
            ..Default::default()
        };
        let failed = ExecTxResult {
            code: Code::from(5),
            codespace: "wasm".into(),
            log: "failed to execute message; message index: 0: task 4 is settled: execute wasm \
                  contract failed"
                .into(),
            ..Default::default()
        };
        let out_of_gas = ExecTxResult {
            code: Code::from(11),
            codespace: "sdk".into(),
            log: "out of gas in location: wasm contract; gasWanted: 10, gasUsed: 12: out of gas"
                .into(),
            ..Default::default()
        };
        let txs = vec![b"tx one".to_vec(), b"tx two".to_vec(), b"tx three".to_vec()];
        let included = Included::from_block(9, &txs, &[ok, failed, out_of_gas]);
        assert_eq!(included.len(), 3);
        // The hash a broadcast returns: SHA-256 of the transaction's bytes.
        let expected = Hash::Sha256(Sha256::digest(b"tx one").into());
        assert_eq!(included[0].hash, expected);
        let tx = included[0].result().expect("succeeded");
        assert_eq!((tx.height, tx.gas_used, tx.gas_wanted), (9, 150, 200));
        assert_eq!(tx.events[0].kind, "wasm-task_committed");
        match included[1].result() {
            Err(opengpu_client::Error::TxFailed { height, reason, .. }) => {
                assert_eq!((height, reason.as_str()), (9, "task 4 is settled"));
            }
            other => panic!("{other:?}"),
        }
        assert!(!included[1].out_of_gas);
        assert!(included[2].out_of_gas);
    }

    #[test]
    fn auction_events_are_reported_with_the_awardee() {
        let revealed = [
            ("task_id", "9"),
            ("provider", "wasm1p"),
            ("price", "300"),
            ("valid", "true"),
        ];
        let awarded = [
            ("task_id", "9"),
            ("provider", "wasm1p"),
            ("bid", "300"),
            ("price", "500"),
            ("execute_deadline", "140"),
            ("round", "0"),
        ];
        let placed = [("task_id", "9"), ("provider", "wasm1q"), ("seq", "1")];
        let events = vec![
            event("wasm-bid_revealed", "wasm1market", &revealed),
            event("wasm-auction_awarded", "wasm1market", &awarded),
            event("wasm-auction_awarded", "wasm1impostor", &awarded),
            event("wasm-bid_placed", "wasm1market", &placed),
        ];
        assert_eq!(
            read_auction_events(&events, "wasm1market"),
            vec![
                SourceEvent::Auction {
                    task_id: 9,
                    awardee: None
                },
                SourceEvent::Auction {
                    task_id: 9,
                    awardee: None
                },
                SourceEvent::Auction {
                    task_id: 9,
                    awardee: Some("wasm1p".into())
                },
            ]
        );
    }
}
