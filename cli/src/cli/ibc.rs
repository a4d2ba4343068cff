//! `opengpu ibc`: the two chains of `just ibc` (the market chain and the home chain), the
//! relayer between them, and ICS-20 transfers over their channel.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{anyhow, bail, Context as _, Result};
use clap::{Args, Subcommand};
use cosmwasm_std::{Coin, Uint128};
use opengpu_client::config::parse_coin;
use opengpu_client::ibc::{
    self, IbcFile, PacketId, SentTransfer, Side, TransferEnd, TransferRequest,
    DEFAULT_PACKET_TIMEOUT,
};
use opengpu_client::{ChainClient, ChainConfig, Opengpu};
use opengpu_types::market::{PendingTransfer, RemoteClaim, TransferPayee};
use serde::Serialize;

use super::output::{fields, table, tx_line};
use super::{Context, Exit};

/// Exit code when a transfer came back to its sender: refused by the receiving chain (an
/// error acknowledgement, e.g. a task the market would not publish) or timed out.
pub const EXIT_RETURNED: u8 = 9;
/// How often a wait for a transfer asks both chains.
const POLL: Duration = Duration::from_millis(500);
/// Most pending transfers and remote claims `ibc status` lists.
const STATUS_LIMIT: usize = 100;

#[derive(Subcommand, Debug)]
pub enum IbcCommand {
    /// Both chains (id, RPC, height or down, channel), the relayer (running or not, its last
    /// log line), the market's IBC transfers in flight and what it owes remote clients
    Status,
    /// Send coins to the other chain (ICS-20 over the channel of the IBC file), from the
    /// --chain given (default market) with the --from key, and wait until the receiver holds
    /// them (exit 9 when they come back: refused or timed out)
    Transfer(TransferArgs),
}

#[derive(Args, Debug)]
pub struct TransferArgs {
    /// Receiver on the other chain: an address, or a key name (the same key's address there)
    #[arg(long, value_name = "NAME|ADDRESS")]
    to: String,
    /// Coins to send, e.g. 1000uhome from the home chain, or an ibc/ voucher of the other
    /// chain's token to send it back
    #[arg(long, value_name = "AMOUNT")]
    amount: String,
    /// ICS-20 memo (e.g. a task for the market: see `task publish --from-chain home`, which
    /// writes it for you)
    #[arg(long, value_name = "TEXT", default_value = "")]
    memo: String,
    /// How long the packet may wait for a relayer before it times out (the coins then return)
    #[arg(long, value_name = "DURATION", default_value_t = DEFAULT_PACKET_TIMEOUT.into())]
    packet_timeout: humantime::Duration,
    /// How long to wait for the coins to arrive (or come back) before giving up
    #[arg(long, value_name = "DURATION", default_value = "2m")]
    max_wait: humantime::Duration,
}

pub async fn run(ctx: &mut Context, cmd: IbcCommand) -> Result<()> {
    match cmd {
        IbcCommand::Status => status(ctx).await,
        IbcCommand::Transfer(args) => transfer(ctx, args).await,
    }
}

// ---- transfer ----------------------------------------------------------------------------

/// A sent transfer and how the wait for it ended.
pub(super) struct Followed {
    pub sent: SentTransfer,
    pub end: Ended,
}

/// What a wait for a transfer saw first.
pub(super) enum Ended {
    /// The receiving side shows what the caller waited for (the coins, a task).
    Arrived,
    /// The coins are back with the sender: the sending chain heard an error acknowledgement
    /// (`reason` from the receiving chain's events when they say more) or a timeout.
    Returned { end: TransferEnd, reason: String },
}

/// The message of a transfer that came back, and the sender's balance now.
pub(super) fn returned_message(
    sent: &SentTransfer,
    end: &TransferEnd,
    reason: &str,
    from_chain: &str,
    balance: Uint128,
) -> String {
    let how = match end {
        TransferEnd::TimedOut => "the packet timed out before a relayer delivered it".to_string(),
        _ => format!("the receiving chain refused it: {reason}"),
    };
    format!(
        "{how}; {}{} went back to {} on {from_chain} (it holds {balance}{} now)",
        sent.coin.amount, sent.coin.denom, sent.sender, sent.coin.denom
    )
}

/// Waits until `arrived` sees the transfer on the receiving side, or the sending chain learns
/// it came back, for at most `max_wait`. `arrived` is asked first each round: the receiving
/// chain acts before the sending chain hears of it.
pub(super) async fn follow<F, Fut>(
    source: &ChainClient,
    dest: &ChainClient,
    sent: SentTransfer,
    max_wait: Duration,
    mut arrived: F,
) -> Result<Followed>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool>>,
{
    let packet = PacketId::from(&sent);
    let started = Instant::now();
    loop {
        if arrived().await? {
            return Ok(Followed {
                sent,
                end: Ended::Arrived,
            });
        }
        match ibc::ended(source, &packet).await? {
            None => {}
            Some(TransferEnd::Delivered) => {
                // Acknowledged with success: the receiving side has it, even if what the
                // caller looks at changed again meanwhile.
                return Ok(Followed {
                    sent,
                    end: Ended::Arrived,
                });
            }
            Some(end) => {
                let fallback = match &end {
                    TransferEnd::Refused { reason } => reason.clone(),
                    _ => String::new(),
                };
                // The receiving chain's events say why (a contract's error), the sending
                // chain only that there was one.
                let reason = match ibc::received(dest, &packet).await {
                    Ok(Some(events)) => ibc::refusal_reason(&events).unwrap_or(fallback),
                    _ => fallback,
                };
                return Ok(Followed {
                    sent,
                    end: Ended::Returned { end, reason },
                });
            }
        }
        if started.elapsed() >= max_wait {
            bail!(
                "{}{} sent in tx {} (packet {} on {}) has not arrived within {}: is the relayer \
                 running? (`opengpu ibc status`; the coins return to {} if the packet times out)",
                sent.coin.amount,
                sent.coin.denom,
                sent.tx.txhash,
                sent.sequence,
                sent.source_channel,
                humantime::format_duration(max_wait),
                sent.sender
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

#[derive(Serialize)]
struct Balance {
    chain_id: String,
    address: String,
    denom: String,
    before: Uint128,
    after: Uint128,
}

async fn transfer(ctx: &mut Context, args: TransferArgs) -> Result<()> {
    let side = ctx.side();
    let ibc = ctx.ibc()?.clone();
    let coin = parse_coin(&args.amount, None).context("--amount")?;
    let amount = Uint128::try_from(coin.amount)
        .map_err(|_| anyhow!("--amount {} is too large", args.amount))?;
    if amount.is_zero() {
        bail!("--amount must be greater than zero");
    }
    let received_denom = ibc.received_denom(side, &coin.denom)?;
    let receiver = ctx.resolve_address(Some(&args.to))?;
    let source = ctx.chain_of(side).await?.clone();
    let dest = ctx.chain_of(side.other()).await?.clone();
    let (from_chain, to_chain) = (
        ibc.chain(side).chain_id.clone(),
        ibc.chain(side.other()).chain_id.clone(),
    );
    let (_, mut signer) = ctx.signer().await?;
    let sender = signer.address();
    let sender_before = source.balance(&sender, &coin.denom, None).await?;
    let receiver_before = dest.balance(&receiver, &received_denom, None).await?;
    let request = TransferRequest {
        channel: ibc.chain(side).channel.clone(),
        coin: coin.clone(),
        receiver: receiver.clone(),
        memo: args.memo,
        timeout: args.packet_timeout.into(),
    };
    let spinner = ctx.spinner(format!(
        "sending {}{} to {to_chain}",
        coin.amount, coin.denom
    ));
    let started = Instant::now();
    let followed = async {
        let sent = ibc::send_transfer(&mut signer, &source, &request).await?;
        spinner.set_message(format!(
            "waiting for packet {} to reach {to_chain}",
            sent.sequence
        ));
        let target = receiver_before.saturating_add(amount);
        follow(&source, &dest, sent, args.max_wait.into(), || async {
            Ok(dest.balance(&receiver, &received_denom, None).await? >= target)
        })
        .await
    }
    .await;
    spinner.finish_and_clear();
    let Followed { sent, end } = followed?;
    let seconds = started.elapsed().as_secs_f64();
    let balances = [
        Balance {
            chain_id: from_chain.clone(),
            address: sender.clone(),
            denom: coin.denom.clone(),
            before: sender_before,
            after: source.balance(&sender, &coin.denom, None).await?,
        },
        Balance {
            chain_id: to_chain.clone(),
            address: receiver.clone(),
            denom: received_denom.clone(),
            before: receiver_before,
            after: dest.balance(&receiver, &received_denom, None).await?,
        },
    ];
    let (outcome, returned) = match &end {
        Ended::Arrived => ("delivered", None),
        Ended::Returned { end, reason } => (
            match end {
                TransferEnd::TimedOut => "timed_out",
                _ => "refused",
            },
            Some(returned_message(
                &sent,
                end,
                reason,
                &from_chain,
                balances[0].after,
            )),
        ),
    };
    let json = serde_json::json!({
        "txhash": sent.tx.txhash,
        "height": sent.tx.height,
        "gas_wanted": sent.tx.gas_wanted,
        "gas_used": sent.tx.gas_used,
        "from_chain": from_chain,
        "to_chain": to_chain,
        "channel": sent.source_channel,
        "destination_channel": sent.destination_channel,
        "sequence": sent.sequence,
        "sender": sent.sender,
        "receiver": sent.receiver,
        "sent": sent.coin,
        "received_denom": received_denom,
        "outcome": outcome,
        "reason": match &end { Ended::Returned { reason, .. } => Some(reason), _ => None },
        "seconds": seconds,
        "balances": balances,
    });
    ctx.emit(&json, || {
        let mut text = format!(
            "{}\nsent {}{} from {} on {from_chain} over {} (packet {}) to {} on {to_chain}",
            tx_line(&sent.tx),
            coin.amount,
            coin.denom,
            sent.sender,
            sent.source_channel,
            sent.sequence,
            sent.receiver
        );
        match &returned {
            None => text.push_str(&format!("\ndelivered after {seconds:.1}s")),
            Some(message) => text.push_str(&format!("\nNOT delivered: {message}")),
        }
        for b in &balances {
            text.push_str(&format!(
                "\n{} on {}: {}{d} -> {}{d} ({})",
                b.address,
                b.chain_id,
                b.before,
                b.after,
                signed_delta(b.before, b.after),
                d = b.denom
            ));
        }
        text
    })?;
    match returned {
        None => Ok(()),
        Some(message) => Err(returned_exit(message)),
    }
}

/// `+5`, `-5` or `0`.
pub(super) fn signed_delta(before: Uint128, after: Uint128) -> String {
    if after >= before {
        if after == before {
            "0".into()
        } else {
            format!("+{}", after - before)
        }
    } else {
        format!("-{}", before - after)
    }
}

// ---- status ------------------------------------------------------------------------------

#[derive(Serialize)]
struct ChainState {
    side: Side,
    chain_id: String,
    rpc: String,
    channel: String,
    token: String,
    /// `None` when the node does not answer (then `error` says why).
    height: Option<u64>,
    latest_block_time: Option<String>,
    error: Option<String>,
}

#[derive(Serialize)]
struct RelayerState {
    path: String,
    pid: Option<u32>,
    running: bool,
    log: String,
    /// RFC 3339, from the last log line's `ts=`.
    last_log_time: Option<String>,
    last_log_age_seconds: Option<f64>,
    last_log_line: Option<String>,
}

async fn chain_state(ibc: &IbcFile, side: Side) -> ChainState {
    let chain = ibc.chain(side);
    let mut state = ChainState {
        side,
        chain_id: chain.chain_id.clone(),
        rpc: chain.rpc.clone(),
        channel: chain.channel.clone(),
        token: chain.token.clone(),
        height: None,
        latest_block_time: None,
        error: None,
    };
    let probe = async {
        let client = ChainClient::new(ChainConfig::new(chain.rpc.clone()))?;
        let status = client.status().await?;
        if status.chain_id != chain.chain_id {
            bail!("the node is on chain {}", status.chain_id);
        }
        anyhow::Ok(status)
    };
    match tokio::time::timeout(Duration::from_secs(5), probe).await {
        Ok(Ok(status)) => {
            state.height = Some(status.latest_height);
            state.latest_block_time = Some(status.latest_block_time);
        }
        Ok(Err(e)) => state.error = Some(format!("{e:#}")),
        Err(_) => state.error = Some("no answer within 5s".into()),
    }
    state
}

/// Whether `pid` is alive and a relayer (`rly start ...`): a pid file outlives its process.
fn relayer_running(pid: u32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|cmdline| {
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            cmdline.contains("rly") && cmdline.contains(" start ")
        })
        .unwrap_or(false)
}

/// The last non-empty line of a file, reading at most its last 64 KiB.
fn last_line(path: &Path) -> Option<String> {
    let mut file = std::fs::File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    file.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)))
        .ok()?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail).ok()?;
    String::from_utf8_lossy(&tail)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.trim().to_string())
}

/// `ts=2026-11-30T11:27:16.821237Z` of a logfmt line, with its age.
fn log_time(line: &str) -> Option<(String, Option<f64>)> {
    let ts = line
        .split_whitespace()
        .find_map(|field| field.strip_prefix("ts="))?
        .trim_matches('"')
        .to_string();
    let age = humantime::parse_rfc3339_weak(ts.trim_end_matches('Z'))
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .map(|d| d.as_secs_f64());
    Some((ts, age))
}

fn relayer_state(ibc: &IbcFile) -> RelayerState {
    let relayer = &ibc.relayer;
    let pid: Option<u32> = std::fs::read_to_string(&relayer.pid_file)
        .ok()
        .and_then(|s| s.trim().parse().ok());
    let line = last_line(&relayer.log);
    let time = line.as_deref().and_then(log_time);
    RelayerState {
        path: relayer.path.clone(),
        pid,
        running: pid.is_some_and(relayer_running),
        log: relayer.log.display().to_string(),
        last_log_time: time.as_ref().map(|(t, _)| t.clone()),
        last_log_age_seconds: time.and_then(|(_, age)| age),
        last_log_line: line,
    }
}

async fn status(ctx: &mut Context) -> Result<()> {
    let ibc = ctx.ibc()?.clone();
    let ibc_path = ctx.ibc_path().map(|p| p.display().to_string());
    let (market, home) = tokio::join!(
        chain_state(&ibc, Side::Market),
        chain_state(&ibc, Side::Home)
    );
    let relayer = relayer_state(&ibc);
    // The market's side of things, when its chain answers.
    let mut market_error = None;
    let mut pending: Vec<PendingTransfer> = Vec::new();
    let mut remote: Vec<RemoteClaim> = Vec::new();
    if market.height.is_some() {
        let contracts = ctx.contracts()?;
        let read = async {
            let chain = ctx.market_chain().await?;
            let q = Opengpu::new(chain, &contracts);
            let pending = q.pending_transfers(STATUS_LIMIT).await?;
            let remote = q.remote_claims(STATUS_LIMIT).await?;
            anyhow::Ok((pending, remote))
        };
        match read.await {
            Ok((p, r)) => (pending, remote) = (p, r),
            Err(e) => market_error = Some(format!("{e:#}")),
        }
    } else {
        market_error = Some("the market chain does not answer".into());
    }
    let json = serde_json::json!({
        "ibc_file": ibc_path,
        "chains": [market, home],
        "home_token_on_market": ibc.home_token_on_market,
        "market_token_on_home": ibc.market_token_on_home,
        "relayer": relayer,
        "pending_transfers": pending,
        "remote_claims": remote,
        "market_error": market_error,
    });
    ctx.emit(&json, || {
        let chains: Vec<Vec<String>> = [&market, &home]
            .iter()
            .map(|c| {
                vec![
                    c.side.name().to_string(),
                    c.chain_id.clone(),
                    c.rpc.clone(),
                    match (c.height, &c.error) {
                        (Some(h), _) => h.to_string(),
                        (None, Some(e)) => format!("down ({e})"),
                        (None, None) => "down".into(),
                    },
                    c.channel.clone(),
                    c.token.clone(),
                ]
            })
            .collect();
        let mut text = table(
            &["chain", "chain id", "rpc", "height", "channel", "token"],
            &chains,
        );
        let relayer_line = match (relayer.pid, relayer.running) {
            (Some(pid), true) => format!("running (pid {pid}, path {})", relayer.path),
            (Some(pid), false) => format!("NOT running (pid {pid} in its pid file is gone)"),
            (None, _) => "NOT running (no pid file)".into(),
        };
        let last = match (&relayer.last_log_time, relayer.last_log_age_seconds) {
            (Some(t), Some(age)) => format!("{t} ({age:.0}s ago)"),
            (Some(t), None) => t.clone(),
            _ => "none".into(),
        };
        text.push_str(&format!(
            "\n\n{}",
            fields(&[
                (
                    "vouchers",
                    format!(
                        "{} arrives on {} as {}; {} arrives on {} as {}",
                        ibc.home.token,
                        ibc.market.chain_id,
                        ibc.home_token_on_market,
                        ibc.market.token,
                        ibc.home.chain_id,
                        ibc.market_token_on_home
                    )
                ),
                ("relayer", relayer_line),
                ("last log line", last),
                ("relayer log", relayer.log.clone()),
            ])
        ));
        if let Some(e) = &market_error {
            text.push_str(&format!("\n\nmarket: {e}"));
            return text;
        }
        text.push_str("\n\n");
        text.push_str(&pending_text(&pending));
        text.push_str("\n\n");
        text.push_str(&remote_claims_text(&remote));
        text
    })
}

fn pending_text(pending: &[PendingTransfer]) -> String {
    if pending.is_empty() {
        return "pending transfers: none".into();
    }
    let rows: Vec<Vec<String>> = pending
        .iter()
        .map(|t| {
            vec![
                t.id.to_string(),
                t.task_id.map_or("-".into(), |id| id.to_string()),
                match &t.payee {
                    TransferPayee::Provider { provider } => format!("provider {provider}"),
                    TransferPayee::RemoteClient {} => "remote client".into(),
                },
                t.channel.clone(),
                t.receiver.clone(),
                format!("{}{}", t.amount, t.denom),
                t.sent_height.to_string(),
            ]
        })
        .collect();
    format!(
        "pending transfers (the market's, in flight):\n{}",
        table(
            &["id", "task", "payee", "channel", "receiver", "amount", "sent at"],
            &rows
        )
    )
}

fn remote_claims_text(claims: &[RemoteClaim]) -> String {
    if claims.is_empty() {
        return "remote claims: none".into();
    }
    let rows: Vec<Vec<String>> = claims
        .iter()
        .map(|c| {
            vec![
                c.channel.clone(),
                c.receiver.clone(),
                format!("{}{}", c.amount, c.denom),
            ]
        })
        .collect();
    format!(
        "remote claims (owed to clients on other chains; anyone may resend one):\n{}",
        table(&["channel", "receiver", "amount"], &rows)
    )
}

/// The coin as the CLI prints it.
pub(super) fn coin_text(coin: &Coin) -> String {
    format!("{}{}", coin.amount, coin.denom)
}

/// A transfer that ended by coming back, as the CLI's error: exit [`EXIT_RETURNED`].
pub(super) fn returned_exit(message: String) -> anyhow::Error {
    Exit {
        code: EXIT_RETURNED,
        message: format!("error: {message}"),
    }
    .into()
}

/// `anyhow!` for a missing IBC setting of the market, naming the fix.
pub(super) fn not_listed(channel: &str, listed: &[String]) -> anyhow::Error {
    anyhow!(
        "the market takes no IBC traffic on {channel} (its IBC settings list: {}): the owner \
         adds the channel with `update_config` (localnet/ibc-configure.sh does)",
        if listed.is_empty() {
            "none".to_string()
        } else {
            listed.join(", ")
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relayer_log_times_are_read_from_logfmt() {
        let line = r#"ts=2020-11-30T11:27:16.821237Z lvl=info msg="Chain is in sync" chain_id=x"#;
        let (ts, age) = log_time(line).unwrap();
        assert_eq!(ts, "2020-11-30T11:27:16.821237Z");
        assert!(age.unwrap() > 0.0);
        assert_eq!(log_time("no time here"), None);
        assert_eq!(signed_delta(Uint128::new(5), Uint128::new(7)), "+2");
        assert_eq!(signed_delta(Uint128::new(7), Uint128::new(5)), "-2");
        assert_eq!(signed_delta(Uint128::new(7), Uint128::new(7)), "0");
    }

    #[test]
    fn the_last_line_of_a_log() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rly.log");
        assert_eq!(last_line(&path), None);
        std::fs::write(&path, "one\ntwo\n\n").unwrap();
        assert_eq!(last_line(&path).as_deref(), Some("two"));
    }
}
