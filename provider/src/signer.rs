//! The one task that owns the provider's key and account sequence. Everything that sends a
//! transaction asks it over a channel; it signs and broadcasts in order, so two tasks never
//! race for a sequence number. Waiting for inclusion happens in the caller, so a slow block
//! holds up nobody else's broadcast.
//!
//! Gas is simulated and multiplied by the configured adjustment. A message whose cost in its
//! block may exceed its simulation asks for a larger factor ([`SignerHandle::broadcast_scaled`]):
//! an auction's last bid reveal applies the award in the same transaction, and which reveal
//! comes last in a block is unknown when each is simulated.

use cosmrs::tendermint::Hash;
use cosmwasm_std::Coin;
use opengpu_client::chain::TxOutcome;
use opengpu_client::tx::execute_msg;
use opengpu_client::{ChainClient, Signer};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use tracing::Instrument;

/// Broadcast requests waiting for the signer at most; senders wait beyond that.
const QUEUE_DEPTH: usize = 64;

struct Request {
    contract: String,
    msg: serde_json::Value,
    funds: Vec<Coin>,
    /// Multiplies the configured gas adjustment (1 for most messages).
    gas_scale: f64,
    reply: oneshot::Sender<opengpu_client::Result<Hash>>,
}

/// A cloneable handle to the signer task.
#[derive(Clone)]
pub struct SignerHandle {
    requests: mpsc::Sender<Request>,
    address: String,
    chain: ChainClient,
}

#[derive(thiserror::Error, Debug)]
pub enum SubmitError {
    #[error(transparent)]
    Chain(#[from] opengpu_client::Error),
    #[error("encoding an execute message: {0}")]
    Encode(serde_json::Error),
    #[error("the signer has stopped")]
    SignerStopped,
}

impl SubmitError {
    /// Whether the transaction certainly never entered the node's mempool, so that no block
    /// can ever hold it: its simulation or CheckTx refused it, or it was never sent (no
    /// account, a stale sequence through every attempt, a message or gas price that does not
    /// encode). Everything else leaves its fate unknown: a transport error (timeout,
    /// connection refused or reset, an HTTP error) may come after the node took it, and so may
    /// a stopped signer; a CheckTx answer that the node already holds the same transaction, or
    /// that its check did not finish in time, means it may be in the mempool.
    pub fn never_sent(&self) -> bool {
        use opengpu_client::Error;
        match self {
            SubmitError::Encode(_) => true,
            SubmitError::SignerStopped => false,
            SubmitError::Chain(e) => match e {
                Error::CheckTx(log) => !(e.is_duplicate_tx() || check_unfinished(log)),
                Error::Simulate(_)
                | Error::SequenceMismatch { .. }
                | Error::AccountNotFound(_)
                | Error::Invalid { .. }
                | Error::Crypto(_) => true,
                _ => false,
            },
        }
    }
}

/// Whether a CheckTx refusal is the node's RPC giving up on the check it started
/// (CometBFT's `broadcast confirmation not received`), which may still admit the transaction.
fn check_unfinished(log: &str) -> bool {
    log.contains("broadcast confirmation not received")
}

impl SignerHandle {
    /// Starts the signer task; it ends when every handle is dropped.
    pub fn spawn(signer: Signer, chain: ChainClient) -> SignerHandle {
        let address = signer.address();
        let (requests, inbox) = mpsc::channel(QUEUE_DEPTH);
        let span = tracing::info_span!("signer", %address);
        tokio::spawn(run(signer, chain.clone(), inbox).instrument(span));
        SignerHandle {
            requests,
            address,
            chain,
        }
    }

    pub fn address(&self) -> &str {
        &self.address
    }

    pub fn chain(&self) -> &ChainClient {
        &self.chain
    }

    /// Executes `msg` on `contract` and waits until its block; the outcome of a transaction
    /// that failed in the block is an error carrying the contract's message.
    pub async fn execute<M: Serialize>(
        &self,
        contract: &str,
        msg: &M,
        funds: Vec<Coin>,
    ) -> Result<TxOutcome, SubmitError> {
        let hash = self.broadcast(contract, msg, funds).await?;
        Ok(self.chain.wait_for_tx(hash).await?)
    }

    /// Broadcasts `msg`; returns once the mempool took it.
    pub async fn broadcast<M: Serialize>(
        &self,
        contract: &str,
        msg: &M,
        funds: Vec<Coin>,
    ) -> Result<Hash, SubmitError> {
        self.send(contract, msg, funds, 1.0).await
    }

    /// [`SignerHandle::broadcast`], without funds, with `gas_scale` times the configured gas
    /// adjustment.
    pub async fn broadcast_scaled<M: Serialize>(
        &self,
        contract: &str,
        msg: &M,
        gas_scale: f64,
    ) -> Result<Hash, SubmitError> {
        self.send(contract, msg, vec![], gas_scale).await
    }

    async fn send<M: Serialize>(
        &self,
        contract: &str,
        msg: &M,
        funds: Vec<Coin>,
        gas_scale: f64,
    ) -> Result<Hash, SubmitError> {
        let msg = serde_json::to_value(msg).map_err(SubmitError::Encode)?;
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request {
                contract: contract.to_string(),
                msg,
                funds,
                gas_scale,
                reply,
            })
            .await
            .map_err(|_| SubmitError::SignerStopped)?;
        Ok(answer.await.map_err(|_| SubmitError::SignerStopped)??)
    }
}

async fn run(mut signer: Signer, chain: ChainClient, mut inbox: mpsc::Receiver<Request>) {
    while let Some(request) = inbox.recv().await {
        let address = signer.address();
        let result = match execute_msg(&address, &request.contract, &request.msg, &request.funds) {
            Ok(any) if request.gas_scale == 1.0 => signer.broadcast(&chain, vec![any], "").await,
            // The same node, with a larger gas adjustment for this one transaction.
            Ok(any) => match scaled(&chain, request.gas_scale) {
                Ok(scaled) => signer.broadcast(&scaled, vec![any], "").await,
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        if let Err(e) = &result {
            tracing::warn!(error = %e, "broadcast failed");
            // A failed broadcast may leave our idea of the sequence behind the chain's.
            signer.forget_account();
        }
        let _ = request.reply.send(result);
    }
    tracing::debug!("all handles dropped; signer stops");
}

/// A client of `chain`'s node whose gas adjustment is `scale` times `chain`'s.
fn scaled(chain: &ChainClient, scale: f64) -> opengpu_client::Result<ChainClient> {
    let mut config = chain.config().clone();
    config.gas_adjustment *= scale;
    ChainClient::new(config)
}

#[cfg(test)]
mod tests {
    use opengpu_client::Error;

    use super::*;

    #[test]
    fn only_a_refusal_before_the_mempool_means_never_sent() {
        let never_sent = [
            Error::CheckTx("insufficient fees".into()),
            Error::Simulate("task 3 is closed to commits".into()),
            Error::SequenceMismatch {
                attempts: 4,
                reason: "account sequence mismatch, expected 5, got 4".into(),
            },
            Error::AccountNotFound("wasm1me".into()),
        ];
        for e in never_sent {
            assert!(SubmitError::Chain(e).never_sent());
        }
        let unknown = [
            Error::Rpc {
                url: "http://127.0.0.1:26657".into(),
                reason: "HTTP error: connection closed before message completed".into(),
            },
            Error::NodeRejected("Internal error".into()),
            Error::TxTimeout {
                txhash: "AB".into(),
                seconds: 30,
            },
            // The node already holds the same transaction.
            Error::CheckTx("error on broadcastTxSync: tx already exists in cache".into()),
            // The node started checking it and gave up waiting.
            Error::CheckTx("broadcast confirmation not received: context deadline exceeded".into()),
        ];
        for e in unknown {
            let e = SubmitError::Chain(e);
            assert!(!e.never_sent(), "{e}");
        }
        assert!(!SubmitError::SignerStopped.never_sent());
    }
}
