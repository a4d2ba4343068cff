//! Two-step ownership (propose, then accept) in the manner of cw-ownable, which has no release
//! for cosmwasm-std 3 yet. The owner of an opengpu contract may change configuration only; no
//! owner path touches a user's funds.

use cosmwasm_schema::cw_serde;
use cosmwasm_std::{Addr, Api, Attribute, DepsMut, StdError, StdResult, Storage};
use cw_storage_plus::Item;

const OWNERSHIP: Item<Ownership> = Item::new("ownership");

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

#[derive(thiserror::Error, Debug)]
pub enum OwnershipError {
    #[error(transparent)]
    Std(#[from] StdError),
    #[error("only the owner may do this; the owner is {owner}")]
    NotOwner { owner: String },
    #[error("the contract has no owner: ownership was renounced")]
    NoOwner,
    #[error("no ownership transfer is pending")]
    NoPendingOwner,
    #[error("only the pending owner {pending_owner} may accept ownership")]
    NotPendingOwner { pending_owner: String },
}

/// The owner an instantiate message names, validated, or else its sender.
pub fn owner_or_sender(api: &dyn Api, owner: Option<String>, sender: Addr) -> StdResult<Addr> {
    owner.map_or(Ok(sender), |owner| api.addr_validate(&owner))
}

/// Sets the first owner at instantiate.
pub fn initialize_owner(storage: &mut dyn Storage, owner: Addr) -> StdResult<Ownership> {
    let ownership = Ownership {
        owner: Some(owner),
        pending_owner: None,
    };
    OWNERSHIP.save(storage, &ownership)?;
    Ok(ownership)
}

pub fn get_ownership(storage: &dyn Storage) -> StdResult<Ownership> {
    Ok(OWNERSHIP.may_load(storage)?.unwrap_or_default())
}

/// Errors unless `sender` is the current owner.
pub fn assert_owner(storage: &dyn Storage, sender: &Addr) -> Result<(), OwnershipError> {
    match get_ownership(storage)?.owner {
        Some(owner) if owner == *sender => Ok(()),
        Some(owner) => Err(OwnershipError::NotOwner {
            owner: owner.into_string(),
        }),
        None => Err(OwnershipError::NoOwner),
    }
}

/// Applies an ownership action sent by `sender` and returns the response attributes.
pub fn update_ownership(
    deps: DepsMut,
    sender: &Addr,
    action: OwnershipAction,
) -> Result<Vec<Attribute>, OwnershipError> {
    let mut ownership = get_ownership(deps.storage)?;
    match action {
        OwnershipAction::TransferOwnership { new_owner } => {
            assert_owner(deps.storage, sender)?;
            ownership.pending_owner = Some(validate(deps.api, &new_owner)?);
        }
        OwnershipAction::AcceptOwnership {} => {
            let pending = ownership
                .pending_owner
                .clone()
                .ok_or(OwnershipError::NoPendingOwner)?;
            if pending != *sender {
                return Err(OwnershipError::NotPendingOwner {
                    pending_owner: pending.into_string(),
                });
            }
            ownership.owner = Some(pending);
            ownership.pending_owner = None;
        }
        OwnershipAction::RenounceOwnership {} => {
            assert_owner(deps.storage, sender)?;
            ownership = Ownership::default();
        }
    }
    OWNERSHIP.save(deps.storage, &ownership)?;
    Ok(vec![
        Attribute::new("action", "update_ownership"),
        Attribute::new("owner", display(&ownership.owner)),
        Attribute::new("pending_owner", display(&ownership.pending_owner)),
    ])
}

fn validate(api: &dyn Api, addr: &str) -> StdResult<Addr> {
    api.addr_validate(addr)
}

fn display(addr: &Option<Addr>) -> String {
    addr.as_ref()
        .map_or_else(|| "none".to_string(), Addr::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::testing::mock_dependencies;

    #[test]
    fn transfer_needs_acceptance_by_the_pending_owner() {
        let mut deps = mock_dependencies();
        let owner = deps.api.addr_make("owner");
        let next = deps.api.addr_make("next");
        let stranger = deps.api.addr_make("stranger");
        initialize_owner(&mut deps.storage, owner.clone()).unwrap();

        let err = update_ownership(
            deps.as_mut(),
            &stranger,
            OwnershipAction::TransferOwnership {
                new_owner: next.to_string(),
            },
        )
        .unwrap_err();
        assert!(matches!(err, OwnershipError::NotOwner { owner: o } if o == owner.as_str()));

        update_ownership(
            deps.as_mut(),
            &owner,
            OwnershipAction::TransferOwnership {
                new_owner: next.to_string(),
            },
        )
        .unwrap();
        assert_owner(&deps.storage, &owner).unwrap();
        let err = update_ownership(
            deps.as_mut(),
            &stranger,
            OwnershipAction::AcceptOwnership {},
        )
        .unwrap_err();
        assert!(matches!(err, OwnershipError::NotPendingOwner { .. }));

        update_ownership(deps.as_mut(), &next, OwnershipAction::AcceptOwnership {}).unwrap();
        assert_owner(&deps.storage, &next).unwrap();
        assert!(assert_owner(&deps.storage, &owner).is_err());
    }

    #[test]
    fn renounced_ownership_freezes_config() {
        let mut deps = mock_dependencies();
        let owner = deps.api.addr_make("owner");
        initialize_owner(&mut deps.storage, owner.clone()).unwrap();
        update_ownership(deps.as_mut(), &owner, OwnershipAction::RenounceOwnership {}).unwrap();
        assert!(matches!(
            assert_owner(&deps.storage, &owner),
            Err(OwnershipError::NoOwner)
        ));
    }
}
