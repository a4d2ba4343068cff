//! Gas of a First Response lifecycle (1 KiB kernel, 4 KiB output), of the other models'
//! messages (gas_models) and of the cw20-base and bank yardsticks (anchor), each message in its
//! own transaction, as `gas_used` in the block.

use std::path::Path;

use cosmwasm_std::{Binary, Coin, Uint128};
use opengpu_client::reveal::RevealPlan;
use opengpu_types::kernel::{Kernel, KernelArg, Requirements};
use opengpu_types::market::{CompetitionModel, ExecuteMsg};
use opengpu_types::verification::VerificationPolicy;

use crate::chain::Chain;
use crate::ChainArgs;

const SOURCE_BYTES: usize = 1024;
const OUTPUT_BYTES: u64 = 4096;

/// A 1 KiB kernel: a real body padded with a comment to exactly [`SOURCE_BYTES`].
fn kernel() -> Kernel {
    let body = "__kernel void fill(__global uint *out) {\n    size_t i = get_global_id(0);\n    out[i] = (uint)i * 2654435761u;\n}\n";
    let mut source = String::from(body);
    source.push_str("// ");
    while source.len() < SOURCE_BYTES - 1 {
        source.push('.');
    }
    source.push('\n');
    Kernel {
        source,
        entry_point: "fill".into(),
        global_work_size: vec![OUTPUT_BYTES / 4],
        local_work_size: None,
        args: vec![KernelArg::Output { size: OUTPUT_BYTES }],
    }
}

pub async fn run(
    args: &ChainArgs,
    provider_name: &str,
    second: &str,
    cw20_wasm: &Path,
    plots: Option<&Path>,
) -> anyhow::Result<()> {
    let chain = Chain::connect(args)?;
    let mut client = chain.signer("client")?;
    let mut provider = chain.signer(provider_name)?;
    let anchors =
        crate::anchor::measure(&chain, cw20_wasm, &mut client, &provider.address()).await?;
    let market = chain.contracts.task_market.clone();
    let mut rows: Vec<(String, u64, u64)> = Vec::new();

    let publish = ExecuteMsg::PublishTask {
        kernel: kernel(),
        requirements: Requirements::default(),
        collateral: Uint128::new(1_000),
        deadline_blocks: 100,
        verification: VerificationPolicy::Unverified {},
        model: CompetitionModel::FirstResponse,
    };
    let funds = [Coin::new(10_000u128, "uatom")];
    let tx = client
        .execute(&chain.client, &market, &publish, &funds)
        .await?;
    let published = tx
        .event::<opengpu_types::events::TaskPublished>(Some(&market))?
        .ok_or_else(|| anyhow::anyhow!("no task_published event"))?;
    rows.push((
        "task-market PublishTask (1 KiB kernel, 10000uatom)".into(),
        tx.gas_used,
        tx.gas_wanted,
    ));

    // Any right-sized output passes the unverified policy; its content does not change gas.
    let outputs = vec![Binary::from(vec![0xA5u8; OUTPUT_BYTES as usize])];
    // No price: First Response (the price is inside the commitment only under Manual
    // Confirmation).
    let plan = RevealPlan::new(published.task_id, &provider.address(), outputs, None);
    let tx = provider
        .execute(&chain.client, &market, &plan.commit_msg(), &[])
        .await?;
    rows.push((
        "task-market Commit (locks collateral in the vault)".into(),
        tx.gas_used,
        tx.gas_wanted,
    ));
    chain
        .client
        .wait_for_height_above(tx.height, std::time::Duration::from_secs(30))
        .await?;

    let tx = provider
        .execute(&chain.client, &market, &plan.reveal_msg()?, &[])
        .await?;
    anyhow::ensure!(
        tx.event::<opengpu_types::events::TaskSettled>(Some(&market))?
            .is_some(),
        "the reveal did not settle the task"
    );
    rows.push((
        "task-market Reveal (4 KiB output; verifies, settles, pays, unlocks)".into(),
        tx.gas_used,
        tx.gas_wanted,
    ));

    println!("## Gas per message (First Response lifecycle)\n");
    println!(
        "Task {} on `{}`; each message in its own transaction, gas from the block \
         (`gas_used`), limit from simulation x {}.\n",
        published.task_id,
        chain.deployment.chain_id,
        opengpu_client::config::DEFAULT_GAS_ADJUSTMENT
    );
    println!("| message | gas used | gas wanted |");
    println!("|---|---:|---:|");
    for (name, used, wanted) in &rows {
        println!("| {name} | {used} | {wanted} |");
    }
    let lifecycle: u64 = rows[..3].iter().map(|r| r.1).sum();
    println!("| **whole lifecycle (3 transactions)** | **{lifecycle}** | |");
    println!();

    let models = crate::gas_models::run(&chain, [provider_name, second]).await?;
    println!("## Gas per message (Freivalds, sealed offers, Consensus)\n");
    println!(
        "Same chain; task-market messages, each in its own transaction. The SGEMM is the largest \
         the localnet publishes (1 MiB input limit); its reveal runs Freivalds' check on-chain.\n"
    );
    println!("| message | gas used | gas wanted |");
    println!("|---|---:|---:|");
    for (name, used, wanted) in &models {
        println!("| {name} | {used} | {wanted} |");
    }
    println!();

    rows.extend(models);
    crate::anchor::print(&anchors, &rows);
    if let Some(dir) = plots {
        let bars: Vec<(String, u64)> = rows.iter().map(|r| (r.0.clone(), r.1)).collect();
        crate::plot::gas(&dir.join("gas.svg"), &bars, anchors.transfer)?;
    }
    Ok(())
}
