//! Instantiate validation and UpdateConfig; UpdateOwnership and migrate are checked by the
//! shared `opengpu_testing::ownership_tests!` in tests/flows.rs.

use cosmwasm_std::coin;
use cosmwasm_std::testing::message_info;
use cw_utils::PaymentError;
use opengpu_cw_utils::OwnershipError;
use opengpu_types::events::actions;
use opengpu_types::vault::{VaultConfig, MAX_UNBONDING_PERIOD_SECONDS};
use opengpu_types::Ownership;

use super::*;
use crate::contract::{CONTRACT_NAME, CONTRACT_VERSION};
use crate::execute::staking::release_time;

const MAX_PERIOD: u64 = MAX_UNBONDING_PERIOD_SECONDS;
const HUNDRED_YEARS: u64 = 100 * 365 * 24 * 60 * 60;

#[track_caller]
fn assert_period_out_of_range(err: ContractError, got: u64) {
    assert!(
        matches!(
            err,
            ContractError::UnbondingPeriodOutOfRange { seconds, max }
                if seconds == got && max == MAX_PERIOD
        ),
        "expected UnbondingPeriodOutOfRange for {got}, got {err:?}"
    );
}

fn update_config(period: Option<u64>, max: Option<u32>) -> ExecuteMsg {
    ExecuteMsg::UpdateConfig {
        unbonding_period_seconds: period,
        max_claims_per_address: max,
    }
}

#[test]
fn instantiate_stores_config_owner_and_zero_totals() {
    let h = Harness::new();
    let config: VaultConfig = h.query(QueryMsg::Config {});
    assert_eq!(
        config,
        VaultConfig {
            stake_denom: DENOM.to_string(),
            unbonding_period_seconds: PERIOD,
            max_claims_per_address: MAX_CLAIMS,
            market_addr: h.market.clone(),
            verification_addr: h.verification.clone(),
        }
    );
    let ownership: Ownership = h.query(QueryMsg::Ownership {});
    assert_eq!(ownership.owner, Some(h.owner.clone()));
    let totals = h.totals();
    assert!(totals.bonded.is_zero() && totals.locked.is_zero() && totals.unbonding.is_zero());
    let version = cw2::get_contract_version(&h.deps.storage).unwrap();
    assert_eq!(
        (version.contract.as_str(), version.version.as_str()),
        (CONTRACT_NAME, CONTRACT_VERSION)
    );
}

#[test]
fn instantiate_without_owner_makes_the_sender_owner() {
    let mut h = Harness::bare();
    let mut msg = default_msg(&h);
    msg.owner = None;
    let creator = h.addr("creator");
    let res = h.instantiate(&creator, msg).unwrap();
    assert_action(&res, actions::INSTANTIATE);
    let ownership: Ownership = h.query(QueryMsg::Ownership {});
    assert_eq!(ownership.owner, Some(creator));
}

#[test]
fn instantiate_with_empty_stake_denom_is_rejected() {
    let mut h = Harness::bare();
    let mut msg = default_msg(&h);
    msg.stake_denom = " ".to_string();
    let creator = h.addr("creator");
    assert!(matches!(
        h.instantiate(&creator, msg),
        Err(ContractError::EmptyStakeDenom)
    ));
}

#[test]
fn instantiate_with_an_unbonding_period_outside_1_to_60_days_is_rejected() {
    // The deployer tries to start the vault with stake that leaves at once or never.
    for period in [0, MAX_PERIOD + 1, HUNDRED_YEARS, u64::MAX] {
        let mut h = Harness::bare();
        let mut msg = default_msg(&h);
        msg.unbonding_period_seconds = period;
        let creator = h.addr("creator");
        let err = h.instantiate(&creator, msg).unwrap_err();
        assert_period_out_of_range(err, period);
    }
    // Both ends of the range are accepted.
    for period in [1, MAX_PERIOD] {
        let mut h = Harness::bare();
        let mut msg = default_msg(&h);
        msg.unbonding_period_seconds = period;
        let creator = h.addr("creator");
        h.instantiate(&creator, msg).unwrap();
    }
}

#[test]
fn out_of_range_period_error_names_the_bound() {
    let err = ContractError::UnbondingPeriodOutOfRange {
        seconds: u64::MAX,
        max: MAX_PERIOD,
    };
    assert_eq!(
        err.to_string(),
        "unbonding period of 18446744073709551615 s is out of range: it must be 1 to 5184000 s \
         (60 days)"
    );
}

#[test]
fn instantiate_with_zero_max_claims_is_rejected() {
    let mut h = Harness::bare();
    let mut msg = default_msg(&h);
    msg.max_claims_per_address = 0;
    let creator = h.addr("creator");
    assert!(matches!(
        h.instantiate(&creator, msg),
        Err(ContractError::ZeroMaxClaims)
    ));
}

#[test]
fn instantiate_with_invalid_addresses_is_rejected() {
    let h = Harness::bare();
    let creator = h.addr("creator");
    let cases: [fn(&mut InstantiateMsg); 3] = [
        |m| m.market = "bad market".into(),
        |m| m.verification = "bad verification".into(),
        |m| m.owner = Some("bad owner".into()),
    ];
    for break_it in cases {
        let mut h = Harness::bare();
        let mut msg = default_msg(&h);
        break_it(&mut msg);
        assert!(matches!(
            h.instantiate(&creator, msg),
            Err(ContractError::Std(_))
        ));
    }
}

#[test]
fn instantiate_with_funds_is_rejected() {
    let mut h = Harness::bare();
    let msg = default_msg(&h);
    let creator = h.addr("creator");
    let res = instantiate(
        h.deps.as_mut(),
        h.env.clone(),
        message_info(&creator, &[coin(1, DENOM)]),
        msg,
    );
    assert!(matches!(
        res,
        Err(ContractError::Payment(PaymentError::NonPayable {}))
    ));
}

#[test]
fn update_config_by_owner_changes_period_and_max_claims() {
    let mut h = Harness::new();
    let owner = h.owner.clone();
    let res = h.exec(&owner, update_config(Some(50), Some(1))).unwrap();
    assert_action(&res, actions::UPDATE_CONFIG);
    let config: VaultConfig = h.query(QueryMsg::Config {});
    assert_eq!(
        (
            config.unbonding_period_seconds,
            config.max_claims_per_address
        ),
        (50, 1)
    );

    // New claims use the new period and limit.
    let alice = h.addr("alice");
    h.bond(&alice, 10);
    h.unbond(&alice, 1).unwrap();
    assert_eq!(
        h.stake(&alice).claims[0].release_at,
        h.env.block.time.plus_seconds(50)
    );
    let err = h.exec_err(
        &alice,
        ExecuteMsg::Unbond {
            amount: 1u128.into(),
        },
    );
    assert!(matches!(err, ContractError::TooManyClaims { max: 1 }));
}

#[test]
fn update_config_leaves_unset_fields_alone() {
    let mut h = Harness::new();
    let owner = h.owner.clone();
    h.exec(&owner, update_config(None, Some(7))).unwrap();
    let config: VaultConfig = h.query(QueryMsg::Config {});
    assert_eq!(
        (
            config.unbonding_period_seconds,
            config.max_claims_per_address
        ),
        (PERIOD, 7)
    );
}

#[test]
fn update_config_by_non_owner_is_unauthorized() {
    let mut h = Harness::new();
    let market = h.market.clone();
    let err = h.exec_err(&market, update_config(Some(1), None));
    assert!(
        matches!(err, ContractError::Ownership(OwnershipError::NotOwner { owner }) if owner == h.owner.as_str())
    );
}

#[test]
fn update_config_to_zero_period_or_zero_max_claims_is_rejected() {
    let mut h = Harness::new();
    let owner = h.owner.clone();
    let err = h.exec_err(&owner, update_config(Some(0), None));
    assert_period_out_of_range(err, 0);
    let err = h.exec_err(&owner, update_config(None, Some(0)));
    assert!(matches!(err, ContractError::ZeroMaxClaims));
}

#[test]
fn update_config_with_funds_is_rejected() {
    let mut h = Harness::new();
    let owner = h.owner.clone();
    let err = h.exec_err_funds(&owner, update_config(Some(5), None), &[coin(1, DENOM)]);
    assert!(matches!(
        err,
        ContractError::Payment(PaymentError::NonPayable {})
    ));
}

#[test]
fn owner_cannot_freeze_unbonds_with_a_huge_period() {
    let mut h = Harness::new();
    let owner = h.owner.clone();
    let alice = h.addr("alice");
    h.bond(&alice, 10);
    // u64::MAX used to be accepted and then made every unbond fail on overflow; 100 years
    // was accepted and kept stake for a century. Each is refused and changes nothing.
    for period in [u64::MAX, HUNDRED_YEARS, MAX_PERIOD + 1] {
        let err = h.exec_err(&owner, update_config(Some(period), None));
        assert_period_out_of_range(err, period);
        // Also when combined with a valid change of the other field.
        let err = h.exec_err(&owner, update_config(Some(period), Some(7)));
        assert_period_out_of_range(err, period);
    }
    let config: VaultConfig = h.query(QueryMsg::Config {});
    assert_eq!(
        (
            config.unbonding_period_seconds,
            config.max_claims_per_address
        ),
        (PERIOD, MAX_CLAIMS)
    );

    // The longest the owner can impose is 60 days, after which the stake comes back.
    h.exec(&owner, update_config(Some(MAX_PERIOD), None))
        .unwrap();
    h.unbond(&alice, 10).unwrap();
    assert_eq!(
        h.stake(&alice).claims[0].release_at,
        h.env.block.time.plus_seconds(MAX_PERIOD)
    );
    h.advance(MAX_PERIOD - 1);
    let err = h.exec_err(&alice, ExecuteMsg::Claim {});
    assert!(matches!(err, ContractError::NothingToClaim));
    h.advance(1);
    let res = h.exec(&alice, ExecuteMsg::Claim {}).unwrap();
    assert_eq!(
        bank_sends(&res),
        vec![(alice.to_string(), Uint128::new(10))]
    );
    h.assert_invariants();
}

#[test]
fn release_time_is_checked_math() {
    let now = mock_env().block.time;
    assert_eq!(
        release_time(now, MAX_PERIOD).unwrap(),
        now.plus_seconds(MAX_PERIOD)
    );
    // Past the end of the clock (u64 nanoseconds, year 2554): an error, not a wrap or panic.
    let late = cosmwasm_std::Timestamp::from_nanos(u64::MAX - 1_000_000_000);
    assert!(matches!(
        release_time(late, 2),
        Err(ContractError::Overflow(_))
    ));
    assert!(matches!(
        release_time(now, u64::MAX),
        Err(ContractError::Overflow(_))
    ));
}

#[test]
fn owner_raising_the_period_does_not_delay_a_claim_already_made() {
    let mut h = Harness::new();
    let owner = h.owner.clone();
    let alice = h.addr("alice");
    h.bond(&alice, 100);
    h.unbond(&alice, 40).unwrap();
    let matures = h.env.block.time.plus_seconds(PERIOD);

    // Right after the unbond, the owner raises the period to the maximum.
    h.advance(1);
    h.exec(&owner, update_config(Some(MAX_PERIOD), None))
        .unwrap();
    assert_eq!(h.stake(&alice).claims[0].release_at, matures);

    // The claim matures at the period it was made under, not the new one.
    h.advance(PERIOD - 1);
    assert_eq!(h.env.block.time, matures);
    let res = h.exec(&alice, ExecuteMsg::Claim {}).unwrap();
    assert_eq!(
        bank_sends(&res),
        vec![(alice.to_string(), Uint128::new(40))]
    );

    // Only a claim made after the change waits the new period.
    h.unbond(&alice, 60).unwrap();
    assert_eq!(
        h.stake(&alice).claims[0].release_at,
        h.env.block.time.plus_seconds(MAX_PERIOD)
    );
    h.assert_invariants();
}

#[test]
fn owner_lowering_max_claims_cannot_keep_a_provider_from_its_free_stake() {
    // Worst case for alice: claims outstanding up to the limit, collateral still locked, then
    // the owner sets the lowest limit and the longest period in one message.
    let mut h = Harness::new();
    let owner = h.owner.clone();
    let alice = h.addr("alice");
    h.bond(&alice, 1_000);
    for _ in 0..MAX_CLAIMS {
        h.unbond(&alice, 100).unwrap();
        h.advance(10);
    }
    h.lock(&alice, 1, 200).unwrap();
    h.exec(&owner, update_config(Some(MAX_PERIOD), Some(1)))
        .unwrap();
    // A limit of 0 would block every unbond for good: refused.
    let err = h.exec_err(&owner, update_config(None, Some(0)));
    assert!(matches!(err, ContractError::ZeroMaxClaims));

    // Three claims while the limit is one: every one stays and is paid when it matures.
    assert_eq!(h.stake(&alice).claims.len(), MAX_CLAIMS as usize);
    let err = h.exec_err(
        &alice,
        ExecuteMsg::Unbond {
            amount: 1u128.into(),
        },
    );
    assert!(matches!(err, ContractError::TooManyClaims { max: 1 }));
    h.advance(PERIOD);
    let res = h.exec(&alice, ExecuteMsg::Claim {}).unwrap();
    assert_eq!(
        bank_sends(&res),
        vec![(alice.to_string(), Uint128::new(300))]
    );

    // One claim holds any amount: all free stake leaves in one unbond, and the collateral
    // once the market releases it, after the first claim is paid.
    h.unbond(&alice, 500).unwrap();
    let market = h.market.clone();
    h.exec(&market, unlock_msg(&alice, 1)).unwrap();
    h.advance(MAX_PERIOD);
    h.exec(&alice, ExecuteMsg::Claim {}).unwrap();
    h.unbond(&alice, 200).unwrap();
    h.advance(MAX_PERIOD);
    h.exec(&alice, ExecuteMsg::Claim {}).unwrap();

    let stake = h.stake(&alice);
    assert!(stake.bonded.is_zero() && stake.unbonding.is_zero());
    assert!(
        h.balance.is_zero(),
        "everything alice bonded went back to her"
    );
    h.assert_invariants();
}
