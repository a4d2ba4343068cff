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
use opengpu_types::commitment::outputs_digest;
use opengpu_types::consensus::{self, FloatTolerance};
use opengpu_types::events::TaskPublished;
use opengpu_types::freivalds::FreivaldsSpec;
use opengpu_types::kernel::{Kernel, Requirements};
use opengpu_types::market::{CompetitionModel, ExecuteMsg, MarketConfig};
use opengpu_types::registry::DeviceType;
use opengpu_types::verification::VerificationPolicy;
use rand_core::{OsRng, RngCore};

use super::render;
use crate::cli::args::{
    parse_bytes, parse_tolerance, parse_verify, read_file, ArgSpec, WorkSize, VERIFY_HELP,
};
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
    /// How providers compete: the first valid result wins, the client picks among sealed
    /// priced offers, or agreeing replicas share the payment
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
    /// The decisive check of results, on chain at reveal: `reference:SHA256HEX` (the outputs
    /// must hash to this digest: sha256 over each output as its length in 8 big-endian bytes
    /// then its bytes; a mismatch is refused, not slashed), `reference-outputs:FILE[,FILE]`
    /// (the same digest, computed here from the expected output files), or
    /// `freivalds:a=I,b=I,c=I,m=M,k=K,n=N[,tol=X]` (C = A·B by Freivalds' algorithm; A, B
    /// input and C output kernel argument indices, A m×k, B k×n, row-major f32; tol default
    /// 1e-4; a failure is slashed). Required for first-response and manual-confirmation
    /// unless --unverified; optional under consensus, where agreement decides. `--example`
    /// brings its own default (see `opengpu example list`)
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
}

/// The competition model of the flags, checked with the market's own rule
/// (`opengpu_types::consensus::validate`) against `max_committers`.
fn competition_model(
    model: Model,
    replicas: Option<u32>,
    quorum: Option<u32>,
    tolerance: Option<FloatTolerance>,
    max_committers: u32,
) -> Result<CompetitionModel> {
    if model != Model::Consensus {
        if replicas.is_some() || quorum.is_some() || tolerance.is_some() {
            bail!("--replicas, --quorum and --tolerance apply to --model consensus only");
        }
        return Ok(match model {
            Model::ManualConfirmation => CompetitionModel::ManualConfirmation,
            _ => CompetitionModel::FirstResponse,
        });
    }
    let replicas =
        replicas.ok_or_else(|| anyhow!("--model consensus needs --replicas N (and --quorum K)"))?;
    if replicas < 2 {
        bail!("--replicas must be at least 2, got {replicas}");
    }
    let quorum = quorum.unwrap_or(replicas / 2 + 1);
    consensus::validate(replicas, quorum, tolerance.as_ref(), max_committers)
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
                "a {} task needs a decisive check of its results: pass --verify ({VERIFY_HELP}), \
                 or --unverified to accept any outputs of the right sizes (providers may refuse \
                 such a task)",
                render::model_label(model)
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
    // Consensus limits are checked again below with the market's max_committers.
    let local_model = competition_model(a.model, a.replicas, a.quorum, a.tolerance, u32::MAX)?;
    let verify = a.verify.as_deref().map(parse_verify).transpose()?;
    let (verification, warning) = choose_policy(&local_model, verify, a.unverified, || {
        example.as_ref().and_then(example_policy)
    })?;
    let mut warnings: Vec<String> = warning.into_iter().collect();
    if let VerificationPolicy::Freivalds(spec) = &verification {
        spec.validate_for(&kernel)
            .map_err(|e| anyhow!("--verify freivalds does not fit the kernel: {e}"))?;
        warnings.extend(freivalds_tolerance_warning(spec));
    }
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
    let model = competition_model(
        a.model,
        a.replicas,
        a.quorum,
        a.tolerance,
        config.params.max_committers,
    )?;
    for warning in &warnings {
        eprintln!("{warning}");
    }

    let msg = ExecuteMsg::PublishTask {
        kernel,
        requirements,
        collateral,
        deadline_blocks: a.deadline_blocks,
        verification: verification.clone(),
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
    let mut json = serde_json::json!({
        "task_id": published.task_id,
        "txhash": tx.txhash,
        "height": tx.height,
        "deadline_height": published.deadline,
        "model": model,
        "verification": verification,
        "fee_bps": config.fee_bps,
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
        text.push_str(&format!(
            "\nmodel: {}; verification: {}",
            render::model_line(&model),
            render::policy_line(&verification)
        ));
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

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::Decimal;

    fn reference() -> VerificationPolicy {
        VerificationPolicy::ReferenceHash {
            sha256: HexBinary::from(vec![7; 32]),
        }
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
            competition_model(Model::Consensus, Some(3), Some(2), None, 10).unwrap(),
            consensus(3, 2)
        );
        // The quorum defaults to the smallest strict majority.
        assert_eq!(
            competition_model(Model::Consensus, Some(4), None, None, 10).unwrap(),
            consensus(4, 3)
        );
        let tolerance = FloatTolerance::Ulps { max: 8 };
        assert_eq!(
            competition_model(Model::Consensus, Some(5), Some(3), Some(tolerance), 10).unwrap(),
            CompetitionModel::Consensus {
                replicas: 5,
                quorum: 3,
                tolerance: Some(tolerance)
            }
        );
        let err = |replicas, quorum, tolerance, max| {
            competition_model(Model::Consensus, replicas, quorum, tolerance, max)
                .unwrap_err()
                .to_string()
        };
        assert!(err(None, None, None, 10).contains("needs --replicas"));
        assert!(err(Some(1), None, None, 10).contains("at least 2"));
        assert!(err(Some(4), Some(2), None, 10).contains("strict majority"));
        assert!(err(Some(3), Some(4), None, 10).contains("strict majority"));
        assert!(err(Some(5), None, None, 4).contains("max_committers"));
        let loose = FloatTolerance::Relative {
            max: Decimal::percent(5),
        };
        assert!(err(Some(3), None, Some(loose), 10).contains("relative tolerance"));
        let zero = FloatTolerance::Relative {
            max: Decimal::zero(),
        };
        assert!(err(Some(3), None, Some(zero), 10).contains("above 0"));
    }

    #[test]
    fn consensus_flags_need_the_consensus_model() {
        for (replicas, quorum, tolerance) in [
            (Some(3), None, None),
            (None, Some(2), None),
            (None, None, Some(FloatTolerance::Ulps { max: 1 })),
        ] {
            for model in [Model::FirstResponse, Model::ManualConfirmation] {
                let err = competition_model(model, replicas, quorum, tolerance, 10)
                    .unwrap_err()
                    .to_string();
                assert!(err.contains("--model consensus only"), "{err}");
            }
        }
        assert_eq!(
            competition_model(Model::ManualConfirmation, None, None, None, 10).unwrap(),
            CompetitionModel::ManualConfirmation
        );
    }

    #[test]
    fn a_task_without_a_decisive_check_must_say_unverified() {
        let none = || None;
        for model in [
            CompetitionModel::FirstResponse,
            CompetitionModel::ManualConfirmation,
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
