//! The daemon's TOML configuration. Unknown fields are errors so that a typo never silently
//! falls back to a default; durations are written like `"30s"`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cosmwasm_std::Uint128;
use opengpu_types::market::CompetitionModel;
use serde::Deserialize;

use crate::pricing::BidPrice;

/// A commented configuration that `opengpu-provider init` writes; it parses as a [`Config`].
pub const EXAMPLE: &str = include_str!("../provider.example.toml");

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub chain: ChainSection,
    pub key: KeySection,
    pub policy: PolicySection,
    pub executor: ExecutorSection,
    #[serde(default)]
    pub inputs: InputsSection,
    #[serde(default)]
    pub metrics: MetricsSection,
    #[serde(default)]
    pub registration: Option<RegistrationSection>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ChainSection {
    /// The deployment file `just deploy` writes: chain id, RPC endpoint, contract addresses.
    pub deployment: PathBuf,
    /// CometBFT RPC endpoint; the deployment's when unset.
    pub rpc: Option<String>,
    /// Websocket endpoint; derived from the RPC endpoint (`ws://host:port/websocket`) when unset.
    pub websocket: Option<String>,
    /// Must equal the deployment's chain id when set: a guard against the wrong file.
    pub chain_id: Option<String>,
    /// e.g. `0.025ustake`; the deployment's when unset.
    pub gas_price: Option<String>,
    #[serde(default = "default_gas_adjustment")]
    pub gas_adjustment: f64,
    /// How long to wait for a broadcast transaction to be included.
    #[serde(default = "default_tx_timeout", with = "humantime_serde")]
    pub tx_timeout: Duration,
    /// Longest wait between reconnect attempts (backoff doubles from one second up to this).
    #[serde(default = "default_max_backoff", with = "humantime_serde")]
    pub max_reconnect_backoff: Duration,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct KeySection {
    /// Key name or address in the `opengpu` keyring.
    pub name: String,
    /// Keyring directory root (`~/.opengpu` when unset), as the CLI's `--home`.
    pub home: Option<PathBuf>,
    /// `file` (encrypted; passphrase from OPENGPU_KEYRING_PASSPHRASE) or `test`.
    #[serde(default)]
    pub backend: KeyringBackend,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum KeyringBackend {
    #[default]
    File,
    Test,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PolicySection {
    /// Least payment taken, per denom; tasks in other denoms are skipped. Under Manual
    /// Confirmation this is also the price offered.
    pub price_floor: BTreeMap<String, Uint128>,
    /// Competition models served.
    #[serde(default = "default_models")]
    pub models: Vec<ModelName>,
    /// Kernels running at once.
    #[serde(default = "default_concurrency")]
    pub max_concurrent_tasks: usize,
    /// Tasks accepted and waiting for a free slot, beyond the running ones.
    #[serde(default = "default_queue")]
    pub max_queued_tasks: usize,
    /// Blocks that must remain before a task's commit deadline when it is taken.
    #[serde(default = "default_deadline_margin")]
    pub deadline_margin_blocks: u64,
    /// Largest collateral accepted for one task (stake denom); unlimited when unset.
    pub max_collateral: Option<Uint128>,
    /// Take First Response tasks published `Unverified {}` (sizes-only check). Off by default:
    /// under First Response a placeholder committed early wins such a task, so the work is
    /// likely wasted. Manual Confirmation and Consensus tasks are taken either way (the
    /// client's confirmation, or the agreement of the replicas, is their check).
    #[serde(default)]
    pub accept_unverified: bool,
    /// Auction bids (`[policy.auction]`).
    #[serde(default)]
    pub auction: AuctionSection,
    /// Task ids the daemon remembers as seen, and as done with (each): beyond this many, the
    /// least recently reported is forgotten, so memory stays bounded on a long-lived market.
    /// A forgotten task is read from the chain again only if it is reported again.
    #[serde(default = "default_remembered_tasks")]
    pub remembered_tasks: usize,
}

/// How the provider bids in sealed-bid auctions.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AuctionSection {
    /// The bid rule per payment denom (see [`crate::pricing`]). A denom without a rule bids
    /// its `price_floor` flat; a denom with neither is not bid on. A bid above the task's
    /// budget (the auction's maximum) is not placed.
    #[serde(default)]
    pub bid_price: BTreeMap<String, BidPrice>,
}

/// A competition model as written in the config file: the kind only (`consensus` serves
/// every Consensus task, whatever its replicas, quorum and tolerance).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ModelName {
    FirstResponse,
    ManualConfirmation,
    Consensus,
    Auction,
}

impl ModelName {
    /// The kind of a task's model.
    pub fn of(model: &CompetitionModel) -> ModelName {
        match model {
            CompetitionModel::FirstResponse => ModelName::FirstResponse,
            CompetitionModel::ManualConfirmation => ModelName::ManualConfirmation,
            CompetitionModel::Consensus { .. } => ModelName::Consensus,
            CompetitionModel::Auction { .. } => ModelName::Auction,
        }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExecutorSection {
    /// OpenCL platform index, as `opengpu-provider devices` lists them.
    #[serde(default)]
    pub platform: usize,
    /// Device index within the platform.
    #[serde(default)]
    pub device: usize,
    /// Wall-clock limit of one kernel run, compilation included.
    #[serde(default = "default_time_limit", with = "humantime_serde")]
    pub time_limit: Duration,
    /// Address-space limit of the worker process, in MiB.
    #[serde(default = "default_memory_limit_mib")]
    pub memory_limit_mib: u64,
    /// Reveal plans (outputs and salt of each commit) survive restarts here.
    pub state_dir: PathBuf,
    /// PoCL's cache of compiled kernels (`POCL_CACHE_DIR`, under the state directory) is kept
    /// under this size, in MiB: the least recently modified programs are deleted at startup
    /// and after each build.
    #[serde(default = "default_kernel_cache_mib")]
    pub kernel_cache_mib: u64,
}

/// Off-chain inputs (tasks that name input buffers by sha256 and URLs): how they are fetched
/// and how many are kept, under `<state_dir>/inputs`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InputsSection {
    /// Largest total of off-chain inputs one task may have, in MiB; larger tasks are refused.
    #[serde(default = "default_max_task_input_mib")]
    pub max_task_mib: u64,
    /// Time for one attempt on one URL, the whole body included.
    #[serde(default = "default_fetch_timeout", with = "humantime_serde")]
    pub fetch_timeout: Duration,
    /// Attempts per URL that does not answer (bytes that differ from the hash are not retried).
    #[serde(default = "default_fetch_attempts")]
    pub attempts: u32,
    /// Checked inputs kept for later tasks, in MiB; the least recently used are deleted.
    #[serde(default = "default_input_cache_mib")]
    pub cache_mib: u64,
}

impl Default for InputsSection {
    fn default() -> Self {
        InputsSection {
            max_task_mib: default_max_task_input_mib(),
            fetch_timeout: default_fetch_timeout(),
            attempts: default_fetch_attempts(),
            cache_mib: default_input_cache_mib(),
        }
    }
}

impl InputsSection {
    pub fn limits(&self) -> crate::inputs::FetchLimits {
        crate::inputs::FetchLimits {
            max_task_bytes: self.max_task_mib.saturating_mul(1 << 20),
            attempt_timeout: self.fetch_timeout,
            attempts: self.attempts,
            cache_bytes: self.cache_mib.saturating_mul(1 << 20),
        }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MetricsSection {
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Prometheus `/metrics` listen address; loopback by default.
    #[serde(default = "default_metrics_addr")]
    pub listen: SocketAddr,
}

impl Default for MetricsSection {
    fn default() -> Self {
        MetricsSection {
            enabled: true,
            listen: default_metrics_addr(),
        }
    }
}

/// What `opengpu-provider register` puts in the registry and bonds in the vault.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RegistrationSection {
    pub moniker: String,
    /// Stake to bond before registering (stake denom); the registry's minimum when unset.
    pub bond: Option<Uint128>,
    /// Where winnings go; the key's own address when unset.
    pub payout_addr: Option<String>,
    /// Winnings in a denom the market lets travel on `channel` go to `receiver` on the chain
    /// at its other end (e.g. `{ channel = "channel-0", receiver = "wasm1..." }`).
    #[serde(default)]
    pub payout_route: Option<opengpu_types::ibc::PayoutRoute>,
}

#[derive(thiserror::Error, Debug)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config {path}: {source}")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("config {path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
}

impl Config {
    /// Reads and checks `path`; relative paths inside resolve against the file's directory.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut config: Config = toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source,
        })?;
        config.validate().map_err(|reason| ConfigError::Invalid {
            path: path.to_owned(),
            reason,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.chain.deployment = base.join(&config.chain.deployment);
        config.executor.state_dir = base.join(&config.executor.state_dir);
        if let Some(home) = &config.key.home {
            config.key.home = Some(base.join(home));
        }
        Ok(config)
    }

    fn validate(&self) -> Result<(), String> {
        if self.policy.price_floor.is_empty() {
            return Err(
                "policy.price_floor names no denom: the provider would take nothing".into(),
            );
        }
        for denom in self.policy.price_floor.keys() {
            opengpu_client::config::validate_denom(denom)
                .map_err(|e| format!("policy.price_floor: {e}"))?;
        }
        for denom in self.policy.auction.bid_price.keys() {
            opengpu_client::config::validate_denom(denom)
                .map_err(|e| format!("policy.auction.bid_price: {e}"))?;
        }
        if let Some(route) = self
            .registration
            .as_ref()
            .and_then(|r| r.payout_route.as_ref())
        {
            route
                .validate()
                .map_err(|e| format!("registration.payout_route: {e}"))?;
        }
        if self.policy.models.is_empty() {
            return Err("policy.models is empty: the provider would take nothing".into());
        }
        if self.policy.remembered_tasks < MIN_REMEMBERED_TASKS {
            return Err(format!(
                "policy.remembered_tasks must be at least {MIN_REMEMBERED_TASKS}: a task \
                 forgotten too soon is read from the chain again"
            ));
        }
        if self.policy.max_concurrent_tasks == 0 {
            return Err("policy.max_concurrent_tasks must be at least 1".into());
        }
        if self.executor.time_limit.is_zero() {
            return Err("executor.time_limit must be positive".into());
        }
        // Measured with PoCL 3.1: below ~448 MiB of address space its LLVM hangs compiling.
        if self.executor.memory_limit_mib < 512 {
            return Err(
                "executor.memory_limit_mib must be at least 512 (OpenCL itself needs it)".into(),
            );
        }
        if self.inputs.fetch_timeout.is_zero() || self.inputs.attempts == 0 {
            return Err("inputs.fetch_timeout and inputs.attempts must be positive".into());
        }
        if !(1.0..=5.0).contains(&self.chain.gas_adjustment) {
            return Err("chain.gas_adjustment must be between 1.0 and 5.0".into());
        }
        Ok(())
    }

    pub fn serves(&self, model: &CompetitionModel) -> bool {
        self.policy.models.contains(&ModelName::of(model))
    }
}

/// `ws://host:port/websocket` for an `http://host:port` RPC endpoint.
pub fn websocket_url(rpc: &str) -> String {
    let base = rpc.trim_end_matches('/');
    let base = base
        .strip_prefix("https://")
        .map(|rest| format!("wss://{rest}"))
        .or_else(|| {
            base.strip_prefix("http://")
                .map(|rest| format!("ws://{rest}"))
        })
        .unwrap_or_else(|| base.to_string());
    format!("{base}/websocket")
}

/// The fewest task ids [`PolicySection::remembered_tasks`] may keep.
pub const MIN_REMEMBERED_TASKS: usize = 100;

fn default_remembered_tasks() -> usize {
    10_000
}
fn default_max_task_input_mib() -> u64 {
    1024
}
fn default_fetch_timeout() -> Duration {
    Duration::from_secs(120)
}
fn default_fetch_attempts() -> u32 {
    3
}
fn default_input_cache_mib() -> u64 {
    2048
}
fn default_kernel_cache_mib() -> u64 {
    512
}
fn default_gas_adjustment() -> f64 {
    opengpu_client::config::DEFAULT_GAS_ADJUSTMENT
}
fn default_tx_timeout() -> Duration {
    Duration::from_secs(30)
}
fn default_max_backoff() -> Duration {
    Duration::from_secs(30)
}
fn default_models() -> Vec<ModelName> {
    vec![
        ModelName::FirstResponse,
        ModelName::ManualConfirmation,
        ModelName::Consensus,
        ModelName::Auction,
    ]
}
fn default_concurrency() -> usize {
    1
}
fn default_queue() -> usize {
    32
}
fn default_deadline_margin() -> u64 {
    3
}
fn default_time_limit() -> Duration {
    Duration::from_secs(60)
}
fn default_memory_limit_mib() -> u64 {
    8192
}
fn default_metrics_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9464))
}
fn default_true() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("provider.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn the_example_config_parses_and_resolves_paths_next_to_the_file() {
        let (dir, path) = write(EXAMPLE);
        let config = Config::load(&path).unwrap();
        assert_eq!(config.executor.time_limit, Duration::from_secs(60));
        assert!(config.chain.deployment.starts_with(dir.path()));
        assert!(config.serves(&CompetitionModel::FirstResponse));
        assert!(config.serves(&CompetitionModel::Consensus {
            replicas: 3,
            quorum: 2,
            tolerance: None,
        }));
        assert!(!config.policy.accept_unverified);
        assert_eq!(config.policy.price_floor["ustake"], Uint128::new(1000));
        assert_eq!(config.policy.remembered_tasks, 10_000);
        assert_eq!(config.executor.kernel_cache_mib, 512);
    }

    #[test]
    fn the_kernel_cache_size_and_the_remembered_tasks_default_and_are_read() {
        let text = EXAMPLE.replace("kernel_cache_mib = 512\n", "");
        let (_dir, path) = write(&text);
        let config = Config::load(&path).unwrap();
        assert_eq!(config.executor.kernel_cache_mib, 512, "the default");
        assert_eq!(config.policy.remembered_tasks, 10_000, "the default");

        let text = EXAMPLE
            .replace("kernel_cache_mib = 512", "kernel_cache_mib = 64")
            .replace("# remembered_tasks = 10000", "remembered_tasks = 500");
        let (_dir, path) = write(&text);
        let config = Config::load(&path).unwrap();
        assert_eq!(config.executor.kernel_cache_mib, 64);
        assert_eq!(config.policy.remembered_tasks, 500);

        let text = EXAMPLE.replace("# remembered_tasks = 10000", "remembered_tasks = 10");
        let (_dir, path) = write(&text);
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(err.contains("remembered_tasks"), "{err}");
    }

    #[test]
    fn models_and_the_unverified_switch_are_read() {
        let text = EXAMPLE
            .replace(
                r#"models = ["first_response", "manual_confirmation", "consensus", "auction"]"#,
                r#"models = ["manual_confirmation"]"#,
            )
            .replace("# accept_unverified = false", "accept_unverified = true");
        let (_dir, path) = write(&text);
        let config = Config::load(&path).unwrap();
        assert_eq!(config.policy.models, vec![ModelName::ManualConfirmation]);
        assert!(config.policy.accept_unverified);
        assert!(!config.serves(&CompetitionModel::FirstResponse));

        let text = EXAMPLE.replace(r#""consensus", "auction"]"#, r#""consensus", "auctoin"]"#);
        let (_dir, path) = write(&text);
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(err.contains("auctoin"), "{err}");
    }

    #[test]
    fn the_example_serves_auctions_with_a_bid_rule_and_defaults_fill_the_rest() {
        let (_dir, path) = write(EXAMPLE);
        let config = Config::load(&path).unwrap();
        assert!(config.serves(&CompetitionModel::Auction {
            bid_reveal_blocks: 10,
            execute_blocks: 10,
        }));
        let ustake = &config.policy.auction.bid_price["ustake"];
        assert_eq!(ustake.floor, Uint128::new(1000));
        assert_eq!(ustake.per_work_item.to_string(), "0.002");
        assert!(!config.policy.auction.bid_price.contains_key("uatom"));

        let text = EXAMPLE.replace(
            r#"# uatom = { floor = "500" }"#,
            r#"uatom = { per_output_byte = "0.5" }"#,
        );
        let (_dir, path) = write(&text);
        let uatom = Config::load(&path).unwrap().policy.auction.bid_price["uatom"].clone();
        assert_eq!(uatom.floor, Uint128::zero());
        assert!(uatom.per_work_item.is_zero());
        assert_eq!(uatom.per_output_byte.to_string(), "0.5");

        // No [policy.auction] at all: no rules.
        let text = EXAMPLE.replace("[policy.auction.bid_price]\nustake = ", "# ");
        let (_dir, path) = write(&text);
        let config = Config::load(&path).unwrap();
        assert!(config.policy.auction.bid_price.is_empty());
    }

    #[test]
    fn unknown_bid_rule_keys_and_bad_amounts_are_rejected() {
        let text = EXAMPLE.replace(r#"per_work_item = "0.002""#, r#"per_workitem = "0.002""#);
        let (_dir, path) = write(&text);
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(err.contains("per_workitem"), "{err}");

        let text = EXAMPLE.replace(r#"per_work_item = "0.002""#, r#"per_work_item = "cheap""#);
        let (_dir, path) = write(&text);
        assert!(Config::load(&path).is_err());

        let text = EXAMPLE.replace(
            "[policy.auction.bid_price]",
            "[policy.auction]\nbid = 3\n[policy.auction.bid_price]",
        );
        let (_dir, path) = write(&text);
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(err.contains("bid"), "{err}");

        let text = EXAMPLE.replace(r#"ustake = { floor"#, r#""u" = { floor"#);
        let (_dir, path) = write(&text);
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(err.contains("policy.auction.bid_price"), "{err}");
    }

    #[test]
    fn unknown_fields_are_rejected_with_their_name() {
        let text = EXAMPLE.replace("[policy]", "[policy]\nprice_flor = 3");
        let (_dir, path) = write(&text);
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(err.contains("price_flor"), "{err}");
    }

    #[test]
    fn bad_values_are_named() {
        let text = EXAMPLE.replace("time_limit = \"60s\"", "time_limit = \"sixty\"");
        let (_dir, path) = write(&text);
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(err.contains("time_limit") || err.contains("sixty"), "{err}");

        let text = EXAMPLE.replace("max_concurrent_tasks = 1", "max_concurrent_tasks = 0");
        let (_dir, path) = write(&text);
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(err.contains("max_concurrent_tasks"), "{err}");
    }

    #[test]
    fn websocket_url_follows_the_rpc_scheme() {
        assert_eq!(
            websocket_url("http://127.0.0.1:26657"),
            "ws://127.0.0.1:26657/websocket"
        );
        assert_eq!(
            websocket_url("https://rpc.example:443/"),
            "wss://rpc.example:443/websocket"
        );
    }
}
