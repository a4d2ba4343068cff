//! Who may change an opengpu contract's configuration, and the message that hands that right
//! on. Two steps (propose, then accept) in the manner of cw-ownable. The owner may change
//! configuration only; no owner path touches a user's funds. The storage and the handler live
//! in `opengpu-cw-utils`, so that this crate stays free of storage crates.

use cosmwasm_schema::cw_serde;
use cosmwasm_std::Addr;

/// Who may change a contract's configuration.
#[cw_serde]
#[derive(Default)]
pub struct Ownership {
    /// `None` once ownership is renounced: the configuration is then frozen.
    pub owner: Option<Addr>,
    /// Proposed by the owner; becomes owner when it sends `AcceptOwnership`.
    pub pending_owner: Option<Addr>,
}

/// The `UpdateOwnership` payload every opengpu contract accepts.
#[cw_serde]
pub enum OwnershipAction {
    /// Propose a new owner; takes effect when the new owner accepts.
    TransferOwnership { new_owner: String },
    /// Sent by the pending owner.
    AcceptOwnership {},
    /// Give up ownership for good: no further config changes are possible.
    RenounceOwnership {},
}
