//! A cw-multi-test `Suite` that deploys the four opengpu contracts wired together (each trusts
//! the others' addresses from instantiate on, through instantiate2's predictable addresses, as
//! the localnet deployment does), with helpers for every step of a task's life and a check of
//! the money invariants. Every contract's flow tests use it, and run the ownership and
//! migration checks the four contracts share (`ownership`, `ownership_tests!`).

mod auction_steps;
mod bank;
mod builder;
mod fixtures;
mod ibc;
mod invariants;
pub mod ownership;
mod steps;

pub use bank::RefusingBank;
pub use builder::{SuiteBuilder, IBC_DENOM, PAY_DENOM, STAKE_DENOM};
pub use fixtures::{
    default_kernel, default_outputs, default_profile, matmul_kernel, matmul_outputs,
    matmul_outputs_off_by, matmul_policy, outputs, TaskSpec, MATMUL_N, SALT,
};
pub use ibc::{
    ics20_ack, market_sudo, FakeIbc, IbcCallback, SentTransfer, COUNTERPARTY_CHANNEL, IBC_CHANNEL,
};

use cosmwasm_std::{testing::MockStorage, Empty};
use cosmwasm_std::{Addr, StdResult};
use cw_multi_test::{
    App, DistributionKeeper, FailingModule, GovFailingModule, StakeKeeper, StargateFailing,
    WasmKeeper,
};

/// The suite's chain: multi-test with a bank that can be told to refuse payments and a test
/// double of ICS-20 ([`FakeIbc`]).
pub type SuiteApp = App<
    RefusingBank,
    cosmwasm_std::testing::MockApi,
    MockStorage,
    FailingModule<Empty, Empty, Empty>,
    WasmKeeper<Empty, Empty>,
    StakeKeeper,
    DistributionKeeper,
    FakeIbc,
    GovFailingModule,
    StargateFailing,
>;

/// Four contracts deployed and wired together on a multi-test chain.
pub struct Suite {
    pub app: SuiteApp,
    pub owner: Addr,
    pub fee_collector: Addr,
    pub registry: Addr,
    pub market: Addr,
    pub vault: Addr,
    pub verification: Addr,
    /// Payment denoms the market accepts.
    pub denoms: Vec<String>,
    /// Every address that has bonded through the suite: the invariant check visits them.
    pub stakers: Vec<Addr>,
}

impl Suite {
    /// A suite with the default configuration.
    pub fn new() -> Self {
        SuiteBuilder::new().build()
    }

    /// A valid address for a name.
    pub fn addr(&self, name: &str) -> Addr {
        self.app.api().addr_make(name)
    }
}

impl Default for Suite {
    fn default() -> Self {
        Self::new()
    }
}

/// Panics unless `result` failed with an error whose message contains `expected`'s message.
/// Multi-test carries a contract's error as its message, so tests compare the `Display` of the
/// exact `ContractError` they expect, values and all.
#[track_caller]
pub fn assert_error<T: std::fmt::Debug>(result: StdResult<T>, expected: impl std::fmt::Display) {
    let expected = expected.to_string();
    match result {
        Ok(value) => panic!("expected error {expected:?}, got success: {value:?}"),
        Err(err) => assert!(
            err.to_string().contains(&expected),
            "expected error {expected:?}, got {err}"
        ),
    }
}
