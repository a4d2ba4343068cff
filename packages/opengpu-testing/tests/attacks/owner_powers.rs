//! Attacks 5 and 6: the owners. The market owner raised `fee_bps` and it applied to running
//! tasks; the vault owner could set an unbonding period that freezes every unbond. Safe
//! outcome: a task's rules are fixed at publish, and owner powers are bounded ranges.

use cosmwasm_std::Uint128;
use opengpu_staking_vault::ContractError as VaultError;
use opengpu_testing::{assert_error, outputs, Suite, TaskSpec, PAY_DENOM};
use opengpu_types::market::{self, MarketConfig, MarketParams, MAX_FEE_BPS};
use opengpu_types::vault::{self, VaultConfig, MAX_UNBONDING_PERIOD_SECONDS};

use crate::common::*;

fn market_config(suite: &Suite) -> MarketConfig {
    suite
        .app
        .wrap()
        .query_wasm_smart(&suite.market, &market::QueryMsg::Config {})
        .unwrap()
}

fn update(
    fee_bps: Option<u16>,
    allowed_denoms: Option<Vec<String>>,
    params: Option<MarketParams>,
) -> market::ExecuteMsg {
    market::ExecuteMsg::UpdateConfig {
        allowed_denoms,
        fee_bps,
        fee_collector: None,
        params,
        ibc: None,
        retention_blocks: None,
    }
}

#[test]
fn fee_raised_after_publish_leaves_the_running_task_at_its_publish_fee() {
    let mut suite = Suite::new();
    let owner = suite.owner.clone();
    let client = suite.client_with_funds("client", FUNDS);
    let provider = suite.provider_with_bond("provider", BOND);
    let running = suite.publish(&client, TaskSpec::first_response()).unwrap();
    suite.commit(&provider, running, &outputs(0)).unwrap();
    suite
        .execute_market(&owner, &update(Some(MAX_FEE_BPS), None, None), &[])
        .unwrap();
    suite.advance_blocks(1);
    suite.reveal(&provider, running, &outputs(0), None).unwrap();

    let task = suite.task(running);
    assert_eq!(task.fee_bps, 100);
    assert_eq!(task.settlement.unwrap().fee.u128(), FEE);
    assert_eq!(suite.balance(&provider, PAY_DENOM), PAID);

    // A task published after the change pays the new fee.
    let later = suite.publish(&client, TaskSpec::first_response()).unwrap();
    assert_eq!(suite.task(later).fee_bps, MAX_FEE_BPS);
    suite.commit(&provider, later, &outputs(0)).unwrap();
    suite.advance_blocks(1);
    suite.reveal(&provider, later, &outputs(0), None).unwrap();
    assert_eq!(suite.task(later).settlement.unwrap().fee.u128(), 100);
    assert_eq!(suite.balance(&provider, PAY_DENOM), PAID + 900);
    suite.assert_money_invariants();
}

#[test]
fn denom_removed_after_publish_still_settles_the_running_task() {
    let mut suite = Suite::new();
    let owner = suite.owner.clone();
    let client = suite.client_with_funds("client", FUNDS);
    let provider = suite.provider_with_bond("provider", BOND);
    let id = suite.publish(&client, TaskSpec::first_response()).unwrap();
    let others = suite
        .denoms
        .iter()
        .filter(|d| *d != PAY_DENOM)
        .cloned()
        .collect();
    suite
        .execute_market(&owner, &update(None, Some(others), None), &[])
        .unwrap();
    suite.commit(&provider, id, &outputs(0)).unwrap();
    suite.advance_blocks(1);
    suite.reveal(&provider, id, &outputs(0), None).unwrap();
    assert_eq!(suite.balance(&provider, PAY_DENOM), PAID);
    suite.assert_money_invariants();
}

#[test]
fn market_owner_cannot_set_a_fee_above_ten_percent_or_windows_beyond_their_bounds() {
    let mut suite = Suite::new();
    let owner = suite.owner.clone();
    let before = market_config(&suite);
    assert_error(
        suite.execute_market(&owner, &update(Some(MAX_FEE_BPS + 1), None, None), &[]),
        format!(
            "fee_bps {} is above the maximum {MAX_FEE_BPS}",
            MAX_FEE_BPS + 1
        ),
    );
    assert_error(
        suite.execute_market(&owner, &update(Some(u16::MAX), None, None), &[]),
        "above the maximum",
    );
    type Edit = fn(&mut MarketParams);
    let edits: [(&str, Edit); 5] = [
        ("reveal and confirm windows", |p| {
            p.reveal_window_blocks = 100_001
        }),
        ("reveal and confirm windows", |p| {
            p.confirm_window_blocks = 100_001
        }),
        ("reveal and confirm windows", |p| {
            p.reveal_window_blocks = u64::MAX
        }),
        ("reveal and confirm windows", |p| {
            p.confirm_window_blocks = 0
        }),
        ("max_deadline_blocks", |p| p.max_deadline_blocks = 1_000_001),
    ];
    for (error, edit) in edits {
        let mut params = before.params.clone();
        edit(&mut params);
        assert_error(
            suite.execute_market(&owner, &update(None, None, Some(params)), &[]),
            error,
        );
    }
    assert_eq!(
        market_config(&suite),
        before,
        "no refused update changed anything"
    );

    // The bounds themselves are accepted.
    let mut params = before.params.clone();
    params.reveal_window_blocks = 100_000;
    params.confirm_window_blocks = 100_000;
    params.max_deadline_blocks = 1_000_000;
    suite
        .execute_market(&owner, &update(Some(MAX_FEE_BPS), None, Some(params)), &[])
        .unwrap();
    assert_eq!(market_config(&suite).fee_bps, MAX_FEE_BPS);
}

#[test]
fn vault_owner_cannot_freeze_unbonding() {
    let mut suite = Suite::new();
    let owner = suite.owner.clone();
    let provider = suite.provider_with_bond("provider", BOND);
    let set_period = |seconds| vault::ExecuteMsg::UpdateConfig {
        unbonding_period_seconds: Some(seconds),
        max_claims_per_address: None,
    };
    let hundred_years = 100 * 365 * 24 * 60 * 60;
    for seconds in [MAX_UNBONDING_PERIOD_SECONDS + 1, hundred_years, u64::MAX, 0] {
        assert_error(
            suite.execute_vault(&owner, &set_period(seconds)),
            VaultError::UnbondingPeriodOutOfRange {
                seconds,
                max: MAX_UNBONDING_PERIOD_SECONDS,
            },
        );
    }
    let config: VaultConfig = suite
        .app
        .wrap()
        .query_wasm_smart(&suite.vault, &vault::QueryMsg::Config {})
        .unwrap();
    assert_eq!(config.unbonding_period_seconds, 3_600);

    // At the longest period allowed, unbonding still works and ends within 60 days.
    suite
        .execute_vault(&owner, &set_period(MAX_UNBONDING_PERIOD_SECONDS))
        .unwrap();
    suite.unbond(&provider, BOND).unwrap();
    suite.advance_seconds(MAX_UNBONDING_PERIOD_SECONDS - 10);
    assert_error(suite.claim(&provider), VaultError::NothingToClaim);
    suite.advance_seconds(10);
    suite.claim(&provider).unwrap();
    assert_eq!(suite.balance(&provider, opengpu_testing::STAKE_DENOM), BOND);
    assert_eq!(suite.stake(&provider).bonded, Uint128::zero());
    suite.assert_money_invariants();
}
