//! Slash: lock first, then free bonded stake, then unbonding claims (newest first).

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
fn slash_takes_the_task_lock_and_pays_the_beneficiary() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    let client = h.addr("client");
    h.bond(&alice, 100);
    h.lock(&alice, 1, 40).unwrap();
    let res = h.slash(&alice, 1, 40, &client).unwrap();
    assert_action(&res, actions::SLASH);
    assert_eq!(
        bank_sends(&res),
        vec![(client.to_string(), Uint128::new(40))]
    );
    assert_eq!(event_attr(&res, "stake_slashed", "amount"), "40");
    assert_eq!(
        event_attr(&res, "stake_slashed", "beneficiary"),
        client.as_str()
    );
    assert_eq!(event_attr(&res, "stake_slashed", "task_id"), "1");

    let stake = h.stake(&alice);
    assert_eq!(
        (stake.bonded.u128(), stake.locked.u128(), stake.free.u128()),
        (60, 0, 60)
    );
    assert_eq!(lock_of(&h, &alice, 1), 0, "a fully slashed lock is gone");
    h.assert_invariants();
}

#[test]
fn slash_smaller_than_the_lock_leaves_the_rest_locked() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    let client = h.addr("client");
    h.bond(&alice, 100);
    h.lock(&alice, 1, 40).unwrap();
    h.slash(&alice, 1, 15, &client).unwrap();
    let stake = h.stake(&alice);
    assert_eq!((stake.bonded.u128(), stake.locked.u128()), (85, 25));
    assert_eq!(lock_of(&h, &alice, 1), 25);
    h.assert_invariants();
    // The market can still release the remainder.
    let market = h.market.clone();
    h.exec(&market, unlock_msg(&alice, 1)).unwrap();
    assert!(h.stake(&alice).locked.is_zero());
    h.assert_invariants();
}

#[test]
fn slash_beyond_the_lock_takes_free_stake_but_not_other_tasks_locks() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    let client = h.addr("client");
    h.bond(&alice, 100);
    h.lock(&alice, 1, 20).unwrap();
    h.lock(&alice, 2, 50).unwrap();
    // Lock 1 (20) + free (30) = 50 available; task 2's 50 is off limits.
    let res = h.slash(&alice, 1, 80, &client).unwrap();
    assert_eq!(event_attr(&res, "stake_slashed", "amount"), "50");
    let stake = h.stake(&alice);
    assert_eq!(
        (stake.bonded.u128(), stake.locked.u128(), stake.free.u128()),
        (50, 50, 0)
    );
    assert_eq!(lock_of(&h, &alice, 2), 50);
    h.assert_invariants();
}

#[test]
fn slash_without_a_lock_takes_free_stake() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    let client = h.addr("client");
    h.bond(&alice, 100);
    let res = h.slash(&alice, 9, 30, &client).unwrap();
    assert_eq!(
        bank_sends(&res),
        vec![(client.to_string(), Uint128::new(30))]
    );
    assert_eq!(h.stake(&alice).bonded.u128(), 70);
    h.assert_invariants();
}

#[test]
fn slash_reaches_unbonding_claims_newest_first() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    let client = h.addr("client");
    h.bond(&alice, 100);
    h.unbond(&alice, 30).unwrap();
    h.advance(10);
    h.unbond(&alice, 50).unwrap();
    // 20 bonded + 50 newest claim + 5 of the older claim.
    let res = h.slash(&alice, 1, 75, &client).unwrap();
    assert_eq!(event_attr(&res, "stake_slashed", "amount"), "75");
    assert_eq!(
        bank_sends(&res),
        vec![(client.to_string(), Uint128::new(75))]
    );
    let stake = h.stake(&alice);
    assert!(stake.bonded.is_zero());
    assert_eq!(stake.claims.len(), 1);
    assert_eq!(stake.claims[0].amount.u128(), 25);
    assert_eq!(stake.unbonding.u128(), 25);
    assert_eq!(h.totals().unbonding.u128(), 25);
    h.assert_invariants();
}

#[test]
fn unbonding_is_no_escape_from_a_slash() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    let client = h.addr("client");
    h.bond(&alice, 100);
    h.unbond(&alice, 100).unwrap();
    h.slash(&alice, 1, 60, &client).unwrap();
    h.advance(PERIOD);
    let res = h.exec(&alice, ExecuteMsg::Claim {}).unwrap();
    assert_eq!(
        bank_sends(&res),
        vec![(alice.to_string(), Uint128::new(40))]
    );
    h.assert_invariants();
}

#[test]
fn slash_of_more_than_there_is_takes_everything_and_reports_it() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    let client = h.addr("client");
    h.bond(&alice, 100);
    h.lock(&alice, 1, 30).unwrap();
    h.unbond(&alice, 20).unwrap();
    let res = h.slash(&alice, 1, 1_000, &client).unwrap();
    // Lock 30 + free 50 + claim 20.
    assert_eq!(event_attr(&res, "stake_slashed", "amount"), "100");
    assert_eq!(
        bank_sends(&res),
        vec![(client.to_string(), Uint128::new(100))]
    );
    let stake = h.stake(&alice);
    assert!(stake.bonded.is_zero() && stake.unbonding.is_zero() && stake.claims.is_empty());
    assert!(h.balance.is_zero());
    h.assert_invariants();
}

#[test]
fn slash_of_a_provider_without_stake_sends_nothing() {
    let mut h = Harness::new();
    let nobody = h.addr("nobody");
    let client = h.addr("client");
    let res = h.slash(&nobody, 1, 10, &client).unwrap();
    assert_action(&res, actions::SLASH);
    assert!(res.messages.is_empty());
    assert_eq!(event_attr(&res, "stake_slashed", "amount"), "0");
    h.assert_invariants();
}

#[test]
fn slash_by_verification_is_allowed() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    let client = h.addr("client");
    h.bond(&alice, 100);
    let verification = h.verification.clone();
    let res = h
        .exec(&verification, slash_msg(&alice, 1, 10, &client))
        .unwrap();
    assert_eq!(
        bank_sends(&res),
        vec![(client.to_string(), Uint128::new(10))]
    );
    h.assert_invariants();
}

#[test]
fn slash_by_other_senders_is_unauthorized() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    let client = h.addr("client");
    h.bond(&alice, 100);
    for sender in [alice.clone(), client.clone(), h.owner.clone()] {
        let err = h.exec_err(&sender, slash_msg(&alice, 1, 10, &client));
        assert!(
            matches!(&err, ContractError::Unauthorized { sender: s, expected }
                if *s == sender
                    && expected.contains(h.market.as_str())
                    && expected.contains(h.verification.as_str())),
            "{err:?}"
        );
    }
}

#[test]
fn slash_of_zero_is_rejected() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    let client = h.addr("client");
    h.bond(&alice, 100);
    let market = h.market.clone();
    let err = h.exec_err(&market, slash_msg(&alice, 1, 0, &client));
    assert!(matches!(err, ContractError::ZeroAmount));
}

#[test]
fn slash_to_an_invalid_beneficiary_is_rejected() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    h.bond(&alice, 100);
    let market = h.market.clone();
    let msg = ExecuteMsg::Slash {
        provider: alice.to_string(),
        task_id: 1,
        amount: Uint128::new(10),
        beneficiary: "not an address".to_string(),
    };
    let err = h.exec_err(&market, msg);
    assert!(matches!(err, ContractError::Std(_)));
}

#[test]
fn slash_with_funds_is_rejected() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    let client = h.addr("client");
    h.bond(&alice, 100);
    let market = h.market.clone();
    let err = h.exec_err_funds(
        &market,
        slash_msg(&alice, 1, 10, &client),
        &[coin(1, DENOM)],
    );
    assert!(matches!(
        err,
        ContractError::Payment(PaymentError::NonPayable {})
    ));
}

#[test]
fn slash_leaves_other_stakers_untouched() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    let bob = h.addr("bob");
    let client = h.addr("client");
    h.bond(&alice, 100);
    h.bond(&bob, 100);
    h.lock(&bob, 1, 50).unwrap();
    h.unbond(&bob, 20).unwrap();
    h.slash(&alice, 1, 500, &client).unwrap();
    let bob_stake = h.stake(&bob);
    assert_eq!(
        (
            bob_stake.bonded.u128(),
            bob_stake.locked.u128(),
            bob_stake.unbonding.u128()
        ),
        (80, 50, 20)
    );
    assert_eq!(h.balance.u128(), 100);
    h.assert_invariants();
}
