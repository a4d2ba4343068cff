//! The one task that owns the provider's key and account sequence. Everything that sends a
//! transaction asks it over a channel; it signs and broadcasts in order, so two tasks never
//! race for a sequence number. Waiting for inclusion happens in the caller, so a slow block
//! holds up nobody else's broadcast.
//!
//! Gas is simulated once per message shape ([`Shape`]: contract, message variant, funds,
//! size class) and multiplied by the configured adjustment; after that, the gas a message of
//! the same shape used in its block (the largest seen, scaled up to the message's size) is
//! taken instead, without a simulation: no round trip to the node, and a message that must
//! wait for a block to be valid (a reveal after its commit) can go out as soon as that block
//! is seen instead of once the node's state has moved past it. A message that ran out of gas
//! makes its shape simulated again. The account number and sequence are read once and kept
//! (the client library's [`Signer`]); only a failed broadcast makes them read again.
//!
//! A message whose cost in its block may exceed its simulation asks for a larger factor
//! ([`SignerHandle::broadcast_scaled`]), and is always simulated: an auction's last bid
//! reveal applies the award in the same transaction, and which reveal comes last in a block is
//! unknown when each is simulated.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use cosmrs::tendermint::Hash;
use cosmwasm_std::Coin;
use opengpu_client::chain::TxOutcome;
use opengpu_client::tx::execute_msg;
use opengpu_client::{ChainClient, GasSetting, Signer};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use tracing::Instrument;

use crate::source::Included;

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
    gas: Arc<Mutex<GasBook>>,
}

/// What decides a message's gas, as far as the signer can tell without running it: the
/// contract, the message's variant, the denoms it carries, and its size class (encoded JSON
/// length, classes about 19% apart).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Shape {
    contract: String,
    variant: String,
    denoms: Vec<String>,
    size_class: u32,
}

impl Shape {
    /// `msg`'s shape, and its encoded size.
    fn of(contract: &str, msg: &serde_json::Value, funds: &[Coin]) -> (Shape, usize) {
        let size = msg.to_string().len();
        let variant = msg
            .as_object()
            .and_then(|o| o.keys().next().cloned())
            .unwrap_or_default();
        let mut denoms: Vec<String> = funds.iter().map(|c| c.denom.clone()).collect();
        denoms.sort();
        let size_class = ((size.max(1) as f64).log2() * 4.0).floor() as u32;
        let shape = Shape {
            contract: contract.to_string(),
            variant,
            denoms,
            size_class,
        };
        (shape, size)
    }
}

/// Clients with a fixed gas kept at most (one per gas value in use: about one per shape).
const FIXED_CLIENTS: usize = 32;
/// Transactions remembered until their block is seen, at most.
const GAS_BOOK_PENDING: usize = 1024;

/// Gas learned from blocks, per message shape.
#[derive(Default)]
struct GasBook {
    /// The most gas a message of the shape used in its block, and that message's size.
    learned: HashMap<Shape, (u64, usize)>,
    /// Transactions sent and not yet seen in a block: their shape and size.
    sent: HashMap<Hash, (Shape, usize)>,
    order: VecDeque<Hash>,
}

impl GasBook {
    /// The gas to ask for a message of `shape` and `size`, before the adjustment: the most a
    /// message of its shape used, scaled up by size (gas grows with the bytes a message
    /// carries). `None` when it must be simulated.
    fn estimate(&self, shape: &Shape, size: usize) -> Option<u64> {
        let &(gas, seen_size) = self.learned.get(shape)?;
        let scale = (size as f64 / seen_size.max(1) as f64).max(1.0);
        Some((gas as f64 * scale).ceil() as u64)
    }

    fn sent(&mut self, hash: Hash, shape: Shape, size: usize) {
        if self.sent.insert(hash, (shape, size)).is_none() {
            self.order.push_back(hash);
        }
        while self.order.len() > GAS_BOOK_PENDING {
            if let Some(old) = self.order.pop_front() {
                self.sent.remove(&old);
            }
        }
    }

    /// A transaction seen in its block: one of ours teaches what its shape costs; one that
    /// ran out of gas has its shape simulated again.
    fn included(&mut self, included: &Included) {
        let Some((shape, size)) = self.sent.remove(&included.hash) else {
            return;
        };
        self.order.retain(|h| *h != included.hash);
        match &included.outcome {
            Ok(tx) => {
                let entry = self.learned.entry(shape).or_insert((0, size));
                if tx.gas_used > entry.0 {
                    *entry = (tx.gas_used, size);
                }
            }
            Err(reason) if included.out_of_gas => {
                tracing::warn!(?shape, reason, "out of gas: the shape is simulated again");
                self.learned.remove(&shape);
            }
            Err(_) => {}
        }
    }
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
        let gas = Arc::new(Mutex::new(GasBook::default()));
        tokio::spawn(run(signer, chain.clone(), inbox, gas.clone()).instrument(span));
        SignerHandle {
            requests,
            address,
            chain,
            gas,
        }
    }

    /// A transaction seen in a block: if it is one of this signer's, its gas is learned.
    pub fn note_included(&self, included: &Included) {
        self.gas.lock().expect("poisoned").included(included);
    }

    /// Whether `msg` to `contract` (without funds) goes out without a simulation.
    pub fn gas_known<M: Serialize>(&self, contract: &str, msg: &M) -> bool {
        let Ok(msg) = serde_json::to_value(msg) else {
            return false;
        };
        let fixed = matches!(self.chain.config().gas, GasSetting::Fixed(_));
        let (shape, size) = Shape::of(contract, &msg, &[]);
        fixed
            || self
                .gas
                .lock()
                .expect("poisoned")
                .estimate(&shape, size)
                .is_some()
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

async fn run(
    mut signer: Signer,
    chain: ChainClient,
    mut inbox: mpsc::Receiver<Request>,
    gas: Arc<Mutex<GasBook>>,
) {
    let auto = matches!(chain.config().gas, GasSetting::Auto);
    // Clients of the node asking for a fixed gas, by gas: each keeps its connection.
    let mut fixed_clients: HashMap<u64, ChainClient> = HashMap::new();
    while let Some(request) = inbox.recv().await {
        let address = signer.address();
        let (shape, size) = Shape::of(&request.contract, &request.msg, &request.funds);
        let known = if auto && request.gas_scale == 1.0 {
            gas.lock().expect("poisoned").estimate(&shape, size)
        } else {
            None
        };
        let any = execute_msg(&address, &request.contract, &request.msg, &request.funds);
        let result = match (any, known) {
            // Gas known for the shape: the same node, that gas (adjusted), no simulation.
            (Ok(any), Some(gas)) => {
                if fixed_clients.len() >= FIXED_CLIENTS && !fixed_clients.contains_key(&gas) {
                    fixed_clients.clear();
                }
                match fixed_clients.entry(gas) {
                    std::collections::hash_map::Entry::Occupied(client) => {
                        signer.broadcast(client.get(), vec![any], "").await
                    }
                    std::collections::hash_map::Entry::Vacant(slot) => match fixed(&chain, gas) {
                        Ok(client) => signer.broadcast(slot.insert(client), vec![any], "").await,
                        Err(e) => Err(e),
                    },
                }
            }
            (Ok(any), None) if request.gas_scale == 1.0 => {
                signer.broadcast(&chain, vec![any], "").await
            }
            // The same node, with a larger gas adjustment for this one transaction.
            (Ok(any), None) => match scaled(&chain, request.gas_scale) {
                Ok(scaled) => signer.broadcast(&scaled, vec![any], "").await,
                Err(e) => Err(e),
            },
            (Err(e), _) => Err(e),
        };
        match &result {
            Ok(hash) if auto => gas.lock().expect("poisoned").sent(*hash, shape, size),
            Ok(_) => {}
            // A refused simulation sent nothing: the sequence is still ours.
            Err(e @ opengpu_client::Error::Simulate(_)) => {
                tracing::debug!(error = %e, "simulation refused");
            }
            Err(e) => {
                tracing::warn!(error = %e, "broadcast failed");
                // A failed broadcast may leave our idea of the sequence behind the chain's.
                signer.forget_account();
            }
        }
        let _ = request.reply.send(result);
    }
    tracing::debug!("all handles dropped; signer stops");
}

/// A client of `chain`'s node that asks for `gas` times its adjustment, without simulating.
fn fixed(chain: &ChainClient, gas: u64) -> opengpu_client::Result<ChainClient> {
    let mut config = chain.config().clone();
    config.gas = GasSetting::Fixed((gas as f64 * config.gas_adjustment).ceil() as u64);
    ChainClient::new(config)
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

    fn included(hash: Hash, outcome: Result<u64, &str>, out_of_gas: bool) -> Included {
        Included {
            hash,
            height: 7,
            outcome: outcome
                .map(|gas_used| TxOutcome {
                    txhash: hash.to_string(),
                    height: 7,
                    gas_wanted: gas_used * 2,
                    gas_used,
                    events: vec![],
                })
                .map_err(str::to_string),
            out_of_gas,
        }
    }

    fn hash(n: u8) -> Hash {
        Hash::Sha256([n; 32])
    }

    #[test]
    fn gas_is_learned_per_shape_from_blocks_and_forgotten_when_it_ran_out() {
        let reveal =
            |bytes: usize| serde_json::json!({ "reveal": { "outputs": "x".repeat(bytes) } });
        let commit = serde_json::json!({ "commit": { "task_id": 3 } });
        let (small, small_size) = Shape::of("market", &reveal(1000), &[]);
        let (a_bit_larger, larger_size) = Shape::of("market", &reveal(1060), &[]);
        let (large, _) = Shape::of("market", &reveal(100_000), &[]);
        let (commit, commit_size) = Shape::of("market", &commit, &[]);
        assert_eq!(
            small, a_bit_larger,
            "sizes within a class share an estimate"
        );
        assert_ne!(small, large);
        assert_ne!(small, commit);
        let funded = Shape::of("market", &reveal(1000), &[Coin::new(5u128, "uatom")]).0;
        assert_ne!(small, funded);

        let mut book = GasBook::default();
        assert_eq!(book.estimate(&small, small_size), None, "simulated first");
        book.sent(hash(1), small.clone(), small_size);
        book.sent(hash(2), commit.clone(), commit_size);
        // Another account's transaction, or one seen twice, teaches nothing.
        book.included(&included(hash(9), Ok(1), false));
        book.included(&included(hash(1), Ok(500_000), false));
        book.included(&included(hash(1), Ok(1), false));
        assert_eq!(book.estimate(&small, small_size), Some(500_000));
        // A larger message of the shape is scaled up by its size.
        let scaled = book.estimate(&small, larger_size).unwrap();
        assert!(
            scaled > 500_000 && scaled <= 500_000 * 107 / 100,
            "{scaled}"
        );
        assert_eq!(book.estimate(&commit, commit_size), None, "not seen yet");
        // A failure other than gas teaches nothing; the most gas seen is kept.
        book.sent(hash(3), small.clone(), small_size);
        book.included(&included(hash(3), Err("task 3 is settled"), false));
        book.sent(hash(4), small.clone(), small_size);
        book.included(&included(hash(4), Ok(400_000), false));
        assert_eq!(book.estimate(&small, small_size), Some(500_000));
        // Out of gas: simulated again.
        book.sent(hash(5), small.clone(), small_size);
        book.included(&included(hash(5), Err("out of gas"), true));
        assert_eq!(book.estimate(&small, small_size), None);
        assert!(
            book.sent.len() == 1 && book.order.len() == 1,
            "only the commit waits"
        );
        // Bounded: transactions never seen in a block are forgotten.
        for n in 0..(GAS_BOOK_PENDING + 10) {
            let mut bytes = [0u8; 32];
            bytes[..8].copy_from_slice(&(n as u64).to_be_bytes());
            book.sent(Hash::Sha256(bytes), commit.clone(), commit_size);
        }
        assert_eq!(book.sent.len(), GAS_BOOK_PENDING);
        assert_eq!(book.order.len(), GAS_BOOK_PENDING);
    }

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
