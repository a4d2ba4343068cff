//! Owner-only configuration, and the ownership and migration checks all contracts share.

use cosmwasm_std::Uint128;
use opengpu_cw_utils::OwnershipError;
use opengpu_task_market::ContractError;
use opengpu_testing::{assert_error, outputs, Suite, TaskSpec};
use opengpu_types::market::{ExecuteMsg, MarketConfig, QueryMsg};

opengpu_testing::ownership_tests!(Market);

fn update_fee(fee_bps: u16) -> ExecuteMsg {
    ExecuteMsg::UpdateConfig {
        allowed_denoms: None,
        fee_bps: Some(fee_bps),
        fee_collector: None,
        params: None,
        ibc: None,
        retention_blocks: None,
    }
}

fn config(suite: &Suite) -> MarketConfig {
    suite
        .app
        .wrap()
        .query_wasm_smart(&suite.market, &QueryMsg::Config {})
        .unwrap()
}

#[test]
fn owner_updates_config() {
    let mut suite = Suite::new();
    let owner = suite.owner.clone();
    suite.execute_market(&owner, &update_fee(250), &[]).unwrap();
    assert_eq!(config(&suite).fee_bps, 250);
}

#[test]
fn update_config_by_a_stranger_is_unauthorized() {
    let mut suite = Suite::new();
    let stranger = suite.addr("stranger");
    assert_error(
        suite.execute_market(&stranger, &update_fee(250), &[]),
        OwnershipError::NotOwner {
            owner: suite.owner.to_string(),
        },
    );
    assert_eq!(config(&suite).fee_bps, 100);
}

#[test]
fn invalid_config_is_refused() {
    let mut suite = Suite::new();
    let owner = suite.owner.clone();
    assert_error(
        suite.execute_market(&owner, &update_fee(1_001), &[]),
        "fee_bps 1001 is above the maximum 1000",
    );
    let no_denoms = ExecuteMsg::UpdateConfig {
        allowed_denoms: Some(vec![]),
        fee_bps: None,
        fee_collector: None,
        params: None,
        ibc: None,
        retention_blocks: None,
    };
    assert_error(
        suite.execute_market(&owner, &no_denoms, &[]),
        ContractError::InvalidConfig {
            reason: "allowed_denoms is empty".into(),
        },
    );
    let mut params = config(&suite).params;
    params.max_committers = 0;
    let bad_params = ExecuteMsg::UpdateConfig {
        allowed_denoms: None,
        fee_bps: None,
        fee_collector: None,
        params: Some(params),
        ibc: None,
        retention_blocks: None,
    };
    assert_error(
        suite.execute_market(&owner, &bad_params, &[]),
        "max_committers",
    );
}

#[test]
fn config_change_does_not_alter_windows_of_a_running_task() {
    let mut suite = Suite::new();
    let owner = suite.owner.clone();
    let client = suite.client_with_funds("client", 10_000);
    let provider = suite.provider_with_bond("provider", 5_000);
    let id = suite.publish(&client, TaskSpec::first_response()).unwrap();
    let mut params = config(&suite).params;
    params.reveal_window_blocks = 1;
    let msg = ExecuteMsg::UpdateConfig {
        allowed_denoms: None,
        fee_bps: None,
        fee_collector: None,
        params: Some(params),
        ibc: None,
        retention_blocks: None,
    };
    suite.execute_market(&owner, &msg, &[]).unwrap();
    suite.commit(&provider, id, &outputs(0)).unwrap();
    suite.advance_blocks(5);
    // Still inside the task's own 10-block window.
    suite.reveal(&provider, id, &outputs(0), None).unwrap();
    assert_eq!(
        suite.task(id).settlement.unwrap().price,
        Uint128::new(1_000)
    );
}
