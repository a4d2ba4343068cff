//! What every command needs, resolved once from the global flags: home directory, keyring,
//! deployment, chain connection, signer, and output.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _, Result};
use indicatif::{ProgressBar, ProgressStyle};
use opengpu_client::config::{GasPrice, DEFAULT_BECH32_PREFIX};
use opengpu_client::ibc::{IbcFile, Side};
use opengpu_client::keys::{with_prefix, Backend, KeyInfo, Keyring, Passphrase};
use opengpu_client::{ChainClient, ChainConfig, ContractAddrs, Deployment, Signer};
use serde::Serialize;

use super::output::print_json;
use super::{GlobalOpts, KeyringBackend, OutputFormat};

/// RPC endpoint used when neither `--node` nor a deployment names one.
const DEFAULT_NODE: &str = "http://127.0.0.1:26657";

pub struct Context {
    pub opts: GlobalOpts,
    home: PathBuf,
    deployment: Option<Option<(PathBuf, Deployment)>>,
    /// The market chain, where the contracts are.
    chain: Option<ChainClient>,
    /// The home chain of the IBC setup (`--chain home`, remote publishing).
    home_chain: Option<ChainClient>,
    ibc: Option<(PathBuf, IbcFile)>,
}

impl Context {
    pub fn new(opts: GlobalOpts) -> Result<Self> {
        let home = match &opts.home {
            Some(home) => home.clone(),
            None => std::env::var_os("HOME")
                .map(|home| PathBuf::from(home).join(".opengpu"))
                .ok_or_else(|| anyhow!("HOME is not set: pass --home"))?,
        };
        Ok(Context {
            opts,
            home,
            deployment: None,
            chain: None,
            home_chain: None,
            ibc: None,
        })
    }

    /// The chain `--chain` names.
    pub fn side(&self) -> Side {
        self.opts.chain.into()
    }

    pub fn json(&self) -> bool {
        self.opts.output == OutputFormat::Json
    }

    pub fn home(&self) -> &Path {
        &self.home
    }

    /// The deployment from `--deployment`, or discovered under `localnet/addresses/`.
    pub fn deployment(&mut self) -> Result<Option<&Deployment>> {
        if self.deployment.is_none() {
            let found = match &self.opts.deployment {
                Some(path) => {
                    let deployment = Deployment::load(path)?;
                    if let (Some(id), Side::Market) = (&self.opts.chain_id, self.side()) {
                        if *id != deployment.chain_id {
                            bail!(
                                "--chain-id {id} but the deployment {} is for chain {}",
                                path.display(),
                                deployment.chain_id
                            );
                        }
                    }
                    Some((path.clone(), deployment))
                }
                None => {
                    let cwd = std::env::current_dir().context("reading the current directory")?;
                    // --node and --chain-id name the home chain under --chain home.
                    let (chain_id, node) = match self.side() {
                        Side::Market => (self.opts.chain_id.as_deref(), self.opts.node.as_deref()),
                        Side::Home => (None, None),
                    };
                    Deployment::discover(&cwd, chain_id, node)?
                }
            };
            self.deployment = Some(found);
        }
        Ok(self
            .deployment
            .as_ref()
            .and_then(|d| d.as_ref())
            .map(|(_, d)| d))
    }

    /// Path of the deployment in use, if any.
    pub fn deployment_path(&mut self) -> Result<Option<PathBuf>> {
        self.deployment()?;
        Ok(self
            .deployment
            .as_ref()
            .and_then(|d| d.as_ref())
            .map(|(p, _)| p.clone()))
    }

    /// Addresses of the contracts; an error naming the fix when no deployment is known.
    pub fn contracts(&mut self) -> Result<ContractAddrs> {
        if self.side() == Side::Home {
            bail!(
                "the home chain has no opengpu contracts: --chain home applies to `balance`, \
                 `ibc transfer` and `ibc status`; publish from it with `task publish \
                 --from-chain home`"
            );
        }
        self.deployment()?.map(ContractAddrs::from).ok_or_else(|| {
            anyhow!(
                "no deployment found: run `just localnet` and `just deploy` in the opengpu \
                     checkout, or pass --deployment FILE"
            )
        })
    }

    /// Bech32 prefix of the chain's addresses.
    pub fn prefix(&mut self) -> String {
        match self.deployment() {
            Ok(Some(d)) => d.bech32_prefix.clone(),
            _ => DEFAULT_BECH32_PREFIX.to_string(),
        }
    }

    pub fn keyring(&self) -> Keyring {
        let backend = match self.opts.keyring_backend {
            KeyringBackend::File => Backend::File,
            KeyringBackend::Test => Backend::Test,
        };
        Keyring::new(&self.home, backend, Passphrase::EnvOrPrompt)
    }

    /// The connection to the chain `--chain` names: the market chain (default) or the home
    /// chain of the IBC setup.
    pub async fn chain(&mut self) -> Result<&ChainClient> {
        match self.side() {
            Side::Market => self.market_chain().await,
            Side::Home => self.home_chain().await,
        }
    }

    /// The connection to the market chain's node; checks that the node is on the deployment's
    /// chain. `--node` and `--chain-id` apply here unless `--chain home`.
    pub async fn market_chain(&mut self) -> Result<&ChainClient> {
        if self.chain.is_none() {
            let deployment = self.deployment()?.cloned();
            let mut config = match &deployment {
                Some(deployment) => ChainConfig::from_deployment(deployment)?,
                None => ChainConfig::new(DEFAULT_NODE),
            };
            let mut expected = deployment.as_ref().map(|d| d.chain_id.clone());
            if self.side() == Side::Market {
                if let Some(node) = &self.opts.node {
                    config.rpc = node.clone();
                }
                expected = self.opts.chain_id.clone().or(expected);
            }
            self.chain = Some(self.connect(config, expected).await?);
        }
        Ok(self.chain.as_ref().expect("set above"))
    }

    /// The connection to the home chain of the IBC file. It has no deployment: its fees are
    /// paid at `--gas-prices`, else at the market deployment's gas price (the localnet's two
    /// chains take the same). `--node` and `--chain-id` apply here under `--chain home`.
    pub async fn home_chain(&mut self) -> Result<&ChainClient> {
        if self.home_chain.is_none() {
            let gas_price = match self.deployment()? {
                Some(d) => Some(d.gas_price.parse::<GasPrice>()?),
                None => None,
            };
            let mut config = self.ibc()?.chain_config(Side::Home, gas_price);
            let mut expected = Some(config.chain_id.clone());
            if self.side() == Side::Home {
                if let Some(node) = &self.opts.node {
                    config.rpc = node.clone();
                }
                expected = self.opts.chain_id.clone().or(expected);
            }
            self.home_chain = Some(self.connect(config, expected).await?);
        }
        Ok(self.home_chain.as_ref().expect("set above"))
    }

    /// The connection to one chain of the IBC setup.
    pub async fn chain_of(&mut self, side: Side) -> Result<&ChainClient> {
        match side {
            Side::Market => self.market_chain().await,
            Side::Home => self.home_chain().await,
        }
    }

    /// `config` with the gas flags applied, connected, and checked to be on `expected`.
    async fn connect(
        &self,
        mut config: ChainConfig,
        expected: Option<String>,
    ) -> Result<ChainClient> {
        if let Some(price) = &self.opts.gas_prices {
            config.gas_price = Some(price.parse::<GasPrice>()?);
        }
        config.gas = self.opts.gas.parse()?;
        if !(self.opts.gas_adjustment.is_finite() && self.opts.gas_adjustment > 0.0) {
            bail!("--gas-adjustment must be a positive number");
        }
        config.gas_adjustment = self.opts.gas_adjustment;
        config.tx_timeout = self.opts.timeout.into();
        let rpc = config.rpc.clone();
        let probe = ChainClient::new(config.clone())?;
        let status = probe.status().await?;
        if let Some(expected) = expected {
            if expected != status.chain_id {
                bail!(
                    "the node at {rpc} is on chain {}, not {expected}",
                    status.chain_id
                );
            }
        }
        config.chain_id = status.chain_id;
        Ok(ChainClient::new(config)?)
    }

    /// The IBC file `just ibc` writes: `--ibc-file`, else `localnet/addresses/ibc.json` found
    /// from the current directory upward. Its market chain must be the deployment's.
    pub fn ibc(&mut self) -> Result<&IbcFile> {
        if self.ibc.is_none() {
            let (path, file) = match &self.opts.ibc_file {
                Some(path) => (path.clone(), IbcFile::load(path)?),
                None => {
                    let cwd = std::env::current_dir().context("reading the current directory")?;
                    IbcFile::discover(&cwd)?.ok_or_else(|| {
                        anyhow!(
                            "no IBC setup found: run `just ibc` in the opengpu checkout (it \
                             writes localnet/addresses/ibc.json), or pass --ibc-file FILE"
                        )
                    })?
                }
            };
            if let Some(deployment) = self.deployment()? {
                if deployment.chain_id != file.market.chain_id {
                    bail!(
                        "the IBC file {} joins {} to {}, but the deployment is on chain {}",
                        path.display(),
                        file.market.chain_id,
                        file.home.chain_id,
                        deployment.chain_id
                    );
                }
            }
            self.ibc = Some((path, file));
        }
        Ok(&self.ibc.as_ref().expect("set above").1)
    }

    /// Path of the IBC file in use (after [`Context::ibc`]).
    pub fn ibc_path(&self) -> Option<&Path> {
        self.ibc.as_ref().map(|(p, _)| p.as_path())
    }

    /// The `--from` key, opened for signing.
    pub async fn signer(&mut self) -> Result<(KeyInfo, Signer)> {
        let from = self.opts.from.clone().ok_or_else(|| {
            anyhow!("this command signs a transaction: pass --from NAME (see `opengpu keys list`)")
        })?;
        let prefix = self.prefix();
        let (mut info, key) = self.keyring().signing_key(&from)?;
        info.address = with_prefix(&info.address, &prefix)?;
        Ok((info, Signer::new(key, &prefix)?))
    }

    /// The address meant by `who`: an address as is, a key name from the keyring, or the
    /// `--from` key when `who` is `None`.
    pub fn resolve_address(&mut self, who: Option<&str>) -> Result<String> {
        let prefix = self.prefix();
        let who = match who.or(self.opts.from.as_deref()) {
            Some(who) => who.to_string(),
            None => bail!("name an address or key, or pass --from"),
        };
        if opengpu_client::keys::is_address(&who, &prefix) {
            return Ok(who);
        }
        let info = self.keyring().find(&who)?;
        Ok(with_prefix(&info.address, &prefix)?)
    }

    /// Prints `value` as JSON, or `text()` for people.
    pub fn emit<T: Serialize>(&self, value: &T, text: impl FnOnce() -> String) -> Result<()> {
        if self.json() {
            print_json(value)
        } else {
            let text = text();
            if !text.is_empty() {
                println!("{}", text.trim_end());
            }
            Ok(())
        }
    }

    /// A spinner on stderr when it is a terminal and the output is text; hidden otherwise.
    pub fn spinner(&self, message: impl Into<String>) -> ProgressBar {
        if self.json() || !std::io::stderr().is_terminal() {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("static template"),
        );
        bar.set_message(message.into());
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    }
}
