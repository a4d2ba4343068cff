//! Publish -> settled latency with a running provider daemon: tasks published one after
//! another, each watched until it settles.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use cosmwasm_std::{Binary, Coin, HexBinary};
use opengpu_client::Opengpu;
use opengpu_examples::{Example, ExampleTask};
use opengpu_types::auction;
use opengpu_types::commitment::outputs_digest;
use opengpu_types::kernel::Requirements;
use opengpu_types::market::{CompetitionModel, ExecuteMsg, TaskStatus};
use opengpu_types::verification::VerificationPolicy;

use crate::chain::Chain;
use crate::stats::percentile;
use crate::ChainArgs;

/// How often the task is looked at while waiting: bounds the error of the ms figures.
const POLL: Duration = Duration::from_millis(20);
/// The example each task runs: small, so the figure is the protocol's, not the kernel's.
const SIZE: u32 = 1024;

struct Sample {
    task_id: u64,
    blocks: u64,
    millis: u64,
}

pub async fn run(
    args: &ChainArgs,
    tasks: usize,
    auction_tasks: usize,
    provider_log: &Path,
    plots: Option<&Path>,
) -> anyhow::Result<()> {
    let chain = Chain::connect(args)?;
    let samples = measure(&chain, CompetitionModel::FirstResponse, tasks, 100).await?;
    let auction = CompetitionModel::Auction {
        bid_reveal_blocks: auction::DEFAULT_BID_REVEAL_BLOCKS,
        execute_blocks: auction::DEFAULT_EXECUTE_BLOCKS,
    };
    let auctions = measure(&chain, auction, auction_tasks, auction::DEFAULT_BID_BLOCKS).await?;
    let overheads = provider_overheads(provider_log)?;
    let ours: Vec<u64> = samples
        .iter()
        .filter_map(|s| overheads.get(&s.task_id).copied())
        .collect();
    let blocks: Vec<u64> = samples.iter().map(|s| s.blocks).collect();
    let millis: Vec<u64> = samples.iter().map(|s| s.millis).collect();
    let auction_blocks: Vec<u64> = auctions.iter().map(|s| s.blocks).collect();
    let auction_millis: Vec<u64> = auctions.iter().map(|s| s.millis).collect();
    let p = |v: &[u64], q| percentile(v, q).map_or("n/a".into(), |x: u64| x.to_string());
    let us = |v: &[u64], q| {
        percentile(v, q).map_or("n/a".into(), |x: u64| format!("{:.2}", x as f64 / 1000.0))
    };

    println!("## Publish -> settled latency\n");
    println!(
        "{} First Response tasks (hash-chain example, {SIZE} elements, verified by the \
         reference hash of its CPU result) published one after another by `client` on `{}`, \
         served by one `opengpu-provider`. Blocks: settlement height \
         minus publish height. ms: from broadcasting the publish until the settled task was \
         seen (polled every {} ms). Provider overhead: the daemon's own time from receiving \
         the event to broadcasting the commit, kernel time excluded, its self-check of the \
         result included (from its log, {} of {} tasks). Then {} Auction tasks of the same \
         kind with the CLI's default windows (bids {} blocks, bid reveals {}, execution {}), \
         the daemon the only bidder: bids close at the deadline, the daemon opens its bid, \
         the award follows in that transaction, then its commit and reveal.\n",
        samples.len(),
        chain.deployment.chain_id,
        POLL.as_millis(),
        ours.len(),
        samples.len(),
        auctions.len(),
        auction::DEFAULT_BID_BLOCKS,
        auction::DEFAULT_BID_REVEAL_BLOCKS,
        auction::DEFAULT_EXECUTE_BLOCKS,
    );
    println!("| measure | p50 | p95 |");
    println!("|---|---:|---:|");
    println!(
        "| First Response: publish -> settled, blocks | {} | {} |",
        p(&blocks, 50.0),
        p(&blocks, 95.0)
    );
    println!(
        "| First Response: publish -> settled, ms | {} | {} |",
        p(&millis, 50.0),
        p(&millis, 95.0)
    );
    println!(
        "| Auction: publish -> settled, blocks | {} | {} |",
        p(&auction_blocks, 50.0),
        p(&auction_blocks, 95.0)
    );
    println!(
        "| Auction: publish -> settled, ms | {} | {} |",
        p(&auction_millis, 50.0),
        p(&auction_millis, 95.0)
    );
    println!(
        "| provider overhead (event -> commit broadcast), ms | {} | {} |",
        us(&ours, 50.0),
        us(&ours, 95.0)
    );
    println!();
    let blocks_p50 = percentile(&blocks, 50.0);
    crate::goals::report(
        "First Response publish -> settled, blocks p50 (200 ms blocks)",
        "2 (commit in the next block, reveal in the one after)",
        &p(&blocks, 50.0),
        blocks_p50.is_some_and(|b| b <= 2),
        match blocks_p50.is_some_and(|b| b <= 2) {
            true => "",
            false => {
                "a commit or a reveal missed the block after the one it followed; the daemon's \
                 log lines 'commit broadcast' and 'reveal broadcast' (with their times) show \
                 which"
            }
        },
    );
    let overhead_p50 = percentile(&ours, 50.0);
    crate::goals::report(
        "daemon overhead, event -> commit broadcast, p50",
        "under 20 ms",
        &format!("{} ms", us(&ours, 50.0)),
        overhead_p50.is_some_and(|us| us < 20_000),
        "",
    );
    if let Some(dir) = plots {
        let panels = [
            ("First Response", millis.as_slice()),
            ("Auction", auction_millis.as_slice()),
        ];
        crate::plot::latency(&dir.join("latency.svg"), &panels)?;
    }
    Ok(())
}

/// Publishes `tasks` hash-chain tasks under `model` one after another, each watched until it
/// settles.
async fn measure(
    chain: &Chain,
    model: CompetitionModel,
    tasks: usize,
    deadline_blocks: u64,
) -> anyhow::Result<Vec<Sample>> {
    let mut client = chain.signer("client")?;
    let market = chain.contracts.task_market.clone();
    let query = Opengpu::new(&chain.client, &chain.contracts);
    let mut samples = Vec::new();
    for seed in 0..tasks as u64 {
        let example = ExampleTask::new(Example::HashChain, SIZE, seed)?;
        // The hash chain is bit-exact, so the CPU reference's digest checks the result: a
        // decisive policy, as First Response needs (the daemon skips unverified First
        // Response tasks unless told otherwise).
        let reference: Vec<Binary> = example.reference().into_iter().map(Binary::from).collect();
        let publish = ExecuteMsg::PublishTask {
            kernel: example.kernel(),
            requirements: Requirements::default(),
            collateral: cosmwasm_std::Uint128::new(1_000),
            deadline_blocks,
            verification: VerificationPolicy::ReferenceHash {
                sha256: HexBinary::from(outputs_digest(&reference).to_vec()),
            },
            model,
        };
        let started = Instant::now();
        let tx = client
            .execute(
                &chain.client,
                &market,
                &publish,
                &[Coin::new(10_000u128, "uatom")],
            )
            .await?;
        let task_id = tx
            .event::<opengpu_types::events::TaskPublished>(Some(&market))?
            .ok_or_else(|| anyhow::anyhow!("no task_published event"))?
            .task_id;
        let settled = loop {
            let task = query.task(task_id).await?.task;
            match task.status {
                TaskStatus::Settled => break task,
                status if status.is_final() => anyhow::bail!("task {task_id} ended {status}"),
                _ if started.elapsed() > Duration::from_secs(120) => {
                    anyhow::bail!("task {task_id} not settled after 120 s: is the daemon running?")
                }
                _ => tokio::time::sleep(POLL).await,
            }
        };
        let height = settled.settlement.map(|s| s.height).unwrap_or_default();
        samples.push(Sample {
            task_id,
            blocks: height.saturating_sub(tx.height),
            millis: started.elapsed().as_millis() as u64,
        });
        eprintln!(
            "{model} task {task_id}: {} blocks, {} ms",
            samples.last().unwrap().blocks,
            samples.last().unwrap().millis
        );
    }
    Ok(samples)
}

/// task id -> overhead in microseconds, from the daemon's JSON log lines "commit broadcast".
fn provider_overheads(log: &Path) -> anyhow::Result<HashMap<u64, u64>> {
    let text = std::fs::read_to_string(log)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", log.display()))?;
    let mut found = HashMap::new();
    for line in text.lines() {
        let Ok(entry) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let fields = &entry["fields"];
        if fields["message"] != "commit broadcast" {
            continue;
        }
        if let (Some(id), Some(us)) = (fields["task_id"].as_u64(), fields["overhead_us"].as_u64()) {
            found.insert(id, us);
        }
    }
    Ok(found)
}
