//! The `opengpu` command line: global flags like wasmd's, one module per subcommand.

mod args;
mod balance;
mod chain;
mod context;
mod example;
mod ibc;
mod keys;
mod market;
mod output;
mod provider;
mod serve;
mod stake;
mod task;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

pub use context::Context;

/// Decentralized GPU compute on a Cosmos chain: publish OpenCL tasks, run them as a
/// provider, get paid.
///
/// With no connection flags, opengpu talks to the localnet that `just localnet` and
/// `just deploy` set up: it reads `localnet/addresses/<chain-id>.json` from the current
/// directory or the nearest parent that has one (when there are several, pick one with
/// --chain-id, or with --node by its RPC endpoint).
#[derive(Parser, Debug)]
#[command(
    name = "opengpu",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOpts,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes.
#[derive(clap::Args, Debug, Clone)]
pub struct GlobalOpts {
    /// CometBFT RPC endpoint of a node [default: the deployment's, else
    /// http://127.0.0.1:26657]
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        env = "OPENGPU_NODE",
        value_name = "URL"
    )]
    pub node: Option<String>,

    /// Chain id; also picks `localnet/addresses/<ID>.json` when several deployments exist
    /// [default: the deployment's, else asked from the node]
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        env = "OPENGPU_CHAIN_ID",
        value_name = "ID"
    )]
    pub chain_id: Option<String>,

    /// Deployment file with the contract addresses (as `just deploy` writes) [default:
    /// found from the current directory upward in localnet/addresses/]
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        env = "OPENGPU_DEPLOYMENT",
        value_name = "FILE"
    )]
    pub deployment: Option<PathBuf>,

    /// Which chain of the IBC setup (`just ibc`) a command talks to: `market`, where the
    /// contracts are, or `home`, the other chain (for `balance`, `ibc transfer`)
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        env = "OPENGPU_CHAIN",
        value_name = "CHAIN",
        value_enum,
        default_value_t = ChainArg::Market
    )]
    pub chain: ChainArg,

    /// The IBC file `just ibc` writes (both chains, their channel, the relayer) [default:
    /// localnet/addresses/ibc.json, found from the current directory upward]
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        env = "OPENGPU_IBC_FILE",
        value_name = "FILE"
    )]
    pub ibc_file: Option<PathBuf>,

    /// Key that signs transactions: a key name or its address
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        env = "OPENGPU_FROM",
        value_name = "NAME|ADDRESS"
    )]
    pub from: Option<String>,

    /// Keyring backend: `file` encrypts keys with a passphrase; `test` stores them
    /// unencrypted, for local test chains only
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        env = "OPENGPU_KEYRING_BACKEND",
        value_name = "BACKEND",
        value_enum,
        default_value_t = KeyringBackend::File
    )]
    pub keyring_backend: KeyringBackend,

    /// Directory of the keyring and the commit/reveal data [default: $HOME/.opengpu]
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        env = "OPENGPU_HOME",
        value_name = "DIR"
    )]
    pub home: Option<PathBuf>,

    /// Gas limit per transaction: `auto` simulates and multiplies by --gas-adjustment
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        default_value = "auto",
        value_name = "auto|N"
    )]
    pub gas: String,

    /// Factor applied to simulated gas
    #[arg(long, global = true, help_heading = "Global options", default_value_t = opengpu_client::config::DEFAULT_GAS_ADJUSTMENT, value_name = "FACTOR")]
    pub gas_adjustment: f64,

    /// Price of one unit of gas; fee = ceil(gas x price) [default: the deployment's]
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        env = "OPENGPU_GAS_PRICES",
        value_name = "PRICE"
    )]
    pub gas_prices: Option<String>,

    /// How long to wait for a transaction to be included in a block
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        default_value = "60s",
        value_name = "DURATION"
    )]
    pub timeout: humantime::Duration,

    /// Output format: `text` for people, `json` for programs (one JSON document on stdout;
    /// errors go to stderr with a non-zero exit code)
    #[arg(
        long,
        short = 'o',
        global = true,
        help_heading = "Global options",
        value_name = "FORMAT",
        value_parser = output_format(),
        default_value = "text"
    )]
    pub output: OutputFormat,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyringBackend {
    /// Keys encrypted at rest with a passphrase (OPENGPU_KEYRING_PASSPHRASE or a prompt)
    File,
    /// Keys in plain JSON files: local test chains only
    Test,
}

/// One chain of the IBC setup.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChainArg {
    /// The chain with the opengpu contracts
    Market,
    /// The other chain of `just ibc`, whose token pays tasks over IBC
    Home,
}

impl From<ChainArg> for opengpu_client::ibc::Side {
    fn from(chain: ChainArg) -> Self {
        match chain {
            ChainArg::Market => opengpu_client::ibc::Side::Market,
            ChainArg::Home => opengpu_client::ibc::Side::Home,
        }
    }
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
    /// Publish tasks, follow them, fetch results; commit and reveal results by hand
    #[command(subcommand)]
    Task(task::TaskCommand),
    /// The market's claims: payments the bank refused at settlement, withdrawn later
    #[command(subcommand)]
    Market(market::MarketCommand),
    /// Show an address's claims (as `market claims`): payments the bank refused and payouts
    /// home over IBC that failed, per denom
    Claims(market::ClaimsArgs),
    /// Withdraw the --from key's claim in one denom (as `market withdraw-claim`)
    Claim(market::ClaimArgs),
    /// The two chains of `just ibc`: their state and the relayer's, ICS-20 transfers between
    /// them
    #[command(subcommand)]
    Ibc(ibc::IbcCommand),
    /// Register and manage a compute provider
    #[command(subcommand)]
    Provider(provider::ProviderCommand),
    /// Bond, unbond and claim provider stake in the staking vault
    #[command(subcommand)]
    Stake(stake::StakeCommand),
    /// Manage the local keyring
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Show bank balances of a key or an address
    Balance(balance::BalanceArgs),
    /// Show the node and the deployment
    #[command(subcommand)]
    Chain(chain::ChainCommand),
    /// Built-in example kernels: list them, check a published example's result
    #[command(subcommand)]
    Example(example::ExampleCommand),
    /// Serve a directory over HTTP on loopback: the off-chain inputs of `task publish
    /// --offchain --input-dir DIR`, for providers to fetch
    Serve(serve::ServeArgs),
}

/// A command's end that is not success but not a malfunction either (e.g. `task watch` seeing
/// a task expire): main prints the message and exits with the code.
#[derive(Debug)]
pub struct Exit {
    pub code: u8,
    pub message: String,
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Exit {}

/// Runs one parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut ctx = Context::new(cli.global)?;
    match cli.command {
        Command::Task(cmd) => task::run(&mut ctx, cmd).await,
        Command::Market(cmd) => market::run(&mut ctx, cmd).await,
        Command::Claims(args) => market::claims(&mut ctx, args).await,
        Command::Claim(args) => market::claim(&mut ctx, args).await,
        Command::Ibc(cmd) => ibc::run(&mut ctx, cmd).await,
        Command::Provider(cmd) => provider::run(&mut ctx, cmd).await,
        Command::Stake(cmd) => stake::run(&mut ctx, cmd).await,
        Command::Keys(cmd) => keys::run(&mut ctx, cmd),
        Command::Balance(args) => balance::run(&mut ctx, args).await,
        Command::Chain(cmd) => chain::run(&mut ctx, cmd).await,
        Command::Example(cmd) => example::run(&mut ctx, cmd).await,
        Command::Serve(args) => serve::run(&mut ctx, args).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn publish_parses_the_documented_flags_and_rejects_bad_args_early() {
        let ok = Cli::try_parse_from([
            "opengpu",
            "--from",
            "client",
            "-o",
            "json",
            "task",
            "publish",
            "--kernel",
            "vadd.cl",
            "--entry",
            "vadd",
            "--global",
            "1024",
            "--local",
            "64",
            "--arg",
            "buffer:a.bin",
            "--arg",
            "buffer:b.bin",
            "--arg",
            "output:4096",
            "--arg",
            "u32:1024",
            "--arg",
            "f32:0.5",
            "--model",
            "manual-confirmation",
            "--payment",
            "1000ustake",
            "--collateral",
            "100ustake",
            "--deadline-blocks",
            "50",
            "--unverified",
            "--min-mem",
            "1GiB",
            "--fp64",
        ]);
        assert!(ok.is_ok(), "{:?}", ok.err());
        for bad in [
            ["--global", "8", "--arg", "u32:-1"],
            ["--global", "8", "--arg", "matrix:1"],
            ["--global", "0", "--arg", "u32:1"],
            ["--global", "8", "--local", "1,2,3,4"],
        ] {
            let mut argv = vec![
                "opengpu",
                "task",
                "publish",
                "--kernel",
                "k.cl",
                "--entry",
                "k",
                "--payment",
                "1ustake",
                "--deadline-blocks",
                "5",
            ];
            argv.extend(bad);
            let err = Cli::try_parse_from(&argv).unwrap_err();
            assert_eq!(
                err.kind(),
                clap::error::ErrorKind::ValueValidation,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn publish_takes_exactly_one_kernel_source() {
        let publish = |extra: &[&str]| {
            let mut argv = vec![
                "opengpu",
                "task",
                "publish",
                "--payment",
                "1ustake",
                "--deadline-blocks",
                "5",
            ];
            argv.extend(extra);
            Cli::try_parse_from(&argv).map(|_| ()).map_err(|e| e.kind())
        };
        use clap::error::ErrorKind;
        assert_eq!(publish(&["--example", "sgemm"]), Ok(()));
        assert_eq!(
            publish(&["--example", "hash-chain", "--size", "4096", "--seed", "7"]),
            Ok(())
        );
        assert_eq!(
            publish(&["--kernel", "k.cl", "--entry", "k", "--global", "8"]),
            Ok(())
        );
        assert_eq!(publish(&[]), Err(ErrorKind::MissingRequiredArgument));
        assert_eq!(
            publish(&["--example", "sgemm", "--kernel", "k.cl"]),
            Err(ErrorKind::ArgumentConflict)
        );
        assert_eq!(
            publish(&["--example", "sgemm", "--arg", "u32:1"]),
            Err(ErrorKind::ArgumentConflict)
        );
        assert_eq!(
            publish(&["--kernel", "k.cl", "--entry", "k"]),
            Err(ErrorKind::MissingRequiredArgument)
        );
        assert_eq!(
            publish(&["--kernel", "k.cl", "--entry", "k", "--global", "8", "--seed", "1"]),
            Err(ErrorKind::ArgumentConflict)
        );
        assert_eq!(
            publish(&["--size", "64"]),
            Err(ErrorKind::MissingRequiredArgument)
        );
        assert_eq!(
            publish(&["--example", "matmul"]),
            Err(ErrorKind::ValueValidation)
        );
    }

    #[test]
    fn example_commands_parse() {
        assert!(Cli::try_parse_from(["opengpu", "-o", "json", "example", "list"]).is_ok());
        let check = Cli::try_parse_from([
            "opengpu",
            "example",
            "check",
            "12",
            "--example",
            "mandelbrot",
            "--size",
            "256",
            "--seed",
            "99",
        ]);
        assert!(check.is_ok(), "{:?}", check.err());
        // All three of example, size and seed name the task's inputs: none has a default.
        let missing = Cli::try_parse_from([
            "opengpu",
            "example",
            "check",
            "12",
            "--example",
            "sgemm",
            "--size",
            "256",
        ])
        .unwrap_err();
        assert_eq!(
            missing.kind(),
            clap::error::ErrorKind::MissingRequiredArgument
        );
    }

    #[test]
    fn publish_takes_consensus_verify_and_unverified_flags() {
        let publish = |extra: &[&str]| {
            let mut argv = vec![
                "opengpu",
                "task",
                "publish",
                "--example",
                "sgemm",
                "--payment",
                "1ustake",
                "--deadline-blocks",
                "5",
            ];
            argv.extend(extra);
            Cli::try_parse_from(&argv).map(|_| ()).map_err(|e| e.kind())
        };
        use clap::error::ErrorKind;
        assert_eq!(
            publish(&["--model", "consensus", "--replicas", "3", "--quorum", "2"]),
            Ok(())
        );
        assert_eq!(
            publish(&[
                "--model",
                "consensus",
                "--replicas",
                "3",
                "--tolerance",
                "rel:1e-4"
            ]),
            Ok(())
        );
        assert_eq!(
            publish(&[
                "--model",
                "consensus",
                "--replicas",
                "3",
                "--tolerance",
                "ulps:4"
            ]),
            Ok(())
        );
        assert_eq!(
            publish(&["--model", "consensus"]),
            Err(ErrorKind::MissingRequiredArgument)
        );
        assert_eq!(
            publish(&["--quorum", "2"]),
            Err(ErrorKind::MissingRequiredArgument)
        );
        assert_eq!(
            publish(&[
                "--model",
                "consensus",
                "--replicas",
                "3",
                "--tolerance",
                "1e-4"
            ]),
            Err(ErrorKind::ValueValidation)
        );
        assert_eq!(
            publish(&[
                "--verify",
                "freivalds:a=0,b=1,c=2,m=256,k=256,n=256,tol=1e-4"
            ]),
            Ok(())
        );
        assert_eq!(publish(&["--unverified"]), Ok(()));
        assert_eq!(
            publish(&["--unverified", "--verify", "reference-outputs:c.bin"]),
            Err(ErrorKind::ArgumentConflict)
        );
        assert_eq!(
            publish(&["--model", "majority"]),
            Err(ErrorKind::InvalidValue)
        );
    }

    #[test]
    fn publish_takes_the_auction_flags_and_one_budget() {
        let publish = |extra: &[&str]| {
            let mut argv = vec!["opengpu", "task", "publish", "--example", "sgemm"];
            argv.extend(extra);
            Cli::try_parse_from(&argv).map(|_| ()).map_err(|e| e.kind())
        };
        use clap::error::ErrorKind;
        assert_eq!(
            publish(&[
                "--model",
                "auction",
                "--max-price",
                "900uatom",
                "--bid-blocks",
                "30",
                "--bid-reveal-blocks",
                "5",
                "--execute-blocks",
                "20",
                "--unverified",
            ]),
            Ok(())
        );
        // Every window has a default; the model's rules are checked before broadcasting.
        assert_eq!(
            publish(&["--model", "auction", "--max-price", "900uatom"]),
            Ok(())
        );
        // A missing budget is named by the model's rule before broadcasting (`--max-price`
        // for an auction, `--payment` otherwise), not by clap.
        assert_eq!(publish(&["--model", "auction"]), Ok(()));
        assert_eq!(
            publish(&["--payment", "1uatom", "--max-price", "1uatom"]),
            Err(ErrorKind::ArgumentConflict)
        );
        assert_eq!(
            publish(&[
                "--max-price",
                "1uatom",
                "--deadline-blocks",
                "5",
                "--bid-blocks",
                "5"
            ]),
            Err(ErrorKind::ArgumentConflict)
        );
        assert_eq!(
            publish(&["--max-price", "1uatom", "--execute-blocks", "soon"]),
            Err(ErrorKind::ValueValidation)
        );
        assert_eq!(
            publish(&["--model", "vickrey"]),
            Err(ErrorKind::InvalidValue)
        );
    }

    #[test]
    fn auction_commands_parse() {
        use clap::error::ErrorKind;
        let parse = |argv: &[&str]| Cli::try_parse_from(argv).map(|_| ()).map_err(|e| e.kind());
        assert_eq!(
            parse(&["opengpu", "task", "bid", "3", "--price", "300uatom"]),
            Ok(())
        );
        assert_eq!(
            parse(&["opengpu", "task", "bid", "3"]),
            Err(ErrorKind::MissingRequiredArgument)
        );
        assert_eq!(
            parse(&["opengpu", "task", "bid", "x", "--price", "3"]),
            Err(ErrorKind::ValueValidation)
        );
        assert_eq!(parse(&["opengpu", "task", "reveal-bid", "3"]), Ok(()));
        assert_eq!(
            parse(&["opengpu", "task", "reveal-bid", "3", "--price", "3"]),
            Err(ErrorKind::UnknownArgument)
        );
        assert_eq!(
            parse(&["opengpu", "-o", "json", "task", "bids", "3"]),
            Ok(())
        );
        assert_eq!(parse(&["opengpu", "task", "advance", "3"]), Ok(()));
        assert_eq!(
            parse(&["opengpu", "task", "advance"]),
            Err(ErrorKind::MissingRequiredArgument)
        );
    }

    #[test]
    fn commit_reveal_and_market_commands_parse() {
        let parse = |argv: &[&str]| Cli::try_parse_from(argv).map(|_| ()).map_err(|e| e.kind());
        let commit = [
            "opengpu",
            "task",
            "commit",
            "3",
            "--outputs",
            "c.bin",
            "--price",
            "300uatom",
        ];
        assert_eq!(parse(&commit), Ok(()));
        assert_eq!(parse(&["opengpu", "task", "reveal", "3"]), Ok(()));
        assert_eq!(
            parse(&["opengpu", "task", "reveal", "3", "--price", "300"]),
            Ok(())
        );
        assert_eq!(parse(&["opengpu", "market", "claims"]), Ok(()));
        assert_eq!(parse(&["opengpu", "market", "claims", "wasm1x"]), Ok(()));
        assert_eq!(
            parse(&["opengpu", "-o", "json", "market", "claims", "--all"]),
            Ok(())
        );
        assert_eq!(
            parse(&["opengpu", "market", "claims", "wasm1x", "--all"]),
            Err(clap::error::ErrorKind::ArgumentConflict)
        );
        assert_eq!(
            parse(&[
                "opengpu",
                "market",
                "withdraw-claim",
                "uatom",
                "--to",
                "wasm1y"
            ]),
            Ok(())
        );
        assert_eq!(
            parse(&["opengpu", "market", "withdraw-claim"]),
            Err(clap::error::ErrorKind::MissingRequiredArgument)
        );
    }
    #[test]
    fn ibc_commands_and_the_chain_flag_parse() {
        use clap::error::ErrorKind;
        let parse = |argv: &[&str]| Cli::try_parse_from(argv).map(|_| ()).map_err(|e| e.kind());
        assert_eq!(parse(&["opengpu", "-o", "json", "ibc", "status"]), Ok(()));
        assert_eq!(
            parse(&[
                "opengpu",
                "--chain",
                "home",
                "--from",
                "client",
                "ibc",
                "transfer",
                "--to",
                "client",
                "--amount",
                "1000uhome",
                "--max-wait",
                "30s",
            ]),
            Ok(())
        );
        assert_eq!(
            parse(&["opengpu", "ibc", "transfer", "--to", "client"]),
            Err(ErrorKind::MissingRequiredArgument)
        );
        assert_eq!(
            parse(&["opengpu", "--chain", "moon", "balance"]),
            Err(ErrorKind::InvalidValue)
        );
        let cli = Cli::try_parse_from(["opengpu", "--chain", "home", "balance"]).unwrap();
        assert_eq!(cli.global.chain, ChainArg::Home);
        let cli = Cli::try_parse_from(["opengpu", "balance"]).unwrap();
        assert_eq!(cli.global.chain, ChainArg::Market);
        assert_eq!(parse(&["opengpu", "claims"]), Ok(()));
        assert_eq!(parse(&["opengpu", "claims", "--all"]), Ok(()));
        assert_eq!(parse(&["opengpu", "claim", "--denom", "ibc/AB"]), Ok(()));
        assert_eq!(
            parse(&["opengpu", "claim"]),
            Err(ErrorKind::MissingRequiredArgument)
        );
        let register = [
            "opengpu",
            "provider",
            "register",
            "--moniker",
            "m",
            "--payout-channel",
            "channel-0",
            "--payout-receiver",
            "wasm1x",
        ];
        assert_eq!(parse(&register), Ok(()));
        assert_eq!(
            parse(&register[..7]),
            Err(ErrorKind::MissingRequiredArgument),
            "a channel needs a receiver"
        );
        assert_eq!(
            parse(&["opengpu", "provider", "update", "--clear-payout-route"]),
            Ok(())
        );
        assert_eq!(
            parse(&[
                "opengpu",
                "provider",
                "update",
                "--clear-payout-route",
                "--payout-channel",
                "channel-0",
                "--payout-receiver",
                "wasm1x",
            ]),
            Err(ErrorKind::ArgumentConflict)
        );
        assert_eq!(
            parse(&[
                "opengpu",
                "task",
                "publish",
                "--example",
                "sgemm",
                "--payment",
                "5000uhome",
                "--deadline-blocks",
                "50",
                "--from-chain",
                "home",
                "--max-wait",
                "1m",
            ]),
            Ok(())
        );
    }
}
