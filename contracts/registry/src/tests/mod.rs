//! Unit tests of the registry's entry points, with the vault's `Stake` query mocked.

mod admin;
mod outcome;
mod provider;
mod queries;

use cosmwasm_std::testing::{
    message_info, mock_dependencies, mock_env, MockApi, MockQuerier, MockStorage,
};
use cosmwasm_std::{
    from_json, to_json_binary, Addr, Coin, ContractResult, Empty, OwnedDeps, Response,
    SystemResult, Uint128, WasmQuery,
};
use opengpu_types::registry::{
    DeviceInfo, DeviceType, ExecuteMsg, InstantiateMsg, Provider, ProviderProfile, QueryMsg,
};
use opengpu_types::vault::{QueryMsg as VaultQueryMsg, StakeResponse};

use crate::contract::{execute, instantiate, query};
use crate::ContractError;

pub const MIN_BOND: u128 = 1_000;

pub type Deps = OwnedDeps<MockStorage, MockApi, MockQuerier, Empty>;

pub struct Setup {
    pub deps: Deps,
    pub owner: Addr,
    pub vault: Addr,
    pub market: Addr,
}

impl Setup {
    /// A registry with `MIN_BOND` and a vault that knows no stakes yet.
    pub fn new() -> Self {
        let mut deps = mock_dependencies();
        let owner = deps.api.addr_make("owner");
        let vault = deps.api.addr_make("vault");
        let market = deps.api.addr_make("market");
        let msg = InstantiateMsg {
            owner: None,
            vault: vault.to_string(),
            market: market.to_string(),
            min_bond: Uint128::new(MIN_BOND),
        };
        instantiate(deps.as_mut(), mock_env(), message_info(&owner, &[]), msg).unwrap();
        let mut setup = Setup {
            deps,
            owner,
            vault,
            market,
        };
        setup.stakes(&[]);
        setup
    }

    pub fn addr(&self, name: &str) -> Addr {
        self.deps.api.addr_make(name)
    }

    /// Makes the mocked vault answer `Stake` with these `(address, bonded, locked)`; every other
    /// address has nothing.
    pub fn stakes(&mut self, stakes: &[(&Addr, u128, u128)]) {
        let vault = self.vault.to_string();
        let stakes: Vec<(String, u128, u128)> = stakes
            .iter()
            .map(|(addr, bonded, locked)| (addr.to_string(), *bonded, *locked))
            .collect();
        self.deps.querier.update_wasm(move |query| match query {
            WasmQuery::Smart { contract_addr, msg } if *contract_addr == vault => {
                let VaultQueryMsg::Stake { address } = from_json(msg).unwrap() else {
                    panic!("registry sent the vault an unexpected query");
                };
                let (bonded, locked) = stakes
                    .iter()
                    .find(|(a, _, _)| *a == address)
                    .map_or((0, 0), |(_, b, l)| (*b, *l));
                let response = StakeResponse {
                    address: Addr::unchecked(address),
                    bonded: Uint128::new(bonded),
                    locked: Uint128::new(locked),
                    free: Uint128::new(bonded - locked),
                    unbonding: Uint128::zero(),
                    claims: vec![],
                };
                SystemResult::Ok(ContractResult::Ok(to_json_binary(&response).unwrap()))
            }
            other => panic!("unexpected query {other:?}"),
        });
    }

    pub fn execute(&mut self, sender: &Addr, msg: ExecuteMsg) -> Result<Response, ContractError> {
        self.execute_with_funds(sender, &[], msg)
    }

    pub fn execute_with_funds(
        &mut self,
        sender: &Addr,
        funds: &[Coin],
        msg: ExecuteMsg,
    ) -> Result<Response, ContractError> {
        execute(
            self.deps.as_mut(),
            mock_env(),
            message_info(sender, funds),
            msg,
        )
    }

    pub fn query<T: serde::de::DeserializeOwned>(&self, msg: QueryMsg) -> T {
        from_json(query(self.deps.as_ref(), mock_env(), msg).unwrap()).unwrap()
    }

    /// Registers with the default profile; the vault must already show enough bond.
    pub fn register(&mut self, provider: &Addr) {
        self.register_with(provider, profile());
    }

    /// Registers with `profile`; the vault must already show enough bond for `provider`.
    pub fn register_with(&mut self, provider: &Addr, profile: ProviderProfile) {
        let msg = ExecuteMsg::Register { profile };
        self.execute(provider, msg).unwrap();
    }

    pub fn stored(&self, provider: &Addr) -> Option<Provider> {
        crate::state::PROVIDERS
            .may_load(&self.deps.storage, provider)
            .unwrap()
    }
}

pub fn profile() -> ProviderProfile {
    ProviderProfile {
        moniker: "rig-1".into(),
        device: DeviceInfo {
            name: "NVIDIA GeForce RTX 4090".into(),
            device_type: DeviceType::Gpu,
            compute_units: 128,
            global_mem_bytes: 24 << 30,
            max_work_group_size: 1024,
            fp64: true,
        },
        prices: vec![Coin::new(100u128, "ugpu")],
        payout_addr: None,
        payout_route: None,
    }
}

/// The `action` attribute comes first in every response.
#[track_caller]
pub fn assert_action(response: &Response, action: &str) {
    let first = response
        .attributes
        .first()
        .expect("response has no attributes");
    assert_eq!(
        (first.key.as_str(), first.value.as_str()),
        ("action", action)
    );
}
