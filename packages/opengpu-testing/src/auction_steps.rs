//! Helpers for the auction's messages: sealed bids, bid reveals and `Advance`.

use cosmwasm_std::{Addr, HexBinary, StdResult, Uint128};
use cw_multi_test::AppResponse;
use opengpu_types::auction::{bid_commitment, BidInfo, BidsResponse};
use opengpu_types::market;
use opengpu_types::TaskId;

use crate::fixtures::SALT;
use crate::Suite;

impl Suite {
    /// The sealed bid `provider` places at `price` with the suite's `SALT`.
    pub fn bid_commitment_for(provider: &Addr, task_id: TaskId, price: u128) -> HexBinary {
        HexBinary::from(bid_commitment(
            task_id,
            provider.as_str(),
            Uint128::new(price),
            &SALT,
        ))
    }

    /// Places a sealed bid at `price` (salt `SALT`).
    pub fn bid(&mut self, provider: &Addr, task_id: TaskId, price: u128) -> StdResult<AppResponse> {
        let commitment = Self::bid_commitment_for(provider, task_id, price);
        self.execute_market(
            provider,
            &market::ExecuteMsg::Bid {
                task_id,
                commitment,
            },
            &[],
        )
    }

    /// Opens a bid placed with [`Suite::bid`].
    pub fn reveal_bid(
        &mut self,
        provider: &Addr,
        task_id: TaskId,
        price: u128,
    ) -> StdResult<AppResponse> {
        self.execute_market(
            provider,
            &market::ExecuteMsg::RevealBid {
                task_id,
                price: Uint128::new(price),
                salt: HexBinary::from(SALT.as_slice()),
            },
            &[],
        )
    }

    pub fn advance_auction(&mut self, sender: &Addr, task_id: TaskId) -> StdResult<AppResponse> {
        self.execute_market(sender, &market::ExecuteMsg::Advance { task_id }, &[])
    }

    /// Moves the chain to the first height after the bid deadline, where bid reveals open.
    pub fn close_bids(&mut self, task_id: TaskId) {
        self.close_commits(task_id);
    }

    /// Moves the chain past the bid-reveal phase.
    pub fn end_bid_reveals(&mut self, task_id: TaskId) {
        let end = self.task(task_id).bid_reveal_end();
        let height = self.height();
        if height <= end {
            self.advance_blocks(end + 1 - height);
        }
    }

    /// Moves the chain past the current awardee's execution window.
    pub fn end_execution(&mut self, task_id: TaskId) {
        let task = self.task(task_id);
        let award = task
            .auction
            .and_then(|a| a.award)
            .expect("the task has an award");
        let height = self.height();
        if height <= award.execute_deadline {
            self.advance_blocks(award.execute_deadline + 1 - height);
        }
    }

    /// Every bid of an auction in arrival order.
    pub fn bids(&self, task_id: TaskId) -> Vec<BidInfo> {
        let response: BidsResponse = self
            .app
            .wrap()
            .query_wasm_smart(
                &self.market,
                &market::QueryMsg::Bids {
                    task_id,
                    start_after: None,
                    limit: Some(100),
                },
            )
            .expect("bids query");
        response.bids
    }
}
