//! `opengpu-provider`: thin entry point; everything lives in the library.

use std::process::ExitCode;

use clap::Parser;
use opengpu_provider::cli::{self, Cli, Command};
use opengpu_provider::config::Config;
use opengpu_provider::executor::DeviceSelector;

fn main() -> ExitCode {
    let Cli { common, command } = Cli::parse();
    let command = match command {
        Command::Worker {
            platform,
            device,
            memory_limit_bytes,
        } => {
            // No runtime and no logging setup: the worker speaks only its protocol on stdout.
            return opengpu_provider::executor::opencl::worker::run(
                DeviceSelector { platform, device },
                memory_limit_bytes,
            );
        }
        command => command,
    };
    opengpu_provider::logging::init(common.output);
    let _failpoints = fail::FailScenario::setup(); // reads FAILPOINTS; inert without the feature
    let result = match opengpu_client::block_on(async move {
        let output = common.output;
        match &command {
            Command::Init(args) => cli::init::run(args, output),
            Command::Devices(args) => cli::devices::run(args, output),
            Command::Register(_) => {
                cli::register::run(&Config::load(&common.config)?, output).await
            }
            Command::Run(args) => cli::run::run(Config::load(&common.config)?, args).await,
            Command::Worker { .. } => Ok(()), // returned above
        }
    }) {
        Ok(result) => result,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
