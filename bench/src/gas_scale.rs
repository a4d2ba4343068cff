//! Gas at scale: does a message cost more when the market holds many open tasks and the
//! registry many providers? Every execute must touch a bounded set of keys (ARCHITECTURE.md:
//! "nothing iterates over all tasks or all providers"), and a KV store charges per access and
//! per byte, not per entry stored, so the gas of PublishTask, Commit and Reveal should stay put.
//!
//! On a fresh private chain:
//! 1. `--providers` fresh accounts, keys derived from [`SEED`] and their index, funded by
//!    `admin` with bank `MsgMultiSend` ([`Accounts::fund`]), each then bonding and registering
//!    in one transaction; the transactions are broadcast in parallel and waited for together.
//! 2. Open tasks grow to each level of `--open-tasks` by batches of PublishTask messages from a
//!    few genesis accounts (long deadlines; nobody commits to them).
//! 3. At each level: one PublishTask (by `client`), a Commit to that task by one of the
//!    registered providers and the Reveal that settles it (the hash-chain example computed on
//!    the CPU), then a registry Update by that provider; each in its own transaction, gas as
//!    `gas_used` in the block. The measured tasks settle, so the open count is the level's.

use std::path::Path;
use std::time::{Duration, Instant};

use cosmrs::Any;
use cosmwasm_std::{Binary, Coin, HexBinary, Uint128};
use opengpu_client::reveal::RevealPlan;
use opengpu_client::tx::execute_msg;
use opengpu_client::{ContractAddrs, TxOutcome};
use opengpu_examples::{Example, ExampleTask};
use opengpu_types::commitment::outputs_digest;
use opengpu_types::events::{TaskPublished, TaskSettled};
use opengpu_types::kernel::Requirements;
use opengpu_types::market::{CompetitionModel, ExecuteMsg};
use opengpu_types::registry::{self, DeviceInfo, DeviceType, ProviderProfile};
use opengpu_types::vault;
use opengpu_types::verification::VerificationPolicy;
use plotters::prelude::*;

use crate::accounts::{in_parallel, Account, Accounts};
use crate::chain::Chain;
use crate::ChainArgs;

/// Hash-chain elements of every task: 1 KiB of inputs, 1 KiB of outputs.
const SIZE: u32 = 256;
/// Seed of the measured tasks (the same kernel at every level); the filler tasks use another.
const MEASURED_SEED: u64 = 0;
const FILLER_SEED: u64 = 1;
/// The filler tasks stay open for the whole run: the market's `max_deadline_blocks` on the
/// localnet (about 5.5 h of 200 ms blocks).
const FILLER_DEADLINE_BLOCKS: u64 = 100_000;
const MEASURED_DEADLINE_BLOCKS: u64 = 1_000;
const BUDGET: u128 = 10_000;
const PAYMENT_DENOM: &str = "uatom";
const COLLATERAL: u128 = 1_000;
/// Genesis accounts (localnet/lib.sh) that publish the filler tasks, one transaction each per
/// round. `client` publishes the measured tasks too, so any growth of per-client state shows.
const PUBLISHERS: [&str; 4] = ["client", "provider-1", "provider-2", "provider-3"];
/// PublishTask messages per filler transaction (the localnet has no block gas limit:
/// `max_gas = -1`; a transaction of 50 is some 15M gas and 100 KB).
const BATCH: usize = 50;
/// What each provider account receives: bond, collateral and fees (ustake, the fee denom),
/// and some of the payment denom.
const FUND_STAKE: u128 = 5_000_000;
const FUND_PAYMENT: u128 = 1_000_000;
/// The registry's `min_bond` on the localnet (localnet/deploy.sh).
const BOND: u128 = 1_000_000;
/// Seed of the provider accounts' keys ([`Accounts`]): every run funds and registers the same
/// addresses. Test keys of a private benchmark chain only.
pub const SEED: &str = "gas-scale";
/// Registration transactions signed and broadcast at once.
const PARALLEL: usize = 50;
/// Fixed gas limits are the measured gas times this.
const GAS_MARGIN: f64 = 1.3;

/// One level's measurements (gas used).
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub open_tasks: usize,
    /// The measured task's id: its decimal digits are in the messages, the stored JSON and
    /// the events.
    pub task_id: u64,
    /// The publish's block height (its digits are in the task's JSON too).
    pub height: u64,
    pub publish: u64,
    pub commit: u64,
    pub reveal: u64,
    pub update: u64,
}

/// The profile every scale provider registers (moniker of fixed length, so every registration
/// is the same size).
fn profile(index: u32, price: u128) -> ProviderProfile {
    ProviderProfile {
        moniker: format!("scale-{index:05}"),
        device: DeviceInfo {
            name: "bench cpu".into(),
            device_type: DeviceType::Cpu,
            compute_units: 2,
            global_mem_bytes: 1 << 30,
            max_work_group_size: 1024,
            fp64: false,
        },
        prices: vec![Coin::new(price, PAYMENT_DENOM)],
        payout_addr: None,
        payout_route: None,
    }
}

/// A hash-chain First Response task verified by its CPU reference's digest.
fn publish_msg(seed: u64, deadline_blocks: u64) -> anyhow::Result<(ExecuteMsg, Vec<Binary>)> {
    let example = ExampleTask::new(Example::HashChain, SIZE, seed)?;
    let reference: Vec<Binary> = example.reference().into_iter().map(Binary::from).collect();
    let msg = ExecuteMsg::PublishTask {
        kernel: example.kernel(),
        requirements: Requirements::default(),
        collateral: Uint128::new(COLLATERAL),
        deadline_blocks,
        verification: VerificationPolicy::ReferenceHash {
            sha256: HexBinary::from(outputs_digest(&reference).to_vec()),
        },
        model: CompetitionModel::FirstResponse,
    };
    Ok((msg, reference))
}

pub async fn run(
    args: &ChainArgs,
    providers: usize,
    levels: &[usize],
    plots: Option<&Path>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut levels = levels.to_vec();
    levels.sort_unstable();
    levels.dedup();
    anyhow::ensure!(
        levels.first().is_some_and(|&l| l > 0),
        "--open-tasks needs levels above 0"
    );
    anyhow::ensure!(
        (2..=100_000).contains(&providers),
        "--providers must be 2..=100000"
    );
    anyhow::ensure!(
        levels.len() < providers,
        "--providers must exceed the number of levels (one committer per level)"
    );
    let chain = Chain::connect(args)?;
    let mut accounts = Accounts::new(&chain.client, &chain.deployment.bech32_prefix, SEED);
    let height_at_start = chain.client.height().await?;

    // 1. Providers: `admin` sends each FUND_STAKE of the stake denom (bond, collateral, fees)
    // and FUND_PAYMENT of the payment denom.
    let phase = Instant::now();
    let mut admin = accounts.keyring_account(&args.keys, "admin")?;
    let funds = [
        Coin::new(FUND_STAKE, chain.deployment.stake_denom.as_str()),
        Coin::new(FUND_PAYMENT, PAYMENT_DENOM),
    ];
    let provider_accounts = accounts.fund(&mut admin, providers, &funds).await?;
    let funding_secs = phase.elapsed().as_secs_f64();
    let phase = Instant::now();
    let (registration, mut provider_accounts) =
        register_providers(&chain, provider_accounts).await?;
    let registration_secs = phase.elapsed().as_secs_f64();
    eprintln!(
        "[gas-scale] {providers} providers funded in {funding_secs:.0} s, registered in \
         {registration_secs:.0} s"
    );
    // The registry Update of provider 0 with 1 provider registered was measured by
    // register_providers; the same message now, with all of them.
    let update_all = update_price(&chain, &mut provider_accounts[0], 0).await?;

    // 2. and 3. Levels.
    let mut publishers = PUBLISHERS
        .iter()
        .map(|name| accounts.keyring_account(&args.keys, name))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut open = 0usize;
    let mut filler_gas = None;
    let mut rows = Vec::new();
    let mut fill_secs = 0.0;
    for (index, &level) in levels.iter().enumerate() {
        let phase = Instant::now();
        let gas = match filler_gas {
            Some(gas) => gas,
            None => {
                // One PublishTask alone, before any filler: the per-message gas for the limits.
                let (msg, _) = publish_msg(FILLER_SEED, FILLER_DEADLINE_BLOCKS)?;
                let funds = [Coin::new(BUDGET, PAYMENT_DENOM)];
                let publisher = &mut publishers[0];
                let any = execute_msg(
                    publisher.address(),
                    &chain.contracts.task_market,
                    &msg,
                    &funds,
                )?;
                let tx = publisher.send_simulated(vec![any]).await?;
                open += 1;
                *filler_gas.insert(tx.gas_used)
            }
        };
        open = fill(&chain, &mut publishers, open, level, gas).await?;
        fill_secs += phase.elapsed().as_secs_f64();
        // Provider 0 measured the registry; the committers are the last ones.
        let committer = providers - 1 - index;
        // `client` (the first publisher, one signer per account) publishes the measured task.
        let client = &mut publishers[0];
        let provider = &mut provider_accounts[committer];
        let row = measure_level(&chain, client, provider, committer as u32, level).await?;
        eprintln!(
            "[gas-scale] {level} open tasks: publish {} commit {} reveal {} update {} \
             ({:.0} s so far)",
            row.publish,
            row.commit,
            row.reveal,
            row.update,
            started.elapsed().as_secs_f64()
        );
        rows.push(row);
    }
    let height_at_end = chain.client.height().await?;
    let total_secs = started.elapsed().as_secs_f64();

    print_section(&Report {
        chain_id: &chain.deployment.chain_id,
        providers,
        rows: &rows,
        registration: &registration,
        update_all,
        funding_secs,
        registration_secs,
        fill_secs,
        total_secs,
        blocks: height_at_end.saturating_sub(height_at_start),
    });
    if let Some(dir) = plots {
        plot(&dir.join("gas-scale.svg"), &rows)?;
    }
    Ok(())
}

/// Bond and Register, one transaction: the same size for every provider (see [`profile`]).
fn registration_msgs(
    contracts: &ContractAddrs,
    stake_denom: &str,
    provider: &Account,
    index: u32,
) -> anyhow::Result<Vec<Any>> {
    Ok(vec![
        execute_msg(
            provider.address(),
            &contracts.staking_vault,
            &vault::ExecuteMsg::Bond {},
            &[Coin::new(BOND, stake_denom)],
        )?,
        execute_msg(
            provider.address(),
            &contracts.registry,
            &registry::ExecuteMsg::Register {
                profile: profile(index, 1),
            },
            &[],
        )?,
    ])
}

/// What registering the providers showed.
struct Registration {
    /// Gas of the registry Update of provider 0 while it was the only provider.
    update_alone: u64,
    /// Gas of the bond + register transaction of the first provider and of the rest.
    first: u64,
    rest_min: u64,
    rest_max: u64,
    /// Blocks the parallel registrations landed in.
    blocks: usize,
}

/// Provider 0 (the first of `providers`, funded) registers alone (gas simulated), updates its
/// price once (the registry at one provider); the others then sign with a fixed gas limit, in
/// parallel, each with its own account and sequence, and are waited for together. Gives the
/// providers back in their order.
async fn register_providers(
    chain: &Chain,
    mut providers: Vec<Account>,
) -> anyhow::Result<(Registration, Vec<Account>)> {
    let stake = chain.deployment.stake_denom.clone();
    let rest = providers.split_off(1);
    let first = providers
        .first_mut()
        .ok_or_else(|| anyhow::anyhow!("no providers to register"))?;
    let msgs = registration_msgs(&chain.contracts, &stake, first, 0)?;
    let first_gas = first.send_simulated(msgs).await?.gas_used;
    let update_alone = update_price(chain, first, 0).await?;

    let gas = (first_gas as f64 * GAS_MARGIN).ceil() as u64;
    let sent = in_parallel(rest, PARALLEL, |position, mut provider| {
        let index = position as u32 + 1;
        let msgs = registration_msgs(&chain.contracts, &stake, &provider, index);
        async move {
            let hash = provider.sign_and_broadcast(msgs?, gas).await?;
            Ok((provider, (index, hash)))
        }
    })
    .await?;
    let mut outcomes: Vec<TxOutcome> = Vec::with_capacity(sent.len());
    for (provider, (index, hash)) in sent {
        let outcome = chain
            .client
            .wait_for_tx(hash)
            .await
            .map_err(|e| anyhow::anyhow!("registering provider {index}: {e}"))?;
        outcomes.push(outcome);
        providers.push(provider);
    }
    let mut heights: Vec<u64> = outcomes.iter().map(|o| o.height).collect();
    heights.sort_unstable();
    heights.dedup();
    let gas = outcomes.iter().map(|o| o.gas_used);
    let registration = Registration {
        update_alone,
        first: first_gas,
        rest_min: gas.clone().min().unwrap_or(0),
        rest_max: gas.max().unwrap_or(0),
        blocks: heights.len(),
    };
    Ok((registration, providers))
}

/// The registry Update of `provider` (provider `index`) with a new price floor, as the
/// provider's daemon would send; its gas.
async fn update_price(chain: &Chain, provider: &mut Account, index: u32) -> anyhow::Result<u64> {
    let msg = registry::ExecuteMsg::Update {
        profile: profile(index, 2),
    };
    let any = execute_msg(provider.address(), &chain.contracts.registry, &msg, &[])?;
    Ok(provider.send_simulated(vec![any]).await?.gas_used)
}

/// Publishes filler tasks until `target` are open: rounds in which every publisher sends one
/// transaction of up to [`BATCH`] PublishTask messages, broadcast together, then waited for.
async fn fill(
    chain: &Chain,
    publishers: &mut [Account],
    mut open: usize,
    target: usize,
    per_publish_gas: u64,
) -> anyhow::Result<usize> {
    let (msg, _) = publish_msg(FILLER_SEED, FILLER_DEADLINE_BLOCKS)?;
    let funds = [Coin::new(BUDGET, PAYMENT_DENOM)];
    let market = &chain.contracts.task_market;
    while open < target {
        let mut hashes = Vec::new();
        for publisher in publishers.iter_mut() {
            let count = BATCH.min(target - open);
            if count == 0 {
                break;
            }
            let any = execute_msg(publisher.address(), market, &msg, &funds)?;
            let gas = (per_publish_gas as f64 * count as f64 * GAS_MARGIN).ceil() as u64;
            let hash = publisher.sign_and_broadcast(vec![any; count], gas).await?;
            hashes.push((hash, count));
            open += count;
        }
        for (hash, count) in hashes {
            let tx = chain.client.wait_for_tx(hash).await?;
            let published = tx.events::<TaskPublished>(Some(market))?.len();
            anyhow::ensure!(
                published == count,
                "a filler transaction published {published} tasks, not {count}"
            );
        }
        eprintln!("[gas-scale] {open} open tasks");
    }
    Ok(open)
}

/// PublishTask by `client`, Commit by `provider` (provider `committer`), the Reveal that
/// settles the task, then the provider's registry Update; each in its own transaction.
async fn measure_level(
    chain: &Chain,
    client: &mut Account,
    provider: &mut Account,
    committer: u32,
    open_tasks: usize,
) -> anyhow::Result<Row> {
    let market = chain.contracts.task_market.as_str();
    let (msg, reference) = publish_msg(MEASURED_SEED, MEASURED_DEADLINE_BLOCKS)?;
    let funds = [Coin::new(BUDGET, PAYMENT_DENOM)];
    let any = execute_msg(client.address(), market, &msg, &funds)?;
    let publish = client.send_simulated(vec![any]).await?;
    let task_id = publish
        .event::<TaskPublished>(Some(market))?
        .ok_or_else(|| anyhow::anyhow!("no task_published event"))?
        .task_id;

    let plan = RevealPlan::new(task_id, provider.address(), reference, None);
    let any = execute_msg(provider.address(), market, &plan.commit_msg(), &[])?;
    let commit = provider.send_simulated(vec![any]).await?;
    chain
        .client
        .wait_for_height_above(commit.height, Duration::from_secs(30))
        .await?;
    let any = execute_msg(provider.address(), market, &plan.reveal_msg()?, &[])?;
    let reveal = provider.send_simulated(vec![any]).await?;
    anyhow::ensure!(
        reveal.event::<TaskSettled>(Some(market))?.is_some(),
        "the reveal did not settle task {task_id}"
    );
    let update = update_price(chain, provider, committer).await?;
    Ok(Row {
        open_tasks,
        task_id,
        height: publish.height,
        publish: publish.gas_used,
        commit: commit.gas_used,
        reveal: reveal.gas_used,
        update,
    })
}

/// `value`'s deviation from `base` in percent.
pub fn deviation(value: u64, base: u64) -> f64 {
    if base == 0 {
        return 0.0;
    }
    (value as f64 - base as f64) / base as f64 * 100.0
}

/// The goal: each message within 5% of its gas at the first level.
pub const GOAL_PERCENT: f64 = 5.0;

struct Report<'a> {
    chain_id: &'a str,
    providers: usize,
    rows: &'a [Row],
    registration: &'a Registration,
    update_all: u64,
    funding_secs: f64,
    registration_secs: f64,
    fill_secs: f64,
    total_secs: f64,
    blocks: u64,
}

fn print_section(report: &Report) {
    print!("{}", section(report));
    let (Some(first), Some(last)) = (report.rows.first(), report.rows.last()) else {
        return;
    };
    let worst = report
        .rows
        .iter()
        .flat_map(|row| {
            [
                deviation(row.publish, first.publish),
                deviation(row.commit, first.commit),
                deviation(row.reveal, first.reveal),
            ]
        })
        .fold(0.0f64, |m, d| m.max(d.abs()));
    crate::goals::report(
        &format!(
            "gas of publish, commit and reveal from {} to {} open tasks, {} providers registered",
            first.open_tasks, last.open_tasks, report.providers
        ),
        &format!("within {GOAL_PERCENT}%"),
        &format!("largest change {worst:.2}%"),
        worst <= GOAL_PERCENT,
        "",
    );
}

fn section(r: &Report) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let rows = r.rows;
    let Some(base) = rows.first() else {
        return s;
    };
    // The first row is the reference: its values stand alone.
    let cell = |v: u64, b: u64, first: bool| match first {
        true => format!("{v}"),
        false => format!("{v} ({:+.2}%)", deviation(v, b)),
    };
    let _ = writeln!(s, "## Gas at scale\n");
    let _ = writeln!(
        s,
        "A fresh private chain (`{}`): {} provider accounts funded by one genesis account \
         (bank MsgMultiSend), each bonding and registering in one transaction, broadcast in \
         parallel; then First Response tasks (hash-chain, {SIZE} elements, 1 KiB in and out, \
         reference-hash policy) published in batches of {BATCH} per transaction by {} genesis \
         accounts and left open (deadline {FILLER_DEADLINE_BLOCKS} blocks, nobody commits). At \
         each level: one PublishTask by `client`, a Commit to it by one of the registered \
         providers, the Reveal that settles it (result computed on the CPU), each in its own \
         transaction, gas as `gas_used` in the block; same message shapes at every level. \
         Deviation from the first row in parentheses; the goal is every message within \
         {GOAL_PERCENT}%.\n",
        r.chain_id,
        r.providers,
        PUBLISHERS.len(),
    );
    let _ = writeln!(
        s,
        "| open tasks | measured task id | publish gas | commit gas | reveal gas | within \
         {GOAL_PERCENT}% |"
    );
    let _ = writeln!(s, "|---:|---:|---:|---:|---:|:---:|");
    for (i, row) in rows.iter().enumerate() {
        let within = [
            (row.publish, base.publish),
            (row.commit, base.commit),
            (row.reveal, base.reveal),
        ]
        .iter()
        .all(|&(v, b)| deviation(v, b).abs() <= GOAL_PERCENT);
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} |",
            row.open_tasks,
            row.task_id,
            cell(row.publish, base.publish, i == 0),
            cell(row.commit, base.commit, i == 0),
            cell(row.reveal, base.reveal, i == 0),
            if within { "yes" } else { "**no**" },
        );
    }
    let worst = rows
        .iter()
        .flat_map(|row| {
            [
                deviation(row.publish, base.publish),
                deviation(row.commit, base.commit),
                deviation(row.reveal, base.reveal),
            ]
        })
        .fold(0.0f64, |m, d| if d.abs() > m.abs() { d } else { m });
    let steps = |gas: fn(&Row) -> u64| {
        rows.windows(2)
            .map(|w| format!("{:+}", gas(&w[1]) as i64 - gas(&w[0]) as i64))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if rows.len() > 1 {
        let last = &rows[rows.len() - 1];
        let _ = writeln!(
            s,
            "\nSteps between consecutive levels, in gas: publish {}; commit {}; reveal {} \
             (measured at heights {}..{}). Every message reads and writes a fixed set of keys (no \
             execute iterates over tasks or providers), and the chain charges a storage access \
             by its key and value bytes, not by how many entries the store holds. What grows is \
             the measured task's id, one decimal digit per level: it is JSON in the Commit and \
             Reveal messages (10 gas per transaction byte), in the stored task, the last-id \
             counter and the commitment (3 gas per byte read, 30 per byte written), in the \
             vault's Lock/Unlock and the registry's RecordOutcome messages and in the events. A \
             step of the same size for 90 more open tasks as for 9,000 more is a cost per digit, \
             not per task.",
            steps(|r| r.publish),
            steps(|r| r.commit),
            steps(|r| r.reveal),
            base.height,
            last.height,
        );
    }
    let reg = r.registration;
    let updates: Vec<String> = rows.iter().map(|row| row.update.to_string()).collect();
    let _ = writeln!(
        s,
        "\nLargest deviation: {worst:+.2}%. Registry at {} providers: a provider's price \
         Update (registry `Update`, whole profile) used {} gas with 1 provider registered and \
         {} ({:+.2}%) with all {}; the committers' Updates at the levels above: {}. Bond + \
         Register in one transaction: {} gas for the first provider, {}..{} for the other {} \
         (included in {} blocks).\n",
        r.providers,
        reg.update_alone,
        r.update_all,
        deviation(r.update_all, reg.update_alone),
        r.providers,
        updates.join(", "),
        reg.first,
        reg.rest_min,
        reg.rest_max,
        r.providers - 1,
        reg.blocks,
    );
    let _ = writeln!(
        s,
        "Run time {:.0} s ({} blocks): funding {:.0} s, registering {:.0} s, publishing the open \
         tasks {:.0} s.\n",
        r.total_secs, r.blocks, r.funding_secs, r.registration_secs, r.fill_secs,
    );
    s
}

const FONT: &str = "sans-serif";
/// matplotlib's first three, as in plot.rs.
const LINES: [RGBColor; 3] = [
    RGBColor(31, 119, 180),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
];

/// Two panels against open tasks (log x), one line per message: gas used (from 0, so a
/// change reads at its true size), and the deviation from the first level with the goal band.
pub fn plot(path: &Path, rows: &[Row]) -> anyhow::Result<()> {
    let root = SVGBackend::new(path, (1100, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let Some(base) = rows.first() else {
        root.present()?;
        return Ok(());
    };
    let gas: [(&str, Vec<(f64, f64)>); 3] = [
        ("PublishTask", points(rows, |r| r.publish as f64)),
        ("Commit", points(rows, |r| r.commit as f64)),
        ("Reveal (settles)", points(rows, |r| r.reveal as f64)),
    ];
    let percent: [(&str, Vec<(f64, f64)>); 3] = [
        (
            "PublishTask",
            points(rows, |r| deviation(r.publish, base.publish)),
        ),
        ("Commit", points(rows, |r| deviation(r.commit, base.commit))),
        (
            "Reveal (settles)",
            points(rows, |r| deviation(r.reveal, base.reveal)),
        ),
    ];
    let top = gas
        .iter()
        .flat_map(|s| s.1.iter().map(|p| p.1))
        .fold(1.0, f64::max)
        * 1.25;
    let reach = percent
        .iter()
        .flat_map(|s| s.1.iter().map(|p| p.1.abs()))
        .fold(GOAL_PERCENT, f64::max)
        * 1.3;
    let panels = root.split_evenly((1, 2));
    panel(
        &panels[0],
        rows,
        "Gas used per message",
        "gas used",
        0.0..top,
        &gas,
        None,
    )?;
    panel(
        &panels[1],
        rows,
        "Change from the first level",
        "gas used, % of the first level",
        -reach..reach,
        &percent,
        Some(GOAL_PERCENT),
    )?;
    root.present()?;
    Ok(())
}

/// One panel: a line per series (PublishTask drawn wide beneath, as it may coincide with
/// Commit), and dashed lines at +-`goal` when given.
fn panel(
    area: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    rows: &[Row],
    title: &str,
    y_desc: &str,
    y: std::ops::Range<f64>,
    series: &[(&str, Vec<(f64, f64)>)],
    goal: Option<f64>,
) -> anyhow::Result<()> {
    let lo = rows.iter().map(|r| r.open_tasks).min().unwrap_or(1).max(1) as f64;
    let hi = rows.iter().map(|r| r.open_tasks).max().unwrap_or(10).max(2) as f64;
    let (x_lo, x_hi) = (lo / 1.6, hi * 1.6);
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((x_lo..x_hi).log_scale(), y)?;
    // Only powers of ten are labelled on the log axis.
    let decade = |x: &f64| {
        let exponent = x.log10();
        if (exponent - exponent.round()).abs() < 1e-9 {
            format!("{x:.0}")
        } else {
            String::new()
        }
    };
    let y_label = |v: &f64| match goal {
        Some(_) => format!("{v:+.0}%"),
        None => format!("{:.0}k", v / 1e3),
    };
    chart
        .configure_mesh()
        .x_desc("open tasks (log scale)")
        .y_desc(y_desc)
        .x_label_formatter(&decade)
        .y_label_formatter(&y_label)
        .light_line_style(TRANSPARENT)
        .label_style((FONT, 13))
        .draw()?;
    if let Some(goal) = goal {
        for (bound, label) in [(goal, Some(format!("goal: within {goal}%"))), (-goal, None)] {
            let drawn = chart.draw_series(DashedLineSeries::new(
                [(x_lo, bound), (x_hi, bound)],
                6,
                4,
                BLACK.mix(0.5).stroke_width(1),
            ))?;
            if let Some(label) = label {
                drawn.label(label).legend(|(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], BLACK.mix(0.5).stroke_width(1))
                });
            }
        }
    }
    for (index, (name, points)) in series.iter().enumerate() {
        let color = LINES[index % LINES.len()];
        let (width, size) = if index == 0 { (6, 6) } else { (2, 4) };
        let style = color
            .mix(if index == 0 { 0.5 } else { 1.0 })
            .stroke_width(width);
        chart
            .draw_series(LineSeries::new(points.clone(), style).point_size(size))?
            .label(*name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font((FONT, 13))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

fn points(rows: &[Row], value: impl Fn(&Row) -> f64) -> Vec<(f64, f64)> {
    rows.iter()
        .map(|r| (r.open_tasks.max(1) as f64, value(r)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrations_are_the_same_size_for_every_provider() {
        use cosmrs::proto::cosmwasm::wasm::v1::MsgExecuteContract;
        use cosmrs::proto::prost::Message;
        let chain = opengpu_client::ChainClient::new(opengpu_client::ChainConfig::new(
            "http://127.0.0.1:1",
        ))
        .expect("a client needs no node to exist");
        let accounts = Accounts::new(&chain, "wasm", SEED);
        let contracts = ContractAddrs {
            registry: "wasm1registry".into(),
            task_market: "wasm1market".into(),
            staking_vault: "wasm1vault".into(),
            verification: "wasm1verification".into(),
        };
        let (first, last) = (
            accounts.derive(0).unwrap(),
            accounts.derive(99_999).unwrap(),
        );
        assert_ne!(first.address(), last.address());
        let a = registration_msgs(&contracts, "ustake", &first, 0).unwrap();
        let b = registration_msgs(&contracts, "ustake", &last, 99_999).unwrap();
        // The fixed gas limit measured on provider 0 fits every other: the same bytes to pay for.
        let sizes = |msgs: &[Any]| msgs.iter().map(|m| m.value.len()).collect::<Vec<_>>();
        assert_eq!(sizes(&a), sizes(&b));
        let bond = MsgExecuteContract::decode(b[0].value.as_slice()).unwrap();
        assert_eq!(
            (bond.sender.as_str(), bond.contract.as_str()),
            (last.address(), "wasm1vault")
        );
        assert_eq!(bond.funds[0].amount, BOND.to_string());
        let register = MsgExecuteContract::decode(b[1].value.as_slice()).unwrap();
        assert_eq!(
            (register.sender.as_str(), register.contract.as_str()),
            (last.address(), "wasm1registry")
        );
        assert!(String::from_utf8(register.msg)
            .unwrap()
            .contains(r#""moniker":"scale-99999""#));
    }

    #[test]
    fn deviations() {
        assert_eq!(deviation(105, 100), 5.0);
        assert_eq!(deviation(95, 100), -5.0);
        assert_eq!(deviation(7, 0), 0.0);
    }

    fn rows() -> Vec<Row> {
        [(10, 0), (100, 10), (1000, 20), (10_000, 9000)]
            .into_iter()
            .map(|(open_tasks, extra)| Row {
                open_tasks,
                task_id: open_tasks as u64 + 2,
                height: 500 + open_tasks as u64 / 50,
                publish: 300_000 + extra,
                commit: 200_000,
                reveal: 400_000,
                update: 150_000,
            })
            .collect()
    }

    #[test]
    fn section_table() {
        let rows = rows();
        let registration = Registration {
            update_alone: 150_000,
            first: 500_000,
            rest_min: 500_000,
            rest_max: 500_010,
            blocks: 2,
        };
        let text = section(&Report {
            chain_id: "opengpu-test",
            providers: 1000,
            rows: &rows,
            registration: &registration,
            update_all: 150_030,
            funding_secs: 3.0,
            registration_secs: 20.0,
            fill_secs: 100.0,
            total_secs: 150.0,
            blocks: 700,
        });
        assert!(text.starts_with("## Gas at scale\n"), "{text}");
        assert!(
            text.contains("| 10 | 12 | 300000 | 200000 | 400000 | yes |"),
            "{text}"
        );
        assert!(
            text.contains(
                "| 100 | 102 | 300010 (+0.00%) | 200000 (+0.00%) | 400000 (+0.00%) | yes |"
            ),
            "{text}"
        );
        assert!(
            text.contains("| 10000 | 10002 | 309000 (+3.00%) |"),
            "{text}"
        );
        assert!(text.contains("Largest deviation: +3.00%"), "{text}");
        assert!(
            text.contains("publish +10, +10, +8980; commit +0, +0, +0"),
            "{text}"
        );
        assert!(text.contains("(+0.02%) with all 1000"), "{text}");
    }

    #[test]
    fn figure_is_svg() {
        let temp = tempfile::tempdir().unwrap();
        // PLOT_DIR=DIR keeps the figure for a look.
        let dir = std::env::var_os("PLOT_DIR").map_or(temp.path().to_owned(), Into::into);
        let path = dir.join("gas-scale.svg");
        plot(&path, &rows()).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("<svg"));
        for label in [
            "PublishTask",
            "Commit",
            "Reveal (settles)",
            "open tasks (log scale)",
            "goal: within 5%",
            "10000",
        ] {
            assert!(text.contains(label), "no {label}");
        }
    }
}
