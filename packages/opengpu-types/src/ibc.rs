//! Cross-chain payments over IBC (ICS-20): a provider's payout route, the market's IBC
//! settings, a remote client, and the memos the market writes and reads.
//!
//! - **Payouts home**: a winner whose profile names a [`PayoutRoute`] is paid by an ICS-20
//!   transfer over that channel when the payment's denom may travel on it
//!   ([`IbcSettings::may_send`]); the transfer's memo asks for a source callback
//!   ([`TransferMemo::payout`]), so the market learns the acknowledgement or timeout and, on
//!   failure, credits the amount to the provider's claim. Other denoms are paid locally.
//! - **Publish from another chain**: an ICS-20 transfer to the market whose memo carries a
//!   [`TaskDraft`] and a destination callback ([`TransferMemo::publish`]) publishes the task
//!   with the received coins; the remote sender is the task's [`RemoteClient`] and every
//!   payment owed to it goes back over the same channel.

use cosmwasm_schema::cw_serde;
use cosmwasm_std::Uint128;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::kernel::{Kernel, Requirements};
use crate::market::CompetitionModel;
use crate::verification::VerificationPolicy;

/// The ICS-20 port on both chains.
pub const TRANSFER_PORT: &str = "transfer";
/// Most channels the market lists; bounds every lookup.
pub const MAX_IBC_CHANNELS: usize = 10;
/// Most denoms one channel lists.
pub const MAX_DENOMS_PER_CHANNEL: usize = 10;
/// Bounds of `transfer_timeout_seconds`: long enough for a relayer to act, at most a week.
pub const TRANSFER_TIMEOUT_SECONDS: std::ops::RangeInclusive<u64> = 10..=604_800;
/// Default time an outgoing transfer waits for a relayer before it times out.
pub const DEFAULT_TRANSFER_TIMEOUT_SECONDS: u64 = 600;
/// Longest remote address accepted (bech32 addresses are at most 90 characters; some chains
/// use longer hex forms).
pub const MAX_REMOTE_ADDRESS_LEN: usize = 128;

/// Why an IBC field is malformed.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum IbcError {
    #[error("{0:?} is not a channel id (channel-<number>)")]
    BadChannel(String),
    #[error("{0:?} is not an address on another chain (1 to 128 letters and digits)")]
    BadRemoteAddress(String),
    #[error("at most {MAX_IBC_CHANNELS} channels and {MAX_DENOMS_PER_CHANNEL} denoms per channel")]
    TooMany,
    #[error("channel {0} is listed twice")]
    DuplicateChannel(String),
    #[error("transfer_timeout_seconds must be within {min}..={max}", min = TRANSFER_TIMEOUT_SECONDS.start(), max = TRANSFER_TIMEOUT_SECONDS.end())]
    BadTimeout,
    #[error(transparent)]
    Denom(#[from] crate::denom::InvalidDenom),
}

/// `channel-<n>`, the form ibc-go gives every channel id.
pub fn validate_channel_id(channel: &str) -> Result<(), IbcError> {
    let number = channel.strip_prefix("channel-").unwrap_or("");
    if number.is_empty() || number.len() > 20 || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(IbcError::BadChannel(channel.to_string()));
    }
    Ok(())
}

/// An address on another chain cannot be checked against its bech32 prefix here; it must at
/// least be one plain token (letters and digits), so it cannot smuggle JSON or spaces.
pub fn validate_remote_address(address: &str) -> Result<(), IbcError> {
    if address.is_empty()
        || address.len() > MAX_REMOTE_ADDRESS_LEN
        || !address.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(IbcError::BadRemoteAddress(address.to_string()));
    }
    Ok(())
}

/// Where a provider wants its winnings: `receiver` on the chain at the other end of `channel`
/// (a channel id on the market chain).
#[cw_serde]
pub struct PayoutRoute {
    pub channel: String,
    pub receiver: String,
}

impl PayoutRoute {
    pub fn validate(&self) -> Result<(), IbcError> {
        validate_channel_id(&self.channel)?;
        validate_remote_address(&self.receiver)
    }
}

/// A channel the market sends over, with the denoms that may travel on it to providers (e.g.
/// the voucher of the home chain's token, which arrives there as the token itself).
#[cw_serde]
pub struct IbcChannel {
    pub channel_id: String,
    pub denoms: Vec<String>,
}

/// The market's IBC settings (owner-set). No channel: every payment is local and no remote
/// publish is accepted.
#[cw_serde]
pub struct IbcSettings {
    pub channels: Vec<IbcChannel>,
    /// How long an outgoing transfer waits for a relayer before it times out (and the coins
    /// come back to the market, credited to the payee's claim).
    pub transfer_timeout_seconds: u64,
}

impl Default for IbcSettings {
    fn default() -> Self {
        IbcSettings {
            channels: vec![],
            transfer_timeout_seconds: DEFAULT_TRANSFER_TIMEOUT_SECONDS,
        }
    }
}

impl IbcSettings {
    pub fn validate(&self) -> Result<(), IbcError> {
        if self.channels.len() > MAX_IBC_CHANNELS
            || self
                .channels
                .iter()
                .any(|c| c.denoms.len() > MAX_DENOMS_PER_CHANNEL)
        {
            return Err(IbcError::TooMany);
        }
        if !TRANSFER_TIMEOUT_SECONDS.contains(&self.transfer_timeout_seconds) {
            return Err(IbcError::BadTimeout);
        }
        for (i, channel) in self.channels.iter().enumerate() {
            validate_channel_id(&channel.channel_id)?;
            if self.channels[..i]
                .iter()
                .any(|c| c.channel_id == channel.channel_id)
            {
                return Err(IbcError::DuplicateChannel(channel.channel_id.clone()));
            }
            for denom in &channel.denoms {
                crate::denom::validate_denom(denom)?;
            }
        }
        Ok(())
    }

    /// Whether the market uses `channel` at all (payouts and remote publishing).
    pub fn has_channel(&self, channel: &str) -> bool {
        self.channels.iter().any(|c| c.channel_id == channel)
    }

    /// Whether a provider's payment in `denom` goes out over `channel`.
    pub fn may_send(&self, channel: &str, denom: &str) -> bool {
        self.channels
            .iter()
            .any(|c| c.channel_id == channel && c.denoms.iter().any(|d| d == denom))
    }
}

/// The client of a task published from another chain: `sender` there, reached over `channel`
/// (the market chain's end).
#[cw_serde]
pub struct RemoteClient {
    pub channel: String,
    pub sender: String,
}

/// What a task publish carries, without the funds: the body of `PublishTask`, and what a
/// remote client puts in its transfer's memo.
#[cw_serde]
pub struct TaskDraft {
    pub kernel: Kernel,
    #[serde(default)]
    pub requirements: Requirements,
    pub collateral: Uint128,
    pub deadline_blocks: u64,
    pub verification: VerificationPolicy,
    pub model: CompetitionModel,
}

/// `{"address": ...}` of ibc-go's callbacks middleware (the gas limit defaults to the chain's
/// maximum for callbacks).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct CallbackAddress {
    pub address: String,
}

/// What opengpu puts in a memo.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum OpengpuMemo {
    /// An outgoing payment of the market, numbered (see the market's `PendingTransfers`).
    Transfer { id: u64 },
    /// A remote client's task.
    Publish(Box<TaskDraft>),
}

/// An ICS-20 memo as the callbacks middleware and opengpu read it; absent keys are left out.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct TransferMemo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_callback: Option<CallbackAddress>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dest_callback: Option<CallbackAddress>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opengpu: Option<OpengpuMemo>,
}

impl TransferMemo {
    /// The memo of the market's own transfer number `id`: the market hears how it ends.
    pub fn payout(market: &str, id: u64) -> TransferMemo {
        TransferMemo {
            src_callback: Some(CallbackAddress {
                address: market.to_string(),
            }),
            dest_callback: None,
            opengpu: Some(OpengpuMemo::Transfer { id }),
        }
    }

    /// The memo a remote client sends with its funds to publish `draft` on `market`.
    pub fn publish(market: &str, draft: TaskDraft) -> TransferMemo {
        TransferMemo {
            src_callback: None,
            dest_callback: Some(CallbackAddress {
                address: market.to_string(),
            }),
            opengpu: Some(OpengpuMemo::Publish(Box::new(draft))),
        }
    }
}

/// ICS-20 v1 packet data (`FungibleTokenPacketData`), as JSON on the wire.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Ics20Packet {
    pub denom: String,
    pub amount: Uint128,
    pub sender: String,
    pub receiver: String,
    #[serde(default)]
    pub memo: String,
}

/// An ICS-20 acknowledgement: `{"result": "AQ=="}` on success, `{"error": "..."}` otherwise.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Ics20Ack {
    Result(cosmwasm_std::Binary),
    Error(String),
}

/// `ibc/` + the upper-case hex sha256 of a full denom path (`transfer/channel-0/uhome`).
pub fn ibc_denom(path: &str) -> String {
    let hash = Sha256::digest(path.as_bytes());
    let hex: String = hash.iter().map(|b| format!("{b:02X}")).collect();
    format!("ibc/{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_ids_and_remote_addresses() {
        assert_eq!(validate_channel_id("channel-0"), Ok(()));
        assert_eq!(validate_channel_id("channel-123"), Ok(()));
        for bad in [
            "",
            "channel-",
            "channel-x",
            "chan-1",
            "channel-1 ",
            "connection-0",
        ] {
            assert!(validate_channel_id(bad).is_err(), "{bad:?}");
        }
        assert_eq!(validate_remote_address("cosmos1abc"), Ok(()));
        for bad in ["", "a b", "x\"}", &"a".repeat(129)] {
            assert!(validate_remote_address(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn settings_are_bounded_and_answer_which_denom_travels() {
        let settings = IbcSettings {
            channels: vec![IbcChannel {
                channel_id: "channel-0".into(),
                denoms: vec!["ibc/ABC".into()],
            }],
            transfer_timeout_seconds: 600,
        };
        assert_eq!(settings.validate(), Ok(()));
        assert!(settings.may_send("channel-0", "ibc/ABC"));
        assert!(!settings.may_send("channel-0", "ustake"));
        assert!(!settings.may_send("channel-1", "ibc/ABC"));
        assert!(settings.has_channel("channel-0"));
        let mut twice = settings.clone();
        twice.channels.push(twice.channels[0].clone());
        assert_eq!(
            twice.validate(),
            Err(IbcError::DuplicateChannel("channel-0".into()))
        );
        let mut short = settings;
        short.transfer_timeout_seconds = 1;
        assert_eq!(short.validate(), Err(IbcError::BadTimeout));
        assert_eq!(IbcSettings::default().validate(), Ok(()));
    }

    #[test]
    fn ibc_denoms_hash_the_full_path() {
        // sha256("transfer/channel-0/uatom"), the widely published ATOM-on-channel-0 hash.
        assert_eq!(
            ibc_denom("transfer/channel-0/uatom"),
            "ibc/27394FB092D2ECCD56123C74F36E4C1F926001CEADA9CA97EA622B25F41E5EB2"
        );
    }

    #[test]
    fn memos_leave_out_absent_keys_and_round_trip() {
        let memo = TransferMemo::payout("wasm1market", 7);
        let json = cosmwasm_std::to_json_string(&memo).unwrap();
        assert_eq!(
            json,
            r#"{"src_callback":{"address":"wasm1market"},"opengpu":{"transfer":{"id":7}}}"#
        );
        assert_eq!(
            cosmwasm_std::from_json::<TransferMemo>(json.as_bytes()).unwrap(),
            memo
        );
        let ack: Ics20Ack = cosmwasm_std::from_json(br#"{"result":"AQ=="}"#).unwrap();
        assert!(matches!(ack, Ics20Ack::Result(_)));
        let ack: Ics20Ack = cosmwasm_std::from_json(br#"{"error":"no"}"#).unwrap();
        assert_eq!(ack, Ics20Ack::Error("no".into()));
    }
}
