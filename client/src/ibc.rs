//! Two chains joined by IBC, as the command line sees them: the file `just ibc` writes
//! ([`IbcFile`]: the market chain, the home chain, their transfer channel, the relayer), ICS-20
//! transfers ([`MsgTransfer`], sent with [`send_transfer`]) and how one ends ([`TransferEnd`],
//! read from the packet's events on both chains).
//!
//! The home chain has no opengpu contracts: a [`ChainConfig`] for it comes from the IBC file
//! ([`IbcFile::chain_config`]), and the same [`Signer`](crate::tx::Signer) recipe signs for it
//! (one signer per chain: each keeps its own account sequence).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cosmrs::proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmrs::Any;
use cosmwasm_std::{Coin, Uint128};
use opengpu_types::ibc::{ibc_denom, TRANSFER_PORT};
use serde::{Deserialize, Serialize};
use tendermint_rpc::query::Query;

use crate::chain::{ChainClient, TxOutcome};
use crate::config::{ChainConfig, GasPrice};
use crate::error::{Error, Result};
use crate::events::TxEvent;
use crate::tx::Signer;

/// Name of the IBC file in `localnet/addresses/` (next to the deployments, which it is not).
pub const IBC_FILE_NAME: &str = "ibc.json";
/// Protobuf type of an ICS-20 transfer.
pub const MSG_TRANSFER_TYPE_URL: &str = "/ibc.applications.transfer.v1.MsgTransfer";
/// Longest ICS-20 memo ibc-go accepts (`MaximumMemoLength`): a task published from another
/// chain travels in one.
pub const MAX_MEMO_BYTES: usize = 32_768;
/// How long a transfer may wait for a relayer before it times out, unless told otherwise
/// (the default of `wasmd tx ibc-transfer transfer`).
pub const DEFAULT_PACKET_TIMEOUT: Duration = Duration::from_secs(600);

/// One of the two chains of the IBC setup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The chain with the opengpu contracts.
    Market,
    /// The other chain, with its own token (`uhome` on the localnet).
    Home,
}

impl Side {
    pub fn other(self) -> Side {
        match self {
            Side::Market => Side::Home,
            Side::Home => Side::Market,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Side::Market => "market",
            Side::Home => "home",
        }
    }
}

/// What `localnet/ibc-start.sh` (`just ibc`) writes to `localnet/addresses/ibc.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IbcFile {
    pub market: IbcChain,
    pub home: IbcChain,
    /// The home token as it arrives on the market chain (`ibc/...`): what a task paid from the
    /// home chain is escrowed in.
    pub home_token_on_market: String,
    /// The market chain's token as it arrives on the home chain.
    pub market_token_on_home: String,
    pub relayer: RelayerFiles,
}

/// One chain of the pair and its end of the transfer channel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IbcChain {
    pub chain_id: String,
    /// CometBFT RPC endpoint.
    pub rpc: String,
    /// The chain's data directory (its nodes' homes).
    pub home: PathBuf,
    /// The transfer channel's id on this chain.
    pub channel: String,
    /// The chain's own token, the one it sends to the other chain.
    pub token: String,
}

/// Where the relayer keeps its files.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RelayerFiles {
    pub binary: PathBuf,
    pub home: PathBuf,
    /// The relayer's name of the path between the two chains.
    pub path: String,
    pub pid_file: PathBuf,
    pub log: PathBuf,
}

impl IbcFile {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::io(format!("reading the IBC file {}", path.display()), e))?;
        serde_json::from_str(&text)
            .map_err(|e| Error::json(format!("parsing the IBC file {}", path.display()), e))
    }

    /// `localnet/addresses/ibc.json` in `start` or the nearest ancestor that has
    /// `localnet/addresses/` (as [`crate::Deployment::discover`] looks); `Ok(None)` when there
    /// is no such file.
    pub fn discover(start: &Path) -> Result<Option<(PathBuf, Self)>> {
        let Some(dir) = crate::deployment::addresses_dir(start) else {
            return Ok(None);
        };
        let path = dir.join(IBC_FILE_NAME);
        if !path.is_file() {
            return Ok(None);
        }
        let file = Self::load(&path)?;
        Ok(Some((path, file)))
    }

    pub fn chain(&self, side: Side) -> &IbcChain {
        match side {
            Side::Market => &self.market,
            Side::Home => &self.home,
        }
    }

    /// The connection settings of one chain: its RPC endpoint and chain id, `gas_price`, and
    /// the defaults of [`ChainConfig::new`]. The localnet's two chains take the same fees
    /// (`0.025ustake`), so callers pass the market deployment's price unless told otherwise.
    pub fn chain_config(&self, side: Side, gas_price: Option<GasPrice>) -> ChainConfig {
        let chain = self.chain(side);
        ChainConfig {
            chain_id: chain.chain_id.clone(),
            gas_price,
            ..ChainConfig::new(chain.rpc.clone())
        }
    }

    /// The denom that `denom`, sent from `from` over its end of the channel, arrives as on the
    /// other chain: a voucher of this channel goes home as its base denom (the home token on
    /// the market comes back as the home token); a native denom arrives as
    /// `ibc/sha256(transfer/<receiving channel>/<denom>)`. Other `ibc/` denoms came over
    /// another path that this file does not describe.
    pub fn received_denom(&self, from: Side, denom: &str) -> Result<String> {
        let to = self.chain(from.other());
        let (voucher, base) = match from {
            Side::Market => (&self.home_token_on_market, &self.home.token),
            Side::Home => (&self.market_token_on_home, &self.market.token),
        };
        if denom == voucher {
            return Ok(base.clone());
        }
        if denom.starts_with("ibc/") {
            return Err(Error::invalid(
                "denom",
                denom,
                format!(
                    "this voucher did not come over {} (the IBC file knows {voucher} only), so \
                     what it becomes on {} is unknown",
                    self.chain(from).channel,
                    to.chain_id
                ),
            ));
        }
        Ok(ibc_denom(&format!(
            "{TRANSFER_PORT}/{}/{denom}",
            to.channel
        )))
    }
}

/// Revision height and number of a chain (ICS-02 `Height`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Height {
    #[prost(uint64, tag = "1")]
    pub revision_number: u64,
    #[prost(uint64, tag = "2")]
    pub revision_height: u64,
}

/// `ibc.applications.transfer.v1.MsgTransfer` (ICS-20): cosmos-sdk-proto carries no IBC
/// types, so this is its wire form, fields 1 to 8.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MsgTransfer {
    #[prost(string, tag = "1")]
    pub source_port: String,
    #[prost(string, tag = "2")]
    pub source_channel: String,
    #[prost(message, optional, tag = "3")]
    pub token: Option<ProtoCoin>,
    #[prost(string, tag = "4")]
    pub sender: String,
    #[prost(string, tag = "5")]
    pub receiver: String,
    /// Zero: the timeout is the timestamp.
    #[prost(message, optional, tag = "6")]
    pub timeout_height: Option<Height>,
    /// Unix time in nanoseconds, compared with the receiving chain's block time.
    #[prost(uint64, tag = "7")]
    pub timeout_timestamp: u64,
    #[prost(string, tag = "8")]
    pub memo: String,
}

/// What one ICS-20 transfer sends.
#[derive(Clone, Debug)]
pub struct TransferRequest {
    /// The channel id on the sending chain.
    pub channel: String,
    pub coin: Coin,
    pub receiver: String,
    pub memo: String,
    /// How long the packet may wait for a relayer; it times out after that (the coins then
    /// come back to the sender).
    pub timeout: Duration,
}

impl TransferRequest {
    /// The `MsgTransfer` from `sender`, its timeout `self.timeout` after `now`.
    pub fn msg(&self, sender: &str, now: SystemTime) -> Result<Any> {
        if self.memo.len() > MAX_MEMO_BYTES {
            return Err(Error::invalid(
                "memo",
                format!("{} bytes", self.memo.len()),
                format!("an ICS-20 memo holds at most {MAX_MEMO_BYTES} bytes"),
            ));
        }
        let deadline = now
            .checked_add(self.timeout)
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .ok_or_else(|| Error::invalid("timeout", format!("{:?}", self.timeout), "too far"))?;
        let msg = MsgTransfer {
            source_port: TRANSFER_PORT.to_string(),
            source_channel: self.channel.clone(),
            token: Some(ProtoCoin {
                denom: self.coin.denom.clone(),
                amount: self.coin.amount.to_string(),
            }),
            sender: sender.to_string(),
            receiver: self.receiver.clone(),
            timeout_height: None,
            timeout_timestamp: u64::try_from(deadline.as_nanos()).unwrap_or(u64::MAX),
            memo: self.memo.clone(),
        };
        Ok(Any {
            type_url: MSG_TRANSFER_TYPE_URL.to_string(),
            value: prost::Message::encode_to_vec(&msg),
        })
    }
}

/// An ICS-20 transfer included in a block of the sending chain.
#[derive(Clone, Debug, Serialize)]
pub struct SentTransfer {
    pub tx: TxOutcome,
    pub sender: String,
    pub receiver: String,
    pub coin: Coin,
    /// The packet's channel on the sending chain and its sequence there: the packet's name.
    pub source_channel: String,
    pub sequence: u64,
    /// The channel on the receiving chain.
    pub destination_channel: String,
    /// The sender's balance in the sent denom right after the transfer's block.
    pub sender_balance_after: Uint128,
}

/// Sends `request` from `signer`'s account on `chain` and waits for its block.
pub async fn send_transfer(
    signer: &mut Signer,
    chain: &ChainClient,
    request: &TransferRequest,
) -> Result<SentTransfer> {
    let sender = signer.address();
    let msg = request.msg(&sender, SystemTime::now())?;
    let tx = signer.send(chain, vec![msg], "").await?;
    let packet = tx
        .events
        .iter()
        .find(|e| {
            e.kind == "send_packet" && e.attribute("packet_src_channel") == Some(&request.channel)
        })
        .ok_or_else(|| Error::decode("the transfer", "its transaction sent no packet"))?;
    let sequence = packet_sequence(packet)?;
    let destination_channel = packet
        .attribute("packet_dst_channel")
        .unwrap_or_default()
        .to_string();
    let sender_balance_after = chain
        .balance(&sender, &request.coin.denom, Some(tx.height))
        .await?;
    Ok(SentTransfer {
        tx,
        sender,
        receiver: request.receiver.clone(),
        coin: request.coin.clone(),
        source_channel: request.channel.clone(),
        sequence,
        destination_channel,
        sender_balance_after,
    })
}

fn packet_sequence(event: &TxEvent) -> Result<u64> {
    event
        .attribute("packet_sequence")
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Error::decode(format!("a {} event", event.kind), "no packet_sequence"))
}

/// How a packet ended, as its sending chain learnt it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum TransferEnd {
    /// A success acknowledgement: the coins are on the other chain.
    Delivered,
    /// An error acknowledgement: the receiving chain refused the packet (`reason` as its
    /// events say, when they do) and the coins went back to the sender.
    Refused { reason: String },
    /// No relayer delivered it in time: the coins went back to the sender.
    TimedOut,
}

/// Where a packet is seen, on either chain.
#[derive(Clone, Debug)]
pub struct PacketId {
    /// The packet's channel on the sending chain.
    pub source_channel: String,
    /// Its channel on the receiving chain.
    pub destination_channel: String,
    pub sequence: u64,
}

impl From<&SentTransfer> for PacketId {
    fn from(sent: &SentTransfer) -> Self {
        PacketId {
            source_channel: sent.source_channel.clone(),
            destination_channel: sent.destination_channel.clone(),
            sequence: sent.sequence,
        }
    }
}

/// The events one packet caused in one transaction: from the packet's own event
/// (`recv_packet`, `acknowledge_packet`, `timeout_packet`) up to the next packet's, since a
/// relayer batches several packets in one transaction.
fn packet_events<'a>(
    tx: &'a TxOutcome,
    kind: &str,
    channel_key: &str,
    packet: &PacketId,
    channel: &str,
) -> Option<&'a [TxEvent]> {
    let events = &tx.events;
    let start = events.iter().position(|e| {
        e.kind == kind
            && e.attribute(channel_key) == Some(channel)
            && e.attribute("packet_sequence") == Some(packet.sequence.to_string().as_str())
    })?;
    let end = events[start + 1..]
        .iter()
        .position(|e| e.kind == kind)
        .map_or(events.len(), |i| start + 1 + i);
    Some(&events[start..end])
}

/// The relayer transactions on a chain that carry `kind` for the packet.
async fn packet_txs(
    chain: &ChainClient,
    kind: &str,
    channel_key: &str,
    channel: &str,
    sequence: u64,
) -> Result<Vec<TxOutcome>> {
    let query = Query::eq(format!("{kind}.packet_sequence"), sequence.to_string())
        .and_eq(format!("{kind}.{channel_key}"), channel.to_string());
    chain.search_txs(query, 10).await
}

/// The packet as the receiving chain handled it: the events of its `recv_packet`, when a
/// relayer delivered it (the events a contract called back emitted are among them).
pub async fn received(chain: &ChainClient, packet: &PacketId) -> Result<Option<Vec<TxEvent>>> {
    let (kind, key) = ("recv_packet", "packet_dst_channel");
    let txs = packet_txs(
        chain,
        kind,
        key,
        &packet.destination_channel,
        packet.sequence,
    )
    .await?;
    Ok(txs.iter().find_map(|tx| {
        packet_events(tx, kind, key, packet, &packet.destination_channel).map(<[_]>::to_vec)
    }))
}

/// The acknowledgement the receiving chain wrote (`{"result":...}` or `{"error":...}`), from
/// the events of [`received`].
pub fn written_ack(events: &[TxEvent]) -> Option<&str> {
    events
        .iter()
        .find(|e| e.kind == "write_acknowledgement")
        .and_then(|e| e.attribute("packet_ack"))
}

/// What the receiving chain's events say about a refused packet: the error attributes of its
/// events (a callback's error, the application's), else the acknowledgement itself.
pub fn refusal_reason(events: &[TxEvent]) -> Option<String> {
    let mut reasons: Vec<String> = Vec::new();
    for event in events {
        for (key, value) in &event.attributes {
            let key = key.rsplit('-').next().unwrap_or(key);
            // A contract's error reads as the contract wrote it, without the SDK's trailers.
            let value = crate::error::readable_log(value);
            if (key == "error" || key.ends_with("_error"))
                && !value.is_empty()
                && !reasons.contains(&value)
            {
                reasons.push(value);
            }
        }
    }
    if reasons.is_empty() {
        return written_ack(events).map(str::to_string);
    }
    Some(reasons.join("; "))
}

/// How the packet ended, as its sending chain knows it; `None` while it is in flight (no
/// acknowledgement or timeout relayed back yet).
pub async fn ended(chain: &ChainClient, packet: &PacketId) -> Result<Option<TransferEnd>> {
    let (kind, key) = ("acknowledge_packet", "packet_src_channel");
    let acks = packet_txs(chain, kind, key, &packet.source_channel, packet.sequence).await?;
    if let Some(events) = acks
        .iter()
        .find_map(|tx| packet_events(tx, kind, key, packet, &packet.source_channel))
    {
        // The transfer application's own event follows the core's: `success` on a result,
        // `error` on an error acknowledgement.
        let refused = events
            .iter()
            .filter(|e| e.kind == "fungible_token_packet")
            .find_map(|e| e.attribute("error").map(str::to_string));
        return Ok(Some(match refused {
            Some(reason) => TransferEnd::Refused { reason },
            None => TransferEnd::Delivered,
        }));
    }
    let (kind, key) = ("timeout_packet", "packet_src_channel");
    let timeouts = packet_txs(chain, kind, key, &packet.source_channel, packet.sequence).await?;
    if timeouts
        .iter()
        .any(|tx| packet_events(tx, kind, key, packet, &packet.source_channel).is_some())
    {
        return Ok(Some(TransferEnd::TimedOut));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> IbcFile {
        serde_json::from_value(serde_json::json!({
            "market": {"chain_id": "opengpu-local", "rpc": "http://127.0.0.1:26657",
                       "home": "/data/market", "channel": "channel-0", "token": "ustake"},
            "home": {"chain_id": "opengpu-home", "rpc": "http://127.0.0.1:28657",
                     "home": "/data/home", "channel": "channel-3", "token": "uhome"},
            "home_token_on_market": ibc_denom("transfer/channel-0/uhome"),
            "market_token_on_home": ibc_denom("transfer/channel-3/ustake"),
            "relayer": {"binary": "/bin/rly", "home": "/data/rly", "path": "market-home",
                        "pid_file": "/data/rly/rly.pid", "log": "/data/rly/rly.log"}
        }))
        .unwrap()
    }

    #[test]
    fn denoms_arrive_as_vouchers_and_vouchers_go_home() {
        let ibc = sample();
        // The home token arrives on the market as the voucher of the market's channel end.
        assert_eq!(
            ibc.received_denom(Side::Home, "uhome").unwrap(),
            ibc.home_token_on_market
        );
        assert_eq!(
            ibc.received_denom(Side::Market, &ibc.home_token_on_market)
                .unwrap(),
            "uhome"
        );
        assert_eq!(
            ibc.received_denom(Side::Market, "ustake").unwrap(),
            ibc.market_token_on_home
        );
        assert_eq!(
            ibc.received_denom(Side::Home, &ibc.market_token_on_home)
                .unwrap(),
            "ustake"
        );
        assert_eq!(
            ibc.received_denom(Side::Market, "uatom").unwrap(),
            ibc_denom("transfer/channel-3/uatom")
        );
        let err = ibc
            .received_denom(Side::Market, "ibc/0000")
            .unwrap_err()
            .to_string();
        assert!(err.contains("did not come over channel-0"), "{err}");
        let config = ibc.chain_config(Side::Home, Some("0.025ustake".parse().unwrap()));
        assert_eq!(
            (config.rpc.as_str(), config.chain_id.as_str()),
            ("http://127.0.0.1:28657", "opengpu-home")
        );
    }

    #[test]
    fn the_ibc_file_is_found_next_to_the_deployments() {
        let root = tempfile::tempdir().unwrap();
        let nested = root.path().join("x/y");
        std::fs::create_dir_all(&nested).unwrap();
        assert!(IbcFile::discover(&nested).unwrap().is_none());
        let dir = root.path().join("localnet/addresses");
        std::fs::create_dir_all(&dir).unwrap();
        assert!(IbcFile::discover(&nested).unwrap().is_none());
        std::fs::write(
            dir.join(IBC_FILE_NAME),
            serde_json::to_string(&sample()).unwrap(),
        )
        .unwrap();
        let (path, found) = IbcFile::discover(&nested).unwrap().unwrap();
        assert!(path.ends_with("localnet/addresses/ibc.json"));
        assert_eq!(found, sample());
    }

    #[test]
    fn msg_transfer_has_the_ics20_wire_form() {
        let request = TransferRequest {
            channel: "channel-3".into(),
            coin: Coin::new(5000u128, "uhome"),
            receiver: "wasm1market".into(),
            memo: r#"{"dest_callback":{"address":"wasm1market"}}"#.into(),
            timeout: Duration::from_secs(600),
        };
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let any = request.msg("wasm1sender", now).unwrap();
        assert_eq!(any.type_url, "/ibc.applications.transfer.v1.MsgTransfer");
        let msg = <MsgTransfer as prost::Message>::decode(any.value.as_slice()).unwrap();
        assert_eq!(
            (msg.source_port.as_str(), msg.source_channel.as_str()),
            ("transfer", "channel-3")
        );
        let token = msg.token.unwrap();
        assert_eq!(
            (token.denom.as_str(), token.amount.as_str()),
            ("uhome", "5000")
        );
        assert_eq!(
            (msg.sender.as_str(), msg.receiver.as_str()),
            ("wasm1sender", "wasm1market")
        );
        assert_eq!(msg.timeout_timestamp, 1_700_000_600 * 1_000_000_000);
        assert_eq!(msg.timeout_height, None);
        assert_eq!(msg.memo, request.memo);
        // Field numbers as ibc-go's transfer.proto: port 1 (0x0a), channel 2 (0x12), ...
        assert_eq!(&any.value[..2], &[0x0a, 8]);
        let long = TransferRequest {
            memo: "x".repeat(MAX_MEMO_BYTES + 1),
            ..request
        };
        assert!(long.msg("wasm1sender", now).is_err());
    }

    fn event(kind: &str, attrs: &[(&str, &str)]) -> TxEvent {
        TxEvent {
            kind: kind.into(),
            attributes: attrs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn a_packets_events_end_where_the_next_packet_starts() {
        let packet = PacketId {
            source_channel: "channel-3".into(),
            destination_channel: "channel-0".into(),
            sequence: 7,
        };
        let recv = |seq: &str| {
            event(
                "recv_packet",
                &[
                    ("packet_sequence", seq),
                    ("packet_dst_channel", "channel-0"),
                ],
            )
        };
        let tx = TxOutcome {
            txhash: "AB".into(),
            height: 9,
            gas_wanted: 0,
            gas_used: 0,
            events: vec![
                event("update_client", &[]),
                recv("6"),
                event(
                    "write_acknowledgement",
                    &[("packet_ack", r#"{"result":"AQ=="}"#)],
                ),
                recv("7"),
                event(
                    "ibccallbackerror-ibc_dest_callback",
                    &[(
                        "ibccallbackerror-callback_error",
                        "deadline_blocks 0 is outside: execute wasm contract failed",
                    )],
                ),
                event(
                    "write_acknowledgement",
                    &[("packet_ack", r#"{"error":"ABCI code: 1"}"#)],
                ),
                recv("8"),
            ],
        };
        let events = packet_events(
            &tx,
            "recv_packet",
            "packet_dst_channel",
            &packet,
            "channel-0",
        )
        .unwrap();
        assert_eq!(events.len(), 3);
        assert_eq!(written_ack(events), Some(r#"{"error":"ABCI code: 1"}"#));
        assert_eq!(
            refusal_reason(events).as_deref(),
            Some("deadline_blocks 0 is outside")
        );
        let other = PacketId {
            sequence: 9,
            ..packet
        };
        assert!(packet_events(
            &tx,
            "recv_packet",
            "packet_dst_channel",
            &other,
            "channel-0"
        )
        .is_none());
    }
}
