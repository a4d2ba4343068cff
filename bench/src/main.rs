//! `opengpu-bench`: the measurements behind `just bench` (scripts/bench.sh). Each subcommand
//! prints one Markdown section; the script assembles them into BENCHMARKS.md.

mod anchor;
mod chain;
mod gas;
mod gas_models;
mod latency;
mod plot;
mod sgemm;
mod stats;

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
    /// SGEMM GFLOP/s: the shipped OpenCL kernel vs the matrixmultiply crate
    Sgemm {
        #[arg(long, value_delimiter = ',', default_value = "256,512,1024")]
        sizes: Vec<u32>,
        #[arg(long, default_value_t = 5)]
        runs: usize,
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
            Command::Sgemm { sizes, runs, plots } => {
                sgemm::run(&sizes, runs, plots.plots.as_deref())
            }
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
