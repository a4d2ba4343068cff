//! Deploys the four contracts with instantiate2, so that each is instantiated knowing the
//! addresses of the others.

use cosmwasm_std::{coin, instantiate2_address, Addr, Api, Binary, Uint128};
use cw_multi_test::{AppBuilder, ContractWrapper, Executor};
use opengpu_types::ibc::{IbcChannel, IbcSettings};
use opengpu_types::kernel::KernelLimits;
use opengpu_types::market::MarketParams;
use opengpu_types::{market, registry, vault, verification};

use crate::{FakeIbc, RefusingBank, Suite, SuiteApp};

/// The vault's stake denom, also accepted as payment.
pub const STAKE_DENOM: &str = "ustake";
/// A second native payment denom.
pub const PAY_DENOM: &str = "uatom";
/// An IBC voucher denom the market accepts.
pub const IBC_DENOM: &str = "ibc/27394FB092D2ECCD56123C74F36E4C1F926001CEADA9CA97EA622B25F41E5EB2";

pub struct SuiteBuilder {
    pub params: MarketParams,
    pub fee_bps: u16,
    pub min_bond: Uint128,
    pub unbonding_period_seconds: u64,
    pub max_claims_per_address: u32,
    pub ibc: IbcSettings,
    /// The market's default when `None`.
    pub retention_blocks: Option<u64>,
}

impl Default for SuiteBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl SuiteBuilder {
    pub fn new() -> Self {
        Self {
            params: MarketParams {
                kernel_limits: KernelLimits {
                    max_source_bytes: 16 * 1024,
                    max_args: 16,
                    max_input_bytes: 64 * 1024,
                    max_output_bytes: 64 * 1024,
                },
                max_committers: 5,
                min_deadline_blocks: 2,
                max_deadline_blocks: 10_000,
                reveal_window_blocks: 10,
                confirm_window_blocks: 20,
                min_collateral: Uint128::new(1),
            },
            fee_bps: 100,
            min_bond: Uint128::new(1_000),
            unbonding_period_seconds: 3_600,
            max_claims_per_address: 5,
            ibc: IbcSettings::default(),
            retention_blocks: None,
        }
    }

    pub fn with_params(mut self, edit: impl FnOnce(&mut MarketParams)) -> Self {
        edit(&mut self.params);
        self
    }

    /// The market pays out and accepts tasks over [`crate::IBC_CHANNEL`]; [`IBC_DENOM`] may
    /// travel on it.
    pub fn with_ibc_channel(mut self) -> Self {
        self.ibc.channels.push(IbcChannel {
            channel_id: crate::IBC_CHANNEL.into(),
            denoms: vec![IBC_DENOM.into()],
        });
        self
    }

    pub fn with_retention_blocks(mut self, blocks: u64) -> Self {
        self.retention_blocks = Some(blocks);
        self
    }

    pub fn with_fee_bps(mut self, fee_bps: u16) -> Self {
        self.fee_bps = fee_bps;
        self
    }

    pub fn build(self) -> Suite {
        let mut app = AppBuilder::new()
            .with_bank(RefusingBank::default())
            .with_ibc(FakeIbc)
            .build(|_, _, _| {});
        let owner = app.api().addr_make("owner");
        let fee_collector = app.api().addr_make("fee-collector");

        let codes = Codes::store(&mut app);
        let predict = |app: &SuiteApp, code_id: u64, salt: &[u8]| -> Addr {
            let checksum = app.wrap().query_wasm_code_info(code_id).unwrap().checksum;
            let creator = app.api().addr_canonicalize(owner.as_str()).unwrap();
            let canonical = instantiate2_address(checksum.as_slice(), &creator, salt).unwrap();
            app.api().addr_humanize(&canonical).unwrap()
        };
        let registry_addr = predict(&app, codes.registry, b"registry");
        let market_addr = predict(&app, codes.market, b"task-market");
        let vault_addr = predict(&app, codes.vault, b"staking-vault");
        let verification_addr = predict(&app, codes.verification, b"verification");

        let denoms = vec![
            STAKE_DENOM.to_string(),
            PAY_DENOM.to_string(),
            IBC_DENOM.to_string(),
        ];
        let vault = deploy(
            &mut app,
            &owner,
            codes.vault,
            "staking-vault",
            &vault::InstantiateMsg {
                owner: None,
                stake_denom: STAKE_DENOM.into(),
                unbonding_period_seconds: self.unbonding_period_seconds,
                max_claims_per_address: self.max_claims_per_address,
                market: market_addr.to_string(),
                verification: verification_addr.to_string(),
            },
        );
        let registry = deploy(
            &mut app,
            &owner,
            codes.registry,
            "registry",
            &registry::InstantiateMsg {
                owner: None,
                vault: vault_addr.to_string(),
                market: market_addr.to_string(),
                min_bond: self.min_bond,
            },
        );
        let verification = deploy(
            &mut app,
            &owner,
            codes.verification,
            "verification",
            &verification::InstantiateMsg {
                owner: None,
                market: market_addr.to_string(),
                vault: vault_addr.to_string(),
            },
        );
        let market = deploy(
            &mut app,
            &owner,
            codes.market,
            "task-market",
            &market::InstantiateMsg {
                owner: None,
                registry: registry_addr.to_string(),
                vault: vault_addr.to_string(),
                verification: verification_addr.to_string(),
                allowed_denoms: denoms.clone(),
                fee_bps: self.fee_bps,
                fee_collector: Some(fee_collector.to_string()),
                params: self.params,
                ibc: self.ibc,
                retention_blocks: self.retention_blocks,
            },
        );
        assert_eq!(
            (&registry, &market, &vault, &verification),
            (
                &registry_addr,
                &market_addr,
                &vault_addr,
                &verification_addr
            ),
            "instantiate2 addresses differ from the predicted ones"
        );
        // Gas money for the owner; other accounts are funded by the tests that use them.
        app.init_modules(|router, _, storage| {
            router
                .bank
                .init_balance(storage, &owner, vec![coin(1_000_000, STAKE_DENOM)])
        })
        .unwrap();

        Suite {
            app,
            owner,
            fee_collector,
            registry,
            market,
            vault,
            verification,
            denoms,
            stakers: vec![],
        }
    }
}

struct Codes {
    registry: u64,
    market: u64,
    vault: u64,
    verification: u64,
}

impl Codes {
    fn store(app: &mut SuiteApp) -> Self {
        use opengpu_registry::contract as reg;
        use opengpu_staking_vault::contract as vlt;
        use opengpu_task_market::contract as mkt;
        use opengpu_verification::contract as ver;
        Codes {
            registry: app.store_code(Box::new(
                ContractWrapper::new(reg::execute, reg::instantiate, reg::query)
                    .with_migrate(reg::migrate),
            )),
            market: app.store_code(Box::new(
                ContractWrapper::new(mkt::execute, mkt::instantiate, mkt::query)
                    .with_migrate(mkt::migrate)
                    .with_reply(mkt::reply)
                    .with_sudo(crate::market_sudo),
            )),
            vault: app.store_code(Box::new(
                ContractWrapper::new(vlt::execute, vlt::instantiate, vlt::query)
                    .with_migrate(vlt::migrate),
            )),
            verification: app.store_code(Box::new(
                ContractWrapper::new(ver::execute, ver::instantiate, ver::query)
                    .with_migrate(ver::migrate),
            )),
        }
    }
}

fn deploy<M: serde::Serialize>(
    app: &mut SuiteApp,
    owner: &Addr,
    code_id: u64,
    salt: &str,
    msg: &M,
) -> Addr {
    app.instantiate2_contract(
        code_id,
        owner.clone(),
        msg,
        &[],
        salt,
        Some(owner.to_string()),
        Binary::from(salt.as_bytes()),
    )
    .unwrap_or_else(|e| panic!("instantiate {salt}: {e:?}"))
}
