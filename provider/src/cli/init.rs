//! `opengpu-provider init`: writes the commented example configuration, with the values given
//! as flags filled in (comments kept), and checks that the result loads.

use std::path::PathBuf;
use std::time::Duration;

use std::collections::BTreeMap;
use std::str::FromStr;

use anyhow::{bail, Context as _};
use cosmwasm_std::Decimal;
use toml_edit::{value, DocumentMut, InlineTable, Item, Table};

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
    /// Payout route: winnings in denoms the market lets travel on this channel (channel id on
    /// the market chain) go over IBC to --payout-receiver
    #[arg(long, requires = "payout_receiver")]
    pub payout_channel: Option<String>,
    /// Payout route: the address on the chain at the other end of --payout-channel
    #[arg(long, requires = "payout_channel")]
    pub payout_receiver: Option<String>,
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
    #[arg(long = "model", value_parser = ["first_response", "manual_confirmation", "consensus", "auction"])]
    pub models: Vec<String>,
    /// Auction bid floor per denom, e.g. --bid-floor 300uatom (repeatable). Any --bid-* flag
    /// replaces the example's [policy.auction.bid_price] rules.
    #[arg(long = "bid-floor")]
    pub bid_floors: Vec<String>,
    /// Auction bid price per work item, e.g. 0.01uatom; without a denom, for every
    /// --bid-floor denom (repeatable)
    #[arg(long = "bid-per-work-item")]
    pub bid_per_work_item: Vec<String>,
    /// Auction bid price per input byte, as --bid-per-work-item
    #[arg(long = "bid-per-input-byte")]
    pub bid_per_input_byte: Vec<String>,
    /// Auction bid price per output byte, as --bid-per-work-item
    #[arg(long = "bid-per-output-byte")]
    pub bid_per_output_byte: Vec<String>,
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
    if let (Some(channel), Some(receiver)) = (&args.payout_channel, &args.payout_receiver) {
        let mut route = toml_edit::InlineTable::new();
        route.insert("channel", channel.as_str().into());
        route.insert("receiver", receiver.as_str().into());
        doc["registration"]["payout_route"] = value(route);
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
    if let Some(rules) = bid_rules(args)? {
        // Emptied rather than replaced, so that the example's comments above it stay.
        let item = &mut doc["policy"]["auction"]["bid_price"];
        if !item.is_table() {
            *item = Item::Table(Table::new());
        }
        let table = item.as_table_mut().expect("made a table above");
        table.clear();
        for (denom, fields) in rules {
            let mut rule = InlineTable::new();
            for (key, amount) in fields {
                rule.insert(key, amount.into());
            }
            table[denom.as_str()] = value(rule);
        }
    }
    Ok(doc.to_string())
}

/// Bid rule fields per denom: `(key, amount)` in the config's order.
type BidRules = BTreeMap<String, Vec<(&'static str, String)>>;

/// The bid rules the `--bid-*` flags give; `None` when no such flag is given.
fn bid_rules(args: &InitArgs) -> anyhow::Result<Option<BidRules>> {
    let per_unit = [
        ("per_work_item", &args.bid_per_work_item),
        ("per_input_byte", &args.bid_per_input_byte),
        ("per_output_byte", &args.bid_per_output_byte),
    ];
    if args.bid_floors.is_empty() && per_unit.iter().all(|(_, flags)| flags.is_empty()) {
        return Ok(None);
    }
    let mut rules = BidRules::new();
    for floor in &args.bid_floors {
        let coin = opengpu_client::config::parse_coin(floor, None)
            .with_context(|| format!("--bid-floor {floor}"))?;
        rules
            .entry(coin.denom)
            .or_default()
            .push(("floor", coin.amount.to_string()));
    }
    let floor_denoms: Vec<String> = rules.keys().cloned().collect();
    for (key, flags) in per_unit {
        for flag in flags {
            let flag_name = format!("--bid-{}", key.replace('_', "-"));
            let (price, denom) =
                decimal_coin(flag).with_context(|| format!("{flag_name} {flag}"))?;
            let denoms = match denom {
                Some(denom) => vec![denom],
                None if floor_denoms.is_empty() => {
                    bail!("{flag_name} {flag}: give the denom (e.g. {flag}uatom) or a --bid-floor")
                }
                None => floor_denoms.clone(),
            };
            for denom in denoms {
                let rule = rules.entry(denom).or_default();
                rule.retain(|(k, _)| *k != key);
                rule.push((key, price.to_string()));
            }
        }
    }
    Ok(Some(rules))
}

/// `0.01uatom` -> (0.01, Some("uatom")); `0.01` -> (0.01, None).
fn decimal_coin(text: &str) -> anyhow::Result<(Decimal, Option<String>)> {
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let (amount, denom) = text.split_at(split);
    let price = Decimal::from_str(amount).map_err(|e| anyhow::anyhow!("price {amount:?}: {e}"))?;
    if denom.is_empty() {
        return Ok((price, None));
    }
    opengpu_client::config::validate_denom(denom).map_err(anyhow::Error::msg)?;
    Ok((price, Some(denom.to_string())))
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

    #[test]
    fn bid_flags_write_auction_rules_that_load() {
        let dir = tempfile::tempdir().unwrap();
        let args = InitArgs {
            path: dir.path().join("p.toml"),
            models: vec!["auction".into()],
            bid_floors: vec!["300uatom".into(), "7ustake".into()],
            bid_per_work_item: vec!["0.01".into()],
            bid_per_output_byte: vec!["0.5uatom".into()],
            bid_per_input_byte: vec!["0.25ufoo".into()],
            ..InitArgs::default()
        };
        std::fs::write(&args.path, render(&args).unwrap()).unwrap();
        let config = Config::load(&args.path).unwrap();
        assert_eq!(
            config.policy.models,
            vec![crate::config::ModelName::Auction]
        );
        let rules = &config.policy.auction.bid_price;
        assert_eq!(
            rules.keys().collect::<Vec<_>>(),
            vec!["uatom", "ufoo", "ustake"]
        );
        let uatom = &rules["uatom"];
        assert_eq!(uatom.floor.u128(), 300);
        assert_eq!(uatom.per_work_item.to_string(), "0.01");
        assert_eq!(uatom.per_output_byte.to_string(), "0.5");
        assert!(uatom.per_input_byte.is_zero());
        assert_eq!(rules["ustake"].floor.u128(), 7);
        assert_eq!(rules["ustake"].per_work_item.to_string(), "0.01");
        assert!(rules["ufoo"].floor.is_zero());
        assert_eq!(rules["ufoo"].per_input_byte.to_string(), "0.25");
        // The example's price floors stay.
        assert_eq!(config.policy.price_floor["uatom"].u128(), 1000);
    }

    #[test]
    fn bad_bid_flags_are_named() {
        let args = InitArgs {
            bid_per_work_item: vec!["0.01".into()],
            ..InitArgs::default()
        };
        let err = format!("{:#}", render(&args).unwrap_err());
        assert!(err.contains("--bid-per-work-item"), "{err}");
        let args = InitArgs {
            bid_floors: vec!["300uatom".into()],
            bid_per_input_byte: vec!["cheapuatom".into()],
            ..InitArgs::default()
        };
        let err = format!("{:#}", render(&args).unwrap_err());
        assert!(err.contains("--bid-per-input-byte"), "{err}");
        let args = InitArgs {
            bid_floors: vec!["lots".into()],
            ..InitArgs::default()
        };
        let err = format!("{:#}", render(&args).unwrap_err());
        assert!(err.contains("--bid-floor"), "{err}");
    }
}
