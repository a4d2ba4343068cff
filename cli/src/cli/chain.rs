//! `opengpu chain`: the node and the deployment.

use anyhow::Result;
use clap::Subcommand;

use opengpu_client::Opengpu;

use super::output::{bytes, fields};
use super::Context;

#[derive(Subcommand, Debug)]
pub enum ChainCommand {
    /// Node, latest block, and the deployment's contracts
    Status,
    /// The contracts' rules: accepted denoms, fees, kernel limits, deadlines and windows,
    /// minimum bond, unbonding period
    Params,
}

pub async fn run(ctx: &mut Context, cmd: ChainCommand) -> Result<()> {
    match cmd {
        ChainCommand::Status => status(ctx).await,
        ChainCommand::Params => params(ctx).await,
    }
}

async fn params(ctx: &mut Context) -> Result<()> {
    let contracts = ctx.contracts()?;
    let chain = ctx.chain().await?;
    let q = Opengpu::new(chain, &contracts);
    let market = q.market_config().await?;
    let registry = q.registry_config().await?;
    let vault = q.vault_config().await?;
    let json = serde_json::json!({ "market": market, "registry": registry, "vault": vault });
    ctx.emit(&json, || {
        let p = &market.params;
        let l = &p.kernel_limits;
        let d = &vault.stake_denom;
        fields(&[
            ("payment denoms", market.allowed_denoms.join(", ")),
            (
                "protocol fee",
                format!(
                    "{}.{:02}% to {}",
                    market.fee_bps / 100,
                    market.fee_bps % 100,
                    market.fee_collector
                ),
            ),
            ("stake denom", d.clone()),
            ("minimum bond", format!("{}{d}", registry.min_bond)),
            ("minimum collateral", format!("{}{d}", p.min_collateral)),
            (
                "unbonding period",
                format!("{}s", vault.unbonding_period_seconds),
            ),
            (
                "deadline",
                format!(
                    "{} to {} blocks",
                    p.min_deadline_blocks, p.max_deadline_blocks
                ),
            ),
            (
                "reveal window",
                format!("{} blocks", p.reveal_window_blocks),
            ),
            (
                "confirm window",
                format!("{} blocks", p.confirm_window_blocks),
            ),
            (
                "committers per task",
                format!("at most {}", p.max_committers),
            ),
            (
                "kernel limits",
                format!(
                    "source {}, {} args, inputs {}, outputs {}",
                    bytes(l.max_source_bytes),
                    l.max_args,
                    bytes(l.max_input_bytes),
                    bytes(l.max_output_bytes)
                ),
            ),
        ])
    })
}

async fn status(ctx: &mut Context) -> Result<()> {
    let deployment = ctx.deployment()?.cloned();
    let deployment_path = ctx.deployment_path()?;
    let chain = ctx.chain().await?;
    let node = chain.status().await?;
    let config = chain.config().clone();
    let json = serde_json::json!({
        "node": config.rpc,
        "status": node,
        "gas_price": config.gas_price.as_ref().map(|p| p.to_string()),
        "deployment_file": deployment_path,
        "deployment": deployment,
    });
    ctx.emit(&json, || {
        let mut pairs = vec![
            ("node", config.rpc.clone()),
            ("chain id", node.chain_id.clone()),
            ("moniker", node.moniker.clone()),
            ("version", node.node_version.clone()),
            ("latest height", node.latest_height.to_string()),
            ("latest block time", node.latest_block_time.clone()),
            ("catching up", node.catching_up.to_string()),
            (
                "gas price",
                config
                    .gas_price
                    .as_ref()
                    .map_or("none (pass --gas-prices to sign)".into(), |p| p.to_string()),
            ),
        ];
        match (&deployment, &deployment_path) {
            (Some(d), Some(path)) => {
                pairs.push(("deployment", path.display().to_string()));
                pairs.push(("registry", d.contracts.registry.address.clone()));
                pairs.push(("task market", d.contracts.task_market.address.clone()));
                pairs.push(("staking vault", d.contracts.staking_vault.address.clone()));
                pairs.push(("verification", d.contracts.verification.address.clone()));
            }
            _ => pairs.push(("deployment", "none found (pass --deployment FILE)".into())),
        }
        fields(&pairs)
    })
}
