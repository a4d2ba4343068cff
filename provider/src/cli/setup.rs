//! What `register` and `run` build from the configuration: the chain connection, the
//! contracts, and the signer.

use anyhow::{bail, Context as _};
use opengpu_client::config::GasPrice;
use opengpu_client::keys::{Backend, Keyring, Passphrase};
use opengpu_client::{ChainClient, ChainConfig, ContractAddrs, Deployment, Signer};

use crate::config::{websocket_url, Config, KeyringBackend};

pub struct Connection {
    pub chain: ChainClient,
    pub contracts: ContractAddrs,
    pub deployment: Deployment,
    pub websocket: String,
}

/// Connects to the configured node and checks it is on the deployment's chain.
pub async fn connect(config: &Config) -> anyhow::Result<Connection> {
    let section = &config.chain;
    let deployment = Deployment::load(&section.deployment)?;
    if let Some(id) = &section.chain_id {
        if *id != deployment.chain_id {
            bail!(
                "chain.chain_id is {id} but {} is a deployment on {}",
                section.deployment.display(),
                deployment.chain_id
            );
        }
    }
    let mut chain_config = ChainConfig::from_deployment(&deployment)?;
    if let Some(rpc) = &section.rpc {
        chain_config.rpc = rpc.clone();
    }
    if let Some(price) = &section.gas_price {
        chain_config.gas_price = Some(price.parse::<GasPrice>()?);
    }
    chain_config.gas_adjustment = section.gas_adjustment;
    chain_config.tx_timeout = section.tx_timeout;
    let rpc = chain_config.rpc.clone();
    let chain = ChainClient::new(chain_config)?;
    let status = chain
        .status()
        .await
        .with_context(|| format!("cannot reach the node at {rpc}"))?;
    if status.chain_id != deployment.chain_id {
        bail!(
            "the node at {rpc} is on chain {}, the deployment on {}",
            status.chain_id,
            deployment.chain_id
        );
    }
    let websocket = section
        .websocket
        .clone()
        .unwrap_or_else(|| websocket_url(&rpc));
    Ok(Connection {
        chain,
        contracts: ContractAddrs::from(&deployment),
        deployment,
        websocket,
    })
}

/// The configured key from the `opengpu` keyring.
pub fn signer(config: &Config, bech32_prefix: &str) -> anyhow::Result<Signer> {
    let home = match &config.key.home {
        Some(home) => home.clone(),
        None => std::env::var_os("HOME")
            .map(|home| std::path::PathBuf::from(home).join(".opengpu"))
            .context("HOME is not set: set key.home in the config")?,
    };
    let backend = match config.key.backend {
        KeyringBackend::File => Backend::File,
        KeyringBackend::Test => Backend::Test,
    };
    let keyring = Keyring::new(&home, backend, Passphrase::EnvOrPrompt);
    let (_, key) = keyring
        .signing_key(&config.key.name)
        .with_context(|| format!("key {:?} in {}", config.key.name, keyring.dir().display()))?;
    Ok(Signer::new(key, bech32_prefix)?)
}
