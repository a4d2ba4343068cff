//! `task publish --from-chain home`: the task travels in the memo of one ICS-20 transfer of its
//! budget, from the --from key on the home chain of `just ibc` to the market, which publishes
//! it in the transfer's destination callback (`TransferMemo::publish`, the memo the market
//! reads). The task's client is then the market itself, with the sender as its remote client:
//! refunds go back over IBC. A task the market refuses fails the callback: the error
//! acknowledgement sends the coins back to the sender.

use std::cell::Cell;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Result};
use cosmwasm_std::{Coin, Uint128};
use opengpu_client::ibc::{
    self, IbcFile, PacketId, SentTransfer, Side, TransferRequest, DEFAULT_PACKET_TIMEOUT,
    MAX_MEMO_BYTES,
};
use opengpu_client::{ChainClient, ContractAddrs, Opengpu};
use opengpu_types::events::{ContractEvent, RemoteTaskPublished};
use opengpu_types::ibc::{TaskDraft, TransferMemo};
use opengpu_types::market::{CompetitionModel, MarketConfig, TaskInfo};

use crate::cli::ibc::{coin_text, follow, not_listed, returned_exit, returned_message, Ended};
use crate::cli::output::tx_line;
use crate::cli::Context;

/// A task published from the home chain.
pub struct RemotePublished {
    pub sent: SentTransfer,
    pub task: TaskInfo,
    pub home_chain_id: String,
    pub market_channel: String,
    /// The sender's balance on the home chain once the task is published.
    pub home_balance: Uint128,
    pub seconds: f64,
}

impl RemotePublished {
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "from_chain": self.home_chain_id,
            "sender": self.sent.sender,
            "sent": self.sent.coin,
            "channel": self.sent.source_channel,
            "sequence": self.sent.sequence,
            "market_channel": self.market_channel,
            "escrowed": Coin::new(self.task.budget, &self.task.denom),
            "sender_balance": Coin::new(self.home_balance, &self.sent.coin.denom),
            "seconds": self.seconds,
        })
    }

    pub fn text(&self) -> String {
        format!(
            "sent {} from {} on {} over {} (packet {}) with the task in its memo; the market \
             published it after {:.1}s ({} left on {})",
            coin_text(&self.sent.coin),
            self.sent.sender,
            self.home_chain_id,
            self.sent.source_channel,
            self.sent.sequence,
            self.seconds,
            Coin::new(self.home_balance, &self.sent.coin.denom),
            self.home_chain_id
        )
    }
}

/// The market-side checks of a publish from the home chain, before anything is sent; returns
/// the denom the budget is escrowed in (what `sent_denom` arrives as on the market chain).
pub fn check(
    ctx: &mut Context,
    config: &MarketConfig,
    model: &CompetitionModel,
    sent_denom: &str,
) -> Result<String> {
    if matches!(model, CompetitionModel::ManualConfirmation) {
        bail!(
            "a Manual Confirmation task needs its client on the market chain to confirm an offer: \
             publish it there (without --from-chain home), or pick another --model"
        );
    }
    let ibc = ctx.ibc()?;
    if !config.ibc.has_channel(&ibc.market.channel) {
        let listed: Vec<String> = config
            .ibc
            .channels
            .iter()
            .map(|c| c.channel_id.clone())
            .collect();
        return Err(not_listed(&ibc.market.channel, &listed));
    }
    Ok(ibc.received_denom(Side::Home, sent_denom)?)
}

/// The memo that publishes `draft` on `market`, within the ICS-20 limit.
fn memo(market: &str, draft: TaskDraft) -> Result<String> {
    let memo = serde_json::to_string(&TransferMemo::publish(market, draft))?;
    if memo.len() > MAX_MEMO_BYTES {
        bail!(
            "the task takes {} bytes in the transfer's memo, and ICS-20 memos hold at most \
             {MAX_MEMO_BYTES}: publish it on the market chain (without --from-chain home), or \
             make its inputs smaller",
            memo.len()
        );
    }
    Ok(memo)
}

/// The task id the market published for `packet`, from the events of the market chain's
/// `recv_packet` transaction (the callback ran inside it), when it published one.
async fn published_task(
    market: &ChainClient,
    market_addr: &str,
    packet: &PacketId,
) -> Result<Option<u64>> {
    let Some(events) = ibc::received(market, packet).await? else {
        return Ok(None);
    };
    for event in &events {
        if event.kind == RemoteTaskPublished::chain_type() && event.contract() == Some(market_addr)
        {
            if let Some(published) = event.typed::<RemoteTaskPublished>() {
                return Ok(Some(published?.task_id));
            }
        }
    }
    Ok(None)
}

/// Sends the budget with the task from the home chain and waits for the task on the market
/// chain; an error of exit code 9 when the coins came back instead.
pub async fn publish(
    ctx: &mut Context,
    market: &ChainClient,
    contracts: &ContractAddrs,
    draft: TaskDraft,
    payment: Coin,
    max_wait: Duration,
) -> Result<RemotePublished> {
    let ibc: IbcFile = ctx.ibc()?.clone();
    let market_addr = contracts.task_market.clone();
    let memo = memo(&market_addr, draft)?;
    let home = ctx.home_chain().await?.clone();
    let (_, mut signer) = ctx.signer().await?;
    let request = TransferRequest {
        channel: ibc.home.channel.clone(),
        coin: payment.clone(),
        receiver: market_addr.clone(),
        memo,
        timeout: DEFAULT_PACKET_TIMEOUT,
    };
    let spinner = ctx.spinner(format!(
        "sending {} with the task from {}",
        coin_text(&payment),
        ibc.home.chain_id
    ));
    let started = Instant::now();
    let task_id = Cell::new(None);
    let followed = async {
        let sent = ibc::send_transfer(&mut signer, &home, &request).await?;
        spinner.set_message(format!(
            "waiting for the market to publish the task of packet {}",
            sent.sequence
        ));
        let packet = PacketId::from(&sent);
        let (task_id, packet, market_addr) = (&task_id, &packet, &market_addr);
        follow(&home, market, sent, max_wait, || async move {
            let found = published_task(market, market_addr, packet).await?;
            task_id.set(found);
            Ok(found.is_some())
        })
        .await
    }
    .await;
    spinner.finish_and_clear();
    let followed = followed?;
    let sent = followed.sent;
    let home_balance = home.balance(&sent.sender, &payment.denom, None).await?;
    if let Ended::Returned { end, reason } = &followed.end {
        let message = returned_message(&sent, end, reason, &ibc.home.chain_id, home_balance);
        let json = serde_json::json!({
            "txhash": sent.tx.txhash,
            "height": sent.tx.height,
            "outcome": "refused",
            "reason": reason,
            "from_chain": ibc.home.chain_id,
            "sender": sent.sender,
            "sent": sent.coin,
            "sequence": sent.sequence,
            "sender_balance": Coin::new(home_balance, &payment.denom),
        });
        ctx.emit(&json, || {
            format!(
                "{}\nsent {} from {} on {} over {} (packet {}): the market did not publish the \
                 task",
                tx_line(&sent.tx),
                coin_text(&sent.coin),
                sent.sender,
                ibc.home.chain_id,
                sent.source_channel,
                sent.sequence
            )
        })?;
        return Err(returned_exit(format!(
            "the market did not publish the task: {message}"
        )));
    }
    // Acknowledged with success: the task is in the market's recv transaction.
    let id = match task_id.get() {
        Some(id) => id,
        None => published_task(market, &market_addr, &PacketId::from(&sent))
            .await?
            .ok_or_else(|| {
                anyhow!(
                    "the market acknowledged packet {} on {} but its events name no published \
                     task",
                    sent.sequence,
                    sent.destination_channel
                )
            })?,
    };
    let task = Opengpu::new(market, contracts).task(id).await?.task;
    Ok(RemotePublished {
        sent,
        task,
        home_chain_id: ibc.home.chain_id.clone(),
        market_channel: ibc.market.channel.clone(),
        home_balance,
        seconds: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use opengpu_types::ibc::OpengpuMemo;
    use opengpu_types::kernel::{Kernel, KernelArg, Requirements};
    use opengpu_types::verification::VerificationPolicy;

    fn draft(output: u64) -> TaskDraft {
        TaskDraft {
            kernel: Kernel {
                source: "__kernel void k(__global uint* out) {}".into(),
                entry_point: "k".into(),
                global_work_size: vec![4],
                local_work_size: None,
                args: vec![KernelArg::Output { size: output }],
            },
            requirements: Requirements::default(),
            collateral: Uint128::new(10),
            deadline_blocks: 50,
            verification: VerificationPolicy::Unverified {},
            model: CompetitionModel::FirstResponse,
        }
    }

    #[test]
    fn the_memo_is_the_markets_publish_memo() {
        let text = memo("wasm1market", draft(16)).unwrap();
        let parsed: TransferMemo = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed.dest_callback.unwrap().address, "wasm1market");
        assert_eq!(parsed.src_callback, None);
        assert_eq!(
            parsed.opengpu,
            Some(OpengpuMemo::Publish(Box::new(draft(16))))
        );
    }

    #[test]
    fn a_task_too_big_for_a_memo_is_refused_before_sending() {
        let mut big = draft(16);
        big.kernel.source = "x".repeat(MAX_MEMO_BYTES);
        let err = memo("wasm1market", big).unwrap_err().to_string();
        assert!(err.contains("ICS-20 memos hold at most 32768"), "{err}");
    }
}
