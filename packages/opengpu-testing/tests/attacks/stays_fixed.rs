//! Attacks that already failed before issue 9, kept here so that they stay failed: copying in
//! First Response, commit-and-vanish, unbonding to escape a slash, sybils without stake, wrong
//! senders of privileged messages, second closes and wrong denoms.

use cosmwasm_std::{coin, coins, Addr, Coin, Uint128};
use cw_multi_test::Executor;
use opengpu_registry::ContractError as RegistryError;
use opengpu_staking_vault::ContractError as VaultError;
use opengpu_task_market::ContractError;
use opengpu_testing::{
    assert_error, matmul_outputs, outputs, Suite, TaskSpec, IBC_DENOM, PAY_DENOM, STAKE_DENOM,
};
use opengpu_types::market::{self, CommitmentState, CompetitionModel, TaskStatus};
use opengpu_types::publish::PublishError;
use opengpu_types::registry::{self, Outcome};
use opengpu_types::vault;
use opengpu_types::TaskId;

use crate::common::*;

/// Every balance the tests below look at, in every denom.
fn balances(suite: &Suite, accounts: &[&Addr]) -> Vec<u128> {
    let mut denoms = suite.denoms.clone();
    denoms.push("ufake".into());
    accounts
        .iter()
        .flat_map(|a| denoms.iter().map(|d| suite.balance(a, d)))
        .collect()
}

#[test]
fn first_response_copier_who_commits_after_seeing_a_reveal_never_wins() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    // An early committer that stays silent keeps the task open after the honest reveal.
    let silent = suite.provider_with_bond("silent", BOND);
    let honest = suite.provider_with_bond("honest", BOND);
    let copier = suite.provider_with_bond("copier", BOND);
    let id = suite.publish(&client, TaskSpec::freivalds()).unwrap();
    suite.commit(&silent, id, &zero_matrix()).unwrap();
    suite.commit(&honest, id, &matmul_outputs()).unwrap();
    suite.advance_blocks(1);
    suite.reveal(&honest, id, &matmul_outputs(), None).unwrap();
    assert_eq!(suite.task(id).status, TaskStatus::Committed);

    // The copier reads the revealed product, commits it as its own and reveals it: valid, but
    // committed later than the honest provider.
    let copied = suite.result(id, Some(&honest)).unwrap().outputs;
    suite.commit(&copier, id, &copied).unwrap();
    suite.advance_blocks(1);
    suite.reveal(&copier, id, &copied, None).unwrap();
    assert!(matches!(
        state_of(&suite, id, &copier),
        CommitmentState::Revealed { .. }
    ));
    let anyone = suite.addr("anyone");
    let window_end = suite.commitments(id)[0].reveal_deadline_height;
    suite.advance_blocks(window_end + 1 - suite.height());
    suite.finalize(&anyone, id).unwrap();

    assert_eq!(suite.task(id).settlement.unwrap().winner, honest);
    assert_eq!(suite.balance(&honest, PAY_DENOM), PAID);
    assert_eq!(suite.balance(&copier, PAY_DENOM), 0);
    assert_stake_whole(&suite, &honest, BOND);
    assert_stake_whole(&suite, &copier, BOND);
    assert_eq!(reputation(&suite, &copier).lost, 1);
    assert_eq!(bonded(&suite, &silent), BOND - COLLATERAL);
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS - BUDGET);
    assert_eq!(suite.balance(&client, STAKE_DENOM), FUNDS + COLLATERAL);
    suite.assert_money_invariants();
}

#[test]
fn first_response_copier_cannot_open_a_copied_commitment() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let honest = suite.provider_with_bond("honest", BOND);
    let copier = suite.provider_with_bond("copier", BOND);
    let id = suite.publish(&client, TaskSpec::freivalds()).unwrap();
    // The copier front-runs with the honest commitment's bytes (seen in the mempool).
    suite.commit(&honest, id, &matmul_outputs()).unwrap();
    let copied = suite.commitments(id)[0].commitment.clone();
    let copy = market::ExecuteMsg::Commit {
        task_id: id,
        commitment: copied,
    };
    suite.execute_market(&copier, &copy, &[]).unwrap();
    suite.advance_blocks(1);
    assert_error(
        suite.reveal(&copier, id, &matmul_outputs(), None),
        ContractError::CommitmentMismatch {},
    );
    suite.reveal(&honest, id, &matmul_outputs(), None).unwrap();
    assert_eq!(suite.task(id).settlement.unwrap().winner, honest);
    assert_eq!(suite.balance(&honest, PAY_DENOM), PAID);
    assert_stake_whole(&suite, &copier, BOND);
    suite.assert_money_invariants();
}

#[test]
fn commit_and_vanish_forfeits_the_collateral_to_the_client_in_every_model() {
    let consensus = CompetitionModel::Consensus {
        replicas: 2,
        quorum: 2,
        tolerance: None,
    };
    for model in [
        CompetitionModel::FirstResponse,
        CompetitionModel::ManualConfirmation,
        consensus,
    ] {
        let mut suite = Suite::new();
        let client = suite.client_with_funds("client", FUNDS);
        let vanisher = suite.provider_with_bond("vanisher", BOND);
        let honest = suite.provider_with_bond("honest", BOND);
        let anyone = suite.addr("anyone");
        let id = suite
            .publish(&client, TaskSpec::first_response().model(model))
            .unwrap();
        let price = model.takes_price().then_some(BUDGET);
        suite
            .commit_offer(&vanisher, id, &outputs(0), price)
            .unwrap();
        if model == consensus {
            // The other replica reveals; one answer is no quorum.
            suite.commit(&honest, id, &outputs(0)).unwrap();
            suite.advance_blocks(1);
            suite.reveal(&honest, id, &outputs(0), None).unwrap();
        }
        // The last height at which the task may not close yet: the vanisher's window end, or
        // the commit deadline when that comes later (First Response).
        let window_end = suite.commitments(id)[0].reveal_deadline_height;
        let last_open = window_end.max(suite.task(id).deadline_height);
        suite.advance_blocks(last_open - suite.height());
        let close = |suite: &mut Suite| match model {
            CompetitionModel::Consensus { .. } => suite.finalize(&anyone, id),
            _ => suite.expire(&anyone, id),
        };
        assert!(
            close(&mut suite).is_err(),
            "{model}: the window is still open"
        );
        suite.advance_blocks(1);
        close(&mut suite).unwrap();

        assert_eq!(suite.task(id).status, TaskStatus::Expired, "{model}");
        assert!(matches!(
            state_of(&suite, id, &vanisher),
            CommitmentState::Forfeited {}
        ));
        assert_eq!(bonded(&suite, &vanisher), BOND - COLLATERAL, "{model}");
        assert_eq!(locked(&suite, &vanisher), 0);
        assert_eq!(reputation(&suite, &vanisher).expired, 1);
        assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS, "{model}");
        assert_eq!(
            suite.balance(&client, STAKE_DENOM),
            FUNDS + COLLATERAL,
            "{model}"
        );
        assert_stake_whole(&suite, &honest, BOND);
        suite.assert_money_invariants();
    }
}

#[test]
fn unbonding_cannot_escape_a_slash() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let cheat = suite.provider_with_bond("cheat", BOND);
    let id = suite.publish(&client, TaskSpec::freivalds()).unwrap();
    let wrong = opengpu_testing::matmul_outputs_off_by(5, 32.0);
    suite.commit(&cheat, id, &wrong).unwrap();

    // The locked collateral can neither be unbonded nor taken out by leaving the registry.
    assert_error(
        suite.unbond(&cheat, BOND),
        VaultError::InsufficientFreeStake {
            requested: Uint128::new(BOND),
            free: Uint128::new(BOND - COLLATERAL),
        },
    );
    assert_error(
        suite.execute_registry(&cheat, &registry::ExecuteMsg::Deregister {}),
        RegistryError::CollateralLocked {
            locked: Uint128::new(COLLATERAL),
        },
    );
    suite.unbond(&cheat, BOND - COLLATERAL).unwrap();
    suite.advance_blocks(1);
    suite.reveal(&cheat, id, &wrong, None).unwrap();
    assert!(matches!(
        state_of(&suite, id, &cheat),
        CommitmentState::Rejected { .. }
    ));
    let stake = suite.stake(&cheat);
    assert_eq!(
        (
            stake.bonded.u128(),
            stake.locked.u128(),
            stake.unbonding.u128()
        ),
        (0, 0, BOND - COLLATERAL)
    );
    assert_eq!(suite.balance(&client, STAKE_DENOM), FUNDS + COLLATERAL);
    suite.assert_money_invariants();

    // A slash larger than lock and free stake reaches the unbonding claims. The market never
    // asks for more than a commitment's lock, so this is the vault's own rule, exercised with
    // the market's address as the sender.
    let market = suite.market.clone();
    let vault_addr = suite.vault.clone();
    let slash = vault::ExecuteMsg::Slash {
        provider: cheat.to_string(),
        task_id: id,
        amount: Uint128::new(300),
        beneficiary: client.to_string(),
    };
    suite
        .app
        .execute_contract(market, vault_addr, &slash, &[])
        .unwrap();
    assert_eq!(
        suite.stake(&cheat).unbonding.u128(),
        BOND - COLLATERAL - 300
    );
    assert_eq!(
        suite.balance(&client, STAKE_DENOM),
        FUNDS + COLLATERAL + 300
    );
    suite.advance_seconds(3_600);
    suite.claim(&cheat).unwrap();
    assert_eq!(suite.balance(&cheat, STAKE_DENOM), BOND - COLLATERAL - 300);
    suite.assert_money_invariants();
}

#[test]
fn sybils_without_enough_stake_cannot_commit() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let id = suite
        .publish(&client, TaskSpec::first_response().collateral(2_000))
        .unwrap();
    let before = balances(&suite, &[&client, &suite.market.clone()]);

    // No stake: cannot register, and an unregistered account cannot commit.
    let bare = suite.addr("sybil-bare");
    assert_error(
        suite.register(&bare),
        RegistryError::InsufficientBond {
            needed: Uint128::new(1_000),
            bonded: Uint128::zero(),
        },
    );
    assert_error(
        suite.commit(&bare, id, &outputs(0)),
        ContractError::ProviderNotRegistered {
            provider: bare.to_string(),
        },
    );
    // Below the registry's minimum bond.
    let short = suite.addr("sybil-short");
    suite.fund(&short, coins(999, STAKE_DENOM));
    suite.bond(&short, 999).unwrap();
    assert_error(
        suite.register(&short),
        RegistryError::InsufficientBond {
            needed: Uint128::new(1_000),
            bonded: Uint128::new(999),
        },
    );
    assert_error(
        suite.commit(&short, id, &outputs(0)),
        ContractError::ProviderNotRegistered {
            provider: short.to_string(),
        },
    );
    // Registered, then unbonded below the minimum: no longer eligible.
    let faded = suite.provider_with_bond("sybil-faded", 3_000);
    suite.unbond(&faded, 2_500).unwrap();
    assert_error(
        suite.commit(&faded, id, &outputs(0)),
        ContractError::ProviderNotEligible {
            provider: faded.to_string(),
        },
    );
    // Eligible, but its free stake cannot back the task's collateral.
    let thin = suite.provider_with_bond("sybil-thin", 1_500);
    assert_error(
        suite.commit(&thin, id, &outputs(0)),
        VaultError::InsufficientFreeStake {
            requested: Uint128::new(2_000),
            free: Uint128::new(1_500),
        },
    );

    assert_eq!(suite.task(id).status, TaskStatus::Open);
    assert!(suite.commitments(id).is_empty());
    assert_eq!(before, balances(&suite, &[&client, &suite.market.clone()]));
    suite.assert_money_invariants();
}

#[test]
fn privileged_messages_from_wrong_senders_are_refused_and_move_nothing() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let provider = suite.provider_with_bond("provider", BOND);
    let other = suite.provider_with_bond("other", BOND);
    let stranger = suite.addr("stranger");
    let id = suite
        .publish(&client, TaskSpec::manual_confirmation())
        .unwrap();
    suite
        .commit_offer(&provider, id, &outputs(0), Some(600))
        .unwrap();
    suite
        .commit_offer(&other, id, &outputs(0), Some(700))
        .unwrap();
    suite.close_commits(id);
    suite.reveal(&provider, id, &outputs(0), Some(600)).unwrap();
    suite.reveal(&other, id, &outputs(0), Some(700)).unwrap();
    let (market, verification) = (suite.market.clone(), suite.verification.clone());
    let accounts = [
        &client,
        &provider,
        &other,
        &stranger,
        &market,
        &suite.vault.clone(),
    ];
    let before = balances(&suite, &accounts);
    let stakes_before = (suite.stake(&provider), suite.stake(&other));

    let senders = [
        provider.clone(),
        client.clone(),
        stranger.clone(),
        suite.owner.clone(),
        suite.registry.clone(),
    ];
    for sender in &senders {
        let unauthorized = |expected: String| VaultError::Unauthorized {
            sender: sender.clone(),
            expected,
        };
        // A provider freeing its own collateral, or anyone locking someone else's.
        let unlock = vault::ExecuteMsg::Unlock {
            provider: provider.to_string(),
            task_id: id,
        };
        assert_error(
            suite.execute_vault(sender, &unlock),
            unauthorized(market.to_string()),
        );
        let lock = vault::ExecuteMsg::Lock {
            provider: other.to_string(),
            task_id: 99,
            amount: Uint128::new(BOND - COLLATERAL),
        };
        assert_error(
            suite.execute_vault(sender, &lock),
            unauthorized(market.to_string()),
        );
        // A client slashing a provider to itself.
        let slash = vault::ExecuteMsg::Slash {
            provider: provider.to_string(),
            task_id: id,
            amount: Uint128::new(COLLATERAL),
            beneficiary: sender.to_string(),
        };
        assert_error(
            suite.execute_vault(sender, &slash),
            unauthorized(format!("{market} or {verification}")),
        );
        // Reputation pumped or smeared.
        let record = registry::ExecuteMsg::RecordOutcome {
            provider: other.to_string(),
            task_id: id,
            outcome: Outcome::Won,
        };
        assert_error(
            suite.execute_registry(sender, &record),
            RegistryError::Unauthorized {
                sender: sender.to_string(),
                market: market.to_string(),
            },
        );
    }
    // The verification contract may slash but not lock or unlock.
    let unlock = vault::ExecuteMsg::Unlock {
        provider: provider.to_string(),
        task_id: id,
    };
    assert_error(
        suite.execute_vault(&verification, &unlock),
        VaultError::Unauthorized {
            sender: verification.clone(),
            expected: market.to_string(),
        },
    );
    // Only the client confirms: not a provider for itself, not a stranger.
    for sender in [&provider, &other, &stranger] {
        assert_error(
            suite.confirm(sender, id, &provider),
            ContractError::NotClient {
                client: client.to_string(),
            },
        );
    }

    assert_eq!(before, balances(&suite, &accounts));
    assert_eq!(stakes_before, (suite.stake(&provider), suite.stake(&other)));
    assert_eq!(reputation(&suite, &other), Default::default());
    assert_eq!(suite.task(id).status, TaskStatus::Committed);
    suite.assert_money_invariants();
}

#[test]
fn a_closed_task_refuses_every_second_close() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let providers: Vec<Addr> = (0..3)
        .map(|i| suite.provider_with_bond(&format!("provider-{i}"), BOND))
        .collect();
    let anyone = suite.addr("anyone");
    let mut closed: Vec<TaskId> = vec![];

    // Settled at reveal (First Response).
    let id = suite.publish(&client, TaskSpec::first_response()).unwrap();
    suite
        .commit_and_reveal(&providers[0], id, &outputs(0), None)
        .unwrap();
    closed.push(id);
    // Confirmed (Manual Confirmation).
    let id = suite
        .publish(&client, TaskSpec::manual_confirmation())
        .unwrap();
    suite
        .commit_and_reveal(&providers[0], id, &outputs(0), Some(500))
        .unwrap();
    suite.confirm(&client, id, &providers[0]).unwrap();
    closed.push(id);
    // Tallied (Consensus).
    let id = suite.publish(&client, TaskSpec::consensus(2, 2)).unwrap();
    suite.commit(&providers[0], id, &outputs(0)).unwrap();
    suite.commit(&providers[1], id, &outputs(0)).unwrap();
    suite.advance_blocks(1);
    suite.reveal(&providers[0], id, &outputs(0), None).unwrap();
    suite.reveal(&providers[1], id, &outputs(0), None).unwrap();
    closed.push(id);
    // Expired, and cancelled.
    let id = suite.publish(&client, TaskSpec::first_response()).unwrap();
    suite.close_commits(id);
    suite.expire(&anyone, id).unwrap();
    closed.push(id);
    let id = suite.publish(&client, TaskSpec::first_response()).unwrap();
    suite.cancel(&client, id).unwrap();
    closed.push(id);
    suite.advance_blocks(100);

    let mut accounts: Vec<&Addr> = providers.iter().collect();
    let (market, collector) = (suite.market.clone(), suite.fee_collector.clone());
    accounts.extend([&client, &anyone, &market, &collector]);
    let before = balances(&suite, &accounts);
    for &id in &closed {
        let task = suite.task(id);
        let closed_error = ContractError::TaskClosed {
            task_id: id,
            status: task.status,
        };
        assert_error(suite.finalize(&anyone, id), &closed_error);
        assert_error(suite.finalize(&client, id), &closed_error);
        assert_error(suite.expire(&client, id), &closed_error);
        assert_error(suite.confirm(&client, id, &providers[0]), &closed_error);
        assert_error(
            suite.cancel(&client, id),
            ContractError::NotCancellable {
                task_id: id,
                status: task.status,
            },
        );
        assert_error(
            suite.reveal(&providers[1], id, &outputs(0), None),
            &closed_error,
        );
        assert_error(suite.commit(&providers[2], id, &outputs(0)), &closed_error);
        assert_eq!(suite.task(id), task, "a second close changed task {id}");
    }
    assert_eq!(before, balances(&suite, &accounts));
    for provider in &providers {
        assert_eq!(locked(&suite, provider), 0);
    }
    suite.assert_money_invariants();
}

#[test]
fn wrong_denoms_are_refused_and_move_nothing() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    suite.fund(&client, coins(FUNDS, "ufake"));
    let provider = suite.provider_with_bond("provider", BOND);
    let (market, vault_addr) = (suite.market.clone(), suite.vault.clone());
    let accounts = [&client, &provider, &market, &vault_addr];
    let before = balances(&suite, &accounts);

    let publish = |budget: Option<Coin>| TaskSpec {
        budget,
        ..TaskSpec::first_response()
    };
    assert_error(
        suite.publish(&client, publish(Some(coin(BUDGET, "ufake")))),
        ContractError::Publish(PublishError::DenomNotAccepted {
            denom: "ufake".into(),
            accepted: suite.denoms.join(", "),
        }),
    );
    assert_error(suite.publish(&client, publish(None)), "No funds sent");
    let two = market::ExecuteMsg::PublishTask {
        kernel: opengpu_testing::default_kernel(),
        requirements: Default::default(),
        collateral: Uint128::new(COLLATERAL),
        deadline_blocks: 20,
        verification: opengpu_types::verification::VerificationPolicy::Unverified {},
        model: CompetitionModel::FirstResponse,
    };
    assert_error(
        suite.execute_market(
            &client,
            &two,
            &[coin(BUDGET, PAY_DENOM), coin(BUDGET, IBC_DENOM)],
        ),
        "Sent more than one denomination",
    );
    // Stake in a payment denom, and funds where none are taken.
    suite.fund(&provider, coins(500, PAY_DENOM));
    assert_error(
        suite.app.execute_contract(
            provider.clone(),
            vault_addr.clone(),
            &vault::ExecuteMsg::Bond {},
            &coins(500, PAY_DENOM),
        ),
        format!("Must send reserve token '{STAKE_DENOM}'"),
    );
    let id = suite.publish(&client, TaskSpec::first_response()).unwrap();
    let commitment =
        Suite::commitment_for(&provider, id, &outputs(0), None, &opengpu_testing::SALT);
    assert_error(
        suite.execute_market(
            &provider,
            &market::ExecuteMsg::Commit {
                task_id: id,
                commitment,
            },
            &coins(500, PAY_DENOM),
        ),
        "This message does no accept funds",
    );

    // Only the accepted publish moved anything: its budget.
    let mut expected = before;
    expected[1] -= BUDGET; // the client's PAY_DENOM (denoms: stake, pay, ibc, ufake)
    expected[4 * 2 + 1] += BUDGET; // the market's PAY_DENOM
    expected[4 + 1] += 500; // the provider's funding
    assert_eq!(balances(&suite, &accounts), expected);
    suite.assert_money_invariants();
}
