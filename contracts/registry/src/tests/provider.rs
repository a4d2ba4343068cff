use cosmwasm_std::{coin, Uint128};
use cw_utils::PaymentError;
use opengpu_types::events::actions;
use opengpu_types::registry::{ExecuteMsg, ProviderStatus, Reputation};

use super::{assert_action, profile, Setup, MIN_BOND};
use crate::ContractError;

#[test]
fn register_with_min_bond_creates_an_active_provider_with_zero_reputation() {
    let mut s = Setup::new();
    let alice = s.addr("alice");
    let payout = s.addr("payout");
    s.stakes(&[(&alice, MIN_BOND, 0)]);
    let mut p = profile();
    p.payout_addr = Some(payout.to_string());
    let res = s
        .execute(&alice, ExecuteMsg::Register { profile: p.clone() })
        .unwrap();

    assert_action(&res, actions::REGISTER);
    assert_eq!(res.events[0].ty, "provider_registered");
    assert_eq!(res.events[0].attributes[0].value, alice.as_str());
    assert_eq!(res.events[0].attributes[1].value, "rig-1");
    let stored = s.stored(&alice).unwrap();
    assert_eq!(stored.address, alice);
    assert_eq!(stored.moniker, p.moniker);
    assert_eq!(stored.device, p.device);
    assert_eq!(stored.prices, p.prices);
    assert_eq!(stored.payout_addr, Some(payout.clone()));
    assert_eq!(stored.payout(), &payout);
    assert_eq!(stored.status, ProviderStatus::Active);
    assert_eq!(stored.reputation, Reputation::default());
    assert_eq!(
        stored.registered_height,
        cosmwasm_std::testing::mock_env().block.height
    );
}

#[test]
fn register_twice_is_rejected() {
    let mut s = Setup::new();
    let alice = s.addr("alice");
    s.stakes(&[(&alice, MIN_BOND, 0)]);
    s.register(&alice);
    let before = s.stored(&alice);
    let err = s
        .execute(&alice, ExecuteMsg::Register { profile: profile() })
        .unwrap_err();
    assert!(
        matches!(err, ContractError::AlreadyRegistered { address } if address == alice.as_str())
    );
    assert_eq!(s.stored(&alice), before);
}

#[test]
fn register_below_min_bond_is_rejected_and_names_both_amounts() {
    let mut s = Setup::new();
    let alice = s.addr("alice");
    s.stakes(&[(&alice, MIN_BOND - 1, 0)]);
    let err = s
        .execute(&alice, ExecuteMsg::Register { profile: profile() })
        .unwrap_err();
    assert!(matches!(
        err,
        ContractError::InsufficientBond { needed, bonded }
            if needed == Uint128::new(MIN_BOND) && bonded == Uint128::new(MIN_BOND - 1)
    ));
    assert_eq!(s.stored(&alice), None);
}

#[test]
fn register_without_any_stake_is_rejected() {
    let mut s = Setup::new();
    let alice = s.addr("alice");
    let err = s
        .execute(&alice, ExecuteMsg::Register { profile: profile() })
        .unwrap_err();
    assert!(matches!(err, ContractError::InsufficientBond { bonded, .. } if bonded.is_zero()));
}

#[test]
fn register_with_invalid_profile_is_rejected_and_stores_nothing() {
    let mut s = Setup::new();
    let alice = s.addr("alice");
    s.stakes(&[(&alice, MIN_BOND, 0)]);
    let mut p = profile();
    p.moniker.clear();
    let err = s
        .execute(&alice, ExecuteMsg::Register { profile: p })
        .unwrap_err();
    assert!(matches!(err, ContractError::InvalidMoniker { len: 0, .. }));
    assert_eq!(s.stored(&alice), None);
}

#[test]
fn messages_with_funds_are_rejected() {
    let mut s = Setup::new();
    let alice = s.addr("alice");
    s.stakes(&[(&alice, MIN_BOND, 0)]);
    let msg = ExecuteMsg::Register { profile: profile() };
    let err = s
        .execute_with_funds(&alice, &[coin(5, "ugpu")], msg)
        .unwrap_err();
    assert!(matches!(
        err,
        ContractError::Payment(PaymentError::NonPayable {})
    ));
    assert_eq!(s.stored(&alice), None);
}

#[test]
fn update_replaces_the_profile_and_keeps_status_reputation_and_height() {
    let mut s = Setup::new();
    let alice = s.addr("alice");
    let market = s.market.clone();
    s.stakes(&[(&alice, MIN_BOND, 0)]);
    s.register(&alice);
    s.execute(&alice, ExecuteMsg::Pause {}).unwrap();
    let outcome = ExecuteMsg::RecordOutcome {
        provider: alice.to_string(),
        task_id: 1,
        outcome: opengpu_types::registry::Outcome::Won,
    };
    s.execute(&market, outcome).unwrap();
    let before = s.stored(&alice).unwrap();

    let mut p = profile();
    p.moniker = "rig-2".into();
    p.device.global_mem_bytes = 8 << 30;
    p.prices = vec![coin(7, "uatom")];
    let res = s
        .execute(&alice, ExecuteMsg::Update { profile: p.clone() })
        .unwrap();

    assert_action(&res, actions::UPDATE_PROVIDER);
    assert_eq!(res.events[0].ty, "provider_updated");
    let after = s.stored(&alice).unwrap();
    assert_eq!(after.moniker, "rig-2");
    assert_eq!(after.device, p.device);
    assert_eq!(after.prices, p.prices);
    assert_eq!(after.status, ProviderStatus::Paused);
    assert_eq!(after.reputation, before.reputation);
    assert_eq!(after.registered_height, before.registered_height);
}

#[test]
fn update_by_unregistered_sender_is_rejected() {
    let mut s = Setup::new();
    let bob = s.addr("bob");
    let err = s
        .execute(&bob, ExecuteMsg::Update { profile: profile() })
        .unwrap_err();
    assert!(matches!(err, ContractError::NotRegistered { address } if address == bob.as_str()));
    assert_eq!(s.stored(&bob), None);
}

#[test]
fn update_with_invalid_profile_leaves_the_stored_profile_unchanged() {
    let mut s = Setup::new();
    let alice = s.addr("alice");
    s.stakes(&[(&alice, MIN_BOND, 0)]);
    s.register(&alice);
    let before = s.stored(&alice);
    let mut p = profile();
    p.device.compute_units = 0;
    let err = s
        .execute(&alice, ExecuteMsg::Update { profile: p })
        .unwrap_err();
    assert!(matches!(
        err,
        ContractError::ZeroDeviceField {
            field: "compute_units"
        }
    ));
    assert_eq!(s.stored(&alice), before);
}

#[test]
fn pause_then_resume_toggles_status() {
    let mut s = Setup::new();
    let alice = s.addr("alice");
    s.stakes(&[(&alice, MIN_BOND, 0)]);
    s.register(&alice);

    let res = s.execute(&alice, ExecuteMsg::Pause {}).unwrap();
    assert_action(&res, actions::PAUSE);
    assert_eq!(res.events[0].ty, "provider_status_changed");
    assert_eq!(res.events[0].attributes[1].value, "paused");
    assert_eq!(s.stored(&alice).unwrap().status, ProviderStatus::Paused);

    let res = s.execute(&alice, ExecuteMsg::Resume {}).unwrap();
    assert_action(&res, actions::RESUME);
    assert_eq!(res.events[0].attributes[1].value, "active");
    assert_eq!(s.stored(&alice).unwrap().status, ProviderStatus::Active);
}

#[test]
fn pause_when_already_paused_is_rejected() {
    let mut s = Setup::new();
    let alice = s.addr("alice");
    s.stakes(&[(&alice, MIN_BOND, 0)]);
    s.register(&alice);
    s.execute(&alice, ExecuteMsg::Pause {}).unwrap();
    let err = s.execute(&alice, ExecuteMsg::Pause {}).unwrap_err();
    assert!(matches!(
        err,
        ContractError::AlreadyInStatus {
            status: ProviderStatus::Paused
        }
    ));
}

#[test]
fn resume_when_already_active_is_rejected() {
    let mut s = Setup::new();
    let alice = s.addr("alice");
    s.stakes(&[(&alice, MIN_BOND, 0)]);
    s.register(&alice);
    let err = s.execute(&alice, ExecuteMsg::Resume {}).unwrap_err();
    assert!(matches!(
        err,
        ContractError::AlreadyInStatus {
            status: ProviderStatus::Active
        }
    ));
}

#[test]
fn resume_below_min_bond_is_rejected_and_stays_paused() {
    let mut s = Setup::new();
    let alice = s.addr("alice");
    s.stakes(&[(&alice, MIN_BOND, 0)]);
    s.register(&alice);
    s.execute(&alice, ExecuteMsg::Pause {}).unwrap();
    s.stakes(&[(&alice, MIN_BOND - 1, 0)]);
    let err = s.execute(&alice, ExecuteMsg::Resume {}).unwrap_err();
    assert!(matches!(err, ContractError::InsufficientBond { .. }));
    assert_eq!(s.stored(&alice).unwrap().status, ProviderStatus::Paused);
}

#[test]
fn pause_resume_or_deregister_by_unregistered_sender_is_rejected() {
    let mut s = Setup::new();
    let bob = s.addr("bob");
    for msg in [
        ExecuteMsg::Pause {},
        ExecuteMsg::Resume {},
        ExecuteMsg::Deregister {},
    ] {
        let err = s.execute(&bob, msg).unwrap_err();
        assert!(matches!(err, ContractError::NotRegistered { .. }));
    }
}

#[test]
fn deregister_with_nothing_locked_removes_the_provider() {
    let mut s = Setup::new();
    let alice = s.addr("alice");
    s.stakes(&[(&alice, MIN_BOND, 0)]);
    s.register(&alice);
    let res = s.execute(&alice, ExecuteMsg::Deregister {}).unwrap();
    assert_action(&res, actions::DEREGISTER);
    assert_eq!(res.events[0].ty, "provider_deregistered");
    assert_eq!(s.stored(&alice), None);
    // It may register again.
    s.register(&alice);
}

#[test]
fn reregistering_after_deregister_restores_the_old_reputation() {
    let mut s = Setup::new();
    let alice = s.addr("alice");
    let market = s.market.clone();
    s.stakes(&[(&alice, MIN_BOND, 0)]);
    s.register(&alice);
    let slashed = ExecuteMsg::RecordOutcome {
        provider: alice.to_string(),
        task_id: 1,
        outcome: opengpu_types::registry::Outcome::Slashed,
    };
    s.execute(&market, slashed).unwrap();
    s.execute(&alice, ExecuteMsg::Deregister {}).unwrap();
    s.register(&alice);
    assert_eq!(s.stored(&alice).unwrap().reputation.slashed, 1);
}

#[test]
fn deregister_while_collateral_is_locked_is_rejected() {
    let mut s = Setup::new();
    let alice = s.addr("alice");
    s.stakes(&[(&alice, MIN_BOND, 0)]);
    s.register(&alice);
    s.stakes(&[(&alice, MIN_BOND, 300)]);
    let err = s.execute(&alice, ExecuteMsg::Deregister {}).unwrap_err();
    assert!(
        matches!(err, ContractError::CollateralLocked { locked } if locked == Uint128::new(300))
    );
    assert!(s.stored(&alice).is_some());
}
