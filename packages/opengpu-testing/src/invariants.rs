//! The money invariants of ARCHITECTURE.md, checked against real bank balances.

use cosmwasm_std::Uint128;
use opengpu_types::market::{self, TaskInfo, TaskStatus, TasksResponse};
use opengpu_types::vault::{self, TotalsResponse};

use crate::builder::STAKE_DENOM;
use crate::Suite;

impl Suite {
    /// Tasks with a given status, every page.
    pub fn tasks_with_status(&self, status: TaskStatus) -> Vec<TaskInfo> {
        let mut all = vec![];
        let mut start_after = None;
        loop {
            let page: TasksResponse = self
                .app
                .wrap()
                .query_wasm_smart(
                    &self.market,
                    &market::QueryMsg::Tasks {
                        filter: Some(market::TaskFilter {
                            status: Some(status),
                            client: None,
                        }),
                        start_after,
                        limit: Some(30),
                    },
                )
                .unwrap();
            let Some(last) = page.tasks.last() else {
                return all;
            };
            start_after = Some(last.id);
            all.extend(page.tasks);
        }
    }

    pub fn vault_totals(&self) -> TotalsResponse {
        self.app
            .wrap()
            .query_wasm_smart(&self.vault, &vault::QueryMsg::Totals {})
            .unwrap()
    }

    /// Panics, naming the broken rule, unless:
    /// - for each payment denom, the market holds exactly the budgets of its unfinished tasks
    ///   plus the claims it owes (payments the bank refused), plus, in the stake denom, the
    ///   collateral unfinished auctions hold from winners that failed;
    /// - the vault holds exactly bonded + unbonding stake, the totals equal the sums over
    ///   stakers, and nobody has more locked than bonded.
    #[track_caller]
    pub fn assert_money_invariants(&self) {
        let unfinished: Vec<TaskInfo> = [TaskStatus::Open, TaskStatus::Committed]
            .into_iter()
            .flat_map(|status| self.tasks_with_status(status))
            .collect();
        let claims: market::ClaimsResponse = self
            .app
            .wrap()
            .query_wasm_smart(&self.market, &market::QueryMsg::ClaimTotals {})
            .unwrap();
        for denom in &self.denoms {
            let escrowed: u128 = unfinished
                .iter()
                .filter(|t| &t.denom == denom)
                .map(|t| t.budget.u128())
                .sum();
            let owed = claims
                .claims
                .iter()
                .find(|c| &c.denom == denom)
                .map_or(0, |c| Uint128::try_from(c.amount).unwrap().u128());
            let held: u128 = if denom == STAKE_DENOM {
                unfinished
                    .iter()
                    .filter_map(|t| t.auction.as_ref())
                    .map(|a| a.held.u128())
                    .sum()
            } else {
                0
            };
            assert_eq!(
                self.balance(&self.market, denom),
                escrowed + owed + held,
                "market balance of {denom} differs from the escrow of unfinished tasks ({escrowed}) plus claims ({owed}) plus held collateral ({held})"
            );
        }

        let totals = self.vault_totals();
        assert_eq!(
            self.balance(&self.vault, STAKE_DENOM),
            (totals.bonded + totals.unbonding).u128(),
            "vault balance differs from bonded + unbonding"
        );
        assert!(
            totals.locked <= totals.bonded,
            "locked exceeds bonded in total"
        );
        let (mut bonded, mut locked, mut unbonding) = (0u128, 0u128, 0u128);
        for staker in &self.stakers {
            let stake = self.stake(staker);
            assert!(
                stake.locked <= stake.bonded,
                "{staker} has {} locked but only {} bonded",
                stake.locked,
                stake.bonded
            );
            bonded += stake.bonded.u128();
            locked += stake.locked.u128();
            unbonding += stake.unbonding.u128();
        }
        assert_eq!(
            (bonded, locked, unbonding),
            (
                totals.bonded.u128(),
                totals.locked.u128(),
                totals.unbonding.u128()
            ),
            "vault totals differ from the sums over stakers (bonded, locked, unbonding)"
        );
    }
}
