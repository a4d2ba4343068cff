//! `opengpu task publish`: build a kernel from files and flags, or take a built-in example,
//! check it against the market's limits, then publish it with its payment.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Context as _, Result};
use clap::{ArgGroup, Args, ValueEnum};
use cosmwasm_std::Uint128;
use cosmwasm_std::{Binary, HexBinary};
use opengpu_client::config::{parse_amount_in, parse_coin};
use opengpu_client::Opengpu;
use opengpu_examples::{Example, ExampleTask};
use opengpu_types::auction::{
    self as opengpu_auction, DEFAULT_BID_BLOCKS, DEFAULT_BID_REVEAL_BLOCKS, DEFAULT_EXECUTE_BLOCKS,
};
use opengpu_types::commitment::outputs_digest;
use opengpu_types::consensus::{self, FloatTolerance};
use opengpu_types::events::TaskPublished;
use opengpu_types::freivalds::FreivaldsSpec;
use opengpu_types::ibc::TaskDraft;
use opengpu_types::kernel::{Kernel, Requirements};
use opengpu_types::market::{CompetitionModel, ExecuteMsg, MarketConfig};
use opengpu_types::publish::{PublishError, PublishTerms, Publishable};
use opengpu_types::registry::DeviceType;
use opengpu_types::verification::VerificationPolicy;
use rand_core::{OsRng, RngCore};

use super::kernel_check::{self, LocalCheck};
use super::{remote, render};
use crate::cli::args::{
    parse_bytes, parse_tolerance, parse_verify, read_file, ArgSpec, OffChain, WorkSize, VERIFY_HELP,
};
use crate::cli::output::{bytes, tx_line};
use crate::cli::{ChainArg, Context};

/// The kernel comes from exactly one of `--kernel` (with `--entry`, `--global` and the
/// launch flags) or `--example`; the budget from `--payment`, or for an auction `--max-price`
/// (checked by [`budget_flag`], which names the flag the model needs).
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
    /// Publish every buffer:FILE as an off-chain input: the chain keeps only its sha256 and
    /// size (publish gas does not grow with it), and providers fetch the bytes from
    /// --input-url BASE/<sha256 hex>, check them against the hash and refuse the task (no
    /// commitment) when they differ. Freivalds' check reads its matrices on-chain and
    /// refuses off-chain inputs; reference hashes and Consensus work with them
    #[arg(long, requires_all = ["kernel", "input_url"])]
    offchain: bool,
    /// --offchain: base URL providers fetch each input from, as BASE/<sha256 hex>; repeat for
    /// mirrors (up to 4), e.g. http://127.0.0.1:8088 of `opengpu serve DIR`
    #[arg(long, value_name = "BASE", requires = "offchain")]
    input_url: Vec<String>,
    /// --offchain: copy each input into DIR as <sha256 hex>, for `opengpu serve DIR` (or any
    /// static HTTP server) to serve; without it, put the files there yourself
    #[arg(long, value_name = "DIR", requires = "offchain")]
    input_dir: Option<PathBuf>,
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
    /// How providers compete: the first valid result wins, the client picks among sealed
    /// priced offers, agreeing replicas share the payment, or a sealed-bid auction picks the
    /// cheapest provider, who alone computes
    #[arg(long, value_enum, default_value_t = Model::FirstResponse)]
    model: Model,
    /// Consensus: how many providers compute the task (at least 2, at most the market's
    /// max_committers)
    #[arg(long, value_name = "N", required_if_eq("model", "consensus"))]
    replicas: Option<u32>,
    /// Consensus: how many agreeing results decide; a strict majority of --replicas [default:
    /// the smallest majority, N/2+1]
    #[arg(long, value_name = "K", requires = "replicas")]
    quorum: Option<u32>,
    /// Consensus: results agree when their f32 outputs are element-wise within `rel:X`
    /// (relative error, e.g. rel:1e-4, at most 0.01) or `ulps:N` (at most N representable
    /// floats apart) [default: exact agreement, the same outputs digest]
    #[arg(long, value_name = "rel:X|ulps:N", requires = "replicas", value_parser = parse_tolerance)]
    tolerance: Option<FloatTolerance>,
    /// Payment escrowed for the winner, e.g. 1000ustake (a denom the market accepts). An
    /// auction takes --max-price instead
    #[arg(long, value_name = "AMOUNT")]
    payment: Option<String>,
    /// Auction: the most the task may cost, escrowed as its budget, e.g. 1000uatom (a denom
    /// the market accepts). Bids above it are void; the winner is paid the next bid up, or
    /// this maximum when no other valid bid is behind it; the rest is refunded. Instead of
    /// --payment
    #[arg(long, value_name = "AMOUNT", conflicts_with = "payment")]
    max_price: Option<String>,
    /// Collateral each committing (auction: bidding) provider locks, in the stake denom, e.g.
    /// 100ustake [default: the market's minimum]
    #[arg(long, value_name = "AMOUNT")]
    collateral: Option<String>,
    /// Blocks from now during which providers may commit. Required, except under --model
    /// auction, whose deadline is the end of bidding (--bid-blocks)
    #[arg(long, value_name = "N")]
    deadline_blocks: Option<u64>,
    /// Auction: blocks from now during which providers may bid, the task's deadline (within
    /// the market's deadline range) [default: 10]
    #[arg(long, value_name = "N", conflicts_with = "deadline_blocks")]
    bid_blocks: Option<u64>,
    /// Auction: blocks after bidding closes during which bidders open their bids (1 to
    /// 100000) [default: 10]
    #[arg(long, value_name = "N")]
    bid_reveal_blocks: Option<u64>,
    /// Auction: blocks the winner has from its award to commit and reveal its result, and
    /// each next bidder from a hand-over (2 to 100000) [default: 50]
    #[arg(long, value_name = "N")]
    execute_blocks: Option<u64>,
    /// The decisive check of results, on chain at reveal: `reference:SHA256HEX` (the outputs
    /// must hash to this digest: sha256 over each output as its length in 8 big-endian bytes
    /// then its bytes; a mismatch is refused, not slashed), `reference-outputs:FILE[,FILE]`
    /// (the same digest, computed here from the expected output files), or
    /// `freivalds:a=I,b=I,c=I,m=M,k=K,n=N[,tol=X]` (C = A·B by Freivalds' algorithm; A, B
    /// input and C output kernel argument indices, A m×k, B k×n, row-major f32; tol default
    /// 1e-4; a failure is slashed). Required for first-response, manual-confirmation and
    /// auction unless --unverified; optional under consensus, where agreement decides.
    /// `--example` brings its own default (see `opengpu example list`)
    #[arg(long, value_name = "POLICY")]
    verify: Option<String>,
    /// Publish with no decisive check: any outputs of the declared sizes pass. An explicit
    /// choice: providers may refuse such a task, and under First Response a placeholder can
    /// win it (a warning is printed)
    #[arg(long, conflicts_with = "verify")]
    unverified: bool,
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
    /// Require the local check of the kernel: fail when no OpenCL device is found here.
    /// Without it or --no-local-check, the kernel is built and its entry point and arguments
    /// checked on this machine's first OpenCL device when there is one, before anything is
    /// broadcast; with none, a warning says so and the task is published unchecked
    #[arg(long, conflicts_with = "no_local_check")]
    local_check: bool,
    /// Publish without building the kernel on a local OpenCL device first
    #[arg(long)]
    no_local_check: bool,
    /// Where the budget comes from: `market` (a normal publish), or `home`, the other chain of
    /// `just ibc`: one ICS-20 transfer of --payment (or --max-price) in a denom of that chain
    /// (e.g. 5000uhome) from the --from key there to the market, its memo carrying the task.
    /// The market escrows what arrives (the ibc/ voucher, which it must accept) and sends every
    /// refund back over IBC. Waits for the task on the market chain and prints its id; exit 9
    /// when the market refuses it (the coins then go back to the sender). Manual Confirmation
    /// needs a client on the market chain and is refused here
    #[arg(long, value_enum, value_name = "CHAIN", default_value_t = ChainArg::Market)]
    from_chain: ChainArg,
    /// --from-chain home: how long to wait for the task to appear on the market chain (or for
    /// the coins to come back)
    #[arg(long, value_name = "DURATION", default_value = "2m")]
    max_wait: humantime::Duration,
}

impl PublishArgs {
    fn local_check_mode(&self) -> LocalCheck {
        match (self.local_check, self.no_local_check) {
            (_, true) => LocalCheck::Skip,
            (true, false) => LocalCheck::Required,
            (false, false) => LocalCheck::Auto,
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Model {
    /// The earliest commitment whose reveal is valid wins the whole payment
    FirstResponse,
    /// Providers commit sealed priced offers; after commits close they reveal, and the client
    /// confirms one (or the cheapest is paid when it stays silent)
    ManualConfirmation,
    /// Up to --replicas providers commit, reveal after commits close, and the largest group
    /// of at least --quorum agreeing results shares the payment; results outside it are
    /// slashed
    Consensus,
    /// Sealed-bid second-price reverse auction: providers bid sealed prices until
    /// --bid-blocks, open them within --bid-reveal-blocks, and the lowest bid alone computes
    /// within --execute-blocks, paid the next bid up (at most --max-price); a winner that
    /// fails is slashed and the task passes to the next bidder
    Auction,
}

/// The auction's windows as given on the command line (`--bid-blocks` is the deadline, see
/// [`deadline_blocks`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct AuctionFlags {
    bid_reveal_blocks: Option<u64>,
    execute_blocks: Option<u64>,
}

impl AuctionFlags {
    fn any(&self) -> bool {
        self.bid_reveal_blocks.is_some() || self.execute_blocks.is_some()
    }
}

/// The flag that holds the escrowed budget: `--max-price` for an auction, `--payment` for the
/// other models. Returns the flag's name and its value.
fn budget_flag<'a>(
    model: Model,
    payment: Option<&'a str>,
    max_price: Option<&'a str>,
) -> Result<(&'static str, &'a str)> {
    match (model == Model::Auction, payment, max_price) {
        (_, Some(_), Some(_)) => bail!("--payment and --max-price exclude each other"),
        (true, None, Some(max)) => Ok(("--max-price", max)),
        (true, Some(_), None) => bail!(
            "an auction's budget is its maximum price: pass --max-price AMOUNT instead of \
             --payment"
        ),
        (true, None, None) => bail!("--model auction needs --max-price AMOUNT, its budget"),
        (false, Some(payment), None) => Ok(("--payment", payment)),
        (false, None, Some(_)) => bail!(
            "--max-price is the budget of --model auction; a {} task is paid --payment AMOUNT",
            model_name(model)
        ),
        (false, None, None) => bail!("pass --payment AMOUNT, the payment escrowed for the winner"),
    }
}

/// The task's commit deadline in blocks from now, and the flag it came from: `--bid-blocks`
/// (default [`DEFAULT_BID_BLOCKS`]) for an auction, `--deadline-blocks` for the other models.
fn deadline_blocks(
    model: Model,
    deadline_blocks: Option<u64>,
    bid_blocks: Option<u64>,
) -> Result<(&'static str, u64)> {
    if model == Model::Auction {
        if deadline_blocks.is_some() {
            bail!(
                "an auction's deadline is the end of bidding: pass --bid-blocks N (default \
                 {DEFAULT_BID_BLOCKS}) instead of --deadline-blocks"
            );
        }
        return Ok(("--bid-blocks", bid_blocks.unwrap_or(DEFAULT_BID_BLOCKS)));
    }
    if bid_blocks.is_some() {
        bail!(
            "--bid-blocks applies to --model auction only; a {} task takes --deadline-blocks N",
            model_name(model)
        );
    }
    let blocks = deadline_blocks.ok_or_else(|| {
        anyhow!("pass --deadline-blocks N: the blocks from now during which providers may commit")
    })?;
    Ok(("--deadline-blocks", blocks))
}

/// The `--model` value as typed.
fn model_name(model: Model) -> &'static str {
    match model {
        Model::FirstResponse => "first-response",
        Model::ManualConfirmation => "manual-confirmation",
        Model::Consensus => "consensus",
        Model::Auction => "auction",
    }
}

/// The competition model of the flags, checked with the market's own rules where they do not
/// depend on its config (`opengpu_types::consensus::validate`, `opengpu_types::auction::validate`);
/// [`check_market_rules`] checks the replicas against the market's `max_committers`.
fn competition_model(
    model: Model,
    replicas: Option<u32>,
    quorum: Option<u32>,
    tolerance: Option<FloatTolerance>,
    auction: AuctionFlags,
) -> Result<CompetitionModel> {
    if model != Model::Auction && auction.any() {
        bail!(
            "--bid-blocks, --bid-reveal-blocks and --execute-blocks apply to --model auction only"
        );
    }
    if model != Model::Consensus {
        if replicas.is_some() || quorum.is_some() || tolerance.is_some() {
            bail!("--replicas, --quorum and --tolerance apply to --model consensus only");
        }
        return Ok(match model {
            Model::ManualConfirmation => CompetitionModel::ManualConfirmation,
            Model::Auction => {
                let bid_reveal_blocks = auction
                    .bid_reveal_blocks
                    .unwrap_or(DEFAULT_BID_REVEAL_BLOCKS);
                let execute_blocks = auction.execute_blocks.unwrap_or(DEFAULT_EXECUTE_BLOCKS);
                opengpu_auction::validate(bid_reveal_blocks, execute_blocks).map_err(|e| {
                    anyhow!(
                        "--model auction: {}",
                        e.replace("bid_reveal_blocks", "--bid-reveal-blocks")
                            .replace("execute_blocks", "--execute-blocks")
                    )
                })?;
                CompetitionModel::Auction {
                    bid_reveal_blocks,
                    execute_blocks,
                }
            }
            _ => CompetitionModel::FirstResponse,
        });
    }
    let replicas =
        replicas.ok_or_else(|| anyhow!("--model consensus needs --replicas N (and --quorum K)"))?;
    if replicas < 2 {
        bail!("--replicas must be at least 2, got {replicas}");
    }
    let quorum = quorum.unwrap_or(replicas / 2 + 1);
    consensus::validate(replicas, quorum, tolerance.as_ref(), u32::MAX)
        .map_err(|e| anyhow!("--model consensus: {e}"))?;
    Ok(CompetitionModel::Consensus {
        replicas,
        quorum,
        tolerance,
    })
}

/// The verification policy and, when the task has no decisive check, the warning to print.
///
/// An explicit `--verify` wins, then `--unverified`, then the example's own default. Without
/// any, First Response and Manual Confirmation refuse to guess (a placeholder could win, or be
/// paid as the cheapest offer of a silent client); Consensus publishes unverified, since the
/// agreement of a quorum decides.
fn choose_policy(
    model: &CompetitionModel,
    verify: Option<VerificationPolicy>,
    unverified: bool,
    example_default: impl FnOnce() -> Option<VerificationPolicy>,
) -> Result<(VerificationPolicy, Option<String>)> {
    let policy = match (verify, unverified) {
        (Some(_), true) => bail!("--verify and --unverified exclude each other"),
        (Some(policy), false) => policy,
        (None, true) => VerificationPolicy::Unverified {},
        (None, false) => match example_default() {
            Some(policy) => policy,
            None if matches!(model, CompetitionModel::Consensus { .. }) => {
                VerificationPolicy::Unverified {}
            }
            None => bail!(
                "{} task needs a decisive check of its results: pass --verify ({VERIFY_HELP}), \
                 or --unverified to accept any outputs of the right sizes (providers may refuse \
                 such a task)",
                match render::model_label(model) {
                    label @ "Auction" => format!("an {label}"),
                    label => format!("a {label}"),
                }
            ),
        },
    };
    let warning = match (&policy, model) {
        (VerificationPolicy::Unverified {}, CompetitionModel::FirstResponse) => Some(
            "warning: this task is unverified: any outputs of the right sizes pass, so a \
             placeholder can win First Response; providers may refuse the task"
                .to_string(),
        ),
        (VerificationPolicy::Unverified {}, CompetitionModel::ManualConfirmation) => Some(
            "warning: this task is unverified: any outputs of the right sizes count as an offer, \
             and if you confirm none in time the cheapest is paid, placeholder or not; providers \
             may refuse the task"
                .to_string(),
        ),
        (VerificationPolicy::Unverified {}, CompetitionModel::Auction { .. }) => Some(
            "warning: this task is unverified: any outputs of the right sizes pass, so the \
             auction's winner is paid for a placeholder as for a result; providers may refuse \
             the task"
                .to_string(),
        ),
        _ => None,
    };
    Ok((policy, warning))
}

/// A warning when a Freivalds tolerance is below the rounding error an honest f32 product of
/// inner dimension `k` may carry, `γ_k = k·u / (1 − k·u)` with `u = 2^-24` (see
/// `opengpu_types::freivalds`): honest results could then fail the check and be slashed.
fn freivalds_tolerance_warning(spec: &FreivaldsSpec) -> Option<String> {
    let ku = f64::from(spec.k) * 2f64.powi(-24);
    let gamma = if ku < 1.0 {
        ku / (1.0 - ku)
    } else {
        f64::INFINITY
    };
    let tolerance = consensus::decimal_to_f64(&spec.tolerance);
    (tolerance < gamma).then(|| {
        format!(
            "warning: Freivalds tol={} is below the rounding error of an honest f32 product with \
             k={} ({gamma:.2e}): a correct result may fail the check; {:.1e} or more is safe",
            spec.tolerance,
            spec.k,
            2.0 * gamma
        )
    })
}

/// An example's decisive check when the client can know one: Freivalds for `sgemm`, the
/// digest of the CPU reference for `vector-add` (exact: its inputs are on a grid where every
/// sum is exact) and `hash-chain` (integers). `mandelbrot` has none: devices may differ on
/// pixels near the set's edge, so a reference hash would refuse honest results.
fn example_policy(task: &ExampleTask) -> Option<VerificationPolicy> {
    if let Some(spec) = task.freivalds() {
        return Some(VerificationPolicy::Freivalds(spec));
    }
    match task.example {
        Example::VectorAdd | Example::HashChain => {
            let outputs: Vec<Binary> = task.reference().into_iter().map(Binary::from).collect();
            Some(VerificationPolicy::ReferenceHash {
                sha256: HexBinary::from(outputs_digest(&outputs).to_vec()),
            })
        }
        Example::Sgemm | Example::Mandelbrot => None,
    }
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
    let (budget_flag, budget_text) =
        budget_flag(a.model, a.payment.as_deref(), a.max_price.as_deref())?;
    let (deadline_flag, deadline_blocks) =
        deadline_blocks(a.model, a.deadline_blocks, a.bid_blocks)?;
    let auction = AuctionFlags {
        bid_reveal_blocks: a.bid_reveal_blocks,
        execute_blocks: a.execute_blocks,
    };
    // The replicas are checked against the market's max_committers below, with its config.
    let model = competition_model(a.model, a.replicas, a.quorum, a.tolerance, auction)?;
    let verify = a.verify.as_deref().map(parse_verify).transpose()?;
    let (verification, warning) = choose_policy(&model, verify, a.unverified, || {
        example.as_ref().and_then(example_policy)
    })?;
    let mut warnings: Vec<String> = warning.into_iter().collect();
    if let VerificationPolicy::Freivalds(spec) = &verification {
        spec.validate_for(&kernel)
            .map_err(|e| anyhow!("--verify freivalds does not fit the kernel: {e}"))?;
        warnings.extend(freivalds_tolerance_warning(spec));
    }
    let payment = parse_coin(budget_text, None).context(budget_flag)?;
    let budget = Uint128::try_from(payment.amount)
        .map_err(|_| anyhow!("{budget_flag} {budget_text} is too large"))?;
    if budget.is_zero() {
        bail!("{budget_flag} must be greater than zero");
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
    // The kernel on a local OpenCL device, the last local step: it takes the longest.
    let local_check = kernel_check::run(&kernel, a.local_check_mode()).await?;

    // Then the market's own rules, read from the chain.
    let contracts = ctx.contracts()?;
    let chain = ctx.market_chain().await?.clone();
    let q = Opengpu::new(&chain, &contracts);
    let config = q.market_config().await?;
    // From the home chain, the budget arrives as the voucher of what is sent.
    let remote = a.from_chain == ChainArg::Home;
    let escrow_denom = if remote {
        remote::check(ctx, &config, &model, &payment.denom)?
    } else {
        payment.denom.clone()
    };
    let stake_denom = q.vault_config().await?.stake_denom;
    let collateral = match &a.collateral {
        Some(c) => parse_amount_in(c, &stake_denom)
            .with_context(|| format!("--collateral is paid in the stake denom {stake_denom}"))?,
        None => config.params.min_collateral,
    };
    let terms = PublishTerms {
        denom: &escrow_denom,
        kernel: &kernel,
        collateral,
        deadline_blocks,
        model: &model,
    };
    let Publishable { output_sizes, .. } =
        check_market_rules(&config, terms, a.model, deadline_flag)?;
    for warning in &warnings {
        eprintln!("{warning}");
    }

    let draft = TaskDraft {
        kernel,
        requirements,
        collateral,
        deadline_blocks,
        verification: verification.clone(),
        model,
    };
    let (tx, published, remote) = if remote {
        let published =
            remote::publish(ctx, &chain, &contracts, draft, payment, a.max_wait.into()).await?;
        let task = &published.task;
        let event = TaskPublished {
            task_id: task.id,
            client: task.client.to_string(),
            model: task.model.to_string(),
            denom: task.denom.clone(),
            amount: task.budget,
            collateral: task.collateral,
            deadline: task.deadline_height,
        };
        (published.sent.tx.clone(), event, Some(published))
    } else {
        let TaskDraft {
            kernel,
            requirements,
            collateral,
            deadline_blocks,
            verification,
            model,
        } = draft;
        let msg = ExecuteMsg::PublishTask {
            kernel,
            requirements,
            collateral,
            deadline_blocks,
            verification,
            model,
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
        (tx, published, None)
    };
    let mut json = serde_json::json!({
        "task_id": published.task_id,
        "txhash": tx.txhash,
        "height": tx.height,
        "gas_wanted": tx.gas_wanted,
        "gas_used": tx.gas_used,
        "deadline_height": published.deadline,
        "model": model,
        "verification": verification,
        "fee_bps": config.fee_bps,
        "local_check": local_check.as_ref().map(kernel_check::json),
    });
    if let Some(remote) = &remote {
        json["remote"] = remote.json();
    }
    if let Some(task) = &example {
        json["example"] = serde_json::json!({
            "name": task.example.name(),
            "size": task.size,
            "seed": task.seed,
        });
    }
    let bid_reveals_until = match model {
        CompetitionModel::Auction {
            bid_reveal_blocks, ..
        } => Some(published.deadline.saturating_add(bid_reveal_blocks)),
        _ => None,
    };
    if let (CompetitionModel::Auction { execute_blocks, .. }, Some(bid_reveals_until_height)) =
        (model, bid_reveals_until)
    {
        json["auction"] = serde_json::json!({
            "max_price": published.amount,
            "denom": published.denom,
            "bids_until_height": published.deadline,
            "bid_reveals_until_height": bid_reveals_until_height,
            "execute_blocks": execute_blocks,
        });
    }
    ctx.emit(&json, || {
        let outputs = output_sizes
            .iter()
            .map(|s| bytes(*s))
            .collect::<Vec<_>>()
            .join(", ");
        let mut text = tx_line(&tx);
        if let Some(remote) = &remote {
            text.push('\n');
            text.push_str(&remote.text());
        }
        text.push_str(&match bid_reveals_until {
            Some(until) => format!(
                "\npublished task {}, an auction with maximum price {}{}; bids until height {}, \
                 bid reveals until height {until}; outputs {outputs}",
                published.task_id, published.amount, published.denom, published.deadline,
            ),
            None => format!(
                "\npublished task {} paying {}{}; commits until height {}; outputs {outputs}",
                published.task_id, published.amount, published.denom, published.deadline,
            ),
        });
        text.push_str(&format!(
            "\nmodel: {}; verification: {}",
            render::model_line(&model),
            render::policy_line(&verification)
        ));
        if let Some(checked) = &local_check {
            text.push('\n');
            text.push_str(&kernel_check::line(checked));
        }
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
    let offchain = OffChain {
        url_bases: a.input_url.clone(),
        dir: a.input_dir.clone(),
    };
    if let Some(dir) = &offchain.dir {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create --input-dir {}", dir.display()))?;
    }
    let args = a
        .args
        .iter()
        .map(|arg| match a.offchain {
            true => arg.load_offchain(&offchain),
            false => arg.load(),
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Kernel {
        source,
        entry_point: entry.clone(),
        global_work_size: global.0.clone(),
        local_work_size: a.local.as_ref().map(|l| l.0.clone()),
        args,
    })
}

/// The market's publish rules (`MarketConfig::check_publish`, the function the market runs)
/// applied to its config here, where failing costs no fee; errors name the flag at fault.
fn check_market_rules(
    config: &MarketConfig,
    terms: PublishTerms,
    model: Model,
    deadline_flag: &str,
) -> Result<Publishable> {
    config.check_publish(terms).map_err(|e| match e {
        PublishError::DenomNotAccepted { denom, accepted } => {
            anyhow!("the market does not accept payment in {denom}; accepted: {accepted}")
        }
        PublishError::InvalidKernel(e) => anyhow!("invalid kernel: {e}"),
        PublishError::CollateralTooLow { got, min } => {
            anyhow!("--collateral {got} is below the market's minimum {min}")
        }
        PublishError::DeadlineOutOfRange { got, min, max } => {
            anyhow!("{deadline_flag} {got} is outside the market's {min}..={max}")
        }
        PublishError::InvalidModel { reason } => {
            anyhow!("--model {}: {reason}", model_name(model))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::Decimal;

    fn reference() -> VerificationPolicy {
        VerificationPolicy::ReferenceHash {
            sha256: HexBinary::from(vec![7; 32]),
        }
    }

    fn no_auction() -> AuctionFlags {
        AuctionFlags::default()
    }

    fn auction(bid_reveal_blocks: u64, execute_blocks: u64) -> CompetitionModel {
        CompetitionModel::Auction {
            bid_reveal_blocks,
            execute_blocks,
        }
    }

    #[test]
    fn an_auction_takes_its_windows_with_defaults_and_the_market_rule() {
        let flags = |bid_reveal_blocks, execute_blocks| AuctionFlags {
            bid_reveal_blocks,
            execute_blocks,
        };
        let model = |f| competition_model(Model::Auction, None, None, None, f);
        assert_eq!(
            model(no_auction()).unwrap(),
            auction(DEFAULT_BID_REVEAL_BLOCKS, DEFAULT_EXECUTE_BLOCKS)
        );
        assert_eq!(
            (DEFAULT_BID_REVEAL_BLOCKS, DEFAULT_EXECUTE_BLOCKS),
            (10, 50)
        );
        assert_eq!(model(flags(Some(3), Some(40))).unwrap(), auction(3, 40));
        assert_eq!(
            model(flags(None, Some(2))).unwrap(),
            auction(DEFAULT_BID_REVEAL_BLOCKS, 2)
        );
        let err = |f| model(f).unwrap_err().to_string();
        assert_eq!(
            err(flags(Some(0), None)),
            "--model auction: --bid-reveal-blocks must be 1..=100000, got 0"
        );
        assert!(
            err(flags(None, Some(1))).contains("--execute-blocks must be at least 2"),
            "{}",
            err(flags(None, Some(1)))
        );
        assert!(err(flags(None, Some(100_001))).contains("--execute-blocks must be 1..=100000"));
        // Consensus flags are refused with an auction, auction flags with every other model.
        let err = competition_model(Model::Auction, Some(3), None, None, no_auction())
            .unwrap_err()
            .to_string();
        assert!(err.contains("--model consensus only"), "{err}");
        for other in [
            Model::FirstResponse,
            Model::ManualConfirmation,
            Model::Consensus,
        ] {
            let err = competition_model(other, Some(3), None, None, flags(None, Some(20)))
                .unwrap_err()
                .to_string();
            assert!(err.contains("apply to --model auction only"), "{err}");
        }
    }

    #[test]
    fn the_auction_defaults_are_written_in_the_help() {
        use clap::CommandFactory;
        let cli = crate::cli::Cli::command();
        let publish = cli
            .find_subcommand("task")
            .and_then(|t| t.find_subcommand("publish"))
            .expect("task publish");
        let help = |id: &str| {
            publish
                .get_arguments()
                .find(|a| a.get_id() == id)
                .and_then(|a| a.get_help())
                .map(|h| h.to_string())
                .unwrap_or_else(|| panic!("no help for {id}"))
        };
        for (id, default) in [
            ("bid_blocks", DEFAULT_BID_BLOCKS),
            ("bid_reveal_blocks", DEFAULT_BID_REVEAL_BLOCKS),
            ("execute_blocks", DEFAULT_EXECUTE_BLOCKS),
        ] {
            let help = help(id);
            assert!(
                help.ends_with(&format!("[default: {default}]")),
                "{id}: {help}"
            );
        }
    }

    #[test]
    fn an_auctions_budget_is_its_max_price() {
        assert_eq!(
            budget_flag(Model::Auction, None, Some("900uatom")).unwrap(),
            ("--max-price", "900uatom")
        );
        assert_eq!(
            budget_flag(Model::FirstResponse, Some("900uatom"), None).unwrap(),
            ("--payment", "900uatom")
        );
        let err = |model, payment, max| budget_flag(model, payment, max).unwrap_err().to_string();
        assert!(err(Model::Auction, Some("1uatom"), None)
            .contains("pass --max-price AMOUNT instead of --payment"));
        assert!(err(Model::Auction, None, None).contains("--model auction needs --max-price"));
        assert!(err(Model::Auction, Some("1uatom"), Some("1uatom")).contains("exclude each other"));
        let err = err(Model::ManualConfirmation, None, Some("1uatom"));
        assert!(
            err.contains("--max-price is the budget of --model auction")
                && err.contains("manual-confirmation task is paid --payment"),
            "{err}"
        );
        assert!(budget_flag(Model::Consensus, None, None).is_err());
    }

    #[test]
    fn an_auctions_deadline_is_the_end_of_bidding() {
        assert_eq!(
            deadline_blocks(Model::Auction, None, None).unwrap(),
            ("--bid-blocks", DEFAULT_BID_BLOCKS)
        );
        assert_eq!(DEFAULT_BID_BLOCKS, 10);
        assert_eq!(
            deadline_blocks(Model::Auction, None, Some(30)).unwrap(),
            ("--bid-blocks", 30)
        );
        assert_eq!(
            deadline_blocks(Model::FirstResponse, Some(50), None).unwrap(),
            ("--deadline-blocks", 50)
        );
        let err = deadline_blocks(Model::Auction, Some(50), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("pass --bid-blocks N (default 10)"), "{err}");
        let err = deadline_blocks(Model::Consensus, None, Some(50))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--bid-blocks applies to --model auction only"),
            "{err}"
        );
        let err = deadline_blocks(Model::FirstResponse, None, None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("pass --deadline-blocks N"), "{err}");
    }

    #[test]
    fn the_markets_rules_are_checked_here_naming_the_flag_at_fault() {
        let config = MarketConfig {
            registry_addr: cosmwasm_std::Addr::unchecked("r"),
            vault_addr: cosmwasm_std::Addr::unchecked("v"),
            verification_addr: cosmwasm_std::Addr::unchecked("x"),
            allowed_denoms: vec!["uatom".into()],
            fee_bps: 100,
            fee_collector: cosmwasm_std::Addr::unchecked("f"),
            params: opengpu_types::market::MarketParams {
                kernel_limits: opengpu_types::kernel::KernelLimits {
                    max_source_bytes: 1024,
                    max_args: 1,
                    max_input_bytes: 1,
                    max_output_bytes: 16,
                },
                max_committers: 5,
                min_deadline_blocks: 5,
                max_deadline_blocks: 100_000,
                reveal_window_blocks: 50,
                confirm_window_blocks: 50,
                min_collateral: Uint128::new(10),
            },
            ibc: Default::default(),
            retention_blocks: opengpu_types::market::DEFAULT_RETENTION_BLOCKS,
        };
        let kernel = Kernel {
            source: "__kernel void k(__global uint* out) {}".into(),
            entry_point: "k".into(),
            global_work_size: vec![4],
            local_work_size: None,
            args: vec![opengpu_types::kernel::KernelArg::Output { size: 16 }],
        };
        let auction = auction(10, 50);
        let terms = |deadline_blocks| PublishTerms {
            denom: "uatom",
            kernel: &kernel,
            collateral: Uint128::new(10),
            deadline_blocks,
            model: &auction,
        };
        let check = |terms, model| {
            check_market_rules(&config, terms, model, "--bid-blocks")
                .map(|p| p.output_sizes)
                .map_err(|e| e.to_string())
        };
        assert_eq!(
            check(terms(DEFAULT_BID_BLOCKS), Model::Auction),
            Ok(vec![16])
        );
        assert_eq!(
            check(terms(4), Model::Auction).unwrap_err(),
            "--bid-blocks 4 is outside the market's 5..=100000"
        );
        let collateral = PublishTerms {
            collateral: Uint128::new(9),
            ..terms(10)
        };
        assert_eq!(
            check(collateral, Model::Auction).unwrap_err(),
            "--collateral 9 is below the market's minimum 10"
        );
        let denom = PublishTerms {
            denom: "ustake",
            ..terms(10)
        };
        assert_eq!(
            check(denom, Model::Auction).unwrap_err(),
            "the market does not accept payment in ustake; accepted: uatom"
        );
        let six = consensus(6, 4);
        let replicas = PublishTerms {
            model: &six,
            ..terms(10)
        };
        let err = check(replicas, Model::Consensus).unwrap_err();
        assert!(
            err.starts_with("--model consensus: replicas must be 2..=5"),
            "{err}"
        );
        let mut big = kernel.clone();
        big.args[0] = opengpu_types::kernel::KernelArg::Output { size: 17 };
        let big = PublishTerms {
            kernel: &big,
            ..terms(10)
        };
        assert_eq!(
            check(big, Model::Auction).unwrap_err(),
            "invalid kernel: output buffers hold 17 bytes; the limit is 16"
        );
    }

    fn consensus(replicas: u32, quorum: u32) -> CompetitionModel {
        CompetitionModel::Consensus {
            replicas,
            quorum,
            tolerance: None,
        }
    }

    #[test]
    fn consensus_is_checked_with_the_market_rule() {
        assert_eq!(
            competition_model(Model::Consensus, Some(3), Some(2), None, no_auction()).unwrap(),
            consensus(3, 2)
        );
        // The quorum defaults to the smallest strict majority.
        assert_eq!(
            competition_model(Model::Consensus, Some(4), None, None, no_auction()).unwrap(),
            consensus(4, 3)
        );
        let tolerance = FloatTolerance::Ulps { max: 8 };
        assert_eq!(
            competition_model(
                Model::Consensus,
                Some(5),
                Some(3),
                Some(tolerance),
                no_auction(),
            )
            .unwrap(),
            CompetitionModel::Consensus {
                replicas: 5,
                quorum: 3,
                tolerance: Some(tolerance)
            }
        );
        let err = |replicas, quorum, tolerance| {
            competition_model(Model::Consensus, replicas, quorum, tolerance, no_auction())
                .unwrap_err()
                .to_string()
        };
        assert!(err(None, None, None).contains("needs --replicas"));
        assert!(err(Some(1), None, None).contains("at least 2"));
        assert!(err(Some(4), Some(2), None).contains("strict majority"));
        assert!(err(Some(3), Some(4), None).contains("strict majority"));
        let loose = FloatTolerance::Relative {
            max: Decimal::percent(5),
        };
        assert!(err(Some(3), None, Some(loose)).contains("relative tolerance"));
        let zero = FloatTolerance::Relative {
            max: Decimal::zero(),
        };
        assert!(err(Some(3), None, Some(zero)).contains("above 0"));
    }

    #[test]
    fn consensus_flags_need_the_consensus_model() {
        for (replicas, quorum, tolerance) in [
            (Some(3), None, None),
            (None, Some(2), None),
            (None, None, Some(FloatTolerance::Ulps { max: 1 })),
        ] {
            for model in [Model::FirstResponse, Model::ManualConfirmation] {
                let err = competition_model(model, replicas, quorum, tolerance, no_auction())
                    .unwrap_err()
                    .to_string();
                assert!(err.contains("--model consensus only"), "{err}");
            }
        }
        assert_eq!(
            competition_model(Model::ManualConfirmation, None, None, None, no_auction()).unwrap(),
            CompetitionModel::ManualConfirmation
        );
    }

    #[test]
    fn a_task_without_a_decisive_check_must_say_unverified() {
        let none = || None;
        for model in [
            CompetitionModel::FirstResponse,
            CompetitionModel::ManualConfirmation,
            auction(5, 20),
        ] {
            let err = choose_policy(&model, None, false, none)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("--verify") && err.contains("--unverified"),
                "{err}"
            );
            assert!(err.contains("freivalds:"), "{err}");
            let (policy, warning) = choose_policy(&model, None, true, none).unwrap();
            assert_eq!(policy, VerificationPolicy::Unverified {});
            let warning = warning.expect("an unverified task warns");
            assert!(warning.contains("providers may refuse"), "{warning}");
            let (policy, warning) = choose_policy(&model, Some(reference()), false, none).unwrap();
            assert_eq!((policy, warning), (reference(), None));
        }
        let (_, warning) =
            choose_policy(&CompetitionModel::FirstResponse, None, true, none).unwrap();
        assert!(warning
            .unwrap()
            .contains("placeholder can win First Response"));
        // Consensus: agreement decides, so no flag is needed and nothing is warned about.
        for unverified in [false, true] {
            assert_eq!(
                choose_policy(&consensus(3, 2), None, unverified, none).unwrap(),
                (VerificationPolicy::Unverified {}, None)
            );
        }
        assert_eq!(
            choose_policy(&consensus(3, 2), Some(reference()), false, none).unwrap(),
            (reference(), None)
        );
        assert!(choose_policy(&consensus(3, 2), Some(reference()), true, none).is_err());
    }

    #[test]
    fn explicit_flags_override_an_examples_default_policy() {
        let model = CompetitionModel::FirstResponse;
        let default = || Some(reference());
        assert_eq!(
            choose_policy(&model, None, false, default).unwrap(),
            (reference(), None)
        );
        let (policy, warning) = choose_policy(&model, None, true, default).unwrap();
        assert_eq!(policy, VerificationPolicy::Unverified {});
        assert!(warning.is_some());
        let other = VerificationPolicy::ReferenceHash {
            sha256: HexBinary::from(vec![1; 32]),
        };
        assert_eq!(
            choose_policy(&model, Some(other.clone()), false, default).unwrap(),
            (other, None)
        );
    }

    #[test]
    fn examples_bring_a_decisive_policy_when_the_client_can_know_one() {
        let task = |example| ExampleTask::new(example, 64, 9).unwrap();
        let sgemm = task(Example::Sgemm);
        match example_policy(&sgemm) {
            Some(VerificationPolicy::Freivalds(spec)) => {
                assert_eq!((spec.a_arg, spec.b_arg, spec.c_arg), (0, 1, 2));
                assert_eq!((spec.m, spec.k, spec.n), (64, 64, 64));
                assert_eq!(spec.tolerance, Decimal::bps(1));
                assert_eq!(spec.validate_for(&sgemm.kernel()), Ok(0));
                assert_eq!(freivalds_tolerance_warning(&spec), None);
            }
            other => panic!("sgemm: {other:?}"),
        }
        for example in [Example::VectorAdd, Example::HashChain] {
            let t = task(example);
            let outputs: Vec<Binary> = t.reference().into_iter().map(Binary::from).collect();
            assert_eq!(
                example_policy(&t),
                Some(VerificationPolicy::ReferenceHash {
                    sha256: HexBinary::from(outputs_digest(&outputs).to_vec())
                }),
                "{example}"
            );
        }
        assert_eq!(example_policy(&task(Example::Mandelbrot)), None);
    }

    #[test]
    fn a_freivalds_tolerance_below_honest_rounding_is_warned_about() {
        let spec = |k, tolerance| FreivaldsSpec {
            a_arg: 0,
            b_arg: 1,
            c_arg: 2,
            m: 4,
            k,
            n: 4,
            tolerance,
        };
        assert_eq!(
            freivalds_tolerance_warning(&spec(320, Decimal::bps(1))),
            None
        );
        let warning = freivalds_tolerance_warning(&spec(4096, Decimal::bps(1))).unwrap();
        assert!(warning.contains("k=4096"), "{warning}");
        assert!(
            freivalds_tolerance_warning(&spec(64, Decimal::from_atomics(1u128, 7).unwrap()))
                .is_some()
        );
    }
}
