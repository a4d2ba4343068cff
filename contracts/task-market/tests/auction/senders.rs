//! Accounts that may not bid, and messages from the wrong account: a bid reveal by a
//! non-bidder, a result from anyone but the awardee, and the other models' closing messages.

use cosmwasm_std::coins;
use opengpu_task_market::ContractError;
use opengpu_testing::{assert_error, PAY_DENOM, STAKE_DENOM};
use opengpu_types::market::{CompetitionModel, TaskStatus};
use opengpu_types::registry;

use crate::*;

#[test]
fn bids_from_unregistered_under_bonded_paused_or_under_staked_accounts_are_refused() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let id = suite.publish(&client, TaskSpec::auction()).unwrap();

    // Bonded, never registered.
    let stranger = suite.addr("stranger");
    suite.fund(&stranger, coins(BOND, STAKE_DENOM));
    suite.bond(&stranger, BOND).unwrap();
    assert_error(
        suite.bid(&stranger, id, 300),
        ContractError::ProviderNotRegistered {
            provider: stranger.to_string(),
        },
    );
    // Registered, then bonded below the registry minimum.
    let shrunk = suite.provider_with_bond("shrunk", BOND);
    suite.unbond(&shrunk, BOND - 500).unwrap();
    assert_error(
        suite.bid(&shrunk, id, 300),
        ContractError::ProviderNotEligible {
            provider: shrunk.to_string(),
        },
    );
    // Registered and bonded, but paused.
    let paused = suite.provider_with_bond("paused", BOND);
    suite
        .execute_registry(&paused, &registry::ExecuteMsg::Pause {})
        .unwrap();
    assert_error(
        suite.bid(&paused, id, 300),
        ContractError::ProviderNotEligible {
            provider: paused.to_string(),
        },
    );
    // Eligible, but without the free stake a bid must lock.
    let rich = TaskSpec::auction().collateral(2_000);
    let big = suite.publish(&client, rich).unwrap();
    let thin = suite.provider_with_bond("thin", 1_500);
    assert_error(
        suite.bid(&thin, big, 300),
        "requested 2000 but only 1500 stake is free",
    );

    for task in [id, big] {
        assert!(suite.bids(task).is_empty());
        assert_eq!(suite.task(task).status, TaskStatus::Open);
    }
    assert_eq!(stake(&suite, &thin), (1_500, 0, 0));
    assert_eq!(stake(&suite, &stranger), (BOND, 0, 0));
    // Nobody got in: the client may still cancel both for a full refund.
    suite.cancel(&client, id).unwrap();
    suite.cancel(&client, big).unwrap();
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS);
    suite.assert_money_invariants();
}

#[test]
fn only_bidders_reveal_bids_and_only_the_awardee_submits_a_result() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let stranger = suite.provider_with_bond("stranger", BOND);
    let winner = suite.provider_with_bond("winner", BOND);
    let loser = suite.provider_with_bond("loser", BOND);
    let bids = [(&winner, 300), (&loser, 500)];
    let id = auction_with_bids(&mut suite, &client, &bids);
    suite.close_bids(id);
    assert_error(
        suite.reveal_bid(&stranger, id, 300),
        ContractError::NoBid {
            task_id: id,
            provider: stranger.to_string(),
        },
    );
    suite.reveal_bid(&winner, id, 300).unwrap();
    suite.reveal_bid(&loser, id, 500).unwrap();

    for sender in [&loser, &stranger, &client] {
        assert_error(
            suite.commit(sender, id, &default_outputs()),
            ContractError::NotAwarded {
                task_id: id,
                awardee: winner.to_string(),
                sender: sender.to_string(),
            },
        );
        assert_error(
            suite.reveal(sender, id, &default_outputs(), None),
            ContractError::NoCommitment {
                task_id: id,
                provider: sender.to_string(),
            },
        );
    }
    assert!(suite.commitments(id).is_empty());
    deliver(&mut suite, &winner, id);
    assert_eq!(suite.task(id).settlement.unwrap().winner, winner);
    assert_eq!(suite.balance(&winner, PAY_DENOM), 500 - fee(500));
    for other in [&loser, &stranger] {
        assert_eq!(suite.balance(other, PAY_DENOM), 0);
        assert_eq!(stake(&suite, other), (BOND, 0, 0));
    }
    suite.assert_money_invariants();
}

#[test]
fn confirm_and_finalize_do_not_apply_to_an_auction() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let stranger = suite.addr("stranger");
    let winner = suite.provider_with_bond("winner", BOND);
    let loser = suite.provider_with_bond("loser", BOND);
    let bids = [(&winner, 300), (&loser, 500)];
    let id = auction_with_bids(&mut suite, &client, &bids);
    reveal_all(&mut suite, id, &bids);
    let model = suite.task(id).model;

    // The client cannot pick the more expensive loser, nor a stranger confirm anything.
    assert_error(
        suite.confirm(&client, id, &loser),
        ContractError::WrongModel {
            task_id: id,
            expected: CompetitionModel::ManualConfirmation,
            model,
        },
    );
    assert_error(
        suite.confirm(&stranger, id, &winner),
        ContractError::NotClient {
            client: client.to_string(),
        },
    );
    let not_finalizable = ContractError::NothingToFinalize {
        task_id: id,
        reason: "an auction settles when its awardee delivers; send Advance to move it on".into(),
    };
    assert_error(suite.finalize(&client, id), not_finalizable.to_string());
    // Not even once the window is over: that is a hand-over, done by Advance.
    suite.end_execution(id);
    assert_error(suite.finalize(&stranger, id), not_finalizable.to_string());
    assert_eq!(suite.task(id).status, TaskStatus::Committed);

    suite.advance_auction(&stranger, id).unwrap();
    deliver(&mut suite, &loser, id);
    assert_eq!(suite.balance(&loser, PAY_DENOM), BUDGET - fee(BUDGET));
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS - BUDGET);
    assert_eq!(stake(&suite, &winner), (BOND - COLLATERAL, 0, 0));
    suite.assert_money_invariants();
}
