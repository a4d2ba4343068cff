//! `opengpu task publish`: build a kernel from files and flags, or take a built-in example,
//! check it against the market's limits, then publish it with its payment.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Context as _, Result};
use clap::{ArgGroup, Args, ValueEnum};
use cosmwasm_std::Uint128;
use opengpu_client::config::{parse_amount_in, parse_coin};
use opengpu_client::Opengpu;
use opengpu_examples::{Example, ExampleTask};
use opengpu_types::events::TaskPublished;
use opengpu_types::kernel::{Kernel, Requirements};
use opengpu_types::market::{CompetitionModel, ExecuteMsg, MarketConfig};
use opengpu_types::registry::DeviceType;
use rand_core::{OsRng, RngCore};

use crate::cli::args::{parse_bytes, parse_verify, read_file, ArgSpec, WorkSize};
use crate::cli::output::{bytes, tx_line};
use crate::cli::Context;

/// The kernel comes from exactly one of `--kernel` (with `--entry`, `--global` and the
/// launch flags) or `--example`.
#[derive(Args, Debug)]
#[command(group(ArgGroup::new("kernel_source").required(true).args(["kernel", "example"])))]
pub struct PublishArgs {
    /// OpenCL C source file
    #[arg(long, value_name = "FILE.cl", requires_all = ["entry", "global"])]
    kernel: Option<PathBuf>,
    /// Name of the __kernel function to launch
    #[arg(
        long,
        value_name = "NAME",
        requires = "kernel",
        conflicts_with = "example"
    )]
    entry: Option<String>,
    /// Global work size: 1 to 3 dimensions, e.g. 1024 or 64,64
    #[arg(
        long,
        value_name = "X[,Y[,Z]]",
        requires = "kernel",
        conflicts_with = "example"
    )]
    global: Option<WorkSize>,
    /// Work-group size, dividing the global size [default: the provider's driver chooses]
    #[arg(
        long,
        value_name = "X[,Y[,Z]]",
        requires = "kernel",
        conflicts_with = "example"
    )]
    local: Option<WorkSize>,
    /// One kernel argument, repeated in the kernel's argument order: buffer:FILE (input
    /// buffer from a file), output:BYTES (result buffer), local:BYTES (__local buffer),
    /// u32:N, i32:N, u64:N, i64:N, f32:X, f64:X (scalars; floats are sent as their bits)
    #[arg(
        long = "arg",
        value_name = "TYPE:VALUE",
        requires = "kernel",
        conflicts_with = "example"
    )]
    args: Vec<ArgSpec>,
    /// Publish a built-in example instead of a kernel file: vector-add, sgemm, hash-chain or
    /// mandelbrot (`opengpu example list` describes them)
    #[arg(long, value_name = "NAME")]
    example: Option<Example>,
    /// Size of the example (elements, or matrix/image side) [default: the example's own]
    #[arg(
        long,
        value_name = "N",
        requires = "example",
        conflicts_with = "kernel"
    )]
    size: Option<u32>,
    /// Seed of the example's generated inputs [default: a random one, printed; a fresh seed
    /// keeps a provider from replaying the result of an earlier identical task]
    #[arg(
        long,
        value_name = "S",
        requires = "example",
        conflicts_with = "kernel"
    )]
    seed: Option<u64>,
    /// How providers compete: the first valid result wins, or the client picks among
    /// priced offers
    #[arg(long, value_enum, default_value_t = Model::FirstResponse)]
    model: Model,
    /// Payment escrowed for the winner, e.g. 1000ustake (a denom the market accepts)
    #[arg(long, value_name = "AMOUNT")]
    payment: String,
    /// Collateral each committing provider locks, in the stake denom, e.g. 100ustake
    /// [default: the market's minimum]
    #[arg(long, value_name = "AMOUNT")]
    collateral: Option<String>,
    /// Blocks from now during which providers may commit
    #[arg(long, value_name = "N")]
    deadline_blocks: u64,
    /// How results are checked: `well-formed` (one buffer of the declared size per output),
    /// `reference:SHA256HEX` (the outputs must hash to this digest: sha256 over each output
    /// as its length in 8 big-endian bytes then its bytes), or
    /// `reference-outputs:FILE[,FILE]` (the same, computed here from the expected output
    /// files)
    #[arg(long, value_name = "POLICY", default_value = "well-formed")]
    verify: String,
    /// Only devices with at least this much global memory, e.g. 2GiB
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes)]
    min_mem: Option<u64>,
    /// Only devices with at least this many compute units
    #[arg(long, value_name = "N")]
    min_compute_units: Option<u32>,
    /// Only devices of this type
    #[arg(long, value_enum, value_name = "TYPE")]
    device_type: Option<DeviceTypeArg>,
    /// The kernel uses double precision
    #[arg(long)]
    fp64: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum Model {
    /// The earliest commitment whose reveal is valid wins the whole payment
    FirstResponse,
    /// Providers reveal with a price; the client confirms one offer
    ManualConfirmation,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum DeviceTypeArg {
    Gpu,
    Cpu,
    Accelerator,
}

pub async fn run(ctx: &mut Context, a: PublishArgs) -> Result<()> {
    // Everything local first: a bad file or flag fails before any network call.
    let example = example_task(&a)?;
    let kernel = match &example {
        Some(task) => task.kernel(),
        None => kernel_from_files(&a)?,
    };
    let verification = parse_verify(&a.verify)?;
    let payment = parse_coin(&a.payment, None)?;
    let budget = Uint128::try_from(payment.amount)
        .map_err(|_| anyhow!("--payment {} is too large", a.payment))?;
    if budget.is_zero() {
        bail!("--payment must be greater than zero");
    }
    let requirements = Requirements {
        device_type: a.device_type.map(|t| match t {
            DeviceTypeArg::Gpu => DeviceType::Gpu,
            DeviceTypeArg::Cpu => DeviceType::Cpu,
            DeviceTypeArg::Accelerator => DeviceType::Accelerator,
        }),
        min_compute_units: a.min_compute_units.unwrap_or(0),
        min_global_mem_bytes: a.min_mem.unwrap_or(0),
        fp64: a.fp64,
    };

    // Then the market's own rules, read from the chain.
    let contracts = ctx.contracts()?;
    let chain = ctx.chain().await?.clone();
    let q = Opengpu::new(&chain, &contracts);
    let config = q.market_config().await?;
    let stake_denom = q.vault_config().await?.stake_denom;
    let output_sizes = kernel
        .validate(&config.params.kernel_limits)
        .map_err(|e| anyhow!("invalid kernel: {e}"))?;
    let collateral = match &a.collateral {
        Some(c) => parse_amount_in(c, &stake_denom)
            .with_context(|| format!("--collateral is paid in the stake denom {stake_denom}"))?,
        None => config.params.min_collateral,
    };
    check_market_rules(&config, &payment.denom, collateral, a.deadline_blocks)?;

    let msg = ExecuteMsg::PublishTask {
        kernel,
        requirements,
        collateral,
        deadline_blocks: a.deadline_blocks,
        verification,
        model: match a.model {
            Model::FirstResponse => CompetitionModel::FirstResponse,
            Model::ManualConfirmation => CompetitionModel::ManualConfirmation,
        },
    };
    let (_, mut signer) = ctx.signer().await?;
    let spinner = ctx.spinner("publishing");
    let tx = signer
        .execute(
            &chain,
            &contracts.task_market,
            &msg,
            std::slice::from_ref(&payment),
        )
        .await;
    spinner.finish_and_clear();
    let tx = tx?;
    let published: TaskPublished = tx
        .event(Some(&contracts.task_market))?
        .ok_or_else(|| anyhow!("transaction {} has no task_published event", tx.txhash))?;
    let mut json = serde_json::json!({
        "task_id": published.task_id,
        "txhash": tx.txhash,
        "height": tx.height,
        "deadline_height": published.deadline,
    });
    if let Some(task) = &example {
        json["example"] = serde_json::json!({
            "name": task.example.name(),
            "size": task.size,
            "seed": task.seed,
        });
    }
    ctx.emit(&json, || {
        let mut text = format!(
            "{}\npublished task {} paying {}{}; commits until height {}; outputs {}",
            tx_line(&tx),
            published.task_id,
            published.amount,
            published.denom,
            published.deadline,
            output_sizes
                .iter()
                .map(|s| bytes(*s))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if let Some(task) = &example {
            text.push_str(&format!(
                "\nexample {} size {} seed {}; check its result with\n  opengpu example check {} \
                 --example {} --size {} --seed {}",
                task.example,
                task.size,
                task.seed,
                published.task_id,
                task.example,
                task.size,
                task.seed
            ));
        }
        text
    })
}

/// The example to publish, when `--example` is given, with its size and seed settled.
fn example_task(a: &PublishArgs) -> Result<Option<ExampleTask>> {
    let Some(example) = a.example else {
        return Ok(None);
    };
    let size = a.size.unwrap_or_else(|| example.default_size());
    let seed = a.seed.unwrap_or_else(|| OsRng.next_u64());
    let task = ExampleTask::new(example, size, seed).map_err(|e| anyhow!("--example: {e}"))?;
    Ok(Some(task))
}

/// The kernel of `--kernel FILE --entry NAME --global ... --arg ...`.
fn kernel_from_files(a: &PublishArgs) -> Result<Kernel> {
    // clap's group and `requires` guarantee these three when --example is absent.
    let (Some(path), Some(entry), Some(global)) = (&a.kernel, &a.entry, &a.global) else {
        bail!("give --kernel FILE --entry NAME --global SIZE, or --example NAME");
    };
    let source = String::from_utf8(read_file(path, "kernel")?)
        .with_context(|| format!("kernel file {} is not UTF-8 text", path.display()))?;
    let args = a
        .args
        .iter()
        .map(ArgSpec::load)
        .collect::<Result<Vec<_>>>()?;
    Ok(Kernel {
        source,
        entry_point: entry.clone(),
        global_work_size: global.0.clone(),
        local_work_size: a.local.as_ref().map(|l| l.0.clone()),
        args,
    })
}

/// The market's checks that are cheaper to fail here than in a transaction.
fn check_market_rules(
    config: &MarketConfig,
    denom: &str,
    collateral: Uint128,
    deadline_blocks: u64,
) -> Result<()> {
    if !config.allowed_denoms.iter().any(|d| d == denom) {
        bail!(
            "the market does not accept payment in {denom}; accepted: {}",
            config.allowed_denoms.join(", ")
        );
    }
    let p = &config.params;
    if collateral < p.min_collateral {
        bail!(
            "--collateral {collateral} is below the market's minimum {}",
            p.min_collateral
        );
    }
    if !(p.min_deadline_blocks..=p.max_deadline_blocks).contains(&deadline_blocks) {
        bail!(
            "--deadline-blocks {deadline_blocks} is outside the market's {}..={}",
            p.min_deadline_blocks,
            p.max_deadline_blocks
        );
    }
    Ok(())
}
