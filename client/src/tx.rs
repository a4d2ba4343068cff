//! Building, signing and sending transactions: the [`Signer`] owns one key and its account
//! sequence, so everything one account broadcasts goes through one value.

use cosmrs::crypto::secp256k1::SigningKey;
use cosmrs::proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmrs::proto::cosmos::tx::v1beta1::TxRaw;
use cosmrs::proto::cosmwasm::wasm::v1::MsgExecuteContract;
use cosmrs::proto::traits::MessageExt;
use cosmrs::tx::{Body, Fee, SignDoc, SignerInfo};
use cosmrs::{AccountId, Any};
use cosmwasm_std::Coin;
use serde::Serialize;

use crate::chain::{AccountInfo, ChainClient, TxOutcome};
use crate::config::GasSetting;
use crate::error::{Error, Result};
use crate::keys::address_of;

/// Broadcast attempts when the chain reports a stale or taken sequence (fixing it between).
pub const MAX_SEQUENCE_ATTEMPTS: u32 = 4;

/// A key that signs for one account, with the account's number and next sequence.
pub struct Signer {
    key: SigningKey,
    address: AccountId,
    account: Option<AccountInfo>,
}

impl Signer {
    pub fn new(key: SigningKey, bech32_prefix: &str) -> Result<Self> {
        let address = address_of(&key, bech32_prefix)?;
        Ok(Signer {
            key,
            address,
            account: None,
        })
    }

    pub fn address(&self) -> String {
        self.address.to_string()
    }

    /// Drops the cached account so that the next transaction reads it from the chain again.
    pub fn forget_account(&mut self) {
        self.account = None;
    }

    /// Reads account number and sequence from the chain.
    pub async fn refresh(&mut self, chain: &ChainClient) -> Result<AccountInfo> {
        let account = chain
            .account(self.address.as_ref())
            .await?
            .ok_or_else(|| Error::AccountNotFound(self.address.to_string()))?;
        self.account = Some(account);
        Ok(account)
    }

    /// Executes `msg` on `contract`, attaching `funds`; returns once the transaction is in a
    /// block and succeeded.
    pub async fn execute<M: Serialize>(
        &mut self,
        chain: &ChainClient,
        contract: &str,
        msg: &M,
        funds: &[Coin],
    ) -> Result<TxOutcome> {
        let any = execute_msg(self.address.as_ref(), contract, msg, funds)?;
        self.send(chain, vec![any], "").await
    }

    /// Signs and broadcasts `msgs`, then waits for inclusion. Gas comes from the chain
    /// config: simulated and adjusted, or fixed. A stale sequence is refreshed and the
    /// transaction re-signed, up to [`MAX_SEQUENCE_ATTEMPTS`] times.
    pub async fn send(
        &mut self,
        chain: &ChainClient,
        msgs: Vec<Any>,
        memo: &str,
    ) -> Result<TxOutcome> {
        let hash = self.broadcast(chain, msgs, memo).await?;
        chain.wait_for_tx(hash).await
    }

    /// Signs and broadcasts `msgs` and returns once the node's mempool took them, without
    /// waiting for a block: a daemon keeps one signer busy only for the broadcast and waits
    /// for inclusion elsewhere. Sequence handling as in [`Signer::send`].
    pub async fn broadcast(
        &mut self,
        chain: &ChainClient,
        msgs: Vec<Any>,
        memo: &str,
    ) -> Result<cosmrs::tendermint::Hash> {
        let mut attempt = 0;
        let hash = loop {
            attempt += 1;
            let account = match self.account {
                Some(account) => account,
                None => self.refresh(chain).await?,
            };
            match self.sign_and_broadcast(chain, &msgs, memo, account).await {
                Ok(hash) => break hash,
                // Our sequence is taken by an identical transaction in the mempool: use the
                // next one.
                Err(e) if e.is_duplicate_tx() && attempt < MAX_SEQUENCE_ATTEMPTS => {
                    self.account = Some(AccountInfo {
                        sequence: account.sequence + 1,
                        ..account
                    });
                }
                Err(e) if e.is_sequence_mismatch() => {
                    // Retry with the sequence the node expects when it says so, else with a
                    // fresh one from the chain.
                    self.account = e.expected_sequence().map(|sequence| AccountInfo {
                        sequence,
                        ..account
                    });
                    if attempt >= MAX_SEQUENCE_ATTEMPTS {
                        return Err(Error::SequenceMismatch {
                            attempts: attempt,
                            reason: e.to_string(),
                        });
                    }
                }
                Err(e) => return Err(e),
            }
        };
        // The ante handler bumped the sequence when the mempool took the transaction, even
        // if its messages fail in the block.
        if let Some(account) = self.account.as_mut() {
            account.sequence += 1;
        }
        Ok(hash)
    }

    async fn sign_and_broadcast(
        &self,
        chain: &ChainClient,
        msgs: &[Any],
        memo: &str,
        account: AccountInfo,
    ) -> Result<cosmrs::tendermint::Hash> {
        let config = chain.config();
        let gas_price = config.gas_price.as_ref().ok_or_else(|| {
            Error::invalid(
                "gas price",
                "",
                "none configured: pass --gas-prices, e.g. 0.025ustake",
            )
        })?;
        let body = Body::new(msgs.to_vec(), memo, 0u32);
        let denom: cosmrs::Denom = gas_price
            .denom
            .parse()
            .map_err(|e| Error::invalid("gas price denom", &gas_price.denom, e))?;
        let gas = match config.gas {
            GasSetting::Fixed(gas) => gas,
            GasSetting::Auto => {
                let unsigned = self.unsigned_tx(&body, account.sequence, &denom)?;
                let simulated = chain.simulate(unsigned).await?;
                (simulated as f64 * config.gas_adjustment).ceil() as u64
            }
        };
        let fee_amount = gas_price.fee_for(gas);
        let fee = Fee::from_amount_and_gas(
            cosmrs::Coin {
                denom,
                amount: fee_amount,
            },
            gas,
        );
        let auth_info =
            SignerInfo::single_direct(Some(self.key.public_key()), account.sequence).auth_info(fee);
        let chain_id = config
            .chain_id
            .parse()
            .map_err(|e| Error::invalid("chain id", &config.chain_id, e))?;
        let tx = SignDoc::new(&body, &auth_info, &chain_id, account.account_number)
            .and_then(|doc| doc.sign(&self.key))
            .and_then(|raw| raw.to_bytes())
            .map_err(|e| Error::Crypto(format!("signing failed: {e}")))?;
        chain.broadcast(tx).await
    }

    /// The transaction as simulation takes it: real body and signer info, an empty signature,
    /// and a token fee of 1 in the fee denom. A zero fee would skip the fee transfer, whose
    /// gas the real transaction pays, and make the estimate low by some 10%.
    fn unsigned_tx(
        &self,
        body: &Body,
        sequence: u64,
        fee_denom: &cosmrs::Denom,
    ) -> Result<Vec<u8>> {
        let fee = cosmrs::Coin {
            denom: fee_denom.clone(),
            amount: 1,
        };
        let auth_info = SignerInfo::single_direct(Some(self.key.public_key()), sequence)
            .auth_info(Fee::from_amount_and_gas(fee, 0u64));
        let encode = |e: cosmrs::ErrorReport| Error::decode("transaction", e);
        let raw = TxRaw {
            body_bytes: body.clone().into_bytes().map_err(encode)?,
            auth_info_bytes: auth_info.into_bytes().map_err(encode)?,
            signatures: vec![vec![]],
        };
        raw.to_bytes().map_err(|e| Error::decode("transaction", e))
    }
}

/// A `MsgExecuteContract` as an `Any`, funds sorted by denom as the SDK requires.
pub fn execute_msg<M: Serialize>(
    sender: &str,
    contract: &str,
    msg: &M,
    funds: &[Coin],
) -> Result<Any> {
    let mut funds: Vec<ProtoCoin> = funds
        .iter()
        .map(|c| ProtoCoin {
            denom: c.denom.clone(),
            amount: c.amount.to_string(),
        })
        .collect();
    funds.sort_by(|a, b| a.denom.cmp(&b.denom));
    let msg = MsgExecuteContract {
        sender: sender.to_string(),
        contract: contract.to_string(),
        msg: serde_json::to_vec(msg).map_err(|e| Error::json("encoding an execute message", e))?,
        funds,
    };
    Any::from_msg(&msg).map_err(|e| Error::decode("MsgExecuteContract", e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmrs::proto::prost::Message;

    #[test]
    fn execute_msg_carries_json_and_sorted_funds() {
        let any = execute_msg(
            "wasm1sender",
            "wasm1contract",
            &serde_json::json!({"cancel": {"task_id": 3}}),
            &[Coin::new(5u128, "uzzz"), Coin::new(7u128, "uaaa")],
        )
        .unwrap();
        assert_eq!(any.type_url, "/cosmwasm.wasm.v1.MsgExecuteContract");
        let msg = MsgExecuteContract::decode(any.value.as_slice()).unwrap();
        assert_eq!(msg.msg, br#"{"cancel":{"task_id":3}}"#);
        let denoms: Vec<_> = msg.funds.iter().map(|c| c.denom.as_str()).collect();
        assert_eq!(denoms, ["uaaa", "uzzz"]);
    }
}
