//! One helper per message of a task's life, plus queries and chain time.

use cosmwasm_std::{coins, Addr, Binary, Coin, HexBinary, StdResult, Uint128};
use cw_multi_test::{AppResponse, BankSudo, Executor};
use opengpu_types::commitment::{commitment, outputs_digest};
use opengpu_types::events::{ContractEvent, TaskPublished};
use opengpu_types::market::{
    self, CommitmentInfo, CommitmentsResponse, Offer, OffersResponse, ResultResponse, TaskInfo,
    TaskResponse,
};
use opengpu_types::registry::{self, ProviderProfile, ProviderResponse};
use opengpu_types::vault::{self, StakeResponse};
use opengpu_types::TaskId;

use crate::builder::STAKE_DENOM;
use crate::fixtures::{default_profile, TaskSpec, SALT};
use crate::Suite;

impl Suite {
    // ---- bank and time ----

    /// Mints coins to an address.
    pub fn fund(&mut self, to: &Addr, amount: Vec<Coin>) {
        self.app
            .sudo(
                BankSudo::Mint {
                    to_address: to.to_string(),
                    amount,
                }
                .into(),
            )
            .unwrap();
    }

    pub fn balance(&self, addr: &Addr, denom: &str) -> u128 {
        let amount = self.app.wrap().query_balance(addr, denom).unwrap().amount;
        Uint128::try_from(amount).unwrap().u128()
    }

    /// Moves the chain `blocks` blocks (5 s each) forward.
    pub fn advance_blocks(&mut self, blocks: u64) {
        self.app.update_block(|block| {
            block.height += blocks;
            block.time = block.time.plus_seconds(5 * blocks);
        });
    }

    pub fn advance_seconds(&mut self, seconds: u64) {
        self.app.update_block(|block| {
            block.height += 1;
            block.time = block.time.plus_seconds(seconds);
        });
    }

    pub fn height(&self) -> u64 {
        self.app.block_info().height
    }

    // ---- vault ----

    pub fn bond(&mut self, staker: &Addr, amount: u128) -> StdResult<AppResponse> {
        if !self.stakers.contains(staker) {
            self.stakers.push(staker.clone());
        }
        self.app.execute_contract(
            staker.clone(),
            self.vault.clone(),
            &vault::ExecuteMsg::Bond {},
            &coins(amount, STAKE_DENOM),
        )
    }

    pub fn unbond(&mut self, staker: &Addr, amount: u128) -> StdResult<AppResponse> {
        self.execute_vault(
            staker,
            &vault::ExecuteMsg::Unbond {
                amount: Uint128::new(amount),
            },
        )
    }

    pub fn claim(&mut self, staker: &Addr) -> StdResult<AppResponse> {
        self.execute_vault(staker, &vault::ExecuteMsg::Claim {})
    }

    pub fn execute_vault(
        &mut self,
        sender: &Addr,
        msg: &vault::ExecuteMsg,
    ) -> StdResult<AppResponse> {
        self.app
            .execute_contract(sender.clone(), self.vault.clone(), msg, &[])
    }

    pub fn stake(&self, staker: &Addr) -> StakeResponse {
        self.app
            .wrap()
            .query_wasm_smart(
                &self.vault,
                &vault::QueryMsg::Stake {
                    address: staker.to_string(),
                },
            )
            .unwrap()
    }

    // ---- registry ----

    pub fn register(&mut self, provider: &Addr) -> StdResult<AppResponse> {
        let profile = default_profile(&provider.as_str()[..12]);
        self.register_with(provider, profile)
    }

    pub fn register_with(
        &mut self,
        provider: &Addr,
        profile: ProviderProfile,
    ) -> StdResult<AppResponse> {
        self.execute_registry(provider, &registry::ExecuteMsg::Register { profile })
    }

    pub fn execute_registry(
        &mut self,
        sender: &Addr,
        msg: &registry::ExecuteMsg,
    ) -> StdResult<AppResponse> {
        self.app
            .execute_contract(sender.clone(), self.registry.clone(), msg, &[])
    }

    pub fn provider(&self, provider: &Addr) -> ProviderResponse {
        self.app
            .wrap()
            .query_wasm_smart(
                &self.registry,
                &registry::QueryMsg::Provider {
                    address: provider.to_string(),
                },
            )
            .unwrap()
    }

    /// A funded, bonded, registered provider named `name`, with `bond` stake bonded.
    pub fn provider_with_bond(&mut self, name: &str, bond: u128) -> Addr {
        let provider = self.addr(name);
        self.fund(&provider, coins(bond, STAKE_DENOM));
        self.bond(&provider, bond).unwrap();
        self.register(&provider).unwrap();
        provider
    }

    /// A funded client named `name` holding `amount` of every payment denom.
    pub fn client_with_funds(&mut self, name: &str, amount: u128) -> Addr {
        let client = self.addr(name);
        let funds = self
            .denoms
            .iter()
            .map(|d| Coin::new(amount, d.as_str()))
            .collect();
        self.fund(&client, funds);
        client
    }

    // ---- market ----

    pub fn execute_market(
        &mut self,
        sender: &Addr,
        msg: &market::ExecuteMsg,
        funds: &[Coin],
    ) -> StdResult<AppResponse> {
        self.app
            .execute_contract(sender.clone(), self.market.clone(), msg, funds)
    }

    /// Publishes a task and returns its id, read from the `task_published` event.
    pub fn publish(&mut self, client: &Addr, spec: TaskSpec) -> StdResult<TaskId> {
        let funds: Vec<Coin> = spec.budget.clone().into_iter().collect();
        let msg = market::ExecuteMsg::PublishTask {
            kernel: spec.kernel,
            requirements: spec.requirements,
            collateral: spec.collateral,
            deadline_blocks: spec.deadline_blocks,
            verification: spec.verification,
            model: spec.model,
        };
        let response = self.execute_market(client, &msg, &funds)?;
        let event = response
            .events
            .iter()
            .find(|e| e.ty == TaskPublished::chain_type())
            .expect("publish emits task_published");
        let attrs = event
            .attributes
            .iter()
            .map(|a| (a.key.as_str(), a.value.as_str()));
        Ok(TaskPublished::from_attributes(attrs)?.task_id)
    }

    /// The commitment `provider` makes to `outputs` at `price` with `salt`.
    pub fn commitment_for(
        provider: &Addr,
        task_id: TaskId,
        outputs: &[Binary],
        price: Option<u128>,
        salt: &[u8],
    ) -> HexBinary {
        let digest = outputs_digest(outputs);
        let price = price.map(Uint128::new);
        HexBinary::from(commitment(task_id, provider.as_str(), &digest, price, salt))
    }

    /// Commits to `outputs` (no price) with the suite's `SALT`.
    pub fn commit(
        &mut self,
        provider: &Addr,
        task_id: TaskId,
        outputs: &[Binary],
    ) -> StdResult<AppResponse> {
        self.commit_offer(provider, task_id, outputs, None)
    }

    /// Commits to `outputs` at `price` (a sealed Manual Confirmation offer) with `SALT`.
    pub fn commit_offer(
        &mut self,
        provider: &Addr,
        task_id: TaskId,
        outputs: &[Binary],
        price: Option<u128>,
    ) -> StdResult<AppResponse> {
        let commitment = Self::commitment_for(provider, task_id, outputs, price, &SALT);
        self.execute_market(
            provider,
            &market::ExecuteMsg::Commit {
                task_id,
                commitment,
            },
            &[],
        )
    }

    /// Reveals `outputs` with the suite's `SALT`.
    pub fn reveal(
        &mut self,
        provider: &Addr,
        task_id: TaskId,
        outputs: &[Binary],
        price: Option<u128>,
    ) -> StdResult<AppResponse> {
        self.reveal_with_salt(provider, task_id, outputs, &SALT, price)
    }

    pub fn reveal_with_salt(
        &mut self,
        provider: &Addr,
        task_id: TaskId,
        outputs: &[Binary],
        salt: &[u8],
        price: Option<u128>,
    ) -> StdResult<AppResponse> {
        let msg = market::ExecuteMsg::Reveal {
            task_id,
            outputs: outputs.to_vec(),
            salt: HexBinary::from(salt),
            price: price.map(Uint128::new),
        };
        self.execute_market(provider, &msg, &[])
    }

    /// Commit, wait until the reveal may come (a block under First Response; past the commit
    /// deadline in sealed models), reveal.
    pub fn commit_and_reveal(
        &mut self,
        provider: &Addr,
        task_id: TaskId,
        outputs: &[Binary],
        price: Option<u128>,
    ) -> StdResult<AppResponse> {
        self.commit_offer(provider, task_id, outputs, price)?;
        self.advance_blocks(1);
        if self.task(task_id).model.is_sealed() {
            self.close_commits(task_id);
        }
        self.reveal(provider, task_id, outputs, price)
    }

    /// Moves the chain to the first height after the task's commit deadline, where sealed
    /// reveals open.
    pub fn close_commits(&mut self, task_id: TaskId) {
        let deadline = self.task(task_id).deadline_height;
        let height = self.height();
        if height <= deadline {
            self.advance_blocks(deadline + 1 - height);
        }
    }

    /// Makes the bank refuse every send to `addr` (as wasmd refuses module accounts).
    pub fn refuse_payments_to(&mut self, addr: &Addr) {
        self.app
            .init_modules(|router, _, storage| router.bank.refuse(storage, addr));
    }

    pub fn withdraw_claim(
        &mut self,
        sender: &Addr,
        denom: &str,
        recipient: Option<&Addr>,
    ) -> StdResult<AppResponse> {
        let msg = market::ExecuteMsg::WithdrawClaim {
            denom: denom.into(),
            recipient: recipient.map(Addr::to_string),
        };
        self.execute_market(sender, &msg, &[])
    }

    /// What the market owes `addr` in `denom` (payments the bank refused).
    pub fn claim_of(&self, addr: &Addr, denom: &str) -> u128 {
        let response: market::ClaimsResponse = self
            .app
            .wrap()
            .query_wasm_smart(
                &self.market,
                &market::QueryMsg::Claims {
                    address: addr.to_string(),
                },
            )
            .unwrap();
        response
            .claims
            .iter()
            .find(|c| c.denom == denom)
            .map_or(0, |c| Uint128::try_from(c.amount).unwrap().u128())
    }

    pub fn confirm(
        &mut self,
        client: &Addr,
        task_id: TaskId,
        provider: &Addr,
    ) -> StdResult<AppResponse> {
        let msg = market::ExecuteMsg::Confirm {
            task_id,
            provider: provider.to_string(),
        };
        self.execute_market(client, &msg, &[])
    }

    pub fn finalize(&mut self, sender: &Addr, task_id: TaskId) -> StdResult<AppResponse> {
        self.execute_market(sender, &market::ExecuteMsg::Finalize { task_id }, &[])
    }

    pub fn cancel(&mut self, client: &Addr, task_id: TaskId) -> StdResult<AppResponse> {
        self.execute_market(client, &market::ExecuteMsg::Cancel { task_id }, &[])
    }

    pub fn expire(&mut self, sender: &Addr, task_id: TaskId) -> StdResult<AppResponse> {
        self.execute_market(sender, &market::ExecuteMsg::Expire { task_id }, &[])
    }

    pub fn task(&self, task_id: TaskId) -> TaskInfo {
        let response: TaskResponse = self
            .app
            .wrap()
            .query_wasm_smart(&self.market, &market::QueryMsg::Task { task_id })
            .unwrap();
        response.task
    }

    pub fn commitments(&self, task_id: TaskId) -> Vec<CommitmentInfo> {
        let response: CommitmentsResponse = self
            .app
            .wrap()
            .query_wasm_smart(
                &self.market,
                &market::QueryMsg::Commitments {
                    task_id,
                    start_after: None,
                    limit: Some(30),
                },
            )
            .unwrap();
        response.commitments
    }

    pub fn offers(&self, task_id: TaskId) -> Vec<Offer> {
        let response: OffersResponse = self
            .app
            .wrap()
            .query_wasm_smart(&self.market, &market::QueryMsg::Offers { task_id })
            .unwrap();
        response.offers
    }

    pub fn result(&self, task_id: TaskId, provider: Option<&Addr>) -> StdResult<ResultResponse> {
        self.app.wrap().query_wasm_smart(
            &self.market,
            &market::QueryMsg::Result {
                task_id,
                provider: provider.map(Addr::to_string),
            },
        )
    }
}
