//! Talking to a node over CometBFT RPC: ABCI queries (bank, auth, CosmWasm smart queries, tx
//! simulation), broadcast, and waiting for inclusion.

use std::time::{Duration, Instant};

use cosmrs::proto::cosmos::auth::v1beta1::{
    BaseAccount, QueryAccountRequest, QueryAccountResponse,
};
use cosmrs::proto::cosmos::bank::v1beta1::{
    QueryAllBalancesRequest, QueryAllBalancesResponse, QueryBalanceRequest, QueryBalanceResponse,
};
use cosmrs::proto::cosmos::base::query::v1beta1::PageRequest;
use cosmrs::proto::cosmos::tx::v1beta1::{SimulateRequest, SimulateResponse};
use cosmrs::proto::cosmwasm::wasm::v1::{
    QuerySmartContractStateRequest, QuerySmartContractStateResponse,
};
use cosmrs::proto::prost::Message;
use cosmrs::proto::traits::MessageExt;
use cosmrs::tendermint::Hash;
use cosmwasm_std::{Coin, Uint128};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tendermint_rpc::client::CompatMode;
use tendermint_rpc::query::Query;
use tendermint_rpc::{Client, HttpClient, Order};

use crate::config::ChainConfig;
use crate::error::{readable_log, Error, Result};
use crate::events::TxEvent;

const SMART_QUERY_PATH: &str = "/cosmwasm.wasm.v1.Query/SmartContractState";
const ALL_BALANCES_PATH: &str = "/cosmos.bank.v1beta1.Query/AllBalances";
const BALANCE_PATH: &str = "/cosmos.bank.v1beta1.Query/Balance";
const ACCOUNT_PATH: &str = "/cosmos.auth.v1beta1.Query/Account";
const SIMULATE_PATH: &str = "/cosmos.tx.v1beta1.Service/Simulate";
const BASE_ACCOUNT_TYPE: &str = "/cosmos.auth.v1beta1.BaseAccount";

/// How often `wait_for_tx` asks whether a transaction is in a block.
const TX_POLL_INTERVAL: Duration = Duration::from_millis(250);

/// A node's view of itself, as `chain status` shows it.
#[derive(Clone, Debug, Serialize)]
pub struct NodeStatus {
    pub chain_id: String,
    pub moniker: String,
    pub node_version: String,
    pub latest_height: u64,
    /// RFC 3339.
    pub latest_block_time: String,
    pub catching_up: bool,
}

/// Account number and next sequence, what signing needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct AccountInfo {
    pub account_number: u64,
    pub sequence: u64,
}

/// A transaction included in a block.
#[derive(Clone, Debug, Serialize)]
pub struct TxOutcome {
    pub txhash: String,
    pub height: u64,
    pub gas_wanted: u64,
    pub gas_used: u64,
    pub events: Vec<TxEvent>,
}

impl TxOutcome {
    /// Every event of type `E`, from `contract` when given.
    pub fn events<E: opengpu_types::events::ContractEvent>(
        &self,
        contract: Option<&str>,
    ) -> Result<Vec<E>> {
        crate::events::typed_events(&self.events, contract)
    }

    /// The first event of type `E` from `contract`, if any.
    pub fn event<E: opengpu_types::events::ContractEvent>(
        &self,
        contract: Option<&str>,
    ) -> Result<Option<E>> {
        Ok(self.events(contract)?.into_iter().next())
    }
}

/// One transaction's result as its block records it.
#[derive(Clone, Debug)]
pub struct BlockTxResult {
    /// 0 for success.
    pub code: u32,
    pub log: String,
    pub gas_used: u64,
    pub events: Vec<TxEvent>,
}

/// A connection to one node of one chain.
#[derive(Clone)]
pub struct ChainClient {
    rpc: HttpClient,
    config: ChainConfig,
}

impl ChainClient {
    /// A client for `config.rpc` speaking CometBFT 0.38's RPC dialect.
    pub fn new(config: ChainConfig) -> Result<Self> {
        let url = config
            .rpc
            .parse()
            .map_err(|e| Error::invalid("node URL", &config.rpc, e))?;
        let rpc = HttpClient::builder(url)
            .compat_mode(CompatMode::V0_38)
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| Error::invalid("node URL", &config.rpc, e))?;
        Ok(ChainClient { rpc, config })
    }

    pub fn config(&self) -> &ChainConfig {
        &self.config
    }

    pub async fn status(&self) -> Result<NodeStatus> {
        let status = self
            .rpc
            .status()
            .await
            .map_err(|e| rpc_error(&self.config.rpc, e))?;
        Ok(NodeStatus {
            chain_id: status.node_info.network.to_string(),
            moniker: status.node_info.moniker.to_string(),
            node_version: status.node_info.version.to_string(),
            latest_height: status.sync_info.latest_block_height.value(),
            latest_block_time: status.sync_info.latest_block_time.to_rfc3339(),
            catching_up: status.sync_info.catching_up,
        })
    }

    /// The latest block height.
    pub async fn height(&self) -> Result<u64> {
        Ok(self.status().await?.latest_height)
    }

    /// A raw ABCI query; a non-zero code becomes an error carrying the readable log.
    pub async fn abci_query(&self, path: &str, data: Vec<u8>) -> Result<Vec<u8>> {
        self.abci_query_at(path, data, None).await
    }

    /// [`ChainClient::abci_query`] on the state after block `height` (the latest when `None`).
    pub async fn abci_query_at(
        &self,
        path: &str,
        data: Vec<u8>,
        height: Option<u64>,
    ) -> Result<Vec<u8>> {
        let height = height
            .map(|h| {
                cosmrs::tendermint::block::Height::try_from(h)
                    .map_err(|e| Error::invalid("height", h.to_string(), e))
            })
            .transpose()?;
        let response = self
            .rpc
            .abci_query(Some(path.to_string()), data, height, false)
            .await
            .map_err(|e| rpc_error(&self.config.rpc, e))?;
        if response.code.is_err() {
            return Err(Error::Query {
                path: path.to_string(),
                reason: readable_log(&response.log),
            });
        }
        Ok(response.value)
    }

    /// A gRPC query method called through ABCI with protobuf request and response.
    pub async fn query_proto<Req: Message, Resp: Message + Default>(
        &self,
        path: &str,
        request: &Req,
    ) -> Result<Resp> {
        self.query_proto_at(path, request, None).await
    }

    /// [`ChainClient::query_proto`] on the state after block `height` (the latest when `None`).
    pub async fn query_proto_at<Req: Message, Resp: Message + Default>(
        &self,
        path: &str,
        request: &Req,
        height: Option<u64>,
    ) -> Result<Resp> {
        let bytes = request
            .to_bytes()
            .map_err(|e| Error::decode(format!("{path} request"), e))?;
        let value = self.abci_query_at(path, bytes, height).await?;
        Resp::decode(value.as_slice()).map_err(|e| Error::decode(format!("{path} response"), e))
    }

    /// A CosmWasm smart query: `msg` as JSON in, `R` as JSON out.
    pub async fn smart_query<Q: Serialize, R: DeserializeOwned>(
        &self,
        contract: &str,
        msg: &Q,
    ) -> Result<R> {
        let query_data =
            serde_json::to_vec(msg).map_err(|e| Error::json("encoding a smart query", e))?;
        let request = QuerySmartContractStateRequest {
            address: contract.to_string(),
            query_data,
        };
        let response: QuerySmartContractStateResponse = self
            .query_proto(SMART_QUERY_PATH, &request)
            .await
            .map_err(|e| match e {
                Error::Query { reason, .. } => Error::ContractQuery(reason),
                other => other,
            })?;
        serde_json::from_slice(&response.data)
            .map_err(|e| Error::json(format!("decoding the answer of contract {contract}"), e))
    }

    /// Every bank balance of `address`, all pages.
    pub async fn all_balances(&self, address: &str) -> Result<Vec<Coin>> {
        let mut coins = Vec::new();
        let mut key = Vec::new();
        loop {
            let request = QueryAllBalancesRequest {
                address: address.to_string(),
                pagination: Some(PageRequest {
                    key: key.clone(),
                    limit: 200,
                    ..Default::default()
                }),
                resolve_denom: false,
            };
            let response: QueryAllBalancesResponse =
                self.query_proto(ALL_BALANCES_PATH, &request).await?;
            for coin in response.balances {
                let amount: u128 = coin
                    .amount
                    .parse()
                    .map_err(|e| Error::decode("a balance", e))?;
                coins.push(Coin::new(Uint128::new(amount), coin.denom));
            }
            match response.pagination {
                Some(page) if !page.next_key.is_empty() => key = page.next_key,
                _ => return Ok(coins),
            }
        }
    }

    /// The bank balance of `address` in `denom` (0 when it holds none), after block `height`
    /// (the latest when `None`).
    pub async fn balance(
        &self,
        address: &str,
        denom: &str,
        height: Option<u64>,
    ) -> Result<Uint128> {
        let request = QueryBalanceRequest {
            address: address.to_string(),
            denom: denom.to_string(),
        };
        let response: QueryBalanceResponse =
            self.query_proto_at(BALANCE_PATH, &request, height).await?;
        match response.balance {
            None => Ok(Uint128::zero()),
            Some(coin) => coin
                .amount
                .parse::<u128>()
                .map(Uint128::new)
                .map_err(|e| Error::decode("a balance", e)),
        }
    }

    /// Included transactions whose events match `query` (the node's transaction index), oldest
    /// first, at most `limit` (up to 100).
    pub async fn search_txs(&self, query: Query, limit: u8) -> Result<Vec<TxOutcome>> {
        let response = self
            .rpc
            .tx_search(query, false, 1, limit.clamp(1, 100), Order::Ascending)
            .await
            .map_err(|e| rpc_error(&self.config.rpc, e))?;
        Ok(response
            .txs
            .into_iter()
            .map(|tx| TxOutcome {
                txhash: tx.hash.to_string(),
                height: tx.height.value(),
                gas_wanted: tx.tx_result.gas_wanted.max(0) as u64,
                gas_used: tx.tx_result.gas_used.max(0) as u64,
                events: tx.tx_result.events.iter().map(TxEvent::from).collect(),
            })
            .collect())
    }

    /// The time in block `height`'s header.
    pub async fn block_time(&self, height: u64) -> Result<cosmrs::tendermint::Time> {
        let response = self
            .rpc
            .header(to_height(height)?)
            .await
            .map_err(|e| rpc_error(&self.config.rpc, e))?;
        Ok(response.header.time)
    }

    /// The results of block `height`'s transactions, in block order. An error until the node
    /// has executed the block (its message says "could not find results").
    pub async fn block_results(&self, height: u64) -> Result<Vec<BlockTxResult>> {
        let response = self
            .rpc
            .block_results(to_height(height)?)
            .await
            .map_err(|e| rpc_error(&self.config.rpc, e))?;
        Ok(response
            .txs_results
            .unwrap_or_default()
            .iter()
            .map(|tx| BlockTxResult {
                code: tx.code.value(),
                log: tx.log.clone(),
                gas_used: tx.gas_used.max(0) as u64,
                events: tx.events.iter().map(TxEvent::from).collect(),
            })
            .collect())
    }

    /// Account number and sequence; `None` when the chain has never seen the account.
    pub async fn account(&self, address: &str) -> Result<Option<AccountInfo>> {
        let request = QueryAccountRequest {
            address: address.to_string(),
        };
        let response: QueryAccountResponse = match self.query_proto(ACCOUNT_PATH, &request).await {
            Ok(response) => response,
            Err(Error::Query { reason, .. }) if reason.contains("not found") => return Ok(None),
            Err(e) => return Err(e),
        };
        let Some(any) = response.account else {
            return Ok(None);
        };
        if any.type_url != BASE_ACCOUNT_TYPE {
            return Err(Error::decode(
                format!("account {address}"),
                format!("unsupported account type {}", any.type_url),
            ));
        }
        let base = BaseAccount::decode(any.value.as_slice())
            .map_err(|e| Error::decode(format!("account {address}"), e))?;
        Ok(Some(AccountInfo {
            account_number: base.account_number,
            sequence: base.sequence,
        }))
    }

    /// Gas a transaction would use (signatures need not be valid).
    pub async fn simulate(&self, tx_bytes: Vec<u8>) -> Result<u64> {
        #[allow(deprecated)]
        let request = SimulateRequest { tx: None, tx_bytes };
        let response: SimulateResponse =
            self.query_proto(SIMULATE_PATH, &request)
                .await
                .map_err(|e| match e {
                    Error::Query { reason, .. } => Error::Simulate(reason),
                    other => other,
                })?;
        response
            .gas_info
            .map(|info| info.gas_used)
            .ok_or_else(|| Error::decode("simulation response", "no gas info"))
    }

    /// Sends a signed transaction and returns its hash once the node's mempool accepted it.
    pub async fn broadcast(&self, tx_bytes: Vec<u8>) -> Result<Hash> {
        let response = self.rpc.broadcast_tx_sync(tx_bytes).await.map_err(|e| {
            match rpc_error(&self.config.rpc, e) {
                Error::NodeRejected(reason) => Error::CheckTx(reason),
                other => other,
            }
        })?;
        if response.code.is_err() {
            return Err(Error::CheckTx(readable_log(&response.log)));
        }
        Ok(response.hash)
    }

    /// Waits until the transaction is in a block; a failed execution becomes
    /// [`Error::TxFailed`] with the contract's reason.
    pub async fn wait_for_tx(&self, hash: Hash) -> Result<TxOutcome> {
        let timeout = self.config.tx_timeout;
        let started = Instant::now();
        loop {
            match self.rpc.tx(hash, false).await {
                Ok(response) => {
                    let result = response.tx_result;
                    let height = response.height.value();
                    if result.code.is_err() {
                        return Err(Error::TxFailed {
                            txhash: hash.to_string(),
                            height,
                            reason: readable_log(&result.log),
                        });
                    }
                    return Ok(TxOutcome {
                        txhash: hash.to_string(),
                        height,
                        gas_wanted: result.gas_wanted.max(0) as u64,
                        gas_used: result.gas_used.max(0) as u64,
                        events: result.events.iter().map(TxEvent::from).collect(),
                    });
                }
                // "tx (HASH) not found" until the block that holds it is committed; a node
                // briefly unreachable is waited out the same way.
                Err(_) if started.elapsed() < timeout => {
                    tokio::time::sleep(TX_POLL_INTERVAL).await;
                }
                Err(_) => {
                    return Err(Error::TxTimeout {
                        txhash: hash.to_string(),
                        seconds: timeout.as_secs(),
                    })
                }
            }
        }
    }

    /// Waits until the chain is past `height`.
    pub async fn wait_for_height_above(&self, height: u64, timeout: Duration) -> Result<u64> {
        let started = Instant::now();
        loop {
            let now = self.height().await?;
            if now > height {
                return Ok(now);
            }
            if started.elapsed() >= timeout {
                return Err(Error::Rpc {
                    url: self.config.rpc.clone(),
                    reason: format!("no block after height {height} within {timeout:?}"),
                });
            }
            tokio::time::sleep(TX_POLL_INTERVAL).await;
        }
    }
}

fn rpc_error(url: &str, e: tendermint_rpc::Error) -> Error {
    use tendermint_rpc::error::ErrorDetail;
    match e.detail() {
        // The node answered, with a JSON-RPC error: say what it said.
        ErrorDetail::Response(sub) => Error::NodeRejected(sub.source.to_string()),
        _ => Error::Rpc {
            url: url.to_string(),
            reason: summarize_trace(&e.to_string()),
        },
    }
}

/// tendermint-rpc's errors print as `HTTP error\n\nCaused by:\n    <cause>\n\nLocation: ...`
/// followed by a backtrace; this keeps `HTTP error: <cause>`.
fn summarize_trace(text: &str) -> String {
    let mut lines = text.lines();
    let mut summary = lines.next().unwrap_or_default().trim().to_string();
    let mut in_causes = false;
    for line in lines {
        let line = line.trim();
        if line == "Caused by:" {
            in_causes = true;
        } else if in_causes && line.is_empty() {
            break;
        } else if in_causes {
            let cause = line
                .trim_start_matches(|c: char| c.is_ascii_digit() || c == ':')
                .trim();
            summary = format!("{summary}: {cause}");
        }
    }
    summary
}

/// A block height as the RPC client takes it.
fn to_height(height: u64) -> Result<cosmrs::tendermint::block::Height> {
    cosmrs::tendermint::block::Height::try_from(height)
        .map_err(|e| Error::invalid("block height", height.to_string(), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpc_error_traces_shrink_to_their_causes() {
        let text = "HTTP error\n\nCaused by:\n    error sending request for url \
                    (http://127.0.0.1:1/): tcp connect error: Connection refused (os error \
                    111)\n\nLocation:\n    /src/eyre.rs:10:9\n\nStack backtrace:\n   0: x";
        assert_eq!(
            summarize_trace(text),
            "HTTP error: error sending request for url (http://127.0.0.1:1/): tcp connect \
             error: Connection refused (os error 111)"
        );
        assert_eq!(summarize_trace("plain"), "plain");
    }
}
