//! `opengpu-provider` subcommands, one module each.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

pub mod devices;
pub mod init;
pub mod register;
pub mod run;
pub mod setup;

#[derive(Parser, Debug)]
#[command(
    name = "opengpu-provider",
    version,
    about = "opengpu provider daemon: finds tasks it can serve, runs them with OpenCL, commits and reveals results"
)]
pub struct Cli {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Args, Debug, Clone)]
pub struct Common {
    /// Configuration file (`opengpu-provider init` writes one)
    #[arg(
        long,
        short,
        global = true,
        env = "OPENGPU_PROVIDER_CONFIG",
        default_value = "provider.toml"
    )]
    pub config: PathBuf,
    /// Output format
    #[arg(long, global = true, value_parser = output_format(), default_value = "text")]
    pub output: OutputFormat,
}

pub use opengpu_client::OutputFormat;

/// `--output`: `text` or `json`, listed in the help.
fn output_format() -> impl clap::builder::TypedValueParser<Value = OutputFormat> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(OutputFormat::NAMES)
        .map(|name| name.parse().expect("one of OutputFormat::NAMES"))
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Write a commented example configuration
    Init(Box<init::InitArgs>),
    /// List OpenCL platforms and devices with the facts the registry stores
    Devices(devices::DevicesArgs),
    /// Bond stake (when below the configured bond) and register or update the provider's profile
    Register(register::RegisterArgs),
    /// Run the daemon until SIGINT or SIGTERM
    Run(run::RunArgs),
    /// Internal: the OpenCL worker process the daemon spawns (requests on stdin)
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

/// Prints `value` as JSON, or the text `render` makes.
pub fn emit<T: serde::Serialize>(
    format: OutputFormat,
    value: &T,
    render: impl FnOnce() -> String,
) -> anyhow::Result<()> {
    match format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(value)?),
        OutputFormat::Text => println!("{}", render()),
    }
    Ok(())
}
