//! Registry flows against the real vault and market, deployed by the shared Suite.

use cosmwasm_std::{coins, Addr, Uint128};
use opengpu_registry::ContractError;
use opengpu_testing::{assert_error, default_profile, outputs, Suite, TaskSpec, STAKE_DENOM};
use opengpu_types::registry::{
    ExecuteMsg, Outcome, ProviderFilter, ProviderStatus, ProvidersResponse, QueryMsg,
};

opengpu_testing::ownership_tests!(Registry);

/// The Suite's default `min_bond`.
const MIN_BOND: u128 = 1_000;

fn funded(suite: &mut Suite, name: &str, amount: u128) -> Addr {
    let addr = suite.addr(name);
    suite.fund(&addr, coins(amount, STAKE_DENOM));
    addr
}

fn providers(suite: &Suite, status: Option<ProviderStatus>) -> Vec<Addr> {
    let response: ProvidersResponse = suite
        .app
        .wrap()
        .query_wasm_smart(
            &suite.registry,
            &QueryMsg::Providers {
                filter: Some(ProviderFilter {
                    status,
                    ..Default::default()
                }),
                start_after: None,
                limit: None,
            },
        )
        .unwrap();
    response.providers.into_iter().map(|p| p.address).collect()
}

#[test]
fn register_needs_min_bond_in_the_vault() {
    let mut suite = Suite::new();
    let alice = funded(&mut suite, "alice", 10_000);

    assert_error(
        suite.register(&alice),
        ContractError::InsufficientBond {
            needed: Uint128::new(MIN_BOND),
            bonded: Uint128::zero(),
        },
    );
    suite.bond(&alice, MIN_BOND - 1).unwrap();
    assert_error(
        suite.register(&alice),
        ContractError::InsufficientBond {
            needed: Uint128::new(MIN_BOND),
            bonded: Uint128::new(MIN_BOND - 1),
        },
    );
    suite.bond(&alice, 1).unwrap();
    suite.register(&alice).unwrap();

    let response = suite.provider(&alice);
    assert_eq!(response.provider.status, ProviderStatus::Active);
    assert_eq!(response.provider.registered_height, suite.height());
    assert_eq!(response.bonded, Uint128::new(MIN_BOND));
    assert!(response.eligible);
    suite.assert_money_invariants();
}

#[test]
fn unbonding_below_min_bond_makes_a_provider_ineligible_and_blocks_resume() {
    let mut suite = Suite::new();
    let alice = suite.provider_with_bond("alice", MIN_BOND);
    suite.unbond(&alice, 1).unwrap();
    let response = suite.provider(&alice);
    assert_eq!(response.provider.status, ProviderStatus::Active);
    assert!(
        !response.eligible,
        "active but under-bonded is not eligible"
    );

    suite
        .execute_registry(&alice, &ExecuteMsg::Pause {})
        .unwrap();
    assert_error(
        suite.execute_registry(&alice, &ExecuteMsg::Resume {}),
        ContractError::InsufficientBond {
            needed: Uint128::new(MIN_BOND),
            bonded: Uint128::new(MIN_BOND - 1),
        },
    );
    assert_eq!(
        suite.provider(&alice).provider.status,
        ProviderStatus::Paused
    );

    suite.fund(&alice, coins(1, STAKE_DENOM));
    suite.bond(&alice, 1).unwrap();
    suite
        .execute_registry(&alice, &ExecuteMsg::Resume {})
        .unwrap();
    assert!(suite.provider(&alice).eligible);
}

#[test]
fn deregister_is_refused_while_collateral_is_locked_and_allowed_after_settlement() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let provider = suite.provider_with_bond("provider", 5_000);
    let task_id = suite.publish(&client, TaskSpec::first_response()).unwrap();
    suite.commit(&provider, task_id, &outputs(0)).unwrap();

    assert_error(
        suite.execute_registry(&provider, &ExecuteMsg::Deregister {}),
        ContractError::CollateralLocked {
            locked: Uint128::new(100),
        },
    );
    assert_eq!(
        suite.provider(&provider).provider.status,
        ProviderStatus::Active
    );

    suite.advance_blocks(1);
    suite.reveal(&provider, task_id, &outputs(0), None).unwrap();
    assert_eq!(suite.provider(&provider).provider.reputation.won, 1);
    suite
        .execute_registry(&provider, &ExecuteMsg::Deregister {})
        .unwrap();
    assert!(providers(&suite, None).is_empty());
    // Leaving the registry leaves the stake in the vault, still the provider's to unbond.
    assert_eq!(suite.stake(&provider).bonded, Uint128::new(5_000));
    suite.assert_money_invariants();
}

#[test]
fn paused_provider_is_ineligible_and_cannot_commit() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let provider = suite.provider_with_bond("provider", 5_000);
    let task_id = suite.publish(&client, TaskSpec::first_response()).unwrap();
    suite
        .execute_registry(&provider, &ExecuteMsg::Pause {})
        .unwrap();
    assert!(!suite.provider(&provider).eligible);
    assert!(suite.commit(&provider, task_id, &outputs(0)).is_err());
    assert!(suite.stake(&provider).locked.is_zero());
}

#[test]
fn market_records_outcomes_in_reputation() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let winner = suite.provider_with_bond("winner", 5_000);
    let loser = suite.provider_with_bond("loser", 5_000);
    let task_id = suite.publish(&client, TaskSpec::first_response()).unwrap();
    suite.commit(&winner, task_id, &outputs(0)).unwrap();
    suite.commit(&loser, task_id, &outputs(0)).unwrap();
    suite.advance_blocks(1);
    suite.reveal(&winner, task_id, &outputs(0), None).unwrap();

    assert_eq!(suite.provider(&winner).provider.reputation.won, 1);
    assert_eq!(suite.provider(&loser).provider.reputation.lost, 1);
}

#[test]
fn record_outcome_from_anyone_but_the_market_is_unauthorized() {
    let mut suite = Suite::new();
    let provider = suite.provider_with_bond("provider", MIN_BOND);
    let market = suite.market.to_string();
    for sender in [provider.clone(), suite.owner.clone()] {
        let msg = ExecuteMsg::RecordOutcome {
            provider: provider.to_string(),
            task_id: 1,
            outcome: Outcome::Won,
        };
        assert_error(
            suite.execute_registry(&sender, &msg),
            ContractError::Unauthorized {
                sender: sender.to_string(),
                market: market.clone(),
            },
        );
    }
    assert_eq!(suite.provider(&provider).provider.reputation.won, 0);
}

#[test]
fn providers_query_serves_each_status_from_its_index() {
    let mut suite = Suite::new();
    let a = suite.provider_with_bond("a", MIN_BOND);
    let b = suite.provider_with_bond("b", MIN_BOND);
    suite.execute_registry(&b, &ExecuteMsg::Pause {}).unwrap();
    assert_eq!(
        providers(&suite, Some(ProviderStatus::Active)),
        vec![a.clone()]
    );
    assert_eq!(
        providers(&suite, Some(ProviderStatus::Paused)),
        vec![b.clone()]
    );
    let mut all = vec![a, b];
    all.sort();
    assert_eq!(providers(&suite, None), all);
}

#[test]
fn update_changes_what_the_market_sees() {
    let mut suite = Suite::new();
    let provider = suite.provider_with_bond("provider", MIN_BOND);
    let mut profile = default_profile("renamed");
    profile.device.global_mem_bytes = 1 << 20;
    suite
        .execute_registry(&provider, &ExecuteMsg::Update { profile })
        .unwrap();
    let stored = suite.provider(&provider).provider;
    assert_eq!(stored.moniker, "renamed");
    assert_eq!(stored.device.global_mem_bytes, 1 << 20);
}
