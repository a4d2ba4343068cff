//! Two-step ownership (propose, then accept) in the manner of cw-ownable, which has no release
//! for cosmwasm-std 3 yet: the storage, the owner check and the `UpdateOwnership` handler of
//! every opengpu contract. The types are `opengpu_types::{Ownership, OwnershipAction}`. The owner
//! of an opengpu contract may change configuration only; no owner path touches a user's funds.

use cosmwasm_std::{Addr, Api, DepsMut, MessageInfo, Response, StdError, StdResult, Storage};
use cw_storage_plus::Item;
use cw_utils::PaymentError;
use opengpu_types::events::actions;
use opengpu_types::{Ownership, OwnershipAction};

const OWNERSHIP: Item<Ownership> = Item::new("ownership");

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

/// The `UpdateOwnership` handler of every opengpu contract: refuses funds, applies the action
/// sent by `info.sender`, and answers with the `update_ownership` action and the resulting
/// `owner` and `pending_owner` (`none` when unset).
pub fn update_ownership<E>(
    deps: DepsMut,
    info: &MessageInfo,
    action: OwnershipAction,
) -> Result<Response, E>
where
    E: From<OwnershipError> + From<PaymentError>,
{
    cw_utils::nonpayable(info)?;
    let ownership = apply(deps, &info.sender, action)?;
    Ok(Response::new()
        .add_attribute("action", actions::UPDATE_OWNERSHIP)
        .add_attribute("owner", display(&ownership.owner))
        .add_attribute("pending_owner", display(&ownership.pending_owner)))
}

/// Applies an ownership action sent by `sender`, stores and returns the new ownership.
fn apply(
    deps: DepsMut,
    sender: &Addr,
    action: OwnershipAction,
) -> Result<Ownership, OwnershipError> {
    let mut ownership = get_ownership(deps.storage)?;
    match action {
        OwnershipAction::TransferOwnership { new_owner } => {
            assert_owner(deps.storage, sender)?;
            ownership.pending_owner = Some(deps.api.addr_validate(&new_owner)?);
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
    Ok(ownership)
}

fn display(addr: &Option<Addr>) -> String {
    addr.as_ref()
        .map_or_else(|| "none".to_string(), Addr::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::testing::{message_info, mock_dependencies};
    use cosmwasm_std::{coins, Attribute};

    #[derive(thiserror::Error, Debug)]
    enum Error {
        #[error(transparent)]
        Ownership(#[from] OwnershipError),
        #[error(transparent)]
        Payment(#[from] PaymentError),
    }

    fn update(
        deps: DepsMut,
        sender: &Addr,
        action: OwnershipAction,
    ) -> Result<Response, OwnershipError> {
        update_ownership(deps, &message_info(sender, &[]), action).map_err(|e| match e {
            Error::Ownership(e) => e,
            Error::Payment(e) => panic!("unexpected payment error {e}"),
        })
    }

    #[test]
    fn transfer_needs_acceptance_by_the_pending_owner() {
        let mut deps = mock_dependencies();
        let owner = deps.api.addr_make("owner");
        let next = deps.api.addr_make("next");
        let stranger = deps.api.addr_make("stranger");
        initialize_owner(&mut deps.storage, owner.clone()).unwrap();
        let transfer = OwnershipAction::TransferOwnership {
            new_owner: next.to_string(),
        };

        let err = update(deps.as_mut(), &stranger, transfer.clone()).unwrap_err();
        assert!(matches!(err, OwnershipError::NotOwner { owner: o } if o == owner.as_str()));

        let res = update(deps.as_mut(), &owner, transfer).unwrap();
        assert_eq!(
            res.attributes,
            vec![
                Attribute::new("action", "update_ownership"),
                Attribute::new("owner", owner.as_str()),
                Attribute::new("pending_owner", next.as_str()),
            ]
        );
        assert_owner(&deps.storage, &owner).unwrap();
        let err = update(
            deps.as_mut(),
            &stranger,
            OwnershipAction::AcceptOwnership {},
        )
        .unwrap_err();
        assert!(matches!(err, OwnershipError::NotPendingOwner { .. }));

        update(deps.as_mut(), &next, OwnershipAction::AcceptOwnership {}).unwrap();
        assert_owner(&deps.storage, &next).unwrap();
        assert!(assert_owner(&deps.storage, &owner).is_err());
    }

    #[test]
    fn renounced_ownership_freezes_config() {
        let mut deps = mock_dependencies();
        let owner = deps.api.addr_make("owner");
        initialize_owner(&mut deps.storage, owner.clone()).unwrap();
        let res = update(deps.as_mut(), &owner, OwnershipAction::RenounceOwnership {}).unwrap();
        assert_eq!(res.attributes[1], Attribute::new("owner", "none"));
        assert!(matches!(
            assert_owner(&deps.storage, &owner),
            Err(OwnershipError::NoOwner)
        ));
    }

    #[test]
    fn funds_are_refused() {
        let mut deps = mock_dependencies();
        let owner = deps.api.addr_make("owner");
        initialize_owner(&mut deps.storage, owner.clone()).unwrap();
        let info = message_info(&owner, &coins(1, "ugpu"));
        let res: Result<Response, Error> =
            update_ownership(deps.as_mut(), &info, OwnershipAction::RenounceOwnership {});
        assert!(matches!(
            res,
            Err(Error::Payment(PaymentError::NonPayable {}))
        ));
        assert_owner(&deps.storage, &owner).unwrap();
    }
}
