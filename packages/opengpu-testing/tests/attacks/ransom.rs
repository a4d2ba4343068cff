//! Attack 4: ransom by payout. A provider that can make the market's payment fail (a payout
//! address the bank refuses, like a wasmd module account) used to block settle, finalize,
//! expire and cancel forever. Safe outcome: the address paid is fixed when the provider
//! commits, a refused payment becomes a claim its owner withdraws later, and every close
//! succeeds for the right caller.

use cosmwasm_std::Addr;
use opengpu_task_market::ContractError;
use opengpu_testing::{assert_error, outputs, Suite, TaskSpec, PAY_DENOM, STAKE_DENOM};
use opengpu_types::events::ClaimCredited;
use opengpu_types::market::{CompetitionModel, TaskStatus};

use crate::common::*;

const CONSENSUS: CompetitionModel = CompetitionModel::Consensus {
    replicas: 3,
    quorum: 2,
    tolerance: None,
};

/// Every provider commits outputs(0) (at `price` when the model takes one) and reveals once
/// it may; a Manual Confirmation client then confirms the first provider.
fn run_task(suite: &mut Suite, client: &Addr, model: CompetitionModel, providers: &[Addr]) -> u64 {
    let id = suite
        .publish(client, TaskSpec::first_response().model(model))
        .unwrap();
    let price = model.takes_price().then_some(BUDGET);
    for provider in providers {
        suite
            .commit_offer(provider, id, &outputs(0), price)
            .unwrap();
    }
    suite.advance_blocks(1);
    if model.is_sealed() {
        suite.close_commits(id);
    }
    for provider in providers {
        if !suite.task(id).status.is_final() {
            suite.reveal(provider, id, &outputs(0), price).unwrap();
        }
    }
    if model.takes_price() {
        suite.confirm(client, id, &providers[0]).unwrap();
    }
    assert_eq!(suite.task(id).status, TaskStatus::Settled, "{model}");
    id
}

#[test]
fn payout_changed_to_a_refused_address_after_commit_is_not_the_one_paid() {
    for model in [
        CompetitionModel::FirstResponse,
        CompetitionModel::ManualConfirmation,
        CONSENSUS,
    ] {
        let mut suite = Suite::new();
        let client = suite.client_with_funds("client", FUNDS);
        let providers: Vec<Addr> = (0..3)
            .map(|i| suite.provider_with_bond(&format!("provider-{i}"), BOND))
            .collect();
        let cold = suite.addr("cold-wallet");
        set_payout(&mut suite, &providers[0], Some(&cold));
        let module = suite.addr("module-account");
        suite.refuse_payments_to(&module);

        let id = suite
            .publish(&client, TaskSpec::first_response().model(model))
            .unwrap();
        let price = model.takes_price().then_some(BUDGET);
        for provider in &providers {
            suite
                .commit_offer(provider, id, &outputs(0), price)
                .unwrap();
        }
        // Every committer, the future winner included, now points its payout at the module.
        for provider in &providers {
            set_payout(&mut suite, provider, Some(&module));
        }
        suite.advance_blocks(1);
        if model.is_sealed() {
            suite.close_commits(id);
        }
        for provider in &providers {
            if !suite.task(id).status.is_final() {
                suite.reveal(provider, id, &outputs(0), price).unwrap();
            }
        }
        if model.takes_price() {
            suite.confirm(&client, id, &providers[0]).unwrap();
        }

        let settlement = suite.task(id).settlement.unwrap();
        assert_eq!(
            settlement.paid_to, cold,
            "{model}: paid at the commit-time payout"
        );
        assert_eq!(suite.balance(&module, PAY_DENOM), 0);
        let paid: u128 = settlement.shares.iter().map(|s| s.amount.u128()).sum();
        assert_eq!(paid, PAID, "{model}");
        assert_eq!(
            suite.balance(&cold, PAY_DENOM),
            settlement.shares[0].amount.u128()
        );
        if model == CONSENSUS {
            // Two more winners, each at its commit-time payout: itself.
            assert_eq!(settlement.shares.len(), 3);
            for share in &settlement.shares[1..] {
                assert_eq!(share.paid_to, share.provider);
                assert_eq!(
                    suite.balance(&share.provider, PAY_DENOM),
                    share.amount.u128()
                );
            }
        }
        for provider in &providers {
            assert_eq!(suite.claim_of(provider, PAY_DENOM), 0, "{model}");
            assert_stake_whole(&suite, provider, BOND);
        }
        suite.assert_money_invariants();
    }
}

#[test]
fn payout_refused_at_commit_becomes_the_providers_claim_withdrawn_once() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let provider = suite.provider_with_bond("provider", BOND);
    let module = suite.addr("module-account");
    set_payout(&mut suite, &provider, Some(&module));
    suite.refuse_payments_to(&module);

    let id = suite.publish(&client, TaskSpec::first_response()).unwrap();
    suite.commit(&provider, id, &outputs(0)).unwrap();
    suite.advance_blocks(1);
    let response = suite.reveal(&provider, id, &outputs(0), None).unwrap();
    let credited = event::<ClaimCredited>(&response).expect("the refused payment is credited");
    assert_eq!(
        (
            credited.beneficiary,
            credited.recipient,
            credited.amount.u128()
        ),
        (provider.to_string(), module.to_string(), PAID)
    );
    let task = suite.task(id);
    assert_eq!(task.status, TaskStatus::Settled);
    assert_eq!(suite.balance(&module, PAY_DENOM), 0);
    assert_eq!(suite.claim_of(&provider, PAY_DENOM), PAID);
    assert_eq!(
        suite.claim_of(&module, PAY_DENOM),
        0,
        "the claim is the provider's"
    );
    assert_eq!(suite.balance(&suite.market.clone(), PAY_DENOM), PAID);
    assert_stake_whole(&suite, &provider, BOND);
    // The rest of the settlement went through.
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS - BUDGET);
    assert_eq!(suite.balance(&suite.fee_collector.clone(), PAY_DENOM), FEE);
    suite.assert_money_invariants();

    // Nobody else can take it, and a refused recipient keeps it where it is.
    let stranger = suite.addr("stranger");
    assert_error(
        suite.withdraw_claim(&stranger, PAY_DENOM, Some(&stranger)),
        ContractError::NoClaim {
            address: stranger.to_string(),
            denom: PAY_DENOM.into(),
        },
    );
    assert!(suite
        .withdraw_claim(&provider, PAY_DENOM, Some(&module))
        .is_err());
    assert_eq!(suite.claim_of(&provider, PAY_DENOM), PAID);
    assert_error(
        suite.withdraw_claim(&provider, STAKE_DENOM, None),
        ContractError::NoClaim {
            address: provider.to_string(),
            denom: STAKE_DENOM.into(),
        },
    );

    suite.withdraw_claim(&provider, PAY_DENOM, None).unwrap();
    assert_eq!(suite.balance(&provider, PAY_DENOM), PAID);
    assert_eq!(suite.claim_of(&provider, PAY_DENOM), 0);
    assert_error(
        suite.withdraw_claim(&provider, PAY_DENOM, None),
        ContractError::NoClaim {
            address: provider.to_string(),
            denom: PAY_DENOM.into(),
        },
    );
    assert_eq!(suite.balance(&provider, PAY_DENOM), PAID);
    assert_eq!(suite.balance(&suite.market.clone(), PAY_DENOM), 0);
    suite.assert_money_invariants();
}

#[test]
fn refused_consensus_share_becomes_a_claim_paid_to_a_chosen_recipient() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let providers: Vec<Addr> = (0..3)
        .map(|i| suite.provider_with_bond(&format!("replica-{i}"), BOND))
        .collect();
    let module = suite.addr("module-account");
    set_payout(&mut suite, &providers[1], Some(&module));
    suite.refuse_payments_to(&module);
    run_task(&mut suite, &client, CONSENSUS, &providers);

    // 990 in three shares of 330: one is owed, two were paid.
    assert_eq!(suite.balance(&providers[0], PAY_DENOM), 330);
    assert_eq!(suite.balance(&providers[2], PAY_DENOM), 330);
    assert_eq!(suite.claim_of(&providers[1], PAY_DENOM), 330);
    suite.assert_money_invariants();

    let cold = suite.addr("cold-wallet");
    suite
        .withdraw_claim(&providers[1], PAY_DENOM, Some(&cold))
        .unwrap();
    assert_eq!(suite.balance(&cold, PAY_DENOM), 330);
    assert_eq!(suite.claim_of(&providers[1], PAY_DENOM), 0);
    assert!(suite
        .withdraw_claim(&providers[1], PAY_DENOM, Some(&cold))
        .is_err());
    assert_eq!(suite.balance(&cold, PAY_DENOM), 330);
    suite.assert_money_invariants();
}

#[test]
fn fee_collector_that_refuses_funds_blocks_no_close() {
    let mut suite = Suite::new();
    let collector = suite.fee_collector.clone();
    suite.refuse_payments_to(&collector);
    let client = suite.client_with_funds("client", FUNDS);
    let providers: Vec<Addr> = (0..3)
        .map(|i| suite.provider_with_bond(&format!("provider-{i}"), BOND))
        .collect();
    let anyone = suite.addr("anyone");

    // Settle at reveal (First Response) and at the tally (Consensus).
    run_task(
        &mut suite,
        &client,
        CompetitionModel::FirstResponse,
        &providers[..1],
    );
    suite.assert_money_invariants();
    run_task(&mut suite, &client, CONSENSUS, &providers);
    suite.assert_money_invariants();
    // Finalize by anyone for a silent Manual Confirmation client.
    let id = suite
        .publish(&client, TaskSpec::manual_confirmation())
        .unwrap();
    suite
        .commit_offer(&providers[0], id, &outputs(0), Some(500))
        .unwrap();
    suite.close_commits(id);
    suite
        .reveal(&providers[0], id, &outputs(0), Some(500))
        .unwrap();
    suite.advance_blocks(100);
    suite.finalize(&anyone, id).unwrap();
    suite.assert_money_invariants();
    // Expire and cancel pay no fee, and still close.
    let id = suite.publish(&client, TaskSpec::first_response()).unwrap();
    suite.close_commits(id);
    suite.expire(&anyone, id).unwrap();
    let id = suite.publish(&client, TaskSpec::first_response()).unwrap();
    suite.cancel(&client, id).unwrap();
    suite.assert_money_invariants();

    let fees = FEE + FEE + 5;
    assert_eq!(suite.balance(&collector, PAY_DENOM), 0);
    assert_eq!(suite.claim_of(&collector, PAY_DENOM), fees);
    assert_eq!(suite.balance(&providers[0], PAY_DENOM), PAID + 330 + 495);
    assert_eq!(
        suite.balance(&client, PAY_DENOM),
        FUNDS - BUDGET - BUDGET - 500
    );

    // The collector takes its fees elsewhere, once.
    let treasury = suite.addr("treasury");
    suite
        .withdraw_claim(&collector, PAY_DENOM, Some(&treasury))
        .unwrap();
    assert_eq!(suite.balance(&treasury, PAY_DENOM), fees);
    assert!(suite
        .withdraw_claim(&collector, PAY_DENOM, Some(&treasury))
        .is_err());
    assert_eq!(suite.balance(&suite.market.clone(), PAY_DENOM), 0);
    suite.assert_money_invariants();
}

/// A client whose refunds the bank refuses (not possible for a signing account on wasmd, but
/// the rule holds for every payee): cancel, expire and a confirmation's refund still close, the
/// refunds become its claims.
#[test]
fn client_that_refuses_refunds_blocks_no_close() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let provider = suite.provider_with_bond("provider", BOND);
    let anyone = suite.addr("anyone");
    suite.refuse_payments_to(&client);

    let cancelled = suite.publish(&client, TaskSpec::first_response()).unwrap();
    suite.cancel(&client, cancelled).unwrap();
    let expired = suite.publish(&client, TaskSpec::first_response()).unwrap();
    suite.close_commits(expired);
    suite.expire(&anyone, expired).unwrap();
    let confirmed = suite
        .publish(&client, TaskSpec::manual_confirmation())
        .unwrap();
    suite
        .commit_offer(&provider, confirmed, &outputs(0), Some(600))
        .unwrap();
    suite.close_commits(confirmed);
    suite
        .reveal(&provider, confirmed, &outputs(0), Some(600))
        .unwrap();
    suite.confirm(&client, confirmed, &provider).unwrap();
    suite.assert_money_invariants();

    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS - 3 * BUDGET);
    assert_eq!(suite.claim_of(&client, PAY_DENOM), BUDGET + BUDGET + 400);
    assert_eq!(suite.balance(&provider, PAY_DENOM), 600 - 6);
    accept_payments_to(&mut suite, &client);
    suite.withdraw_claim(&client, PAY_DENOM, None).unwrap();
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS - 600);
    suite.assert_money_invariants();
}

/// Slashed collateral is paid by the vault with a plain bank send, not through the market's
/// claims: a beneficiary the bank refuses makes the whole closing transaction fail. On wasmd
/// the beneficiaries of slashes (a task's client, a Consensus winner's own address) sign
/// transactions, so they cannot be blocked module accounts and this cannot be reached there;
/// kept, ignored, as the record of that assumption (reported with issue 9's attack suite).
#[test]
fn client_that_refuses_payments_cannot_block_a_close_that_forfeits_a_committer() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let vanisher = suite.provider_with_bond("vanisher", BOND);
    let honest = suite.provider_with_bond("honest", BOND);
    let id = suite.publish(&client, TaskSpec::first_response()).unwrap();
    suite.commit(&vanisher, id, &outputs(0)).unwrap();
    suite.commit(&honest, id, &outputs(0)).unwrap();
    suite.advance_blocks(1);
    suite.reveal(&honest, id, &outputs(0), None).unwrap();
    suite.refuse_payments_to(&client);
    suite.advance_blocks(20);
    let anyone = suite.addr("anyone");
    // Today: the vault's send of the forfeited collateral to the client fails, and with it
    // the settlement that pays the honest provider.
    suite.finalize(&anyone, id).unwrap();
    assert_eq!(suite.balance(&honest, PAY_DENOM), PAID);
    suite.assert_money_invariants();
}

/// The same for a Consensus winner's part of an outvoted collateral (sent to the winner's
/// own address, not its payout).
#[test]
fn consensus_winner_that_refuses_payments_cannot_block_the_tally() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let providers: Vec<Addr> = (0..3)
        .map(|i| suite.provider_with_bond(&format!("replica-{i}"), BOND))
        .collect();
    let id = suite.publish(&client, TaskSpec::consensus(3, 2)).unwrap();
    for (provider, seed) in providers.iter().zip([0, 0, 1]) {
        suite.commit(provider, id, &outputs(seed)).unwrap();
    }
    suite.advance_blocks(1);
    suite.refuse_payments_to(&providers[0]);
    for (provider, seed) in providers.iter().zip([0, 0, 1]) {
        suite.reveal(provider, id, &outputs(seed), None).unwrap();
    }
    assert_eq!(suite.task(id).status, TaskStatus::Settled);
    suite.assert_money_invariants();
}

/// A claim withdrawn to the market's own address: the send from the market to itself
/// succeeds, the claim is gone, and its amount stays in the market owned by nobody (the
/// market then holds more than escrow + claims, for good). Only the claim's owner can do this
/// to itself, but the market could refuse it as it refuses an unknown denom.
#[test]
fn claim_withdrawn_to_the_market_itself_is_refused() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let provider = suite.provider_with_bond("provider", BOND);
    let module = suite.addr("module-account");
    set_payout(&mut suite, &provider, Some(&module));
    suite.refuse_payments_to(&module);
    let id = suite.publish(&client, TaskSpec::first_response()).unwrap();
    suite
        .commit_and_reveal(&provider, id, &outputs(0), None)
        .unwrap();
    assert_eq!(suite.claim_of(&provider, PAY_DENOM), PAID);

    let market = suite.market.clone();
    assert!(suite
        .withdraw_claim(&provider, PAY_DENOM, Some(&market))
        .is_err());
    assert_eq!(suite.claim_of(&provider, PAY_DENOM), PAID);
    suite.assert_money_invariants();
}
