//! Typed queries of the four opengpu contracts.

use opengpu_types::auction::{BidInfo, BidsResponse};
use opengpu_types::market::{
    self, ClaimsResponse, CommitmentInfo, CommitmentsResponse, MarketConfig, OffersResponse,
    PendingTransfer, PendingTransfersResponse, RemoteClaim, RemoteClaimsResponse, ResultResponse,
    TaskFilter, TaskInfo, TaskResponse, TasksResponse,
};
use opengpu_types::pagination::MAX_LIMIT;
use opengpu_types::registry::{
    self, ProviderFilter, ProviderResponse, ProvidersResponse, RegistryConfig,
};
use opengpu_types::vault::{self, StakeResponse, VaultConfig};
use opengpu_types::TaskId;

use crate::chain::ChainClient;
use crate::deployment::Deployment;
use crate::error::Result;

/// Addresses of the four contracts.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ContractAddrs {
    pub registry: String,
    pub task_market: String,
    pub staking_vault: String,
    pub verification: String,
}

impl From<&Deployment> for ContractAddrs {
    fn from(d: &Deployment) -> Self {
        ContractAddrs {
            registry: d.contracts.registry.address.clone(),
            task_market: d.contracts.task_market.address.clone(),
            staking_vault: d.contracts.staking_vault.address.clone(),
            verification: d.contracts.verification.address.clone(),
        }
    }
}

/// Read access to a deployment's contracts.
pub struct Opengpu<'a> {
    pub chain: &'a ChainClient,
    pub contracts: &'a ContractAddrs,
}

impl<'a> Opengpu<'a> {
    pub fn new(chain: &'a ChainClient, contracts: &'a ContractAddrs) -> Self {
        Opengpu { chain, contracts }
    }

    async fn market<R: serde::de::DeserializeOwned>(&self, q: &market::QueryMsg) -> Result<R> {
        self.chain.smart_query(&self.contracts.task_market, q).await
    }

    async fn registry<R: serde::de::DeserializeOwned>(&self, q: &registry::QueryMsg) -> Result<R> {
        self.chain.smart_query(&self.contracts.registry, q).await
    }

    async fn vault<R: serde::de::DeserializeOwned>(&self, q: &vault::QueryMsg) -> Result<R> {
        self.chain
            .smart_query(&self.contracts.staking_vault, q)
            .await
    }

    pub async fn market_config(&self) -> Result<MarketConfig> {
        self.market(&market::QueryMsg::Config {}).await
    }

    pub async fn task(&self, task_id: TaskId) -> Result<TaskResponse> {
        self.market(&market::QueryMsg::Task { task_id }).await
    }

    /// The task without its kernel: what to read when the kernel is not needed.
    pub async fn task_info(&self, task_id: TaskId) -> Result<TaskInfo> {
        self.market(&market::QueryMsg::TaskInfo { task_id }).await
    }

    /// Tasks by id after `start_after`, up to `limit` (fetching as many pages as needed).
    pub async fn tasks(
        &self,
        filter: TaskFilter,
        mut start_after: Option<TaskId>,
        limit: usize,
    ) -> Result<Vec<TaskInfo>> {
        let mut tasks = Vec::new();
        while tasks.len() < limit {
            let page_size = (limit - tasks.len()).min(MAX_LIMIT as usize) as u32;
            let page: TasksResponse = self
                .market(&market::QueryMsg::Tasks {
                    filter: Some(filter.clone()),
                    start_after,
                    limit: Some(page_size),
                })
                .await?;
            let done = page.tasks.len() < page_size as usize;
            start_after = page.tasks.last().map(|t| t.id);
            tasks.extend(page.tasks);
            if done || start_after.is_none() {
                break;
            }
        }
        Ok(tasks)
    }

    /// Every commitment of a task, in arrival order (bounded by the task's committer cap).
    pub async fn commitments(&self, task_id: TaskId) -> Result<Vec<CommitmentInfo>> {
        let mut all = Vec::new();
        let mut start_after = None;
        loop {
            let page: CommitmentsResponse = self
                .market(&market::QueryMsg::Commitments {
                    task_id,
                    start_after,
                    limit: Some(MAX_LIMIT),
                })
                .await?;
            let done = page.commitments.len() < MAX_LIMIT as usize;
            start_after = page.commitments.last().map(|c| c.seq);
            all.extend(page.commitments);
            if done || start_after.is_none() {
                return Ok(all);
            }
        }
    }

    /// Every bid of an auction, in arrival order (bounded by the task's bidder cap).
    pub async fn bids(&self, task_id: TaskId) -> Result<Vec<BidInfo>> {
        let mut all = Vec::new();
        let mut start_after = None;
        loop {
            let page: BidsResponse = self
                .market(&market::QueryMsg::Bids {
                    task_id,
                    start_after,
                    limit: Some(MAX_LIMIT),
                })
                .await?;
            let done = page.bids.len() < MAX_LIMIT as usize;
            start_after = page.bids.last().map(|b| b.seq);
            all.extend(page.bids);
            if done || start_after.is_none() {
                return Ok(all);
            }
        }
    }

    pub async fn offers(&self, task_id: TaskId) -> Result<OffersResponse> {
        self.market(&market::QueryMsg::Offers { task_id }).await
    }

    /// The outputs `provider` revealed, or the winner's.
    pub async fn result(
        &self,
        task_id: TaskId,
        provider: Option<String>,
    ) -> Result<ResultResponse> {
        self.market(&market::QueryMsg::Result { task_id, provider })
            .await
    }

    /// Payments the bank refused at settlement that `address` may withdraw, per denom.
    pub async fn claims(&self, address: &str) -> Result<ClaimsResponse> {
        self.market(&market::QueryMsg::Claims {
            address: address.to_string(),
        })
        .await
    }

    /// Every claim the market owes, per denom.
    pub async fn claim_totals(&self) -> Result<ClaimsResponse> {
        self.market(&market::QueryMsg::ClaimTotals {}).await
    }

    /// The market's IBC transfers still in flight (no acknowledgement or timeout yet), by id,
    /// up to `limit` (fetching as many pages as needed).
    pub async fn pending_transfers(&self, limit: usize) -> Result<Vec<PendingTransfer>> {
        let mut all = Vec::new();
        let mut start_after = None;
        while all.len() < limit {
            let page_size = (limit - all.len()).min(MAX_LIMIT as usize) as u32;
            let page: PendingTransfersResponse = self
                .market(&market::QueryMsg::PendingTransfers {
                    start_after,
                    limit: Some(page_size),
                })
                .await?;
            let done = page.transfers.len() < page_size as usize;
            start_after = page.transfers.last().map(|t| t.id);
            all.extend(page.transfers);
            if done || start_after.is_none() {
                break;
            }
        }
        Ok(all)
    }

    /// What the market owes remote clients after failed transfers back to them, up to `limit`
    /// (fetching as many pages as needed).
    pub async fn remote_claims(&self, limit: usize) -> Result<Vec<RemoteClaim>> {
        let mut all: Vec<RemoteClaim> = Vec::new();
        let mut start_after = None;
        while all.len() < limit {
            let page_size = (limit - all.len()).min(MAX_LIMIT as usize) as u32;
            let page: RemoteClaimsResponse = self
                .market(&market::QueryMsg::RemoteClaims {
                    start_after,
                    limit: Some(page_size),
                })
                .await?;
            let done = page.claims.len() < page_size as usize;
            start_after = page
                .claims
                .last()
                .map(|c| (c.channel.clone(), c.receiver.clone(), c.denom.clone()));
            all.extend(page.claims);
            if done || start_after.is_none() {
                break;
            }
        }
        Ok(all)
    }

    pub async fn registry_config(&self) -> Result<RegistryConfig> {
        self.registry(&registry::QueryMsg::Config {}).await
    }

    pub async fn provider(&self, address: &str) -> Result<ProviderResponse> {
        self.registry(&registry::QueryMsg::Provider {
            address: address.to_string(),
        })
        .await
    }

    /// Providers by address after `start_after`, up to `limit`.
    pub async fn providers(
        &self,
        filter: ProviderFilter,
        mut start_after: Option<String>,
        limit: usize,
    ) -> Result<Vec<registry::Provider>> {
        let mut providers = Vec::new();
        while providers.len() < limit {
            let page_size = (limit - providers.len()).min(MAX_LIMIT as usize) as u32;
            let page: ProvidersResponse = self
                .registry(&registry::QueryMsg::Providers {
                    filter: Some(filter.clone()),
                    start_after: start_after.clone(),
                    limit: Some(page_size),
                })
                .await?;
            let done = page.providers.len() < page_size as usize;
            start_after = page.providers.last().map(|p| p.address.to_string());
            providers.extend(page.providers);
            if done || start_after.is_none() {
                break;
            }
        }
        Ok(providers)
    }

    pub async fn vault_config(&self) -> Result<VaultConfig> {
        self.vault(&vault::QueryMsg::Config {}).await
    }

    pub async fn stake(&self, address: &str) -> Result<StakeResponse> {
        self.vault(&vault::QueryMsg::Stake {
            address: address.to_string(),
        })
        .await
    }
}
