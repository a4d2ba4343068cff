//! Instantiate validation, UpdateConfig, UpdateOwnership and migrate.

use cosmwasm_std::coin;
use cosmwasm_std::testing::message_info;
use cw_utils::PaymentError;
use opengpu_cw_utils::OwnershipError;
use opengpu_types::events::actions;
use opengpu_types::vault::VaultConfig;
use opengpu_types::{MigrateMsg, Ownership, OwnershipAction};

use super::*;
use crate::contract::{migrate, CONTRACT_NAME, CONTRACT_VERSION};

fn update_config(period: Option<u64>, max: Option<u32>) -> ExecuteMsg {
    ExecuteMsg::UpdateConfig {
        unbonding_period_seconds: period,
        max_claims_per_address: max,
    }
}

#[test]
fn instantiate_stores_config_owner_and_zero_totals() {
    let h = Harness::new();
    let config: VaultConfig = h.query(QueryMsg::Config {});
    assert_eq!(
        config,
        VaultConfig {
            stake_denom: DENOM.to_string(),
            unbonding_period_seconds: PERIOD,
            max_claims_per_address: MAX_CLAIMS,
            market_addr: h.market.clone(),
            verification_addr: h.verification.clone(),
        }
    );
    let ownership: Ownership = h.query(QueryMsg::Ownership {});
    assert_eq!(ownership.owner, Some(h.owner.clone()));
    let totals = h.totals();
    assert!(totals.bonded.is_zero() && totals.locked.is_zero() && totals.unbonding.is_zero());
    let version = cw2::get_contract_version(&h.deps.storage).unwrap();
    assert_eq!(
        (version.contract.as_str(), version.version.as_str()),
        (CONTRACT_NAME, CONTRACT_VERSION)
    );
}

#[test]
fn instantiate_without_owner_makes_the_sender_owner() {
    let mut h = Harness::bare();
    let mut msg = default_msg(&h);
    msg.owner = None;
    let creator = h.addr("creator");
    let res = h.instantiate(&creator, msg).unwrap();
    assert_action(&res, actions::INSTANTIATE);
    let ownership: Ownership = h.query(QueryMsg::Ownership {});
    assert_eq!(ownership.owner, Some(creator));
}

#[test]
fn instantiate_with_empty_stake_denom_is_rejected() {
    let mut h = Harness::bare();
    let mut msg = default_msg(&h);
    msg.stake_denom = " ".to_string();
    let creator = h.addr("creator");
    assert!(matches!(
        h.instantiate(&creator, msg),
        Err(ContractError::EmptyStakeDenom)
    ));
}

#[test]
fn instantiate_with_zero_unbonding_period_is_rejected() {
    let mut h = Harness::bare();
    let mut msg = default_msg(&h);
    msg.unbonding_period_seconds = 0;
    let creator = h.addr("creator");
    assert!(matches!(
        h.instantiate(&creator, msg),
        Err(ContractError::ZeroUnbondingPeriod)
    ));
}

#[test]
fn instantiate_with_zero_max_claims_is_rejected() {
    let mut h = Harness::bare();
    let mut msg = default_msg(&h);
    msg.max_claims_per_address = 0;
    let creator = h.addr("creator");
    assert!(matches!(
        h.instantiate(&creator, msg),
        Err(ContractError::ZeroMaxClaims)
    ));
}

#[test]
fn instantiate_with_invalid_addresses_is_rejected() {
    let h = Harness::bare();
    let creator = h.addr("creator");
    let cases: [fn(&mut InstantiateMsg); 3] = [
        |m| m.market = "bad market".into(),
        |m| m.verification = "bad verification".into(),
        |m| m.owner = Some("bad owner".into()),
    ];
    for break_it in cases {
        let mut h = Harness::bare();
        let mut msg = default_msg(&h);
        break_it(&mut msg);
        assert!(matches!(
            h.instantiate(&creator, msg),
            Err(ContractError::Std(_))
        ));
    }
}

#[test]
fn instantiate_with_funds_is_rejected() {
    let mut h = Harness::bare();
    let msg = default_msg(&h);
    let creator = h.addr("creator");
    let res = instantiate(
        h.deps.as_mut(),
        h.env.clone(),
        message_info(&creator, &[coin(1, DENOM)]),
        msg,
    );
    assert!(matches!(
        res,
        Err(ContractError::Payment(PaymentError::NonPayable {}))
    ));
}

#[test]
fn update_config_by_owner_changes_period_and_max_claims() {
    let mut h = Harness::new();
    let owner = h.owner.clone();
    let res = h.exec(&owner, update_config(Some(50), Some(1))).unwrap();
    assert_action(&res, actions::UPDATE_CONFIG);
    let config: VaultConfig = h.query(QueryMsg::Config {});
    assert_eq!(
        (
            config.unbonding_period_seconds,
            config.max_claims_per_address
        ),
        (50, 1)
    );

    // New claims use the new period and limit.
    let alice = h.addr("alice");
    h.bond(&alice, 10);
    h.unbond(&alice, 1).unwrap();
    assert_eq!(
        h.stake(&alice).claims[0].release_at,
        h.env.block.time.plus_seconds(50)
    );
    let err = h.exec_err(
        &alice,
        ExecuteMsg::Unbond {
            amount: 1u128.into(),
        },
    );
    assert!(matches!(err, ContractError::TooManyClaims { max: 1 }));
}

#[test]
fn update_config_leaves_unset_fields_alone() {
    let mut h = Harness::new();
    let owner = h.owner.clone();
    h.exec(&owner, update_config(None, Some(7))).unwrap();
    let config: VaultConfig = h.query(QueryMsg::Config {});
    assert_eq!(
        (
            config.unbonding_period_seconds,
            config.max_claims_per_address
        ),
        (PERIOD, 7)
    );
}

#[test]
fn update_config_by_non_owner_is_unauthorized() {
    let mut h = Harness::new();
    let market = h.market.clone();
    let err = h.exec_err(&market, update_config(Some(1), None));
    assert!(
        matches!(err, ContractError::Ownership(OwnershipError::NotOwner { owner }) if owner == h.owner.as_str())
    );
}

#[test]
fn update_config_to_zero_period_or_zero_max_claims_is_rejected() {
    let mut h = Harness::new();
    let owner = h.owner.clone();
    let err = h.exec_err(&owner, update_config(Some(0), None));
    assert!(matches!(err, ContractError::ZeroUnbondingPeriod));
    let err = h.exec_err(&owner, update_config(None, Some(0)));
    assert!(matches!(err, ContractError::ZeroMaxClaims));
}

#[test]
fn update_config_with_funds_is_rejected() {
    let mut h = Harness::new();
    let owner = h.owner.clone();
    let err = h.exec_err_funds(&owner, update_config(Some(5), None), &[coin(1, DENOM)]);
    assert!(matches!(
        err,
        ContractError::Payment(PaymentError::NonPayable {})
    ));
}

#[test]
fn unbond_with_an_overflowing_period_is_an_error_not_a_panic() {
    let mut h = Harness::new();
    let owner = h.owner.clone();
    h.exec(&owner, update_config(Some(u64::MAX), None)).unwrap();
    let alice = h.addr("alice");
    h.bond(&alice, 10);
    let err = h.exec_err(
        &alice,
        ExecuteMsg::Unbond {
            amount: 1u128.into(),
        },
    );
    assert!(matches!(err, ContractError::Overflow(_)));
}

#[test]
fn ownership_transfers_in_two_steps() {
    let mut h = Harness::new();
    let owner = h.owner.clone();
    let next = h.addr("next");
    let transfer = ExecuteMsg::UpdateOwnership(OwnershipAction::TransferOwnership {
        new_owner: next.to_string(),
    });
    let err = h.exec_err(&next, transfer.clone());
    assert!(matches!(
        err,
        ContractError::Ownership(OwnershipError::NotOwner { .. })
    ));
    h.exec(&owner, transfer).unwrap();
    h.exec(
        &next,
        ExecuteMsg::UpdateOwnership(OwnershipAction::AcceptOwnership {}),
    )
    .unwrap();
    let ownership: Ownership = h.query(QueryMsg::Ownership {});
    assert_eq!(ownership.owner, Some(next.clone()));
    let err = h.exec_err(&owner, update_config(Some(5), None));
    assert!(matches!(
        err,
        ContractError::Ownership(OwnershipError::NotOwner { .. })
    ));
    h.exec(&next, update_config(Some(5), None)).unwrap();
}

#[test]
fn migrate_accepts_the_same_version_and_refuses_another_contract() {
    let mut h = Harness::new();
    let res = migrate(h.deps.as_mut(), h.env.clone(), MigrateMsg {}).unwrap();
    assert_action(&res, actions::MIGRATE);
    cw2::set_contract_version(&mut h.deps.storage, "crates.io:other", "0.1.0").unwrap();
    let err = migrate(h.deps.as_mut(), h.env.clone(), MigrateMsg {}).unwrap_err();
    assert!(matches!(err, ContractError::Migration(_)));
}
