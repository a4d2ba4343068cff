//! Connecting to the chain under test as one of the localnet's accounts.

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
        let client = ChainClient::new(ChainConfig::from_deployment(&deployment)?)?;
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
