//! Connecting to the chain under test as one of the localnet's accounts.

use opengpu_client::config::{GasPrice, GasSetting, DEFAULT_GAS_ADJUSTMENT};
use opengpu_client::keys::{Backend, Keyring, Passphrase};
use opengpu_client::{ChainClient, ChainConfig, ContractAddrs, Deployment, Signer};

use crate::ChainArgs;

pub struct Chain {
    pub client: ChainClient,
    pub contracts: ContractAddrs,
    pub deployment: Deployment,
    keyring: Keyring,
}

impl Chain {
    pub fn connect(args: &ChainArgs) -> anyhow::Result<Chain> {
        let deployment = Deployment::load(&args.deployment)?;
        let gas_price: GasPrice = deployment.gas_price.parse()?;
        let client = ChainClient::new(ChainConfig {
            rpc: deployment.rpc.clone(),
            chain_id: deployment.chain_id.clone(),
            bech32_prefix: deployment.bech32_prefix.clone(),
            gas: GasSetting::Auto,
            gas_adjustment: DEFAULT_GAS_ADJUSTMENT,
            gas_price: Some(gas_price),
            tx_timeout: std::time::Duration::from_secs(60),
        })?;
        Ok(Chain {
            client,
            contracts: ContractAddrs::from(&deployment),
            keyring: Keyring::new(&args.keys, Backend::Test, Passphrase::EnvOrPrompt),
            deployment,
        })
    }

    pub fn signer(&self, name: &str) -> anyhow::Result<Signer> {
        let (_, key) = self.keyring.signing_key(name)?;
        Ok(Signer::new(key, &self.deployment.bech32_prefix)?)
    }
}
