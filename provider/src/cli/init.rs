//! `opengpu-provider init`: writes the commented example configuration, with the values given
//! as flags filled in (comments kept), and checks that the result loads.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context as _};
use toml_edit::{value, DocumentMut, Item, Table};

use super::{emit, OutputFormat};
use crate::config::{Config, EXAMPLE};

#[derive(clap::Args, Debug, Default)]
pub struct InitArgs {
    /// Where to write it
    #[arg(default_value = "provider.toml")]
    pub path: PathBuf,
    /// Replace an existing file
    #[arg(long)]
    pub force: bool,
    /// Key name in the `opengpu` keyring
    #[arg(long)]
    pub key: Option<String>,
    /// Keyring backend: file (encrypted) or test
    #[arg(long, value_parser = ["file", "test"])]
    pub keyring_backend: Option<String>,
    /// Keyring home (the CLI's --home)
    #[arg(long)]
    pub keyring_home: Option<PathBuf>,
    /// Deployment file written by `just deploy`
    #[arg(long)]
    pub deployment: Option<PathBuf>,
    /// Directory for reveal plans
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// Prometheus listen address, e.g. 127.0.0.1:9464
    #[arg(long)]
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// Moniker to register with
    #[arg(long)]
    pub moniker: Option<String>,
    /// Kernel time limit, e.g. 30s
    #[arg(long, value_parser = humantime::parse_duration)]
    pub time_limit: Option<Duration>,
    /// Kernels run at once
    #[arg(long)]
    pub max_concurrent: Option<usize>,
    /// Price floors replacing the example's, e.g. --price 500uatom (repeatable)
    #[arg(long = "price")]
    pub prices: Vec<String>,
    /// Competition models served, replacing the example's (repeatable)
    #[arg(long = "model", value_parser = ["first_response", "manual_confirmation", "consensus"])]
    pub models: Vec<String>,
    /// Take First Response tasks published unverified (skipped by default)
    #[arg(long)]
    pub accept_unverified: bool,
}

pub fn run(args: &InitArgs, output: OutputFormat) -> anyhow::Result<()> {
    if args.path.exists() && !args.force {
        bail!("{} exists; pass --force to replace it", args.path.display());
    }
    let text = render(args)?;
    std::fs::write(&args.path, &text)
        .with_context(|| format!("writing {}", args.path.display()))?;
    Config::load(&args.path).context("the written config does not load")?;
    let json = serde_json::json!({ "written": args.path });
    emit(output, &json, || {
        format!(
            "wrote {}: check [key] and [policy.price_floor], then `opengpu-provider register`",
            args.path.display()
        )
    })
}

/// The example with every given flag applied.
pub fn render(args: &InitArgs) -> anyhow::Result<String> {
    let mut doc: DocumentMut = EXAMPLE.parse().context("the built-in example")?;
    let path_str = |p: &PathBuf| p.to_string_lossy().into_owned();
    if let Some(key) = &args.key {
        doc["key"]["name"] = value(key.as_str());
    }
    if let Some(backend) = &args.keyring_backend {
        doc["key"]["backend"] = value(backend.as_str());
    }
    if let Some(home) = &args.keyring_home {
        doc["key"]["home"] = value(path_str(home));
    }
    if let Some(deployment) = &args.deployment {
        doc["chain"]["deployment"] = value(path_str(deployment));
    }
    if let Some(dir) = &args.state_dir {
        doc["executor"]["state_dir"] = value(path_str(dir));
    }
    if let Some(listen) = &args.metrics_listen {
        doc["metrics"]["listen"] = value(listen.to_string());
    }
    if let Some(moniker) = &args.moniker {
        doc["registration"]["moniker"] = value(moniker.as_str());
    }
    if let Some(limit) = args.time_limit {
        doc["executor"]["time_limit"] = value(humantime::format_duration(limit).to_string());
    }
    if let Some(n) = args.max_concurrent {
        doc["policy"]["max_concurrent_tasks"] = value(n as i64);
    }
    if !args.models.is_empty() {
        let mut models = toml_edit::Array::new();
        for model in &args.models {
            models.push(model.as_str());
        }
        doc["policy"]["models"] = value(models);
    }
    if args.accept_unverified {
        doc["policy"]["accept_unverified"] = value(true);
    }
    if !args.prices.is_empty() {
        let mut floors = Table::new();
        for price in &args.prices {
            let coin = opengpu_client::config::parse_coin(price, None)?;
            floors[coin.denom.as_str()] = value(coin.amount.to_string());
        }
        doc["policy"]["price_floor"] = Item::Table(floors);
    }
    Ok(doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::KeyringBackend;

    #[test]
    fn flags_fill_the_example_and_the_result_loads() {
        let dir = tempfile::tempdir().unwrap();
        let args = InitArgs {
            path: dir.path().join("p.toml"),
            key: Some("provider-2".into()),
            keyring_backend: Some("test".into()),
            keyring_home: Some(dir.path().join("keys")),
            deployment: Some("/tmp/d.json".into()),
            metrics_listen: Some("127.0.0.1:9999".parse().unwrap()),
            time_limit: Some(Duration::from_secs(5)),
            prices: vec!["500uatom".into()],
            models: vec!["consensus".into()],
            accept_unverified: true,
            ..InitArgs::default()
        };
        let text = render(&args).unwrap();
        assert!(text.contains("# Unknown keys are errors."), "comments kept");
        std::fs::write(&args.path, text).unwrap();
        let config = Config::load(&args.path).unwrap();
        assert_eq!(config.key.name, "provider-2");
        assert_eq!(config.key.backend, KeyringBackend::Test);
        assert_eq!(config.executor.time_limit, Duration::from_secs(5));
        assert_eq!(config.metrics.listen.port(), 9999);
        assert_eq!(config.chain.deployment, PathBuf::from("/tmp/d.json"));
        assert_eq!(config.policy.price_floor.len(), 1);
        assert_eq!(config.policy.price_floor["uatom"].u128(), 500);
        assert_eq!(
            config.policy.models,
            vec![crate::config::ModelName::Consensus]
        );
        assert!(config.policy.accept_unverified);
    }
}
