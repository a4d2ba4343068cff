//! `opengpu stake`: provider stake in the staking vault.

use anyhow::Result;
use clap::Subcommand;
use cosmwasm_std::{Coin, Uint128};
use opengpu_client::config::parse_amount_in;
use opengpu_client::Opengpu;
use opengpu_types::events::{StakeBonded, StakeClaimed, StakeUnbonded};
use opengpu_types::vault::ExecuteMsg;

use super::output::{fields, table, tx_json, tx_line};
use super::Context;

#[derive(Subcommand, Debug)]
pub enum StakeCommand {
    /// Bond stake (the vault's stake denom), needed to register and to take tasks
    Bond {
        /// Amount, e.g. 1000000ustake (a bare number is in the stake denom)
        amount: String,
    },
    /// Start unbonding free stake; it can be claimed after the unbonding period
    Unbond {
        /// Amount, e.g. 500ustake
        amount: String,
    },
    /// Pay out every matured unbonding claim
    Claim,
    /// Show bonded, locked and free stake and unbonding claims
    Show {
        /// Key name or address [default: the --from key]
        who: Option<String>,
    },
}

pub async fn run(ctx: &mut Context, cmd: StakeCommand) -> Result<()> {
    let contracts = ctx.contracts()?;
    let chain = ctx.chain().await?.clone();
    let q = Opengpu::new(&chain, &contracts);
    let vault = contracts.staking_vault.as_str();
    match cmd {
        StakeCommand::Show { who } => {
            let address = ctx.resolve_address(who.as_deref())?;
            let denom = q.vault_config().await?.stake_denom;
            let stake = q.stake(&address).await?;
            ctx.emit(&stake, || {
                let mut text = fields(&[
                    ("address", stake.address.to_string()),
                    ("bonded", format!("{}{denom}", stake.bonded)),
                    ("locked", format!("{}{denom}", stake.locked)),
                    ("free", format!("{}{denom}", stake.free)),
                    ("unbonding", format!("{}{denom}", stake.unbonding)),
                ]);
                if !stake.claims.is_empty() {
                    let rows: Vec<Vec<String>> = stake
                        .claims
                        .iter()
                        .map(|c| {
                            vec![
                                format!("{}{denom}", c.amount),
                                humantime::format_rfc3339_seconds(
                                    std::time::UNIX_EPOCH
                                        + std::time::Duration::from_secs(c.release_at.seconds()),
                                )
                                .to_string(),
                            ]
                        })
                        .collect();
                    text.push_str("\n\n");
                    text.push_str(&table(&["claim", "release at"], &rows));
                }
                text
            })
        }
        StakeCommand::Bond { amount } => {
            let denom = q.vault_config().await?.stake_denom;
            let amount = positive(parse_amount_in(&amount, &denom)?)?;
            let (_, mut signer) = ctx.signer().await?;
            let funds = [Coin::new(amount, denom.clone())];
            let tx = signer
                .execute(&chain, vault, &ExecuteMsg::Bond {}, &funds)
                .await?;
            let event: Option<StakeBonded> = tx.event(Some(vault))?;
            let bonded = event.map(|e| e.bonded);
            ctx.emit(&tx_json(&tx, serde_json::json!({"bonded": bonded})), || {
                let total = bonded.map_or(String::new(), |b| format!("; {b}{denom} bonded in all"));
                format!("{}\nbonded {amount}{denom}{total}", tx_line(&tx))
            })
        }
        StakeCommand::Unbond { amount } => {
            let denom = q.vault_config().await?.stake_denom;
            let amount = positive(parse_amount_in(&amount, &denom)?)?;
            let (_, mut signer) = ctx.signer().await?;
            let tx = signer
                .execute(&chain, vault, &ExecuteMsg::Unbond { amount }, &[])
                .await?;
            let event: Option<StakeUnbonded> = tx.event(Some(vault))?;
            let release_at = event.map(|e| e.release_at);
            ctx.emit(
                &tx_json(&tx, serde_json::json!({"release_at": release_at})),
                || {
                    let when = release_at.map_or(String::new(), |t| {
                        format!(
                            "; claimable from {}",
                            humantime::format_rfc3339_seconds(
                                std::time::UNIX_EPOCH + std::time::Duration::from_secs(t)
                            )
                        )
                    });
                    format!("{}\nunbonding {amount}{denom}{when}", tx_line(&tx))
                },
            )
        }
        StakeCommand::Claim => {
            let denom = q.vault_config().await?.stake_denom;
            let (_, mut signer) = ctx.signer().await?;
            let tx = signer
                .execute(&chain, vault, &ExecuteMsg::Claim {}, &[])
                .await?;
            let event: Option<StakeClaimed> = tx.event(Some(vault))?;
            let claimed = event.map_or(Uint128::zero(), |e| e.amount);
            ctx.emit(
                &tx_json(&tx, serde_json::json!({"claimed": claimed})),
                || format!("{}\nclaimed {claimed}{denom}", tx_line(&tx)),
            )
        }
    }
}

fn positive(amount: Uint128) -> Result<Uint128> {
    if amount.is_zero() {
        anyhow::bail!("the amount must be greater than zero");
    }
    Ok(amount)
}
