//! `opengpu market`: the market's claims, payments the bank refused at settlement (e.g. to a
//! module account) that their owner withdraws later, so that no refused payment can block a
//! task from closing.

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use cosmwasm_std::Coin;
use opengpu_client::Opengpu;
use opengpu_types::events::ClaimWithdrawn;
use opengpu_types::market::ExecuteMsg;

use super::output::{table, tx_json};
use super::task::render;
use super::Context;

#[derive(Subcommand, Debug)]
pub enum MarketCommand {
    /// Show an address's claims: payments the bank refused at settlement, and payouts home
    /// over IBC that failed, per denom (also `opengpu claims`)
    Claims(ClaimsArgs),
    /// Withdraw the --from key's claim in DENOM (all of it; also `opengpu claim --denom`)
    WithdrawClaim {
        /// Denom of the claim, e.g. uatom
        denom: String,
        /// Send it to this key or address instead of the --from key
        #[arg(long, value_name = "NAME|ADDRESS")]
        to: Option<String>,
    },
}

/// `market claims` and `claims`.
#[derive(Args, Debug)]
pub struct ClaimsArgs {
    /// Key name or address [default: the --from key]
    who: Option<String>,
    /// Every claim the market owes, per denom, instead of one address's
    #[arg(long, conflicts_with = "who")]
    all: bool,
}

/// `claim`: `market withdraw-claim` with the denom as a flag.
#[derive(Args, Debug)]
pub struct ClaimArgs {
    /// Denom of the claim, e.g. uatom or an ibc/ voucher
    #[arg(long)]
    denom: String,
    /// Send it to this key or address instead of the --from key
    #[arg(long, value_name = "NAME|ADDRESS")]
    to: Option<String>,
}

pub async fn run(ctx: &mut Context, cmd: MarketCommand) -> Result<()> {
    match cmd {
        MarketCommand::Claims(args) => claims(ctx, args).await,
        MarketCommand::WithdrawClaim { denom, to } => withdraw(ctx, denom, to).await,
    }
}

/// `opengpu claim --denom D`.
pub async fn claim(ctx: &mut Context, args: ClaimArgs) -> Result<()> {
    withdraw(ctx, args.denom, args.to).await
}

pub async fn claims(ctx: &mut Context, args: ClaimsArgs) -> Result<()> {
    let ClaimsArgs { who, all } = args;
    let address = if all {
        None
    } else {
        Some(ctx.resolve_address(who.as_deref())?)
    };
    let contracts = ctx.contracts()?;
    let chain = ctx.chain().await?;
    let q = Opengpu::new(chain, &contracts);
    let claims = match &address {
        Some(address) => q.claims(address).await?.claims,
        None => q.claim_totals().await?.claims,
    };
    let json = serde_json::json!({ "address": address, "claims": claims });
    ctx.emit(&json, || {
        let whose = address
            .as_deref()
            .map_or("the market".to_string(), |a| a.to_string());
        if claims.is_empty() {
            return match &address {
                Some(a) => format!("{a} has no claims"),
                None => "the market owes no claims".into(),
            };
        }
        let mut text = format!("claims of {whose}:\n{}", coins_table(&claims));
        if address.is_some() {
            text.push_str("\nwithdraw one with `opengpu claim --denom DENOM [--to ADDRESS]`");
        }
        text
    })
}

async fn withdraw(ctx: &mut Context, denom: String, to: Option<String>) -> Result<()> {
    let recipient = to.map(|t| ctx.resolve_address(Some(&t))).transpose()?;
    let contracts = ctx.contracts()?;
    let chain = ctx.chain().await?.clone();
    let (info, mut signer) = ctx.signer().await?;
    let q = Opengpu::new(&chain, &contracts);
    let owed = q.claims(&info.address).await?.claims;
    if !owed.iter().any(|c| c.denom == denom && !c.amount.is_zero()) {
        if owed.is_empty() {
            bail!("{} has no claims", info.address);
        }
        bail!(
            "{} has no claim in {denom}; its claims: {}",
            info.address,
            owed.iter()
                .map(|c| format!("{}{}", c.amount, c.denom))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let msg = ExecuteMsg::WithdrawClaim {
        denom,
        recipient: recipient.clone(),
    };
    let tx = signer
        .execute(&chain, &contracts.task_market, &msg, &[])
        .await?;
    let market = contracts.task_market.as_str();
    let withdrawn: Option<ClaimWithdrawn> = tx.event(Some(market))?;
    let json = tx_json(
        &tx,
        serde_json::json!({
            "beneficiary": info.address,
            "recipient": withdrawn.as_ref().map(|w| w.recipient.clone()),
            "denom": withdrawn.as_ref().map(|w| w.denom.clone()),
            "amount": withdrawn.as_ref().map(|w| w.amount),
            "events": render::market_events_json(&tx, market),
        }),
    );
    ctx.emit(&json, || render::tx_with_events(&tx, market))
}

fn coins_table(coins: &[Coin]) -> String {
    let rows: Vec<Vec<String>> = coins
        .iter()
        .map(|c| vec![c.amount.to_string(), c.denom.clone()])
        .collect();
    table(&["amount", "denom"], &rows)
}
