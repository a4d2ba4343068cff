//! Unit tests of the verification contract's entry points.

use cosmwasm_std::testing::{
    message_info, mock_dependencies, mock_env, MockApi, MockQuerier, MockStorage,
};
use cosmwasm_std::{from_json, Addr, Binary, Empty, HexBinary, OwnedDeps, StdResult};
use opengpu_types::commitment::outputs_digest;
use opengpu_types::events::actions;
use opengpu_types::verification::{
    InstantiateMsg, QueryMsg, Verdict, VerificationConfig, VerificationPolicy,
};
use opengpu_types::Ownership;

use crate::contract::{instantiate, query, CONTRACT_NAME};
use crate::ContractError;

type Deps = OwnedDeps<MockStorage, MockApi, MockQuerier, Empty>;

struct Setup {
    deps: Deps,
    owner: Addr,
    market: Addr,
    vault: Addr,
}

fn setup() -> Setup {
    let mut deps = mock_dependencies();
    let owner = deps.api.addr_make("owner");
    let market = deps.api.addr_make("market");
    let vault = deps.api.addr_make("vault");
    let msg = InstantiateMsg {
        owner: None,
        market: market.to_string(),
        vault: vault.to_string(),
    };
    let res = instantiate(deps.as_mut(), mock_env(), message_info(&owner, &[]), msg).unwrap();
    assert_eq!(res.attributes[0].value, actions::INSTANTIATE);
    Setup {
        deps,
        owner,
        market,
        vault,
    }
}

fn ask<T: serde::de::DeserializeOwned>(deps: &Deps, msg: QueryMsg) -> StdResult<T> {
    from_json(query(deps.as_ref(), mock_env(), msg)?)
}

fn check(
    deps: &Deps,
    policy: VerificationPolicy,
    sizes: &[u64],
    outputs: &[&[u8]],
) -> StdResult<Verdict> {
    let outputs: Vec<Binary> = outputs.iter().map(|o| Binary::from(o.to_vec())).collect();
    let msg = QueryMsg::Check {
        policy,
        output_sizes: sizes.to_vec(),
        revealed_sizes: outputs.iter().map(|o| o.len() as u64).collect(),
        outputs_digest: HexBinary::from(outputs_digest(&outputs)),
    };
    ask(deps, msg)
}

fn reference_hash(outputs: &[&[u8]]) -> VerificationPolicy {
    let outputs: Vec<Binary> = outputs.iter().map(|o| Binary::from(o.to_vec())).collect();
    VerificationPolicy::ReferenceHash {
        sha256: HexBinary::from(outputs_digest(&outputs)),
    }
}

#[track_caller]
fn assert_invalid(verdict: Verdict, expected_reason: &str) {
    match verdict {
        Verdict::Invalid { reason } => assert!(
            reason.contains(expected_reason),
            "reason {reason:?} lacks {expected_reason:?}"
        ),
        other => panic!("expected Invalid ({expected_reason}), got {other:?}"),
    }
}

/// A mismatch with the client's hash is no proof: `Unmatched`, never `Invalid`.
#[track_caller]
fn assert_unmatched(verdict: Verdict, expected_reason: &str) {
    match verdict {
        Verdict::Unmatched { reason } => assert!(
            reason.contains(expected_reason),
            "reason {reason:?} lacks {expected_reason:?}"
        ),
        other => panic!("expected Unmatched ({expected_reason}), got {other:?}"),
    }
}

#[test]
fn instantiate_stores_market_and_vault_and_makes_the_sender_owner() {
    let s = setup();
    let config: VerificationConfig = ask(&s.deps, QueryMsg::Config {}).unwrap();
    assert_eq!(
        config,
        VerificationConfig {
            market_addr: s.market.clone(),
            vault_addr: s.vault.clone(),
        }
    );
    let ownership: Ownership = ask(&s.deps, QueryMsg::Ownership {}).unwrap();
    assert_eq!(ownership.owner, Some(s.owner.clone()));
    let version = cw2::get_contract_version(&s.deps.storage).unwrap();
    assert_eq!(version.contract, CONTRACT_NAME);
}

#[test]
fn instantiate_with_invalid_addresses_fails() {
    let mut deps = mock_dependencies();
    let creator = deps.api.addr_make("creator");
    let good = deps.api.addr_make("good").to_string();
    let cases = [
        (Some("bad owner".to_string()), good.clone(), good.clone()),
        (None, "bad market".to_string(), good.clone()),
        (None, good.clone(), "bad vault".to_string()),
    ];
    for (owner, market, vault) in cases {
        let msg = InstantiateMsg {
            owner,
            market,
            vault,
        };
        let res = instantiate(deps.as_mut(), mock_env(), message_info(&creator, &[]), msg);
        assert!(matches!(res, Err(ContractError::Std(_))));
    }
}

#[test]
fn instantiate_with_explicit_owner_sets_that_owner() {
    let mut deps = mock_dependencies();
    let creator = deps.api.addr_make("creator");
    let dao = deps.api.addr_make("dao");
    let msg = InstantiateMsg {
        owner: Some(dao.to_string()),
        market: deps.api.addr_make("market").to_string(),
        vault: deps.api.addr_make("vault").to_string(),
    };
    instantiate(deps.as_mut(), mock_env(), message_info(&creator, &[]), msg).unwrap();
    let ownership: Ownership = ask(&deps, QueryMsg::Ownership {}).unwrap();
    assert_eq!(ownership.owner, Some(dao));
}

#[test]
fn well_formed_check_accepts_outputs_of_the_declared_shape() {
    let s = setup();
    let verdict = check(
        &s.deps,
        VerificationPolicy::Unverified {},
        &[2, 3],
        &[b"ab", b"cde"],
    );
    assert_eq!(verdict.unwrap(), Verdict::Valid {});
}

#[test]
fn well_formed_check_of_a_misshapen_result_is_an_invalid_verdict_not_an_error() {
    let s = setup();
    let policy = VerificationPolicy::Unverified {};
    let verdict = check(&s.deps, policy.clone(), &[16], &[&[0; 16], &[0; 16]]).unwrap();
    assert_invalid(verdict, "2 outputs revealed, task declares 1");
    let verdict = check(&s.deps, policy, &[4, 16], &[&[0; 4], &[0; 12]]).unwrap();
    assert_invalid(verdict, "output 1 has 12 bytes, expected 16");
}

#[test]
fn reference_hash_check_accepts_the_known_answer() {
    let s = setup();
    let outputs: [&[u8]; 2] = [b"ab", b"cde"];
    let verdict = check(&s.deps, reference_hash(&outputs), &[2, 3], &outputs);
    assert_eq!(verdict.unwrap(), Verdict::Valid {});
}

#[test]
fn reference_hash_check_of_another_answer_is_unmatched_not_invalid_and_names_both_hashes() {
    let s = setup();
    let policy = reference_hash(&[b"ab", b"cde"]);
    let VerificationPolicy::ReferenceHash { sha256 } = &policy else {
        unreachable!()
    };
    let wrong: [&[u8]; 2] = [b"ab", b"cdf"];
    let wrong_digest = HexBinary::from(outputs_digest(&[
        Binary::from(b"ab".to_vec()),
        Binary::from(b"cdf".to_vec()),
    ]));
    let verdict = check(&s.deps, policy.clone(), &[2, 3], &wrong).unwrap();
    assert_unmatched(verdict.clone(), &sha256.to_hex());
    assert_unmatched(verdict, &wrong_digest.to_hex());
}

#[test]
fn reference_hash_check_runs_the_well_formed_check_first() {
    let s = setup();
    let outputs: [&[u8]; 1] = [b"abcd"];
    // The hash matches, but the task declared a different size.
    let verdict = check(&s.deps, reference_hash(&outputs), &[5], &outputs).unwrap();
    assert_invalid(verdict, "output 0 has 4 bytes, expected 5");
}

#[test]
fn check_with_a_malformed_policy_is_a_query_error_not_a_verdict() {
    let s = setup();
    let policy = VerificationPolicy::ReferenceHash {
        sha256: HexBinary::from(vec![0u8; 20]),
    };
    let err = check(&s.deps, policy, &[1], &[b"a"]).unwrap_err();
    assert!(err
        .to_string()
        .contains("reference hash has 20 bytes, expected 32"));
}

#[test]
fn check_policy_accepts_well_formed_and_32_byte_reference_hash() {
    let s = setup();
    for policy in [VerificationPolicy::Unverified {}, reference_hash(&[b"x"])] {
        let verdict: Verdict = ask(&s.deps, QueryMsg::CheckPolicy { policy }).unwrap();
        assert_eq!(verdict, Verdict::Valid {});
    }
}

#[test]
fn check_policy_rejects_a_reference_hash_that_is_not_32_bytes() {
    let s = setup();
    let policy = VerificationPolicy::ReferenceHash {
        sha256: HexBinary::from(vec![1u8; 33]),
    };
    let verdict: Verdict = ask(&s.deps, QueryMsg::CheckPolicy { policy }).unwrap();
    assert_invalid(verdict, "reference hash has 33 bytes, expected 32");
}
