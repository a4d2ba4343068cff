//! Multi-test flows of the staking vault inside the full Suite: real bank balances, real
//! contract addresses for market and verification.

use cosmwasm_std::{coins, Addr, StdResult, Uint128};
use cw_multi_test::{AppResponse, Executor};
use opengpu_staking_vault::ContractError;
use opengpu_testing::{assert_error, Suite, STAKE_DENOM};
use opengpu_types::vault::{ExecuteMsg, LockResponse, QueryMsg};
use opengpu_types::TaskId;

opengpu_testing::ownership_tests!(Vault);

/// The Suite's default unbonding period.
const PERIOD: u64 = 3_600;

/// A staker funded with `funds` and bonded with `bond` of them.
fn staker(suite: &mut Suite, name: &str, funds: u128, bond: u128) -> Addr {
    let addr = suite.addr(name);
    suite.fund(&addr, coins(funds, STAKE_DENOM));
    suite.bond(&addr, bond).unwrap();
    addr
}

fn lock(
    suite: &mut Suite,
    sender: &Addr,
    provider: &Addr,
    task_id: TaskId,
    amount: u128,
) -> StdResult<AppResponse> {
    let msg = ExecuteMsg::Lock {
        provider: provider.to_string(),
        task_id,
        amount: Uint128::new(amount),
    };
    suite.execute_vault(sender, &msg)
}

fn unlock(
    suite: &mut Suite,
    sender: &Addr,
    provider: &Addr,
    task_id: TaskId,
) -> StdResult<AppResponse> {
    let msg = ExecuteMsg::Unlock {
        provider: provider.to_string(),
        task_id,
    };
    suite.execute_vault(sender, &msg)
}

fn slash(
    suite: &mut Suite,
    sender: &Addr,
    provider: &Addr,
    task_id: TaskId,
    amount: u128,
    beneficiary: &Addr,
) -> StdResult<AppResponse> {
    let msg = ExecuteMsg::Slash {
        provider: provider.to_string(),
        task_id,
        amount: Uint128::new(amount),
        beneficiary: beneficiary.to_string(),
    };
    suite.execute_vault(sender, &msg)
}

fn lock_amount(suite: &Suite, provider: &Addr, task_id: TaskId) -> u128 {
    let res: LockResponse = suite
        .app
        .wrap()
        .query_wasm_smart(
            &suite.vault,
            &QueryMsg::TaskLock {
                provider: provider.to_string(),
                task_id,
            },
        )
        .unwrap();
    res.amount.u128()
}

fn unauthorized(sender: &Addr, expected: String) -> ContractError {
    ContractError::Unauthorized {
        sender: sender.clone(),
        expected,
    }
}

#[test]
fn bond_unbond_and_claim_move_real_coins() {
    let mut suite = Suite::new();
    let alice = staker(&mut suite, "alice", 1_000, 600);
    assert_eq!(suite.balance(&alice, STAKE_DENOM), 400);
    assert_eq!(suite.balance(&suite.vault, STAKE_DENOM), 600);
    suite.assert_money_invariants();

    suite.unbond(&alice, 250).unwrap();
    assert_eq!(
        suite.balance(&alice, STAKE_DENOM),
        400,
        "unbonding pays nothing yet"
    );
    let stake = suite.stake(&alice);
    assert_eq!((stake.bonded.u128(), stake.unbonding.u128()), (350, 250));
    suite.assert_money_invariants();

    suite.advance_seconds(PERIOD - 1);
    assert_error(suite.claim(&alice), ContractError::NothingToClaim);
    suite.advance_seconds(1);
    suite.claim(&alice).unwrap();
    assert_eq!(suite.balance(&alice, STAKE_DENOM), 650);
    assert_eq!(suite.balance(&suite.vault, STAKE_DENOM), 350);
    assert!(suite.stake(&alice).claims.is_empty());
    suite.assert_money_invariants();
}

#[test]
fn bond_in_the_wrong_denom_moves_nothing() {
    let mut suite = Suite::new();
    let alice = suite.addr("alice");
    suite.fund(&alice, coins(100, "uother"));
    let res = suite.app.execute_contract(
        alice.clone(),
        suite.vault.clone(),
        &ExecuteMsg::Bond {},
        &coins(100, "uother"),
    );
    assert_error(
        res,
        ContractError::Payment(cw_utils::PaymentError::MissingDenom(STAKE_DENOM.into())),
    );
    assert_eq!(suite.balance(&alice, "uother"), 100);
    assert_eq!(suite.balance(&suite.vault, "uother"), 0);
    suite.assert_money_invariants();
}

#[test]
fn locked_collateral_cannot_be_unbonded_until_unlocked() {
    let mut suite = Suite::new();
    let alice = staker(&mut suite, "alice", 1_000, 1_000);
    let market = suite.market.clone();
    lock(&mut suite, &market, &alice, 1, 700).unwrap();
    assert_error(
        suite.unbond(&alice, 301),
        ContractError::InsufficientFreeStake {
            requested: Uint128::new(301),
            free: Uint128::new(300),
        },
    );
    suite.assert_money_invariants();

    unlock(&mut suite, &market, &alice, 1).unwrap();
    suite.unbond(&alice, 1_000).unwrap();
    suite.advance_seconds(PERIOD);
    suite.claim(&alice).unwrap();
    assert_eq!(suite.balance(&alice, STAKE_DENOM), 1_000);
    suite.assert_money_invariants();
}

#[test]
fn slash_pays_the_beneficiary_from_lock_free_stake_and_claims() {
    let mut suite = Suite::new();
    let alice = staker(&mut suite, "alice", 1_000, 1_000);
    let client = suite.addr("client");
    let market = suite.market.clone();
    lock(&mut suite, &market, &alice, 1, 300).unwrap();
    suite.unbond(&alice, 500).unwrap();

    // Lock 300, free 200, then 100 of the claim.
    let res = slash(&mut suite, &market, &alice, 1, 600, &client).unwrap();
    let event = res
        .events
        .iter()
        .find(|e| e.ty == "wasm-stake_slashed")
        .expect("stake_slashed event");
    assert!(event
        .attributes
        .iter()
        .any(|a| a.key == "amount" && a.value == "600"));
    assert_eq!(suite.balance(&client, STAKE_DENOM), 600);
    let stake = suite.stake(&alice);
    assert_eq!(
        (
            stake.bonded.u128(),
            stake.locked.u128(),
            stake.unbonding.u128()
        ),
        (0, 0, 400)
    );
    assert_eq!(lock_amount(&suite, &alice, 1), 0);
    suite.assert_money_invariants();

    // What is left of the claim still pays out after the period.
    suite.advance_seconds(PERIOD);
    suite.claim(&alice).unwrap();
    assert_eq!(suite.balance(&alice, STAKE_DENOM), 400);
    suite.assert_money_invariants();
}

#[test]
fn slash_by_verification_pays_what_there_is() {
    let mut suite = Suite::new();
    let alice = staker(&mut suite, "alice", 100, 100);
    let client = suite.addr("client");
    let verification = suite.verification.clone();
    slash(&mut suite, &verification, &alice, 5, 1_000, &client).unwrap();
    assert_eq!(suite.balance(&client, STAKE_DENOM), 100);
    assert_eq!(suite.balance(&suite.vault, STAKE_DENOM), 0);
    suite.assert_money_invariants();

    // Nothing left: a second slash succeeds and moves nothing.
    slash(&mut suite, &verification, &alice, 5, 1_000, &client).unwrap();
    assert_eq!(suite.balance(&client, STAKE_DENOM), 100);
    suite.assert_money_invariants();
}

#[test]
fn wrong_senders_are_rejected_and_move_nothing() {
    let mut suite = Suite::new();
    let alice = staker(&mut suite, "alice", 1_000, 1_000);
    let mallory = suite.addr("mallory");
    let market = suite.market.clone();
    let verification = suite.verification.clone();
    lock(&mut suite, &market, &alice, 1, 500).unwrap();

    for sender in [
        alice.clone(),
        mallory.clone(),
        verification.clone(),
        suite.owner.clone(),
    ] {
        assert_error(
            lock(&mut suite, &sender, &alice, 2, 1),
            unauthorized(&sender, market.to_string()),
        );
        assert_error(
            unlock(&mut suite, &sender, &alice, 1),
            unauthorized(&sender, market.to_string()),
        );
    }
    for sender in [alice.clone(), mallory.clone(), suite.owner.clone()] {
        assert_error(
            slash(&mut suite, &sender, &alice, 1, 500, &mallory),
            unauthorized(&sender, format!("{market} or {verification}")),
        );
    }
    assert_error(
        suite.execute_vault(
            &mallory,
            &ExecuteMsg::UpdateConfig {
                unbonding_period_seconds: Some(1),
                max_claims_per_address: None,
            },
        ),
        opengpu_cw_utils::OwnershipError::NotOwner {
            owner: suite.owner.to_string(),
        },
    );

    assert_eq!(suite.balance(&mallory, STAKE_DENOM), 0);
    let stake = suite.stake(&alice);
    assert_eq!((stake.bonded.u128(), stake.locked.u128()), (1_000, 500));
    assert_eq!(lock_amount(&suite, &alice, 1), 500);
    suite.assert_money_invariants();
}
