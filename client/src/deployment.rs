//! The deployment file `just deploy` writes (`localnet/addresses/<chain-id>.json`): where the
//! chain is and where the four contracts live.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// One chain's opengpu deployment.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Deployment {
    pub chain_id: String,
    /// CometBFT RPC endpoint.
    pub rpc: String,
    #[serde(default)]
    pub grpc: Option<String>,
    #[serde(default)]
    pub rest: Option<String>,
    pub bech32_prefix: String,
    pub stake_denom: String,
    /// Minimum gas price of the nodes, e.g. `0.025ustake`.
    pub gas_price: String,
    pub contracts: Contracts,
}

/// The four contracts; any other entries the file carries are kept but unused.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Contracts {
    pub registry: ContractRef,
    pub task_market: ContractRef,
    pub staking_vault: ContractRef,
    pub verification: ContractRef,
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ContractRef {
    pub code_id: u64,
    pub checksum: String,
    pub address: String,
}

impl Deployment {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::io(format!("reading deployment {}", path.display()), e))?;
        serde_json::from_str(&text)
            .map_err(|e| Error::json(format!("parsing deployment {}", path.display()), e))
    }

    /// The deployment a command with no connection flags uses: `localnet/addresses/*.json`
    /// in `start` or the nearest ancestor that has that directory. With `chain_id`, the file
    /// for that chain; without, the only file there, or the only one whose RPC endpoint is
    /// `node`. `Ok(None)` when no such directory or file exists.
    pub fn discover(
        start: &Path,
        chain_id: Option<&str>,
        node: Option<&str>,
    ) -> Result<Option<(PathBuf, Self)>> {
        let Some(dir) = addresses_dir(start) else {
            return Ok(None);
        };
        let path = match chain_id {
            Some(id) => {
                let path = dir.join(format!("{id}.json"));
                if !path.is_file() {
                    return Ok(None);
                }
                path
            }
            None => {
                let mut files = json_files(&dir)?;
                if let (Some(node), true) = (node, files.len() > 1) {
                    let mut matching = Vec::new();
                    for file in files {
                        let deployment = Self::load(&file)?;
                        if deployment.rpc.trim_end_matches('/') == node.trim_end_matches('/') {
                            matching.push((file, deployment));
                        }
                    }
                    if matching.len() == 1 {
                        return Ok(matching.pop());
                    }
                    files = matching.into_iter().map(|(file, _)| file).collect();
                    if files.is_empty() {
                        return Ok(None);
                    }
                }
                match files.len() {
                    0 => return Ok(None),
                    1 => files.remove(0),
                    _ => {
                        let names: Vec<String> = files
                            .iter()
                            .filter_map(|f| f.file_stem()?.to_str().map(String::from))
                            .collect();
                        return Err(Error::Deployment(format!(
                            "{} holds several deployments ({}): pick one with --chain-id or \
                             --deployment",
                            dir.display(),
                            names.join(", ")
                        )));
                    }
                }
            }
        };
        let deployment = Self::load(&path)?;
        Ok(Some((path, deployment)))
    }
}

/// `localnet/addresses/` in `start` or its nearest ancestor that has one.
pub(crate) fn addresses_dir(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|dir| dir.join("localnet").join("addresses"))
        .find(|dir| dir.is_dir())
}

/// The deployment files of `dir`: its `*.json` files but the IBC file `just ibc` writes there
/// ([`crate::ibc::IBC_FILE_NAME`]), which describes two chains, not a deployment.
fn json_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| Error::io(format!("listing {}", dir.display()), e))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "json") && path.is_file())
        .filter(|path| {
            path.file_name()
                .is_none_or(|name| name != crate::ibc::IBC_FILE_NAME)
        })
        .collect();
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const SAMPLE: &str = r#"{
        "chain_id": "opengpu-local-1",
        "rpc": "http://127.0.0.1:26657",
        "grpc": "127.0.0.1:9090",
        "rest": "http://127.0.0.1:1317",
        "bech32_prefix": "wasm",
        "stake_denom": "ustake",
        "gas_price": "0.025ustake",
        "contracts": {
            "registry": {"code_id": 1, "checksum": "aa", "address": "wasm1reg"},
            "task_market": {"code_id": 2, "checksum": "bb", "address": "wasm1market"},
            "staking_vault": {"code_id": 3, "checksum": "cc", "address": "wasm1vault"},
            "verification": {"code_id": 4, "checksum": "dd", "address": "wasm1verif"}
        }
    }"#;

    #[test]
    fn discovery_walks_up_and_picks_the_only_file_or_the_chain_id() {
        let root = tempfile::tempdir().unwrap();
        let addresses = root.path().join("localnet/addresses");
        std::fs::create_dir_all(&addresses).unwrap();
        let nested = root.path().join("a/b");
        std::fs::create_dir_all(&nested).unwrap();
        assert!(Deployment::discover(&nested, None, None).unwrap().is_none());

        std::fs::write(addresses.join("opengpu-local-1.json"), SAMPLE).unwrap();
        // The IBC file next to it is not a deployment.
        std::fs::write(addresses.join(crate::ibc::IBC_FILE_NAME), "{}").unwrap();
        let (path, found) = Deployment::discover(&nested, None, None).unwrap().unwrap();
        assert!(path.ends_with("opengpu-local-1.json"));
        assert_eq!(found.contracts.task_market.address, "wasm1market");

        let other = SAMPLE.replace("127.0.0.1:26657", "127.0.0.1:36657");
        std::fs::write(addresses.join("other-2.json"), other).unwrap();
        let err = Deployment::discover(&nested, None, None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("other-2") && err.contains("--chain-id"),
            "{err}"
        );
        let (path, _) = Deployment::discover(&nested, Some("other-2"), None)
            .unwrap()
            .unwrap();
        assert!(path.ends_with("other-2.json"));
        let by_node = Deployment::discover(&nested, None, Some("http://127.0.0.1:36657/"));
        assert!(by_node.unwrap().unwrap().0.ends_with("other-2.json"));
        let no_match = Deployment::discover(&nested, None, Some("http://127.0.0.1:1"));
        assert!(no_match.unwrap().is_none());
        assert!(Deployment::discover(&nested, Some("absent"), None)
            .unwrap()
            .is_none());
    }
}
