//! A bank that refuses to send to chosen addresses, as wasmd's bank refuses sends to module
//! accounts: what an attacker uses to make a payment fail (a payout address set to one).
//! Everything else is multi-test's `BankKeeper`.

use cosmwasm_std::{
    Addr, Api, BankMsg, BankQuery, Binary, BlockInfo, Coin, CustomMsg, CustomQuery, Querier,
    StdError, StdResult, Storage,
};
use cw_multi_test::{AppResponse, Bank, BankKeeper, BankSudo, CosmosRouter, Module};
use serde::de::DeserializeOwned;

/// Storage key prefix of the refused addresses (in the bank module's own storage).
const REFUSED: &[u8] = b"refused/";

#[derive(Default)]
pub struct RefusingBank {
    inner: BankKeeper,
}

impl RefusingBank {
    /// From now on, every send to `addr` fails, like a send to a blocked module account.
    pub fn refuse(&self, storage: &mut dyn Storage, addr: &Addr) {
        storage.set(&key(addr), &[1]);
    }

    /// Sends to `addr` work again.
    pub fn accept(&self, storage: &mut dyn Storage, addr: &Addr) {
        storage.remove(&key(addr));
    }

    pub fn init_balance(
        &mut self,
        storage: &mut dyn Storage,
        account: &Addr,
        amount: Vec<Coin>,
    ) -> StdResult<()> {
        self.inner.init_balance(storage, account, amount)
    }
}

fn key(addr: &Addr) -> Vec<u8> {
    [REFUSED, addr.as_bytes()].concat()
}

impl Bank for RefusingBank {}

impl Module for RefusingBank {
    type ExecT = BankMsg;
    type QueryT = BankQuery;
    type SudoT = BankSudo;

    fn execute<ExecC, QueryC>(
        &self,
        api: &dyn Api,
        storage: &mut dyn Storage,
        router: &dyn CosmosRouter<ExecC = ExecC, QueryC = QueryC>,
        block: &BlockInfo,
        sender: Addr,
        msg: BankMsg,
    ) -> StdResult<AppResponse>
    where
        ExecC: CustomMsg + DeserializeOwned + 'static,
        QueryC: CustomQuery + DeserializeOwned + 'static,
    {
        if let BankMsg::Send { to_address, .. } = &msg {
            if storage.get(&key(&Addr::unchecked(to_address))).is_some() {
                return Err(StdError::msg(format!(
                    "{to_address} is not allowed to receive funds"
                )));
            }
        }
        self.inner.execute(api, storage, router, block, sender, msg)
    }

    fn query(
        &self,
        api: &dyn Api,
        storage: &dyn Storage,
        querier: &dyn Querier,
        block: &BlockInfo,
        request: BankQuery,
    ) -> StdResult<Binary> {
        self.inner.query(api, storage, querier, block, request)
    }

    fn sudo<ExecC, QueryC>(
        &self,
        api: &dyn Api,
        storage: &mut dyn Storage,
        router: &dyn CosmosRouter<ExecC = ExecC, QueryC = QueryC>,
        block: &BlockInfo,
        msg: BankSudo,
    ) -> StdResult<AppResponse>
    where
        ExecC: CustomMsg + DeserializeOwned + 'static,
        QueryC: CustomQuery + DeserializeOwned + 'static,
    {
        self.inner.sudo(api, storage, router, block, msg)
    }
}
