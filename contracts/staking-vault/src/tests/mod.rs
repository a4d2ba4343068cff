//! Unit tests against mock dependencies. `Harness` keeps a model of the vault's bank balance
//! (funds in minus `BankMsg::Send` out) so every test can check the money invariants, and
//! checks that every rejected message leaves storage untouched.

mod collateral;
mod config;
mod queries;
mod slash;
mod staking;

use cosmwasm_std::testing::{
    message_info, mock_dependencies, mock_env, MockApi, MockQuerier, MockStorage,
};
use cosmwasm_std::{
    coin, from_json, Addr, BankMsg, Coin, CosmosMsg, Env, Order, OwnedDeps, Record, Response,
    Uint128,
};
use opengpu_types::vault::{
    ExecuteMsg, InstantiateMsg, LocksResponse, QueryMsg, StakeResponse, TotalsResponse,
};
use opengpu_types::TaskId;

use crate::contract::{execute, instantiate, query};
use crate::ContractError;

pub const DENOM: &str = "ugpu";
pub const PERIOD: u64 = 1_000;
pub const MAX_CLAIMS: u32 = 3;

pub struct Harness {
    pub deps: OwnedDeps<MockStorage, MockApi, MockQuerier>,
    pub env: Env,
    pub owner: Addr,
    pub market: Addr,
    pub verification: Addr,
    /// Model of the vault's bank balance in `DENOM`.
    pub balance: Uint128,
    /// Every address that ever staked, for the per-staker invariant checks.
    stakers: Vec<Addr>,
}

pub fn default_msg(h: &Harness) -> InstantiateMsg {
    InstantiateMsg {
        owner: Some(h.owner.to_string()),
        stake_denom: DENOM.to_string(),
        unbonding_period_seconds: PERIOD,
        max_claims_per_address: MAX_CLAIMS,
        market: h.market.to_string(),
        verification: h.verification.to_string(),
    }
}

impl Harness {
    /// Addresses only; the contract is not instantiated yet.
    pub fn bare() -> Self {
        let deps = mock_dependencies();
        Harness {
            owner: deps.api.addr_make("owner"),
            market: deps.api.addr_make("market"),
            verification: deps.api.addr_make("verification"),
            deps,
            env: mock_env(),
            balance: Uint128::zero(),
            stakers: vec![],
        }
    }

    pub fn new() -> Self {
        let mut h = Self::bare();
        let msg = default_msg(&h);
        let creator = h.addr("creator");
        h.instantiate(&creator, msg).unwrap();
        h
    }

    pub fn addr(&self, name: &str) -> Addr {
        self.deps.api.addr_make(name)
    }

    pub fn instantiate(
        &mut self,
        sender: &Addr,
        msg: InstantiateMsg,
    ) -> Result<Response, ContractError> {
        instantiate(
            self.deps.as_mut(),
            self.env.clone(),
            message_info(sender, &[]),
            msg,
        )
    }

    /// Runs a message and applies its effect on the vault's balance model.
    pub fn exec_funds(
        &mut self,
        sender: &Addr,
        msg: ExecuteMsg,
        funds: &[Coin],
    ) -> Result<Response, ContractError> {
        let res = execute(
            self.deps.as_mut(),
            self.env.clone(),
            message_info(sender, funds),
            msg,
        )?;
        for c in funds.iter().filter(|c| c.denom == DENOM) {
            self.balance += Uint128::try_from(c.amount).unwrap();
        }
        for (_, amount) in bank_sends(&res) {
            self.balance -= amount;
        }
        if !self.stakers.contains(sender) {
            self.stakers.push(sender.clone());
        }
        Ok(res)
    }

    pub fn exec(&mut self, sender: &Addr, msg: ExecuteMsg) -> Result<Response, ContractError> {
        self.exec_funds(sender, msg, &[])
    }

    /// Runs a message that must fail; asserts storage and the balance model are unchanged.
    #[track_caller]
    pub fn exec_err_funds(
        &mut self,
        sender: &Addr,
        msg: ExecuteMsg,
        funds: &[Coin],
    ) -> ContractError {
        let before = self.dump();
        let balance = self.balance;
        let err = self
            .exec_funds(sender, msg, funds)
            .expect_err("message should fail");
        assert_eq!(self.dump(), before, "a failed message changed storage");
        assert_eq!(self.balance, balance);
        err
    }

    #[track_caller]
    pub fn exec_err(&mut self, sender: &Addr, msg: ExecuteMsg) -> ContractError {
        self.exec_err_funds(sender, msg, &[])
    }

    pub fn bond(&mut self, staker: &Addr, amount: u128) -> Response {
        self.exec_funds(staker, ExecuteMsg::Bond {}, &[coin(amount, DENOM)])
            .unwrap()
    }

    pub fn unbond(&mut self, staker: &Addr, amount: u128) -> Result<Response, ContractError> {
        self.exec(
            staker,
            ExecuteMsg::Unbond {
                amount: Uint128::new(amount),
            },
        )
    }

    pub fn lock(
        &mut self,
        provider: &Addr,
        task_id: TaskId,
        amount: u128,
    ) -> Result<Response, ContractError> {
        let market = self.market.clone();
        self.exec(&market, lock_msg(provider, task_id, amount))
    }

    pub fn slash(
        &mut self,
        provider: &Addr,
        task_id: TaskId,
        amount: u128,
        beneficiary: &Addr,
    ) -> Result<Response, ContractError> {
        let market = self.market.clone();
        self.exec(&market, slash_msg(provider, task_id, amount, beneficiary))
    }

    pub fn advance(&mut self, seconds: u64) {
        self.env.block.time = self.env.block.time.plus_seconds(seconds);
        self.env.block.height += seconds / 5;
    }

    pub fn query<T: serde::de::DeserializeOwned>(&self, msg: QueryMsg) -> T {
        from_json(query(self.deps.as_ref(), self.env.clone(), msg).unwrap()).unwrap()
    }

    pub fn stake(&self, addr: &Addr) -> StakeResponse {
        self.query(QueryMsg::Stake {
            address: addr.to_string(),
        })
    }

    pub fn totals(&self) -> TotalsResponse {
        self.query(QueryMsg::Totals {})
    }

    /// Every storage record, to prove a failed message wrote nothing.
    fn dump(&self) -> Vec<Record> {
        use cosmwasm_std::Storage;
        self.deps
            .storage
            .range(None, None, Order::Ascending)
            .collect()
    }

    /// Vault balance == bonded + unbonding; locked <= bonded per staker and in total; the
    /// totals equal the sums over stakers; a staker's locks sum to its locked stake.
    #[track_caller]
    pub fn assert_invariants(&self) {
        let totals = self.totals();
        assert_eq!(totals.bonded + totals.unbonding, self.balance, "balance");
        assert!(totals.locked <= totals.bonded, "total locked > bonded");
        let (mut bonded, mut locked, mut unbonding) =
            (Uint128::zero(), Uint128::zero(), Uint128::zero());
        for staker in &self.stakers {
            let s = self.stake(staker);
            assert!(s.locked <= s.bonded, "{staker}: locked > bonded");
            assert_eq!(s.free, s.bonded - s.locked);
            let claims: Uint128 = s.claims.iter().map(|c| c.amount).sum();
            assert_eq!(s.unbonding, claims);
            let locks: LocksResponse = self.query(QueryMsg::Locks {
                provider: staker.to_string(),
                start_after: None,
                limit: Some(30),
            });
            let lock_sum: Uint128 = locks.locks.iter().map(|l| l.amount).sum();
            assert_eq!(lock_sum, s.locked, "{staker}: locks != locked");
            bonded += s.bonded;
            locked += s.locked;
            unbonding += s.unbonding;
        }
        assert_eq!(
            (bonded, locked, unbonding),
            (totals.bonded, totals.locked, totals.unbonding),
            "totals != sums over stakers"
        );
    }
}

pub fn lock_msg(provider: &Addr, task_id: TaskId, amount: u128) -> ExecuteMsg {
    ExecuteMsg::Lock {
        provider: provider.to_string(),
        task_id,
        amount: Uint128::new(amount),
    }
}

pub fn unlock_msg(provider: &Addr, task_id: TaskId) -> ExecuteMsg {
    ExecuteMsg::Unlock {
        provider: provider.to_string(),
        task_id,
    }
}

pub fn slash_msg(provider: &Addr, task_id: TaskId, amount: u128, beneficiary: &Addr) -> ExecuteMsg {
    ExecuteMsg::Slash {
        provider: provider.to_string(),
        task_id,
        amount: Uint128::new(amount),
        beneficiary: beneficiary.to_string(),
    }
}

/// (recipient, amount in DENOM) of every bank send in the response.
pub fn bank_sends(res: &Response) -> Vec<(String, Uint128)> {
    res.messages
        .iter()
        .filter_map(|m| match &m.msg {
            CosmosMsg::Bank(BankMsg::Send { to_address, amount }) => Some((to_address, amount)),
            _ => None,
        })
        .map(|(to, amount)| {
            assert_eq!(amount.len(), 1, "one coin per send");
            assert_eq!(amount[0].denom, DENOM);
            (to.clone(), Uint128::try_from(amount[0].amount).unwrap())
        })
        .collect()
}

/// The value of `key` in the event of type `ty`.
#[track_caller]
pub fn event_attr(res: &Response, ty: &str, key: &str) -> String {
    let event = res
        .events
        .iter()
        .find(|e| e.ty == ty)
        .unwrap_or_else(|| panic!("no {ty} event"));
    event
        .attributes
        .iter()
        .find(|a| a.key == key)
        .unwrap_or_else(|| panic!("{ty} has no {key}"))
        .value
        .clone()
}

#[track_caller]
pub fn assert_action(res: &Response, action: &str) {
    let first = res.attributes.first().expect("no attributes");
    assert_eq!(
        (first.key.as_str(), first.value.as_str()),
        ("action", action)
    );
}

#[track_caller]
pub fn assert_unauthorized(err: ContractError, sender: &Addr) {
    assert!(
        matches!(&err, ContractError::Unauthorized { sender: s, .. } if s == sender),
        "expected Unauthorized for {sender}, got {err:?}"
    );
}
