//! `opengpu-bench`: the measurements behind `just bench` (scripts/bench.sh). Each subcommand
//! prints one Markdown section; the script assembles them into BENCHMARKS.md.

mod accounts;
mod anchor;
mod chain;
mod gas;
mod gas_models;
mod gas_scale;
mod goals;
mod latency;
mod offchain;
mod plot;
mod sgemm;
mod stats;
mod throughput;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use opengpu_provider::executor::DeviceSelector;

#[derive(Parser)]
#[command(
    name = "opengpu-bench",
    about = "opengpu benchmarks (run through `just bench`)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone, Debug)]
pub struct ChainArgs {
    /// Deployment file of the chain under test
    #[arg(long)]
    pub deployment: PathBuf,
    /// `opengpu` home holding the test keyring of the localnet accounts
    #[arg(long)]
    pub keys: PathBuf,
}

#[derive(clap::Args, Clone, Debug)]
pub struct PlotArgs {
    /// Also write the section's figure (SVG) into this directory
    #[arg(long)]
    pub plots: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Gas of each message of a First Response lifecycle, of Freivalds, sealed offers,
    /// Consensus and auctions, against a cw20-base transfer and a bank transfer
    Gas {
        #[command(flatten)]
        chain: ChainArgs,
        /// Account acting as provider (bonded and registered)
        #[arg(long, default_value = "provider-2")]
        provider: String,
        /// A second provider account (bonded and registered), for the Consensus replicas
        #[arg(long, default_value = "provider-3")]
        second_provider: String,
        /// cw20-base contract (optimized wasm) to store and measure as the yardstick
        #[arg(long)]
        cw20_wasm: PathBuf,
        #[command(flatten)]
        plots: PlotArgs,
    },
    /// Publish -> settled latency over sequential tasks served by a running daemon
    Latency {
        #[command(flatten)]
        chain: ChainArgs,
        #[arg(long, default_value_t = 50)]
        tasks: usize,
        /// Auction tasks measured after the First Response ones
        #[arg(long, default_value_t = 10)]
        auction_tasks: usize,
        /// The daemon's JSON log (`opengpu-provider --output json run`), for its overhead
        #[arg(long)]
        provider_log: PathBuf,
        #[command(flatten)]
        plots: PlotArgs,
    },
    /// Gas of PublishTask, Commit and Reveal as open tasks grow (registered providers fixed),
    /// on a fresh private chain: registers the providers and publishes the open tasks itself
    GasScale {
        #[command(flatten)]
        chain: ChainArgs,
        /// Provider accounts to fund, bond and register
        #[arg(long, default_value_t = 1000)]
        providers: usize,
        /// Open tasks at which to measure
        #[arg(long, value_delimiter = ',', default_value = "10,100,1000,10000")]
        open_tasks: Vec<usize>,
        #[command(flatten)]
        plots: PlotArgs,
    },
    /// Off-chain inputs through the `opengpu` CLI and a running daemon: publish gas by input
    /// size, off-chain and on-chain, and publish -> settled
    Offchain {
        #[command(flatten)]
        chain: ChainArgs,
        /// The `opengpu` binary (what users run)
        #[arg(long)]
        opengpu: PathBuf,
        /// Scratch directory for the input files
        #[arg(long)]
        work: PathBuf,
        #[arg(long, value_delimiter = ',', default_value = "1,64,256")]
        offchain_mib: Vec<u64>,
        #[arg(long, value_delimiter = ',', default_value = "256,512")]
        onchain_kib: Vec<u64>,
    },
    /// SGEMM GFLOP/s: the shipped OpenCL kernel vs the matrixmultiply crate
    Sgemm {
        #[arg(long, value_delimiter = ',', default_value = "256,512,1024")]
        sizes: Vec<u32>,
        #[arg(long, default_value_t = 5)]
        runs: usize,
        #[command(flatten)]
        plots: PlotArgs,
    },
    /// Throughput: bank sends, then First Response lifecycles, from many funded accounts on
    /// one local node; txs/s and lifecycles/s read from the blocks
    Throughput {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        options: throughput::Options,
        #[command(flatten)]
        plots: PlotArgs,
    },
    /// Internal: the OpenCL worker process of the SGEMM benchmark
    #[command(hide = true)]
    Worker {
        #[arg(long)]
        platform: usize,
        #[arg(long)]
        device: usize,
        #[arg(long)]
        memory_limit_bytes: u64,
    },
}

fn main() -> ExitCode {
    let command = Cli::parse().command;
    if let Command::Worker {
        platform,
        device,
        memory_limit_bytes,
    } = command
    {
        return opengpu_provider::executor::opencl::worker::run(
            DeviceSelector { platform, device },
            memory_limit_bytes,
        );
    }
    let result = opengpu_client::block_on(async move {
        match command {
            Command::Gas {
                chain,
                provider,
                second_provider,
                cw20_wasm,
                plots,
            } => {
                let plots = plots.plots.as_deref();
                gas::run(&chain, &provider, &second_provider, &cw20_wasm, plots).await
            }
            Command::Latency {
                chain,
                tasks,
                auction_tasks,
                provider_log,
                plots,
            } => {
                let plots = plots.plots.as_deref();
                latency::run(&chain, tasks, auction_tasks, &provider_log, plots).await
            }
            Command::GasScale {
                chain,
                providers,
                open_tasks,
                plots,
            } => gas_scale::run(&chain, providers, &open_tasks, plots.plots.as_deref()).await,
            Command::Offchain {
                chain,
                opengpu,
                work,
                offchain_mib,
                onchain_kib,
            } => offchain::run(&chain, &opengpu, &work, &offchain_mib, &onchain_kib).await,
            Command::Sgemm { sizes, runs, plots } => {
                sgemm::run(&sizes, runs, plots.plots.as_deref())
            }
            Command::Throughput {
                chain,
                options,
                plots,
            } => throughput::run(&chain, &options, plots.plots.as_deref()).await,
            Command::Worker { .. } => Ok(()), // returned above
        }
    })
    .unwrap_or_else(|message| Err(anyhow::anyhow!(message)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
