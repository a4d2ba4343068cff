use opengpu_types::events::actions;
use opengpu_types::registry::{ExecuteMsg, Outcome, Reputation};

use super::{assert_action, Setup, MIN_BOND};
use crate::state::PROVIDERS;
use crate::ContractError;

fn record(provider: &cosmwasm_std::Addr, task_id: u64, outcome: Outcome) -> ExecuteMsg {
    ExecuteMsg::RecordOutcome {
        provider: provider.to_string(),
        task_id,
        outcome,
    }
}

#[test]
fn record_outcome_by_market_increments_the_matching_counter() {
    let mut s = Setup::new();
    let alice = s.addr("alice");
    let market = s.market.clone();
    s.stakes(&[(&alice, MIN_BOND, 0)]);
    s.register(&alice);

    let outcomes = [
        Outcome::Won,
        Outcome::Won,
        Outcome::Lost,
        Outcome::Expired,
        Outcome::Slashed,
    ];
    for (task_id, outcome) in (1..).zip(outcomes) {
        let res = s
            .execute(&market, record(&alice, task_id, outcome))
            .unwrap();
        assert_action(&res, actions::RECORD_OUTCOME);
        let event = &res.events[0];
        assert_eq!(event.ty, "outcome_recorded");
        assert_eq!(event.attributes[1].value, task_id.to_string());
        assert_eq!(event.attributes[2].value, outcome.to_string());
    }
    let expected = Reputation {
        won: 2,
        lost: 1,
        expired: 1,
        slashed: 1,
    };
    assert_eq!(s.stored(&alice).unwrap().reputation, expected);
}

#[test]
fn record_outcome_by_non_market_is_unauthorized() {
    let mut s = Setup::new();
    let alice = s.addr("alice");
    let owner = s.owner.clone();
    s.stakes(&[(&alice, MIN_BOND, 0)]);
    s.register(&alice);
    // Neither the provider itself nor the owner may write reputation.
    for sender in [alice.clone(), owner] {
        let err = s
            .execute(&sender, record(&alice, 1, Outcome::Won))
            .unwrap_err();
        assert!(matches!(
            err,
            ContractError::Unauthorized { sender: got, market }
                if got == sender.as_str() && market == s.market.as_str()
        ));
    }
    assert_eq!(s.stored(&alice).unwrap().reputation, Reputation::default());
}

#[test]
fn record_outcome_for_unknown_provider_is_rejected() {
    let mut s = Setup::new();
    let bob = s.addr("bob");
    let market = s.market.clone();
    let err = s
        .execute(&market, record(&bob, 1, Outcome::Lost))
        .unwrap_err();
    assert!(matches!(err, ContractError::NotRegistered { address } if address == bob.as_str()));
}

#[test]
fn record_outcome_with_invalid_provider_address_is_rejected() {
    let mut s = Setup::new();
    let market = s.market.clone();
    let msg = ExecuteMsg::RecordOutcome {
        provider: "not an address".into(),
        task_id: 1,
        outcome: Outcome::Won,
    };
    assert!(matches!(
        s.execute(&market, msg).unwrap_err(),
        ContractError::Std(_)
    ));
}

#[test]
fn record_outcome_counter_overflow_is_an_error_not_a_wrap() {
    let mut s = Setup::new();
    let alice = s.addr("alice");
    let market = s.market.clone();
    s.stakes(&[(&alice, MIN_BOND, 0)]);
    s.register(&alice);
    let mut provider = s.stored(&alice).unwrap();
    provider.reputation.won = u64::MAX;
    PROVIDERS
        .save(&mut s.deps.storage, &alice, &provider)
        .unwrap();

    let err = s
        .execute(&market, record(&alice, 1, Outcome::Won))
        .unwrap_err();
    assert!(matches!(err, ContractError::Overflow(_)));
    assert_eq!(s.stored(&alice).unwrap().reputation.won, u64::MAX);
}
