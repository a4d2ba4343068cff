//! `opengpu balance`: bank balances.

use anyhow::Result;
use clap::Args;

use super::output::table;
use super::Context;

#[derive(Args, Debug)]
pub struct BalanceArgs {
    /// Key name or address [default: the --from key]
    pub who: Option<String>,
}

pub async fn run(ctx: &mut Context, args: BalanceArgs) -> Result<()> {
    let address = ctx.resolve_address(args.who.as_deref())?;
    let balances = ctx.chain().await?.all_balances(&address).await?;
    let json = serde_json::json!({ "address": address, "balances": balances });
    ctx.emit(&json, || {
        let rows: Vec<Vec<String>> = balances
            .iter()
            .map(|c| vec![c.amount.to_string(), c.denom.clone()])
            .collect();
        if rows.is_empty() {
            format!("{address} holds nothing")
        } else {
            format!("{address}\n{}", table(&["amount", "denom"], &rows))
        }
    })
}
