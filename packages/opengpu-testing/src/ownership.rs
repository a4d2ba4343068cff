//! The ownership and migration rules all four contracts share, checked once here: each check
//! builds its own `Suite` and runs against the contract it is given. A contract's tests run
//! them all with one line, `opengpu_testing::ownership_tests!(Registry);`.

use cosmwasm_std::{coins, to_json_binary, Addr, Coin, StdResult, WasmMsg, WasmQuery};
use cw_multi_test::{AppResponse, Executor};
use cw_utils::PaymentError;
use opengpu_cw_utils::{MigrationError, OwnershipError};
use opengpu_types::events::actions;
use opengpu_types::{market, registry, vault, verification};
use opengpu_types::{MigrateMsg, Ownership, OwnershipAction};

use crate::{assert_error, Suite, STAKE_DENOM};

/// One of the four contracts a `Suite` deploys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contract {
    Registry,
    Market,
    Vault,
    Verification,
}

impl Contract {
    pub const ALL: [Contract; 4] = [
        Contract::Registry,
        Contract::Market,
        Contract::Vault,
        Contract::Verification,
    ];

    /// The name the contract stores in cw2.
    pub fn name(self) -> &'static str {
        match self {
            Contract::Registry => opengpu_registry::contract::CONTRACT_NAME,
            Contract::Market => opengpu_task_market::contract::CONTRACT_NAME,
            Contract::Vault => opengpu_staking_vault::contract::CONTRACT_NAME,
            Contract::Verification => opengpu_verification::contract::CONTRACT_NAME,
        }
    }

    /// The version of the code built here, which a migration stores.
    pub fn version(self) -> &'static str {
        match self {
            Contract::Registry => opengpu_registry::contract::CONTRACT_VERSION,
            Contract::Market => opengpu_task_market::contract::CONTRACT_VERSION,
            Contract::Vault => opengpu_staking_vault::contract::CONTRACT_VERSION,
            Contract::Verification => opengpu_verification::contract::CONTRACT_VERSION,
        }
    }

    /// Another of the four contracts, whose code this one must refuse to migrate to.
    pub fn other(self) -> Contract {
        match self {
            Contract::Registry => Contract::Market,
            Contract::Market => Contract::Registry,
            Contract::Vault => Contract::Verification,
            Contract::Verification => Contract::Vault,
        }
    }
}

impl Suite {
    /// The address of `contract` in this suite.
    pub fn contract_addr(&self, contract: Contract) -> Addr {
        match contract {
            Contract::Registry => self.registry.clone(),
            Contract::Market => self.market.clone(),
            Contract::Vault => self.vault.clone(),
            Contract::Verification => self.verification.clone(),
        }
    }

    /// Sends `UpdateOwnership(action)` to `contract`, with `funds`.
    pub fn update_ownership(
        &mut self,
        contract: Contract,
        sender: &Addr,
        action: OwnershipAction,
        funds: &[Coin],
    ) -> StdResult<AppResponse> {
        let msg = match contract {
            Contract::Registry => to_json_binary(&registry::ExecuteMsg::UpdateOwnership(action)),
            Contract::Market => to_json_binary(&market::ExecuteMsg::UpdateOwnership(action)),
            Contract::Vault => to_json_binary(&vault::ExecuteMsg::UpdateOwnership(action)),
            Contract::Verification => {
                to_json_binary(&verification::ExecuteMsg::UpdateOwnership(action))
            }
        }?;
        let execute = WasmMsg::Execute {
            contract_addr: self.contract_addr(contract).into_string(),
            msg,
            funds: funds.to_vec(),
        };
        self.app.execute(sender.clone(), execute.into())
    }

    /// `contract`'s answer to its `Ownership` query.
    pub fn ownership(&self, contract: Contract) -> Ownership {
        let msg = match contract {
            Contract::Registry => to_json_binary(&registry::QueryMsg::Ownership {}),
            Contract::Market => to_json_binary(&market::QueryMsg::Ownership {}),
            Contract::Vault => to_json_binary(&vault::QueryMsg::Ownership {}),
            Contract::Verification => to_json_binary(&verification::QueryMsg::Ownership {}),
        }
        .unwrap();
        let query = WasmQuery::Smart {
            contract_addr: self.contract_addr(contract).into_string(),
            msg,
        };
        self.app.wrap().query(&query.into()).unwrap()
    }

    /// The `(name, version)` stored in `contract`'s cw2 item.
    pub fn contract_version(&self, contract: Contract) -> (String, String) {
        let storage = self.app.contract_storage(&self.contract_addr(contract));
        let stored = cw2::get_contract_version(&*storage).unwrap();
        (stored.contract, stored.version)
    }

    /// Overwrites `contract`'s cw2 item, as if an older (or another) code had instantiated it.
    pub fn set_contract_version(&mut self, contract: Contract, name: &str, version: &str) {
        let addr = self.contract_addr(contract);
        let mut storage = self.app.contract_storage_mut(&addr);
        cw2::set_contract_version(&mut *storage, name, version).unwrap();
    }

    /// Migrates `contract` (sent by the owner, its wasm admin) to the code of `to`.
    pub fn migrate(&mut self, contract: Contract, to: Contract) -> StdResult<AppResponse> {
        let addr = self.contract_addr(contract);
        let code_id = self.code_id(to);
        let owner = self.owner.clone();
        self.app
            .migrate_contract(owner, addr, &MigrateMsg {}, code_id)
    }

    fn code_id(&self, contract: Contract) -> u64 {
        let addr = self.contract_addr(contract);
        self.app.contract_data(&addr).unwrap().code_id
    }

    /// Every key of `contract`'s storage but its cw2 item, which a migration moves forward.
    fn state_without_version(&self, contract: Contract) -> Vec<(Vec<u8>, Vec<u8>)> {
        let cw2_item = cw2::CONTRACT;
        let mut state = self.app.dump_wasm_raw(&self.contract_addr(contract));
        state.retain(|(key, _)| key.as_slice() != cw2_item.as_slice());
        state
    }
}

/// The attributes a response's `wasm` event carries, in order, without `_contract_address`.
#[track_caller]
fn wasm_attributes(response: &AppResponse) -> Vec<(String, String)> {
    let event = response
        .events
        .iter()
        .find(|event| event.ty == "wasm")
        .expect("the response has no wasm event");
    event
        .attributes
        .iter()
        .filter(|attr| attr.key != "_contract_address")
        .map(|attr| (attr.key.clone(), attr.value.clone()))
        .collect()
}

#[track_caller]
fn assert_update_ownership_event(response: &AppResponse, owner: &str, pending_owner: &str) {
    assert_eq!(
        wasm_attributes(response),
        [
            ("action", actions::UPDATE_OWNERSHIP),
            ("owner", owner),
            ("pending_owner", pending_owner),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
    );
}

fn ownership(owner: Option<&Addr>, pending_owner: Option<&Addr>) -> Ownership {
    Ownership {
        owner: owner.cloned(),
        pending_owner: pending_owner.cloned(),
    }
}

fn transfer_to(new_owner: &Addr) -> OwnershipAction {
    OwnershipAction::TransferOwnership {
        new_owner: new_owner.to_string(),
    }
}

/// The owner proposes, the proposed owner accepts, and only then does ownership move; the old
/// owner keeps no owner right.
#[track_caller]
pub fn transfer_takes_effect_when_the_new_owner_accepts(contract: Contract) {
    let mut suite = Suite::new();
    let owner = suite.owner.clone();
    let next = suite.addr("next-owner");
    let stranger = suite.addr("stranger");
    let accept = || OwnershipAction::AcceptOwnership {};

    let res = suite
        .update_ownership(contract, &owner, transfer_to(&next), &[])
        .unwrap();
    assert_update_ownership_event(&res, owner.as_str(), next.as_str());
    assert_eq!(
        suite.ownership(contract),
        ownership(Some(&owner), Some(&next))
    );

    assert_error(
        suite.update_ownership(contract, &stranger, accept(), &[]),
        OwnershipError::NotPendingOwner {
            pending_owner: next.to_string(),
        },
    );
    let res = suite
        .update_ownership(contract, &next, accept(), &[])
        .unwrap();
    assert_update_ownership_event(&res, next.as_str(), "none");
    assert_eq!(suite.ownership(contract), ownership(Some(&next), None));

    assert_error(
        suite.update_ownership(contract, &owner, transfer_to(&owner), &[]),
        OwnershipError::NotOwner {
            owner: next.to_string(),
        },
    );
    suite
        .update_ownership(contract, &next, transfer_to(&owner), &[])
        .unwrap();
}

/// Only the owner may propose or renounce, and nothing is pending to accept before a proposal.
#[track_caller]
pub fn non_owner_is_refused(contract: Contract) {
    let mut suite = Suite::new();
    let owner = suite.owner.clone();
    let mallory = suite.addr("mallory");
    let not_owner = OwnershipError::NotOwner {
        owner: owner.to_string(),
    };

    assert_error(
        suite.update_ownership(contract, &mallory, transfer_to(&mallory), &[]),
        &not_owner,
    );
    assert_error(
        suite.update_ownership(
            contract,
            &mallory,
            OwnershipAction::RenounceOwnership {},
            &[],
        ),
        &not_owner,
    );
    assert_error(
        suite.update_ownership(contract, &mallory, OwnershipAction::AcceptOwnership {}, &[]),
        OwnershipError::NoPendingOwner,
    );
    assert_eq!(suite.ownership(contract), ownership(Some(&owner), None));
}

/// Renouncing clears the owner and any pending owner for good: no one can take ownership back.
#[track_caller]
pub fn renounce_is_final(contract: Contract) {
    let mut suite = Suite::new();
    let owner = suite.owner.clone();
    let next = suite.addr("next-owner");
    suite
        .update_ownership(contract, &owner, transfer_to(&next), &[])
        .unwrap();

    let res = suite
        .update_ownership(contract, &owner, OwnershipAction::RenounceOwnership {}, &[])
        .unwrap();
    assert_update_ownership_event(&res, "none", "none");
    assert_eq!(suite.ownership(contract), Ownership::default());

    assert_error(
        suite.update_ownership(contract, &next, OwnershipAction::AcceptOwnership {}, &[]),
        OwnershipError::NoPendingOwner,
    );
    for action in [transfer_to(&owner), OwnershipAction::RenounceOwnership {}] {
        assert_error(
            suite.update_ownership(contract, &owner, action, &[]),
            OwnershipError::NoOwner,
        );
    }
    assert_eq!(suite.ownership(contract), Ownership::default());
}

/// `UpdateOwnership` takes no funds, not even from the owner.
#[track_caller]
pub fn funds_are_refused(contract: Contract) {
    let mut suite = Suite::new();
    let owner = suite.owner.clone();
    let before = suite.balance(&owner, STAKE_DENOM);
    assert_error(
        suite.update_ownership(
            contract,
            &owner,
            OwnershipAction::RenounceOwnership {},
            &coins(1, STAKE_DENOM),
        ),
        PaymentError::NonPayable {},
    );
    assert_eq!(suite.balance(&owner, STAKE_DENOM), before);
    assert_eq!(suite.ownership(contract), ownership(Some(&owner), None));
}

/// A contract instantiated by an older version of its code migrates to this one: the cw2
/// version moves forward, the response names both versions, and no other state changes.
#[track_caller]
pub fn migrate_moves_the_version_forward(contract: Contract) {
    let mut suite = Suite::new();
    let (name, version) = (contract.name(), contract.version());
    assert_eq!(
        suite.contract_version(contract),
        (name.to_string(), version.to_string())
    );
    let older = "0.0.1";
    suite.set_contract_version(contract, name, older);
    let state = suite.state_without_version(contract);

    let res = suite.migrate(contract, contract).unwrap();
    assert_eq!(
        wasm_attributes(&res),
        [
            ("action", actions::MIGRATE),
            ("from_version", older),
            ("to_version", version),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
    );
    assert_eq!(
        suite.contract_version(contract),
        (name.to_string(), version.to_string())
    );
    assert_eq!(suite.state_without_version(contract), state);
}

/// A contract whose stored version is newer than this code refuses to migrate to it.
#[track_caller]
pub fn migrate_refuses_a_downgrade(contract: Contract) {
    let mut suite = Suite::new();
    let (name, version) = (contract.name(), contract.version());
    let newer = "99.0.0";
    suite.set_contract_version(contract, name, newer);
    assert_error(
        suite.migrate(contract, contract),
        MigrationError::Downgrade {
            stored: newer.to_string(),
            new: version.to_string(),
        },
    );
    assert_eq!(
        suite.contract_version(contract),
        (name.to_string(), newer.to_string())
    );
}

/// A contract refuses to migrate to another contract's code.
#[track_caller]
pub fn migrate_refuses_another_contract(contract: Contract) {
    let mut suite = Suite::new();
    let other = contract.other();
    let code_id = suite.code_id(contract);
    assert_error(
        suite.migrate(contract, other),
        MigrationError::WrongContract {
            stored: contract.name().to_string(),
            expected: other.name().to_string(),
        },
    );
    assert_eq!(suite.code_id(contract), code_id);
    assert_eq!(
        suite.contract_version(contract),
        (contract.name().to_string(), contract.version().to_string())
    );
}

/// One `#[test]` per shared ownership and migration check, run against the named contract
/// (`Registry`, `Market`, `Vault` or `Verification`), in a module `ownership_and_migration`.
#[macro_export]
macro_rules! ownership_tests {
    ($contract:ident) => {
        $crate::ownership_tests!(@each $contract:
            transfer_takes_effect_when_the_new_owner_accepts,
            non_owner_is_refused,
            renounce_is_final,
            funds_are_refused,
            migrate_moves_the_version_forward,
            migrate_refuses_a_downgrade,
            migrate_refuses_another_contract,
        );
    };
    (@each $contract:ident: $($check:ident,)*) => {
        mod ownership_and_migration {
            $(
                #[test]
                fn $check() {
                    $crate::ownership::$check($crate::ownership::Contract::$contract);
                }
            )*
        }
    };
}
