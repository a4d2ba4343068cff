use cosmwasm_std::testing::{message_info, mock_dependencies, mock_env};
use cosmwasm_std::Uint128;
use opengpu_cw_utils::OwnershipError;
use opengpu_types::events::actions;
use opengpu_types::registry::{ExecuteMsg, InstantiateMsg, QueryMsg, RegistryConfig};
use opengpu_types::Ownership;

use super::{assert_action, Setup, MIN_BOND};
use crate::contract::{instantiate, CONTRACT_NAME, CONTRACT_VERSION};
use crate::ContractError;

#[test]
fn instantiate_stores_config_and_makes_the_sender_owner_by_default() {
    let s = Setup::new();
    let config: RegistryConfig = s.query(QueryMsg::Config {});
    assert_eq!(
        config,
        RegistryConfig {
            vault_addr: s.vault.clone(),
            market_addr: s.market.clone(),
            min_bond: Uint128::new(MIN_BOND),
        }
    );
    let ownership: Ownership = s.query(QueryMsg::Ownership {});
    assert_eq!(ownership.owner, Some(s.owner.clone()));
    let version = cw2::get_contract_version(&s.deps.storage).unwrap();
    assert_eq!(
        (version.contract.as_str(), version.version.as_str()),
        (CONTRACT_NAME, CONTRACT_VERSION)
    );
}

#[test]
fn instantiate_with_explicit_owner_sets_that_owner() {
    let mut deps = mock_dependencies();
    let creator = deps.api.addr_make("creator");
    let owner = deps.api.addr_make("dao");
    let msg = InstantiateMsg {
        owner: Some(owner.to_string()),
        vault: deps.api.addr_make("vault").to_string(),
        market: deps.api.addr_make("market").to_string(),
        min_bond: Uint128::new(1),
    };
    let res = instantiate(deps.as_mut(), mock_env(), message_info(&creator, &[]), msg).unwrap();
    assert_action(&res, actions::INSTANTIATE);
    opengpu_cw_utils::assert_owner(&deps.storage, &owner).unwrap();
}

#[test]
fn instantiate_with_invalid_addresses_fails() {
    let mut deps = mock_dependencies();
    let creator = deps.api.addr_make("creator");
    let good = deps.api.addr_make("good").to_string();
    let cases = [
        (Some("bad owner".to_string()), good.clone(), good.clone()),
        (None, "bad vault".to_string(), good.clone()),
        (None, good.clone(), "bad market".to_string()),
    ];
    for (owner, vault, market) in cases {
        let msg = InstantiateMsg {
            owner,
            vault,
            market,
            min_bond: Uint128::new(1),
        };
        let err = instantiate(deps.as_mut(), mock_env(), message_info(&creator, &[]), msg);
        assert!(matches!(err, Err(ContractError::Std(_))));
    }
}

#[test]
fn update_config_by_owner_changes_min_bond() {
    let mut s = Setup::new();
    let owner = s.owner.clone();
    let msg = ExecuteMsg::UpdateConfig {
        min_bond: Some(Uint128::new(5_000)),
    };
    let res = s.execute(&owner, msg).unwrap();
    assert_action(&res, actions::UPDATE_CONFIG);
    let config: RegistryConfig = s.query(QueryMsg::Config {});
    assert_eq!(config.min_bond, Uint128::new(5_000));

    // `None` leaves it as it is.
    s.execute(&owner, ExecuteMsg::UpdateConfig { min_bond: None })
        .unwrap();
    let config: RegistryConfig = s.query(QueryMsg::Config {});
    assert_eq!(config.min_bond, Uint128::new(5_000));
}

#[test]
fn update_config_by_non_owner_is_rejected() {
    let mut s = Setup::new();
    let market = s.market.clone();
    let msg = ExecuteMsg::UpdateConfig {
        min_bond: Some(Uint128::zero()),
    };
    let err = s.execute(&market, msg).unwrap_err();
    assert!(matches!(
        err,
        ContractError::Ownership(OwnershipError::NotOwner { .. })
    ));
    let config: RegistryConfig = s.query(QueryMsg::Config {});
    assert_eq!(config.min_bond, Uint128::new(MIN_BOND));
}
