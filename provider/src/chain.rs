//! The chain as the daemon's core sees it: the market queries and the transactions its
//! decisions need, and nothing else. [`LiveChain`] is the real one (a node, the market's
//! address and the signer task); the unit tests run the daemon and its jobs against an
//! in-memory market instead (`crate::fake`).

use std::time::Duration;

use async_trait::async_trait;
use cosmrs::tendermint::Hash;
use cosmwasm_std::Uint128;
use opengpu_client::{ChainClient, ContractAddrs, Opengpu, TxOutcome};
use opengpu_types::auction::BidInfo;
use opengpu_types::market::{CommitmentInfo, ExecuteMsg, TaskInfo, TaskResponse};
use opengpu_types::TaskId;

use crate::signer::{SignerHandle, SubmitError};
use crate::source::Included;

/// The market, read and written as this provider.
#[async_trait]
pub trait Chain: Send + Sync {
    /// This provider's address: the signer's.
    fn address(&self) -> &str;
    /// The market's address, which the events this daemon reads come from.
    fn market(&self) -> &str;

    /// The latest block height.
    async fn height(&self) -> opengpu_client::Result<u64>;
    /// Waits until the chain is past `height`; returns the new height.
    async fn wait_for_height_above(
        &self,
        height: u64,
        timeout: Duration,
    ) -> opengpu_client::Result<u64>;
    /// The task with its kernel (up to about a megabyte): for the run only.
    async fn task(&self, task_id: TaskId) -> opengpu_client::Result<TaskResponse>;
    /// The task without its kernel: every look that does not run it.
    async fn task_info(&self, task_id: TaskId) -> opengpu_client::Result<TaskInfo>;
    async fn commitments(&self, task_id: TaskId) -> opengpu_client::Result<Vec<CommitmentInfo>>;
    async fn bids(&self, task_id: TaskId) -> opengpu_client::Result<Vec<BidInfo>>;
    /// This provider's bonded stake not locked as collateral.
    async fn free_stake(&self) -> opengpu_client::Result<Uint128>;

    /// Broadcasts `msg` to the market with `gas_scale` times the configured gas adjustment;
    /// returns once the mempool took it.
    async fn broadcast_scaled(&self, msg: &ExecuteMsg, gas_scale: f64)
        -> Result<Hash, SubmitError>;
    /// Waits until the transaction is in a block: `TxFailed` when it failed there, another
    /// error when it was not seen in time (it may still land). Jobs wait through
    /// [`crate::shared::Shared::wait_for_tx`], which learns of most blocks from the event
    /// source and asks this only when it must.
    async fn wait_for_tx(&self, hash: Hash) -> opengpu_client::Result<TxOutcome>;

    /// A transaction seen in a block (every one of the blocks the event source reports): the
    /// signer learns what its transactions cost.
    fn note_included(&self, _included: &Included) {}

    /// Whether `msg` would go out without a simulation (its gas is known from an earlier
    /// message of its shape). A simulation reads the state of the latest block as if it were
    /// executed there; a message sent without one is only executed in the next block.
    fn gas_known(&self, _msg: &ExecuteMsg) -> bool {
        false
    }

    /// [`broadcast_scaled`](Self::broadcast_scaled) with the configured gas adjustment.
    async fn broadcast(&self, msg: &ExecuteMsg) -> Result<Hash, SubmitError> {
        self.broadcast_scaled(msg, 1.0).await
    }

    /// Broadcasts `msg` and waits for its block.
    async fn execute(&self, msg: &ExecuteMsg) -> Result<TxOutcome, SubmitError> {
        self.execute_scaled(msg, 1.0).await
    }

    /// [`execute`](Self::execute) with `gas_scale` times the configured gas adjustment.
    async fn execute_scaled(
        &self,
        msg: &ExecuteMsg,
        gas_scale: f64,
    ) -> Result<TxOutcome, SubmitError> {
        let hash = self.broadcast_scaled(msg, gas_scale).await?;
        Ok(self.wait_for_tx(hash).await?)
    }
}

/// The chain through a node, with the signer task sending this provider's transactions.
pub struct LiveChain {
    client: ChainClient,
    contracts: ContractAddrs,
    signer: SignerHandle,
}

impl LiveChain {
    pub fn new(client: ChainClient, contracts: ContractAddrs, signer: SignerHandle) -> Self {
        LiveChain {
            client,
            contracts,
            signer,
        }
    }

    fn query(&self) -> Opengpu<'_> {
        Opengpu::new(&self.client, &self.contracts)
    }
}

#[async_trait]
impl Chain for LiveChain {
    fn address(&self) -> &str {
        self.signer.address()
    }

    fn market(&self) -> &str {
        &self.contracts.task_market
    }

    async fn height(&self) -> opengpu_client::Result<u64> {
        self.client.height().await
    }

    async fn wait_for_height_above(
        &self,
        height: u64,
        timeout: Duration,
    ) -> opengpu_client::Result<u64> {
        self.client.wait_for_height_above(height, timeout).await
    }

    async fn task(&self, task_id: TaskId) -> opengpu_client::Result<TaskResponse> {
        self.query().task(task_id).await
    }

    async fn task_info(&self, task_id: TaskId) -> opengpu_client::Result<TaskInfo> {
        self.query().task_info(task_id).await
    }

    async fn commitments(&self, task_id: TaskId) -> opengpu_client::Result<Vec<CommitmentInfo>> {
        self.query().commitments(task_id).await
    }

    async fn bids(&self, task_id: TaskId) -> opengpu_client::Result<Vec<BidInfo>> {
        self.query().bids(task_id).await
    }

    async fn free_stake(&self) -> opengpu_client::Result<Uint128> {
        Ok(self.query().stake(self.address()).await?.free)
    }

    async fn broadcast_scaled(
        &self,
        msg: &ExecuteMsg,
        gas_scale: f64,
    ) -> Result<Hash, SubmitError> {
        self.signer
            .broadcast_scaled(&self.contracts.task_market, msg, gas_scale)
            .await
    }

    async fn wait_for_tx(&self, hash: Hash) -> opengpu_client::Result<TxOutcome> {
        self.client.wait_for_tx(hash).await
    }

    fn note_included(&self, included: &Included) {
        self.signer.note_included(included);
    }

    fn gas_known(&self, msg: &ExecuteMsg) -> bool {
        self.signer.gas_known(&self.contracts.task_market, msg)
    }
}
