//! Amounts and small helpers the attack tests share.

use cosmwasm_std::{coins, Addr, Binary};
use cw_multi_test::AppResponse;
use opengpu_testing::{default_profile, Suite, MATMUL_N, STAKE_DENOM};
use opengpu_types::events::ContractEvent;
use opengpu_types::market::CommitmentState;
use opengpu_types::registry::{self, Reputation};
use opengpu_types::TaskId;

/// Stake every provider bonds.
pub const BOND: u128 = 5_000;
/// What `client_with_funds` gives a client of every denom (the stake denom included).
pub const FUNDS: u128 = 10_000;
/// `TaskSpec`'s default budget (in `PAY_DENOM`) and collateral (stake denom).
pub const BUDGET: u128 = 1_000;
pub const COLLATERAL: u128 = 100;
/// The suite's 1% fee on the default budget, and what the winner keeps.
pub const FEE: u128 = 10;
pub const PAID: u128 = BUDGET - FEE;

/// The first event of type `E` in a response.
pub fn event<E: ContractEvent>(response: &AppResponse) -> Option<E> {
    events(response).into_iter().next()
}

pub fn events<E: ContractEvent>(response: &AppResponse) -> Vec<E> {
    response
        .events
        .iter()
        .filter(|e| e.ty == E::chain_type())
        .map(|e| {
            let attrs = e
                .attributes
                .iter()
                .map(|a| (a.key.as_str(), a.value.as_str()));
            E::from_attributes(attrs).expect("a well-formed event")
        })
        .collect()
}

/// Right-sized bytes that took no work: what a provider that runs nothing reveals.
pub fn placeholder(len: usize) -> Vec<Binary> {
    vec![Binary::from(vec![0u8; len])]
}

/// A placeholder the size of `matmul_kernel`'s product.
pub fn zero_matrix() -> Vec<Binary> {
    placeholder(4 * (MATMUL_N * MATMUL_N) as usize)
}

/// A client (funded like `client_with_funds`) that also bonds and registers as a provider.
pub fn client_and_provider(suite: &mut Suite, name: &str) -> Addr {
    let client = suite.client_with_funds(name, FUNDS);
    suite.fund(&client, coins(BOND, STAKE_DENOM));
    suite.bond(&client, BOND).unwrap();
    suite.register(&client).unwrap();
    client
}

/// Replaces the provider's profile with one paying `payout` (itself when `None`).
pub fn set_payout(suite: &mut Suite, provider: &Addr, payout: Option<&Addr>) {
    let mut profile = default_profile("payout-changer");
    profile.payout_addr = payout.map(Addr::to_string);
    suite
        .execute_registry(provider, &registry::ExecuteMsg::Update { profile })
        .unwrap();
}

/// Sends to `addr` work again after `refuse_payments_to`.
pub fn accept_payments_to(suite: &mut Suite, addr: &Addr) {
    suite
        .app
        .init_modules(|router, _, storage| router.bank.accept(storage, addr));
}

pub fn bonded(suite: &Suite, staker: &Addr) -> u128 {
    suite.stake(staker).bonded.u128()
}

pub fn locked(suite: &Suite, staker: &Addr) -> u128 {
    suite.stake(staker).locked.u128()
}

pub fn reputation(suite: &Suite, provider: &Addr) -> Reputation {
    suite.provider(provider).provider.reputation
}

/// The state of `provider`'s commitment on a task.
#[track_caller]
pub fn state_of(suite: &Suite, id: TaskId, provider: &Addr) -> CommitmentState {
    suite
        .commitments(id)
        .into_iter()
        .find(|c| c.provider == *provider)
        .unwrap_or_else(|| panic!("{provider} has no commitment on task {id}"))
        .state
}

/// Asserts `provider`'s stake is exactly what it bonded, nothing locked: whole.
#[track_caller]
pub fn assert_stake_whole(suite: &Suite, provider: &Addr, bond: u128) {
    let stake = suite.stake(provider);
    assert_eq!(
        (
            stake.bonded.u128(),
            stake.locked.u128(),
            stake.unbonding.u128()
        ),
        (bond, 0, 0),
        "{provider}'s stake (bonded, locked, unbonding) is not whole"
    );
}
