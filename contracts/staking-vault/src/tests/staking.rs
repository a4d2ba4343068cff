//! Bond, Unbond and Claim.

use cosmwasm_std::{coin, Uint128};
use cw_utils::PaymentError;
use opengpu_types::events::actions;
use opengpu_types::vault::ExecuteMsg;

use super::*;

#[test]
fn bond_adds_to_bonded_stake_and_totals() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    let res = h.bond(&alice, 100);
    assert_action(&res, actions::BOND);
    assert_eq!(event_attr(&res, "stake_bonded", "amount"), "100");
    assert_eq!(event_attr(&res, "stake_bonded", "bonded"), "100");
    let res = h.bond(&alice, 50);
    assert_eq!(event_attr(&res, "stake_bonded", "bonded"), "150");

    let stake = h.stake(&alice);
    assert_eq!(stake.bonded.u128(), 150);
    assert_eq!(stake.free.u128(), 150);
    assert_eq!(h.totals().bonded.u128(), 150);
    h.assert_invariants();
}

#[test]
fn bond_without_funds_is_rejected() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    let err = h.exec_err(&alice, ExecuteMsg::Bond {});
    assert!(matches!(
        err,
        ContractError::Payment(PaymentError::NoFunds {})
    ));
}

#[test]
fn bond_of_zero_is_rejected() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    let err = h.exec_err_funds(&alice, ExecuteMsg::Bond {}, &[coin(0, DENOM)]);
    assert!(matches!(
        err,
        ContractError::Payment(PaymentError::NoFunds {})
    ));
}

#[test]
fn bond_in_another_denom_is_rejected() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    let err = h.exec_err_funds(&alice, ExecuteMsg::Bond {}, &[coin(100, "uatom")]);
    assert!(matches!(err, ContractError::Payment(PaymentError::MissingDenom(d)) if d == DENOM));
}

#[test]
fn bond_with_several_denoms_is_rejected() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    let funds = [coin(100, DENOM), coin(100, "uatom")];
    let err = h.exec_err_funds(&alice, ExecuteMsg::Bond {}, &funds);
    assert!(matches!(
        err,
        ContractError::Payment(PaymentError::MultipleDenoms {})
    ));
}

#[test]
fn unbond_moves_stake_into_a_claim_released_after_the_period() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    h.bond(&alice, 100);
    let res = h.unbond(&alice, 40).unwrap();
    assert_action(&res, actions::UNBOND);
    let release_at = h.env.block.time.plus_seconds(PERIOD);
    assert_eq!(
        event_attr(&res, "stake_unbonded", "release_at"),
        release_at.seconds().to_string()
    );
    assert!(res.messages.is_empty(), "unbond pays nothing yet");

    let stake = h.stake(&alice);
    assert_eq!((stake.bonded.u128(), stake.unbonding.u128()), (60, 40));
    assert_eq!(stake.claims.len(), 1);
    assert_eq!(stake.claims[0].release_at, release_at);
    let totals = h.totals();
    assert_eq!((totals.bonded.u128(), totals.unbonding.u128()), (60, 40));
    h.assert_invariants();
}

#[test]
fn unbond_of_zero_is_rejected() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    h.bond(&alice, 100);
    let err = h.exec_err(
        &alice,
        ExecuteMsg::Unbond {
            amount: Uint128::zero(),
        },
    );
    assert!(matches!(err, ContractError::ZeroAmount));
}

#[test]
fn unbond_more_than_free_stake_is_rejected() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    h.bond(&alice, 100);
    let err = h.exec_err(
        &alice,
        ExecuteMsg::Unbond {
            amount: Uint128::new(101),
        },
    );
    assert!(matches!(
        err,
        ContractError::InsufficientFreeStake { requested, free }
            if requested.u128() == 101 && free.u128() == 100
    ));
}

#[test]
fn unbond_without_any_stake_is_rejected() {
    let mut h = Harness::new();
    let nobody = h.addr("nobody");
    let err = h.exec_err(
        &nobody,
        ExecuteMsg::Unbond {
            amount: Uint128::one(),
        },
    );
    assert!(matches!(err, ContractError::InsufficientFreeStake { free, .. } if free.is_zero()));
}

#[test]
fn locked_stake_cannot_be_unbonded() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    h.bond(&alice, 100);
    h.lock(&alice, 1, 70).unwrap();
    let err = h.exec_err(
        &alice,
        ExecuteMsg::Unbond {
            amount: Uint128::new(31),
        },
    );
    assert!(matches!(
        err,
        ContractError::InsufficientFreeStake { requested, free }
            if requested.u128() == 31 && free.u128() == 30
    ));
    h.unbond(&alice, 30).unwrap();
    let stake = h.stake(&alice);
    assert_eq!(
        (stake.bonded.u128(), stake.locked.u128(), stake.free.u128()),
        (70, 70, 0)
    );
    h.assert_invariants();
}

#[test]
fn unbond_with_funds_is_rejected() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    h.bond(&alice, 100);
    let msg = ExecuteMsg::Unbond {
        amount: Uint128::new(1),
    };
    let err = h.exec_err_funds(&alice, msg, &[coin(5, DENOM)]);
    assert!(matches!(
        err,
        ContractError::Payment(PaymentError::NonPayable {})
    ));
}

#[test]
fn unbond_beyond_max_claims_is_rejected() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    h.bond(&alice, 100);
    for _ in 0..MAX_CLAIMS {
        h.unbond(&alice, 1).unwrap();
    }
    let err = h.exec_err(
        &alice,
        ExecuteMsg::Unbond {
            amount: Uint128::one(),
        },
    );
    assert!(matches!(err, ContractError::TooManyClaims { max } if max == MAX_CLAIMS));
    h.assert_invariants();
}

#[test]
fn claiming_frees_a_claim_slot_for_a_new_unbond() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    h.bond(&alice, 100);
    for _ in 0..MAX_CLAIMS {
        h.unbond(&alice, 1).unwrap();
    }
    h.advance(PERIOD);
    h.exec(&alice, ExecuteMsg::Claim {}).unwrap();
    h.unbond(&alice, 1).unwrap();
    assert_eq!(h.stake(&alice).claims.len(), 1);
    h.assert_invariants();
}

#[test]
fn claims_release_only_after_the_unbonding_period() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    h.bond(&alice, 100);
    h.unbond(&alice, 40).unwrap();

    h.advance(PERIOD - 1);
    let err = h.exec_err(&alice, ExecuteMsg::Claim {});
    assert!(matches!(err, ContractError::NothingToClaim));

    h.advance(1);
    let res = h.exec(&alice, ExecuteMsg::Claim {}).unwrap();
    assert_action(&res, actions::CLAIM);
    assert_eq!(
        bank_sends(&res),
        vec![(alice.to_string(), Uint128::new(40))]
    );
    assert_eq!(event_attr(&res, "stake_claimed", "amount"), "40");
    let stake = h.stake(&alice);
    assert!(stake.claims.is_empty());
    assert_eq!((stake.bonded.u128(), stake.unbonding.u128()), (60, 0));
    h.assert_invariants();
}

#[test]
fn claim_pays_every_matured_claim_and_keeps_pending_ones() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    h.bond(&alice, 100);
    h.unbond(&alice, 10).unwrap();
    h.advance(10);
    h.unbond(&alice, 20).unwrap();
    h.advance(PERIOD - 5);
    h.unbond(&alice, 30).unwrap();
    h.advance(10);

    // The first two matured, the third has PERIOD - 10 seconds to go.
    let res = h.exec(&alice, ExecuteMsg::Claim {}).unwrap();
    assert_eq!(
        bank_sends(&res),
        vec![(alice.to_string(), Uint128::new(30))]
    );
    let stake = h.stake(&alice);
    assert_eq!(stake.claims.len(), 1);
    assert_eq!(stake.unbonding.u128(), 30);
    h.assert_invariants();

    let err = h.exec_err(&alice, ExecuteMsg::Claim {});
    assert!(matches!(err, ContractError::NothingToClaim));
}

#[test]
fn claim_without_claims_is_rejected() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    h.bond(&alice, 100);
    let err = h.exec_err(&alice, ExecuteMsg::Claim {});
    assert!(matches!(err, ContractError::NothingToClaim));
}

#[test]
fn claim_with_funds_is_rejected() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    h.bond(&alice, 100);
    h.unbond(&alice, 10).unwrap();
    h.advance(PERIOD);
    let err = h.exec_err_funds(&alice, ExecuteMsg::Claim {}, &[coin(1, DENOM)]);
    assert!(matches!(
        err,
        ContractError::Payment(PaymentError::NonPayable {})
    ));
}

#[test]
fn claims_of_one_staker_are_not_paid_to_another() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    let bob = h.addr("bob");
    h.bond(&alice, 100);
    h.bond(&bob, 100);
    h.unbond(&alice, 50).unwrap();
    h.advance(PERIOD);
    let err = h.exec_err(&bob, ExecuteMsg::Claim {});
    assert!(matches!(err, ContractError::NothingToClaim));
    h.exec(&alice, ExecuteMsg::Claim {}).unwrap();
    assert_eq!(h.stake(&bob).bonded.u128(), 100);
    h.assert_invariants();
}

#[test]
fn full_unbond_and_claim_leaves_no_stake_behind() {
    let mut h = Harness::new();
    let alice = h.addr("alice");
    h.bond(&alice, 100);
    h.unbond(&alice, 100).unwrap();
    h.advance(PERIOD);
    h.exec(&alice, ExecuteMsg::Claim {}).unwrap();
    let stake = h.stake(&alice);
    assert!(stake.bonded.is_zero() && stake.unbonding.is_zero() && stake.claims.is_empty());
    let totals = h.totals();
    assert!(totals.bonded.is_zero() && totals.locked.is_zero() && totals.unbonding.is_zero());
    assert!(h.balance.is_zero());
    h.assert_invariants();
}
