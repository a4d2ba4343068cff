//! Many funded accounts for load tests: secp256k1 keys derived from a seed, funded by one
//! account of the chain with a few bank `MsgMultiSend`s, each keeping its account sequence
//! locally so that it can have many transactions in the mempool without asking the chain.
//!
//! ```ignore
//! let mut accounts = Accounts::new(&chain.client, "wasm", "gas-scale");
//! let mut funder = accounts.keyring_account(&keys_dir, "admin")?;
//! let mut providers =
//!     accounts.fund(&mut funder, 1000, &[Coin::new(10_000_000u128, "ustake")]).await?;
//! let bond_msg = |p: &Account| execute_msg(p.address(), &vault, &Bond {}, &bond);
//! let gas = providers[0].estimate_gas(&[bond_msg(&providers[0])?]).await?; // once per shape
//! for p in &mut providers {
//!     let msgs = vec![bond_msg(p)?];  // opengpu_client::tx::execute_msg
//!     p.sign_and_broadcast(msgs, gas).await?;         // sync broadcast, no wait
//! }
//! ```
//!
//! Signing and broadcasting are the client library's [`Signer`]: it keeps the sequence, bumps it
//! on every transaction the mempool takes and repairs it on a sequence mismatch. Only the gas
//! limit differs: fixed per call, so that a load generator simulates once per message shape
//! ([`Account::estimate_gas`]). A one-off transaction whose gas is itself the measurement can
//! have it simulated just before signing instead ([`Account::send_simulated`]).
//! [`in_parallel`] runs a job per account on tokio tasks, e.g. one broadcast each.

use std::collections::HashMap;
use std::future::Future;
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use cosmrs::crypto::secp256k1::SigningKey;
use cosmrs::crypto::PublicKey;
use cosmrs::proto::cosmos::bank::v1beta1::{Input, MsgMultiSend, MsgSend, Output};
use cosmrs::proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmrs::proto::cosmos::tx::v1beta1::TxRaw;
use cosmrs::proto::traits::MessageExt;
use cosmrs::tendermint::Hash;
use cosmrs::tx::{Body, Fee, SignerInfo};
use cosmrs::Any;
use cosmwasm_std::Coin;
use opengpu_client::keys::{Backend, Keyring, Passphrase};
use opengpu_client::{ChainClient, GasSetting, Signer, TxOutcome};

/// Outputs per `MsgMultiSend`: each may create an account, so a funding transaction's gas grows
/// with them; 250 keep a few transactions for a thousand accounts, each simulated first.
pub const MULTISEND_OUTPUTS: usize = 250;
/// Accounts whose number and sequence are read from the chain at once after funding.
const PARALLEL_QUERIES: usize = 32;

/// The chain and one client per gas setting, shared by every account of an [`Accounts`].
struct Shared {
    chain: ChainClient,
    prefix: String,
    /// Clients by fixed gas limit; `None`: simulated (`--gas auto`).
    by_gas: Mutex<HashMap<Option<u64>, ChainClient>>,
}

impl Shared {
    /// A client of the same node whose transactions take their gas limit from `gas`. The
    /// library's [`Signer`] takes its gas from the client's config; one client per setting, so
    /// their HTTP connection pools are reused.
    fn with_gas(&self, gas: GasSetting) -> anyhow::Result<ChainClient> {
        if self.chain.config().gas == gas {
            return Ok(self.chain.clone());
        }
        let key = match gas {
            GasSetting::Fixed(limit) => Some(limit),
            GasSetting::Auto => None,
        };
        let mut by_gas = self.by_gas.lock().expect("gas client cache poisoned");
        if let Some(client) = by_gas.get(&key) {
            return Ok(client.clone());
        }
        let mut config = self.chain.config().clone();
        config.gas = gas;
        let client = ChainClient::new(config)?;
        by_gas.insert(key, client.clone());
        Ok(client)
    }
}

/// Derives, funds and wraps accounts of one chain. Keys are `sha256("opengpu-bench/{seed}/{i}")`
/// (secp256k1 scalars): the same seed gives the same accounts in every run; two uses on one
/// chain take two seeds.
pub struct Accounts {
    shared: Arc<Shared>,
    seed: String,
    /// The index the next [`Accounts::fund`] derives first.
    next: u32,
}

impl Accounts {
    pub fn new(chain: &ChainClient, bech32_prefix: &str, seed: &str) -> Self {
        Accounts {
            shared: Arc::new(Shared {
                chain: chain.clone(),
                prefix: bech32_prefix.to_string(),
                by_gas: Mutex::new(HashMap::new()),
            }),
            seed: seed.to_string(),
            next: 0,
        }
    }

    /// The account of derived key `index` (not funded, nothing asked of the chain).
    pub fn derive(&self, index: u32) -> anyhow::Result<Account> {
        let secret = sha256(format!("opengpu-bench/{}/{index}", self.seed).as_bytes());
        let key = SigningKey::from_slice(&secret)
            .map_err(|e| anyhow::anyhow!("deriving bench key {index}: {e}"))?;
        self.account(key)
    }

    /// An account of this chain for `key` (e.g. a genesis account from a keyring).
    pub fn account(&self, key: SigningKey) -> anyhow::Result<Account> {
        let public_key = key.public_key();
        let signer = Signer::new(key, &self.shared.prefix)?;
        Ok(Account {
            address: signer.address(),
            signer,
            public_key,
            shared: self.shared.clone(),
        })
    }

    /// Account `name` of the test keyring in `keys` (an `opengpu` home), e.g. a localnet genesis
    /// account to fund the others from.
    pub fn keyring_account(&self, keys: &Path, name: &str) -> anyhow::Result<Account> {
        let keyring = Keyring::new(keys, Backend::Test, Passphrase::EnvOrPrompt);
        let (_, key) = keyring
            .signing_key(name)
            .with_context(|| format!("key {name} in {}", keys.display()))?;
        self.account(key)
    }

    /// Derives the next `n` accounts and sends each `coins` from `funder`, in
    /// [`MULTISEND_OUTPUTS`]-output `MsgMultiSend`s (gas simulated for each), then reads each
    /// account's number and sequence once: from here on they sign without queries.
    pub async fn fund(
        &mut self,
        funder: &mut Account,
        n: usize,
        coins: &[Coin],
    ) -> anyhow::Result<Vec<Account>> {
        let first = self.next;
        let accounts = (0..n as u32)
            .map(|i| self.derive(first + i))
            .collect::<anyhow::Result<Vec<_>>>()?;
        self.next = first + n as u32;
        let coins = proto_coins(coins);
        let mut batches = Vec::new();
        for chunk in accounts.chunks(MULTISEND_OUTPUTS) {
            let total: Vec<ProtoCoin> = coins
                .iter()
                .map(|c| {
                    let each: u128 = c.amount.parse().unwrap_or_default();
                    ProtoCoin {
                        denom: c.denom.clone(),
                        amount: (each * chunk.len() as u128).to_string(),
                    }
                })
                .collect();
            let msg = MsgMultiSend {
                inputs: vec![Input {
                    address: funder.address.clone(),
                    coins: total,
                }],
                outputs: chunk
                    .iter()
                    .map(|a| Output {
                        address: a.address.clone(),
                        coins: coins.clone(),
                    })
                    .collect(),
            };
            let msgs = vec![Any::from_msg(&msg).context("encoding MsgMultiSend")?];
            // Every batch simulated before any is sent: simulation checks the sequence
            // against the committed state.
            let gas = funder.estimate_gas(&msgs).await?;
            batches.push((msgs, gas));
        }
        let mut hashes = Vec::new();
        for (msgs, gas) in batches {
            hashes.push(funder.sign_and_broadcast(msgs, gas).await?);
        }
        for hash in hashes {
            funder.shared.chain.wait_for_tx(hash).await?;
        }
        let funded = in_parallel(accounts, PARALLEL_QUERIES, |_, mut account| async move {
            account.refresh().await?;
            Ok((account, ()))
        })
        .await?;
        Ok(funded.into_iter().map(|(account, ())| account).collect())
    }
}

/// Runs `job` once per account, each run on its own tokio task, in waves of `parallel` (a wave
/// ends before the next starts), and returns the accounts in their order, each with its job's
/// result. A job takes the account's index in `accounts` and the account, and gives the
/// account back with its result:
///
/// ```ignore
/// let sent = in_parallel(providers, 50, |i, mut p| {
///     let msgs = register_msgs(&p, i);
///     async move {
///         let hash = p.sign_and_broadcast(msgs?, gas).await?;
///         Ok((p, hash))
///     }
/// })
/// .await?;
/// ```
///
/// The first failed job fails the call, after the rest of its wave; its account is lost.
pub async fn in_parallel<T, F, Fut>(
    accounts: Vec<Account>,
    parallel: usize,
    mut job: F,
) -> anyhow::Result<Vec<(Account, T)>>
where
    F: FnMut(usize, Account) -> Fut,
    Fut: Future<Output = anyhow::Result<(Account, T)>> + Send + 'static,
    T: Send + 'static,
{
    let mut done = Vec::with_capacity(accounts.len());
    let mut pending = accounts.into_iter().enumerate();
    loop {
        let wave: Vec<_> = pending
            .by_ref()
            .take(parallel.max(1))
            .map(|(index, account)| tokio::spawn(job(index, account)))
            .collect();
        if wave.is_empty() {
            break;
        }
        let mut failed = None;
        for task in wave {
            match task.await? {
                Ok(result) => done.push(result),
                Err(e) => failed = failed.or(Some(e)),
            }
        }
        if let Some(e) = failed {
            return Err(e);
        }
    }
    Ok(done)
}

/// One account with its key and locally kept sequence.
pub struct Account {
    address: String,
    signer: Signer,
    public_key: PublicKey,
    shared: Arc<Shared>,
}

impl Account {
    pub fn address(&self) -> &str {
        &self.address
    }

    pub fn chain(&self) -> &ChainClient {
        &self.shared.chain
    }

    /// Reads account number and sequence from the chain (done by [`Accounts::fund`]; again
    /// after transactions of this account were dropped from the mempool).
    pub async fn refresh(&mut self) -> anyhow::Result<()> {
        self.signer.refresh(&self.shared.chain).await?;
        Ok(())
    }

    /// Signs `msgs` with gas limit `gas` (fee at the chain's gas price) and returns once the
    /// node's mempool took the transaction (`broadcast_tx_sync`), without waiting for a block.
    /// The sequence is bumped locally; a stale one is repaired as the [`Signer`] does.
    pub async fn sign_and_broadcast(&mut self, msgs: Vec<Any>, gas: u64) -> anyhow::Result<Hash> {
        let client = self.shared.with_gas(GasSetting::Fixed(gas))?;
        Ok(self.signer.broadcast(&client, msgs, "").await?)
    }

    /// [`Account::sign_and_broadcast`], then waits until the transaction is in a block and
    /// succeeded.
    pub async fn send(&mut self, msgs: Vec<Any>, gas: u64) -> anyhow::Result<TxOutcome> {
        let hash = self.sign_and_broadcast(msgs, gas).await?;
        Ok(self.shared.chain.wait_for_tx(hash).await?)
    }

    /// Signs `msgs` with their gas simulated just before (the library's `--gas auto`: this
    /// account's local sequence, times the chain config's gas adjustment), broadcasts them and
    /// waits until the transaction is in a block and succeeded. For one-off transactions, e.g.
    /// one whose `gas_used` is the measurement; a load generator rather simulates once per
    /// message shape ([`Account::estimate_gas`]) and sends with that limit.
    pub async fn send_simulated(&mut self, msgs: Vec<Any>) -> anyhow::Result<TxOutcome> {
        let client = self.shared.with_gas(GasSetting::Auto)?;
        Ok(self.signer.send(&client, msgs, "").await?)
    }

    /// Gas `msgs` take, simulated against the committed state with this account's committed
    /// sequence (so: while none of its transactions wait in the mempool), times the chain
    /// config's gas adjustment. Once per message shape is enough: the result fits every
    /// message of that shape.
    pub async fn estimate_gas(&self, msgs: &[Any]) -> anyhow::Result<u64> {
        let chain = &self.shared.chain;
        let config = chain.config();
        let sequence = chain
            .account(&self.address)
            .await?
            .map_or(0, |info| info.sequence);
        let gas_price = config
            .gas_price
            .as_ref()
            .context("the chain config has no gas price")?;
        // As the library's Signer simulates: an empty signature and a fee of 1 in the fee
        // denom (a zero fee would skip the fee transfer the real transaction pays for).
        let fee = cosmrs::Coin {
            denom: gas_price
                .denom
                .parse()
                .map_err(|e| anyhow::anyhow!("fee denom {}: {e}", gas_price.denom))?,
            amount: 1,
        };
        let auth_info = SignerInfo::single_direct(Some(self.public_key), sequence)
            .auth_info(Fee::from_amount_and_gas(fee, 0u64));
        let body = Body::new(msgs.to_vec(), "", 0u32);
        let encode = |e: cosmrs::ErrorReport| anyhow::anyhow!("encoding a transaction: {e}");
        let raw = TxRaw {
            body_bytes: body.into_bytes().map_err(encode)?,
            auth_info_bytes: auth_info.into_bytes().map_err(encode)?,
            signatures: vec![vec![]],
        };
        let simulated = chain
            .simulate(raw.to_bytes().context("encoding a transaction")?)
            .await?;
        Ok((simulated as f64 * config.gas_adjustment).ceil() as u64)
    }

    /// A bank `MsgSend` of `coins` from this account to `to`.
    pub fn send_msg(&self, to: &str, coins: &[Coin]) -> anyhow::Result<Any> {
        let msg = MsgSend {
            from_address: self.address.clone(),
            to_address: to.to_string(),
            amount: proto_coins(coins),
        };
        Any::from_msg(&msg).context("encoding MsgSend")
    }
}

/// SHA-256 (tendermint's, which is the sha2 crate's).
pub fn sha256(data: &[u8]) -> [u8; 32] {
    use cosmrs::tendermint::crypto::Sha256 as _;
    cosmrs::tendermint::crypto::default::Sha256::digest(data)
}

/// Coins as the bank module takes them: sorted by denom.
fn proto_coins(coins: &[Coin]) -> Vec<ProtoCoin> {
    let mut coins: Vec<ProtoCoin> = coins
        .iter()
        .map(|c| ProtoCoin {
            denom: c.denom.clone(),
            amount: c.amount.to_string(),
        })
        .collect();
    coins.sort_by(|a, b| a.denom.cmp(&b.denom));
    coins
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accounts(seed: &str) -> Accounts {
        let chain = ChainClient::new(opengpu_client::ChainConfig::new("http://127.0.0.1:1"))
            .expect("a client needs no node to exist");
        Accounts::new(&chain, "wasm", seed)
    }

    #[test]
    fn keys_are_deterministic_per_seed_and_index() {
        let a = accounts("one");
        let again = accounts("one");
        let other = accounts("two");
        let first = a.derive(0).unwrap();
        assert!(first.address().starts_with("wasm1"));
        assert_eq!(first.address(), again.derive(0).unwrap().address());
        assert_ne!(first.address(), a.derive(1).unwrap().address());
        assert_ne!(first.address(), other.derive(0).unwrap().address());
    }

    #[tokio::test]
    async fn parallel_jobs_keep_the_order_and_fail_together() {
        let a = accounts("p");
        let derive = || (0..7).map(|i| a.derive(i).unwrap()).collect::<Vec<_>>();
        let addresses: Vec<String> = derive().iter().map(|x| x.address().into()).collect();
        let done = in_parallel(derive(), 3, |i, account| async move { Ok((account, i)) })
            .await
            .unwrap();
        let got: Vec<(String, usize)> = done
            .iter()
            .map(|(account, i)| (account.address().into(), *i))
            .collect();
        assert_eq!(got, addresses.into_iter().zip(0..).collect::<Vec<_>>());
        let failed = in_parallel(derive(), 3, |i, account| async move {
            anyhow::ensure!(i != 4, "job {i}");
            Ok((account, ()))
        })
        .await;
        assert_eq!(
            failed.err().map(|e| e.to_string()).as_deref(),
            Some("job 4")
        );
    }

    #[test]
    fn bank_coins_are_sorted_by_denom() {
        let coins = proto_coins(&[Coin::new(2u128, "uzzz"), Coin::new(1u128, "uatom")]);
        let denoms: Vec<_> = coins.iter().map(|c| c.denom.as_str()).collect();
        assert_eq!(denoms, ["uatom", "uzzz"]);
        let msg = accounts("s")
            .derive(0)
            .unwrap()
            .send_msg("wasm1to", &[Coin::new(5u128, "ustake")])
            .unwrap();
        assert_eq!(msg.type_url, "/cosmos.bank.v1beta1.MsgSend");
    }
}
