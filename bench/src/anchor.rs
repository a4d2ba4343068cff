//! The yardstick of the gas tables: the published cw20-base 2.0.0 (bench/cw20-anchor, built to
//! wasm by scripts/bench.sh) stored and instantiated on the chain under test, a cw20 transfer
//! and a bank send, each in its own transaction. The goal: every market lifecycle message at
//! most [`GOAL`] x a cw20 transfer to an existing holder.

use std::path::Path;

use anyhow::Context;
use cosmrs::bank::MsgSend;
use cosmrs::cosmwasm::{MsgInstantiateContract, MsgStoreCode};
use cosmrs::tx::Msg;
use opengpu_client::{Signer, TxOutcome};
use serde_json::json;

use crate::chain::Chain;
use crate::gas_models::Row;

/// At most this many cw20 transfers' worth of gas per lifecycle message.
pub const GOAL: u64 = 3;

pub struct Anchors {
    pub rows: Vec<Row>,
    /// Gas of a cw20 `transfer` to an existing holder: the yardstick.
    pub transfer: u64,
}

/// Stores and instantiates `wasm` as `from`, then measures two cw20 transfers to `holder` (the
/// first creates its balance) and a bank send to it.
pub async fn measure(
    chain: &Chain,
    wasm: &Path,
    from: &mut Signer,
    holder: &str,
) -> anyhow::Result<Anchors> {
    let code = std::fs::read(wasm).with_context(|| format!("reading {}", wasm.display()))?;
    let kib = code.len() / 1024;
    let sender = account(&from.address())?;
    let mut rows = Vec::new();
    let mut record = |name: String, tx: &TxOutcome| rows.push((name, tx.gas_used, tx.gas_wanted));

    let store = MsgStoreCode {
        sender: sender.clone(),
        wasm_byte_code: code,
        instantiate_permission: None,
    };
    let tx = from.send(&chain.client, vec![any(store)?], "").await?;
    record(format!("cw20-base store code ({kib} KiB wasm)"), &tx);
    let code_id: u64 = attribute(&tx, "store_code", "code_id")?.parse()?;

    let init = json!({
        "name": "Bench Token", "symbol": "BENCH", "decimals": 6,
        "initial_balances": [{ "address": from.address(), "amount": "1000000000" }],
        "mint": null, "marketing": null,
    });
    let instantiate = MsgInstantiateContract {
        sender: sender.clone(),
        admin: None,
        code_id,
        label: Some("cw20-base gas anchor".into()),
        msg: serde_json::to_vec(&init)?,
        funds: vec![],
    };
    let tx = from
        .send(&chain.client, vec![any(instantiate)?], "")
        .await?;
    record("cw20-base instantiate (one initial balance)".into(), &tx);
    let token = attribute(&tx, "instantiate", "_contract_address")?;

    let transfer = json!({ "transfer": { "recipient": holder, "amount": "1000" } });
    let tx = from.execute(&chain.client, &token, &transfer, &[]).await?;
    record("cw20 transfer to a new holder".into(), &tx);
    let tx = from.execute(&chain.client, &token, &transfer, &[]).await?;
    record(
        "**cw20 transfer to an existing holder (the yardstick)**".into(),
        &tx,
    );
    let yardstick = tx.gas_used;

    let send = MsgSend {
        from_address: sender,
        to_address: account(holder)?,
        amount: vec![cosmrs::Coin {
            denom: "uatom".parse().map_err(|e| anyhow::anyhow!("{e}"))?,
            amount: 1_000,
        }],
    };
    let tx = from.send(&chain.client, vec![any(send)?], "").await?;
    record("bank MsgSend (1000uatom)".into(), &tx);
    Ok(Anchors {
        rows,
        transfer: yardstick,
    })
}

fn account(address: &str) -> anyhow::Result<cosmrs::AccountId> {
    address
        .parse()
        .map_err(|e| anyhow::anyhow!("{address}: {e}"))
}

fn any(msg: impl Msg) -> anyhow::Result<cosmrs::Any> {
    msg.to_any().map_err(|e| anyhow::anyhow!("encoding: {e}"))
}

fn attribute(tx: &TxOutcome, kind: &str, key: &str) -> anyhow::Result<String> {
    tx.events
        .iter()
        .filter(|e| e.kind == kind)
        .find_map(|e| e.attribute(key))
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("no {kind}.{key} in transaction {}", tx.txhash))
}

/// Prints the anchors, then each lifecycle message against the yardstick.
pub fn print(anchors: &Anchors, lifecycle: &[Row]) {
    println!("## Gas against cw20-base\n");
    println!(
        "The goal: each market lifecycle message at most {GOAL} x a `cw20-base` transfer on the \
         same chain. `cw20-base` 2.0.0 from crates.io (wrapper crate `bench/cw20-anchor`, \
         optimized with the contracts' wasm-opt flags), stored and instantiated in this run, \
         each message in its own transaction (the code uploaded uncompressed, unlike \
         `wasmd tx wasm store`, which gzips it). The yardstick is a transfer to an existing \
         holder; the first transfer, to a new holder, is listed too.\n"
    );
    println!("| message | gas used | gas wanted |");
    println!("|---|---:|---:|");
    for (name, used, wanted) in &anchors.rows {
        println!("| {name} | {used} | {wanted} |");
    }
    println!();
    println!("| message | gas used | x cw20 transfer | at most {GOAL}x |\n|---|---:|---:|---|");
    for (name, used, _) in lifecycle {
        let ratio = *used as f64 / anchors.transfer as f64;
        let verdict = if *used <= GOAL * anchors.transfer {
            "yes".to_string()
        } else {
            format!("no: {}", why_heavy(name))
        };
        println!("| {name} | {used} | {ratio:.1} | {verdict} |");
    }
    println!();
    // The First Response lifecycle (its first three rows) is the goal's headline.
    let ratios: Vec<String> = lifecycle
        .iter()
        .take(3)
        .map(|(name, used, _)| {
            let short = name.split_whitespace().nth(1).unwrap_or(name);
            format!("{short} {:.1}x", *used as f64 / anchors.transfer as f64)
        })
        .collect();
    let met = lifecycle
        .iter()
        .take(3)
        .all(|(_, used, _)| *used <= GOAL * anchors.transfer);
    crate::goals::report(
        "gas of a First Response lifecycle message vs a cw20-base transfer",
        &format!("each at most {GOAL}x"),
        &ratios.join(", "),
        met,
        "the reveal carries and stores the outputs, queries the verification contract and \
         settles (bank sends, a vault unlock: two more contract calls); closing it means fewer \
         cross-contract calls at reveal (verification as a library inside the market, collateral \
         unlocked lazily) or outputs stored by hash",
    );
}

/// Why a message of this kind costs more than a token transfer (a transfer reads and writes
/// two balances).
fn why_heavy(name: &str) -> &'static str {
    let name = name.strip_prefix("task-market ").unwrap_or(name);
    let kind = name.split([' ', ',']).next().unwrap_or(name);
    match kind {
        "PublishTask" => {
            "carries and stores the kernel (source and inputs, gas per byte) and has the \
             verification contract check the policy"
        }
        "Reveal" if name.contains("Freivalds") => {
            "carries the whole output matrix and runs Freivalds' check over it on-chain"
        }
        "Reveal" => {
            "carries the outputs, has the verification contract check them and stores them; a \
             settling reveal also pays and unlocks collateral in the vault"
        }
        "Confirm" => "settles: pays the offer, refunds the client, unlocks collateral in the vault",
        "Advance" => "slashes the winner's collateral through the vault and re-awards the task",
        "RevealBid" => "the last one awards the task and releases the loser's collateral",
        "Commit" | "Bid" => "locks the provider's collateral in the vault (a second contract)",
        _ => "more state than two balances",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_by_message_kind() {
        assert!(why_heavy("task-market PublishTask (1 KiB kernel)").starts_with("carries and"));
        assert!(
            why_heavy("Reveal, SGEMM n=320 (400 KiB output; Freivalds' check)")
                .contains("Freivalds")
        );
        assert!(why_heavy("Reveal, awardee").starts_with("carries the outputs"));
        assert!(why_heavy("RevealBid, last (awards)").contains("awards"));
        assert!(why_heavy("Commit, runner-up").contains("vault"));
    }
}
