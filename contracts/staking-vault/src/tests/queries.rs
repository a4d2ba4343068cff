//! Stake, Lock, Locks and Totals queries.

use cosmwasm_std::Uint128;
use opengpu_types::pagination::MAX_LIMIT;
use opengpu_types::vault::{LockResponse, LocksResponse, QueryMsg, TaskLock};

use super::*;

fn locks(
    h: &Harness,
    provider: &Addr,
    start_after: Option<TaskId>,
    limit: Option<u32>,
) -> Vec<TaskId> {
    let res: LocksResponse = h.query(QueryMsg::Locks {
        provider: provider.to_string(),
        start_after,
        limit,
    });
    res.locks.into_iter().map(|l| l.task_id).collect()
}

#[test]
fn stake_of_an_unknown_address_is_all_zeros() {
    let h = Harness::new();
    let nobody = h.addr("nobody");
    let stake = h.stake(&nobody);
    assert_eq!(stake.address, nobody);
    assert!(stake.bonded.is_zero() && stake.locked.is_zero() && stake.free.is_zero());
    assert!(stake.unbonding.is_zero() && stake.claims.is_empty());
}

#[test]
fn lock_of_an_unknown_task_is_zero() {
    let h = Harness::new();
    let res: LockResponse = h.query(QueryMsg::TaskLock {
        provider: h.addr("nobody").to_string(),
        task_id: 3,
    });
    assert!(res.amount.is_zero());
}

#[test]
fn locks_are_paginated_by_task_id_per_provider() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    let bob = h.addr("bob");
    h.bond(&alice, 1_000);
    h.bond(&bob, 1_000);
    for task_id in [5, 1, 40, 3, 12] {
        h.lock(&alice, task_id, 10).unwrap();
    }
    h.lock(&bob, 2, 10).unwrap();

    assert_eq!(locks(&h, &alice, None, None), vec![1, 3, 5, 12, 40]);
    assert_eq!(locks(&h, &alice, None, Some(2)), vec![1, 3]);
    assert_eq!(locks(&h, &alice, Some(3), Some(2)), vec![5, 12]);
    assert_eq!(locks(&h, &alice, Some(12), None), vec![40]);
    assert_eq!(locks(&h, &alice, Some(40), None), Vec::<TaskId>::new());
    assert_eq!(locks(&h, &bob, None, None), vec![2]);

    let res: LocksResponse = h.query(QueryMsg::Locks {
        provider: bob.to_string(),
        start_after: None,
        limit: None,
    });
    assert_eq!(
        res.locks,
        vec![TaskLock {
            task_id: 2,
            amount: Uint128::new(10)
        }]
    );
}

#[test]
fn locks_page_is_capped_at_max_limit() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    h.bond(&alice, 1_000);
    for task_id in 1..=(MAX_LIMIT as u64 + 5) {
        h.lock(&alice, task_id, 1).unwrap();
    }
    assert_eq!(locks(&h, &alice, None, None).len(), 10);
    assert_eq!(
        locks(&h, &alice, None, Some(1_000)).len(),
        MAX_LIMIT as usize
    );
}

#[test]
fn totals_stay_consistent_through_a_mixed_sequence() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    let bob = h.addr("bob");
    let client = h.addr("client");
    let market = h.market.clone();

    h.bond(&alice, 500);
    h.bond(&bob, 300);
    h.assert_invariants();
    h.lock(&alice, 1, 200).unwrap();
    h.lock(&bob, 1, 100).unwrap();
    h.assert_invariants();
    h.unbond(&alice, 250).unwrap();
    h.unbond(&bob, 50).unwrap();
    h.assert_invariants();
    h.slash(&bob, 1, 400, &client).unwrap();
    h.assert_invariants();
    h.exec(&market, unlock_msg(&alice, 1)).unwrap();
    h.assert_invariants();
    h.advance(PERIOD);
    h.exec(&alice, ExecuteMsg::Claim {}).unwrap();
    h.assert_invariants();
    h.bond(&bob, 20);
    h.lock(&bob, 2, 20).unwrap();
    h.assert_invariants();

    let totals = h.totals();
    // alice: 250 bonded; bob: 20 bonded and locked; bob's claims all slashed.
    assert_eq!(
        (
            totals.bonded.u128(),
            totals.locked.u128(),
            totals.unbonding.u128()
        ),
        (270, 20, 0)
    );
    assert_eq!(h.balance.u128(), 270);
}
