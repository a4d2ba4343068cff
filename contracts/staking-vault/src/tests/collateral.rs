//! Lock and Unlock: the market's per-task collateral.

use cosmwasm_std::{coin, Uint128};
use cw_utils::PaymentError;
use opengpu_types::events::actions;
use opengpu_types::vault::{LockResponse, QueryMsg};

use super::*;

fn lock_of(h: &Harness, provider: &Addr, task_id: TaskId) -> u128 {
    let res: LockResponse = h.query(QueryMsg::TaskLock {
        provider: provider.to_string(),
        task_id,
    });
    res.amount.u128()
}

#[test]
fn lock_moves_free_stake_into_task_collateral() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    h.bond(&alice, 100);
    let res = h.lock(&alice, 7, 60).unwrap();
    assert_action(&res, actions::LOCK);
    assert_eq!(event_attr(&res, "collateral_locked", "task_id"), "7");
    assert_eq!(event_attr(&res, "collateral_locked", "amount"), "60");
    assert!(res.messages.is_empty());

    let stake = h.stake(&alice);
    assert_eq!(
        (stake.bonded.u128(), stake.locked.u128(), stake.free.u128()),
        (100, 60, 40)
    );
    assert_eq!(lock_of(&h, &alice, 7), 60);
    assert_eq!(h.totals().locked.u128(), 60);
    h.assert_invariants();
}

#[test]
fn lock_by_non_market_is_unauthorized() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    h.bond(&alice, 100);
    for sender in [alice.clone(), h.verification.clone(), h.owner.clone()] {
        let err = h.exec_err(&sender, lock_msg(&alice, 1, 10));
        assert_unauthorized(err, &sender);
    }
}

#[test]
fn unauthorized_error_names_the_market() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    let err = h.exec_err(&alice, lock_msg(&alice, 1, 10));
    assert!(
        matches!(&err, ContractError::Unauthorized { expected, .. } if *expected == h.market.to_string())
    );
    assert!(err.to_string().contains(h.market.as_str()));
}

#[test]
fn lock_of_zero_is_rejected() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    h.bond(&alice, 100);
    let market = h.market.clone();
    let err = h.exec_err(&market, lock_msg(&alice, 1, 0));
    assert!(matches!(err, ContractError::ZeroAmount));
}

#[test]
fn lock_cannot_exceed_free_stake() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    h.bond(&alice, 100);
    h.lock(&alice, 1, 70).unwrap();
    let market = h.market.clone();
    let err = h.exec_err(&market, lock_msg(&alice, 2, 31));
    assert!(matches!(
        err,
        ContractError::InsufficientFreeStake { requested, free }
            if requested.u128() == 31 && free.u128() == 30
    ));
    h.lock(&alice, 2, 30).unwrap();
    let stake = h.stake(&alice);
    assert_eq!((stake.locked.u128(), stake.free.u128()), (100, 0));
    h.assert_invariants();
}

#[test]
fn lock_cannot_use_unbonding_stake() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    h.bond(&alice, 100);
    h.unbond(&alice, 100).unwrap();
    let market = h.market.clone();
    let err = h.exec_err(&market, lock_msg(&alice, 1, 1));
    assert!(matches!(err, ContractError::InsufficientFreeStake { free, .. } if free.is_zero()));
}

#[test]
fn second_lock_for_the_same_task_is_rejected() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    h.bond(&alice, 100);
    h.lock(&alice, 1, 10).unwrap();
    let market = h.market.clone();
    let err = h.exec_err(&market, lock_msg(&alice, 1, 10));
    assert!(matches!(
        err,
        ContractError::AlreadyLocked { provider, task_id } if provider == alice && task_id == 1
    ));
}

#[test]
fn same_task_can_lock_collateral_of_several_providers() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    let bob = h.addr("bob");
    h.bond(&alice, 100);
    h.bond(&bob, 100);
    h.lock(&alice, 1, 10).unwrap();
    h.lock(&bob, 1, 20).unwrap();
    assert_eq!((lock_of(&h, &alice, 1), lock_of(&h, &bob, 1)), (10, 20));
    assert_eq!(h.totals().locked.u128(), 30);
    h.assert_invariants();
}

#[test]
fn lock_with_invalid_provider_address_is_rejected() {
    let mut h = Harness::new();
    let market = h.market.clone();
    let msg = ExecuteMsg::Lock {
        provider: "not an address".to_string(),
        task_id: 1,
        amount: Uint128::new(1),
    };
    let err = h.exec_err(&market, msg);
    assert!(matches!(err, ContractError::Std(_)));
}

#[test]
fn lock_with_funds_is_rejected() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    h.bond(&alice, 100);
    let market = h.market.clone();
    let err = h.exec_err_funds(&market, lock_msg(&alice, 1, 10), &[coin(1, DENOM)]);
    assert!(matches!(
        err,
        ContractError::Payment(PaymentError::NonPayable {})
    ));
}

#[test]
fn unlock_returns_collateral_to_free_stake() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    h.bond(&alice, 100);
    h.lock(&alice, 1, 60).unwrap();
    let market = h.market.clone();
    let res = h.exec(&market, unlock_msg(&alice, 1)).unwrap();
    assert_action(&res, actions::UNLOCK);
    assert_eq!(event_attr(&res, "collateral_unlocked", "amount"), "60");
    assert!(res.messages.is_empty());

    let stake = h.stake(&alice);
    assert_eq!(
        (stake.bonded.u128(), stake.locked.u128(), stake.free.u128()),
        (100, 0, 100)
    );
    assert_eq!(lock_of(&h, &alice, 1), 0);
    assert!(h.totals().locked.is_zero());
    h.assert_invariants();
    // Unlocked stake can leave again.
    h.unbond(&alice, 100).unwrap();
    h.assert_invariants();
}

#[test]
fn unlock_by_non_market_is_unauthorized() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    h.bond(&alice, 100);
    h.lock(&alice, 1, 60).unwrap();
    for sender in [alice.clone(), h.verification.clone(), h.owner.clone()] {
        let err = h.exec_err(&sender, unlock_msg(&alice, 1));
        assert_unauthorized(err, &sender);
    }
}

#[test]
fn unlock_without_a_lock_is_rejected() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    h.bond(&alice, 100);
    h.lock(&alice, 1, 10).unwrap();
    let market = h.market.clone();
    let err = h.exec_err(&market, unlock_msg(&alice, 2));
    assert!(matches!(
        err,
        ContractError::NoLock { provider, task_id } if provider == alice && task_id == 2
    ));
}

#[test]
fn unlock_twice_is_rejected() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    h.bond(&alice, 100);
    h.lock(&alice, 1, 10).unwrap();
    let market = h.market.clone();
    h.exec(&market, unlock_msg(&alice, 1)).unwrap();
    let err = h.exec_err(&market, unlock_msg(&alice, 1));
    assert!(matches!(err, ContractError::NoLock { .. }));
}

#[test]
fn unlock_with_funds_is_rejected() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    h.bond(&alice, 100);
    h.lock(&alice, 1, 10).unwrap();
    let market = h.market.clone();
    let err = h.exec_err_funds(&market, unlock_msg(&alice, 1), &[coin(1, DENOM)]);
    assert!(matches!(
        err,
        ContractError::Payment(PaymentError::NonPayable {})
    ));
}
