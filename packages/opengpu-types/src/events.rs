//! Event names and typed events. A contract emits `Event::from(TaskSettled { .. })`, which the
//! chain shows as `wasm-task_settled`; off-chain code reads it back with
//! `TaskSettled::from_attributes`. One definition serves both sides.

use cosmwasm_std::Uint128;

/// Why an event's attributes could not be read back into its typed form.
#[derive(thiserror::Error, Debug, PartialEq, Eq)]
pub enum EventError {
    #[error("event {event} lacks attribute {key}")]
    MissingAttribute {
        event: &'static str,
        key: &'static str,
    },
    #[error("event {event} attribute {key}={value:?} is malformed: {reason}")]
    BadAttribute {
        event: &'static str,
        key: &'static str,
        value: String,
        reason: String,
    },
}

/// A typed contract event.
pub trait ContractEvent: Sized {
    /// The event type as the contract emits it; the chain prefixes it with `wasm-`.
    const NAME: &'static str;

    /// Reads the event from its attributes (extra attributes such as `_contract_address` are
    /// ignored).
    fn from_attributes<'a, I>(attributes: I) -> Result<Self, EventError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)> + Clone;

    /// The event type as the chain reports it, e.g. `wasm-task_settled`.
    fn chain_type() -> String {
        format!("wasm-{}", Self::NAME)
    }
}

/// Defines a typed event: the struct, its `Event` conversion and its parser. Field names are
/// the attribute keys; every field type is written with `Display` and read with `FromStr`.
macro_rules! contract_event {
    ($(#[$meta:meta])* $name:ident = $event:literal { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
        }

        impl From<$name> for cosmwasm_std::Event {
            fn from(event: $name) -> Self {
                cosmwasm_std::Event::new($event)
                    $(.add_attribute(stringify!($field), event.$field.to_string()))*
            }
        }

        impl ContractEvent for $name {
            const NAME: &'static str = $event;

            fn from_attributes<'a, I>(attributes: I) -> Result<Self, EventError>
            where
                I: IntoIterator<Item = (&'a str, &'a str)> + Clone,
            {
                Ok(Self {
                    $($field: parse_attribute($event, stringify!($field), attributes.clone())?,)*
                })
            }
        }
    };
}

fn parse_attribute<'a, T, I>(
    event: &'static str,
    key: &'static str,
    attributes: I,
) -> Result<T, EventError>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let value = attributes
        .into_iter()
        .find_map(|(k, v)| (k == key).then_some(v))
        .ok_or(EventError::MissingAttribute { event, key })?;
    value.parse().map_err(|e: T::Err| EventError::BadAttribute {
        event,
        key,
        value: value.to_string(),
        reason: e.to_string(),
    })
}

/// Values of the `action` attribute, which every response sets first.
pub mod actions {
    pub const INSTANTIATE: &str = "instantiate";
    pub const MIGRATE: &str = "migrate";
    pub const UPDATE_OWNERSHIP: &str = "update_ownership";
    pub const UPDATE_CONFIG: &str = "update_config";
    pub const BOND: &str = "bond";
    pub const UNBOND: &str = "unbond";
    pub const CLAIM: &str = "claim";
    pub const LOCK: &str = "lock";
    pub const UNLOCK: &str = "unlock";
    pub const SLASH: &str = "slash";
    pub const REGISTER: &str = "register";
    pub const UPDATE_PROVIDER: &str = "update_provider";
    pub const PAUSE: &str = "pause";
    pub const RESUME: &str = "resume";
    pub const DEREGISTER: &str = "deregister";
    pub const RECORD_OUTCOME: &str = "record_outcome";
    pub const PUBLISH_TASK: &str = "publish_task";
    pub const COMMIT: &str = "commit";
    pub const REVEAL: &str = "reveal";
    pub const CONFIRM: &str = "confirm";
    pub const BID: &str = "bid";
    pub const REVEAL_BID: &str = "reveal_bid";
    pub const ADVANCE: &str = "advance";
    pub const FINALIZE: &str = "finalize";
    pub const CANCEL: &str = "cancel";
    pub const EXPIRE: &str = "expire";
    pub const WITHDRAW_CLAIM: &str = "withdraw_claim";
    pub const PAYOUT_REFUSED: &str = "payout_refused";
    pub const IBC_TRANSFER_NOT_SENT: &str = "ibc_transfer_not_sent";
    pub const IBC_SOURCE_CALLBACK: &str = "ibc_source_callback";
    pub const IBC_DESTINATION_CALLBACK: &str = "ibc_destination_callback";
    pub const RESEND_REMOTE_CLAIM: &str = "resend_remote_claim";
    pub const PRUNE: &str = "prune";
}

// ---- task market ----

contract_event! {
    /// A task was published and its payment escrowed. `deadline` is the last height for commits.
    TaskPublished = "task_published" {
        task_id: u64, client: String, model: String, denom: String, amount: Uint128,
        collateral: Uint128, deadline: u64,
    }
}
contract_event! {
    /// A provider committed; it must reveal by `reveal_deadline` (a height).
    TaskCommitted = "task_committed" {
        task_id: u64, provider: String, seq: u32, reveal_deadline: u64,
    }
}
contract_event! {
    /// A provider revealed. `valid` is the verification verdict; `price` is the offer under
    /// Manual Confirmation and zero under models that take no price.
    TaskRevealed = "task_revealed" {
        task_id: u64, provider: String, valid: bool, price: Uint128,
        /// `valid`, `rejected` (proven wrong, slashed) or `refused` (no match with the
        /// client's reference hash, collateral released).
        outcome: String,
    }
}
contract_event! {
    /// The winner was paid `amount` (after `fee`); the client got `refund` back.
    TaskSettled = "task_settled" {
        task_id: u64, winner: String, amount: Uint128, fee: Uint128, refund: Uint128,
    }
}
contract_event! {
    /// The client cancelled before any commitment and got `refund` back.
    TaskCancelled = "task_cancelled" { task_id: u64, refund: Uint128 }
}
contract_event! {
    /// Consensus tally: `groups` distinct answers among the valid reveals, `winners` agreeing
    /// providers paid (0 when no group reached the quorum), `outvoted` slashed.
    ConsensusTallied = "consensus_tallied" {
        task_id: u64, groups: u32, winners: u32, outvoted: u32,
    }
}
contract_event! {
    /// The bank refused a payment (e.g. to a blocked module address): it became a claim that
    /// `beneficiary` withdraws with `WithdrawClaim`.
    ClaimCredited = "claim_credited" {
        beneficiary: String, recipient: String, denom: String, amount: Uint128,
    }
}
contract_event! {
    ClaimWithdrawn = "claim_withdrawn" {
        beneficiary: String, recipient: String, denom: String, amount: Uint128,
    }
}
contract_event! {
    /// No valid result came in time: the client got `refund` back, plus `forfeited` collateral
    /// (stake denom) of committers who never revealed.
    TaskExpired = "task_expired" { task_id: u64, refund: Uint128, forfeited: Uint128 }
}

contract_event! {
    /// Auction: a sealed bid was placed (its collateral locked).
    BidPlaced = "bid_placed" { task_id: u64, provider: String, seq: u32 }
}
contract_event! {
    /// Auction: a bid was opened; `valid` is false when `price` is above the maximum (void).
    BidRevealed = "bid_revealed" { task_id: u64, provider: String, price: Uint128, valid: bool }
}
contract_event! {
    /// Auction: `provider` (its bid `bid`) must execute by `execute_deadline` and is paid
    /// `price` on delivery. `round` counts hand-overs before this award (0 for the first).
    AuctionAwarded = "auction_awarded" {
        task_id: u64, provider: String, bid: Uint128, price: Uint128, execute_deadline: u64,
        round: u32,
    }
}
contract_event! {
    /// Auction: collateral slashed from winners that failed, held by the market until now, was
    /// paid to the provider who delivered, or to the client when nobody did.
    HeldCollateralPaid = "held_collateral_paid" { task_id: u64, beneficiary: String, amount: Uint128 }
}
contract_event! {
    /// Auction: the awardee did not deliver or delivered a proven-wrong result: `slashed`
    /// collateral taken into the market, held for whoever delivers (see `HeldCollateralPaid`).
    AuctionDefaulted = "auction_defaulted" {
        task_id: u64, provider: String, reason: String, slashed: Uint128,
    }
}

// ---- registry ----

contract_event! {
    ProviderRegistered = "provider_registered" { provider: String, moniker: String }
}
contract_event! {
    ProviderUpdated = "provider_updated" { provider: String }
}
contract_event! {
    /// `status` is `active` or `paused`.
    ProviderStatusChanged = "provider_status_changed" { provider: String, status: String }
}
contract_event! {
    ProviderDeregistered = "provider_deregistered" { provider: String }
}
contract_event! {
    /// `outcome` is `won`, `lost`, `expired` or `slashed`.
    OutcomeRecorded = "outcome_recorded" { provider: String, task_id: u64, outcome: String }
}

// ---- staking vault ----

contract_event! {
    StakeBonded = "stake_bonded" { staker: String, amount: Uint128, bonded: Uint128 }
}
contract_event! {
    /// `release_at` is a UNIX time in seconds.
    StakeUnbonded = "stake_unbonded" { staker: String, amount: Uint128, release_at: u64 }
}
contract_event! {
    StakeClaimed = "stake_claimed" { staker: String, amount: Uint128 }
}
contract_event! {
    CollateralLocked = "collateral_locked" { provider: String, task_id: u64, amount: Uint128 }
}
contract_event! {
    CollateralUnlocked = "collateral_unlocked" { provider: String, task_id: u64, amount: Uint128 }
}
contract_event! {
    /// `amount` is what was actually taken (bonded first, then unbonding claims) and sent to
    /// `beneficiary`.
    StakeSlashed = "stake_slashed" {
        provider: String, task_id: u64, amount: Uint128, beneficiary: String,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::Event;

    #[test]
    fn typed_event_round_trips_through_chain_attributes() {
        let settled = TaskSettled {
            task_id: 7,
            winner: "wasm1winner".into(),
            amount: Uint128::new(990),
            fee: Uint128::new(10),
            refund: Uint128::zero(),
        };
        let event = Event::from(settled.clone());
        assert_eq!(event.ty, "task_settled");
        let mut attrs: Vec<(&str, &str)> = vec![("_contract_address", "wasm1market")];
        attrs.extend(
            event
                .attributes
                .iter()
                .map(|a| (a.key.as_str(), a.value.as_str())),
        );
        assert_eq!(TaskSettled::from_attributes(attrs), Ok(settled));
        assert_eq!(TaskSettled::chain_type(), "wasm-task_settled");
    }

    #[test]
    fn malformed_or_missing_attributes_are_named() {
        let missing = TaskCancelled::from_attributes(vec![("task_id", "1")]);
        assert_eq!(
            missing,
            Err(EventError::MissingAttribute {
                event: "task_cancelled",
                key: "refund"
            })
        );
        let bad = TaskCancelled::from_attributes(vec![("task_id", "x"), ("refund", "1")]);
        assert!(matches!(
            bad,
            Err(EventError::BadAttribute { key: "task_id", .. })
        ));
    }
}

// ---- IBC (task market) ----

contract_event! {
    /// The market sent coins over IBC (a payout home, or a payment to a remote client); the
    /// transfer stays pending until its acknowledgement or timeout.
    IbcTransferSent = "ibc_transfer_sent" {
        transfer_id: u64, channel: String, receiver: String, denom: String, amount: Uint128,
    }
}
contract_event! {
    /// A transfer was acknowledged with success: the coins arrived on the other chain.
    IbcTransferDelivered = "ibc_transfer_delivered" {
        transfer_id: u64, channel: String, receiver: String, denom: String, amount: Uint128,
    }
}
contract_event! {
    /// A transfer failed (error acknowledgement, timeout, or refused when sent); its coins are
    /// back at the market and credited: to the provider's claim, or to a remote claim
    /// (`credited_to` is then `<channel>/<receiver>`).
    IbcTransferFailed = "ibc_transfer_failed" {
        transfer_id: u64, reason: String, credited_to: String, denom: String, amount: Uint128,
    }
}
contract_event! {
    /// A task arrived from another chain: `sender` there is its client, over `channel`.
    RemoteTaskPublished = "remote_task_published" {
        task_id: u64, channel: String, sender: String,
    }
}
