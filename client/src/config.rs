//! Connection and fee settings, and the parsing of amounts (`1000ustake`) and gas prices
//! (`0.025ustake`) as wasmd writes them.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use cosmwasm_std::{Coin, Uint128};
/// The denom rule of the chain and the contracts, for parsers of amounts and configs.
pub use opengpu_types::denom::validate_denom;

use crate::deployment::Deployment;
use crate::error::{Error, Result};

/// Default `--gas-adjustment`: simulated gas is multiplied by this.
pub const DEFAULT_GAS_ADJUSTMENT: f64 = 1.4;
/// Bech32 prefix of wasmd chains, used when no deployment names another.
pub const DEFAULT_BECH32_PREFIX: &str = "wasm";
/// How long to wait for a broadcast transaction's inclusion, unless told otherwise.
pub const DEFAULT_TX_TIMEOUT: Duration = Duration::from_secs(60);

/// Everything needed to talk to one chain.
#[derive(Clone, Debug)]
pub struct ChainConfig {
    /// CometBFT RPC endpoint, e.g. `http://127.0.0.1:26657`.
    pub rpc: String,
    pub chain_id: String,
    pub gas: GasSetting,
    pub gas_adjustment: f64,
    /// Price per unit of gas; signing fails without one (query-only use needs none).
    pub gas_price: Option<GasPrice>,
    /// How long to wait for a broadcast transaction to be included in a block.
    pub tx_timeout: Duration,
}

impl ChainConfig {
    /// The node at `rpc` with defaults: chain id unknown (empty), `--gas auto`,
    /// [`DEFAULT_GAS_ADJUSTMENT`], no gas price (queries only), [`DEFAULT_TX_TIMEOUT`].
    pub fn new(rpc: impl Into<String>) -> Self {
        ChainConfig {
            rpc: rpc.into(),
            chain_id: String::new(),
            gas: GasSetting::Auto,
            gas_adjustment: DEFAULT_GAS_ADJUSTMENT,
            gas_price: None,
            tx_timeout: DEFAULT_TX_TIMEOUT,
        }
    }

    /// The chain of `deployment`: its RPC endpoint, chain id and the nodes' minimum gas price,
    /// with the defaults of [`ChainConfig::new`] for the rest. The CLI, the daemon and the
    /// benchmarks start here and override what their flags or config set.
    pub fn from_deployment(deployment: &Deployment) -> Result<Self> {
        Ok(ChainConfig {
            chain_id: deployment.chain_id.clone(),
            gas_price: Some(deployment.gas_price.parse()?),
            ..ChainConfig::new(deployment.rpc.clone())
        })
    }
}

/// `--gas auto` (simulate) or a fixed gas limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum GasSetting {
    #[default]
    Auto,
    Fixed(u64),
}

impl FromStr for GasSetting {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        if s.eq_ignore_ascii_case("auto") {
            return Ok(GasSetting::Auto);
        }
        match s.parse::<u64>() {
            Ok(0) | Err(_) => Err(Error::invalid(
                "gas",
                s,
                "expected `auto` or a positive gas limit",
            )),
            Ok(n) => Ok(GasSetting::Fixed(n)),
        }
    }
}

/// A decimal price per unit of gas in one denom, kept exact as `digits / 10^scale`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GasPrice {
    digits: u128,
    scale: u32,
    pub denom: String,
}

impl GasPrice {
    /// The fee for `gas` units: `ceil(gas * price)`, so the node's minimum is always met.
    pub fn fee_for(&self, gas: u64) -> u128 {
        let product = (gas as u128).saturating_mul(self.digits);
        let divisor = 10u128.pow(self.scale);
        product.div_ceil(divisor)
    }
}

impl FromStr for GasPrice {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim();
        let split = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| Error::invalid("gas price", s, "missing denom, e.g. 0.025ustake"))?;
        let (number, denom) = s.split_at(split);
        validate_denom(denom).map_err(|reason| Error::invalid("gas price", s, reason))?;
        let (int, frac) = number.split_once('.').unwrap_or((number, ""));
        if int.is_empty() && frac.is_empty() || frac.contains('.') || frac.len() > 18 {
            return Err(Error::invalid("gas price", s, "malformed decimal"));
        }
        let digits = format!("{int}{frac}")
            .parse::<u128>()
            .map_err(|e| Error::invalid("gas price", s, e))?;
        Ok(GasPrice {
            digits,
            scale: frac.len() as u32,
            denom: denom.to_string(),
        })
    }
}

impl fmt::Display for GasPrice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let divisor = 10u128.pow(self.scale);
        let (int, frac) = (self.digits / divisor, self.digits % divisor);
        if self.scale == 0 {
            write!(f, "{int}{}", self.denom)
        } else {
            let frac = format!("{frac:0width$}", width = self.scale as usize);
            write!(f, "{int}.{}{}", frac.trim_end_matches('0'), self.denom)
        }
    }
}

/// Parses `1000ustake` into a coin. With `default_denom`, a bare number takes that denom.
pub fn parse_coin(s: &str, default_denom: Option<&str>) -> Result<Coin> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, denom) = s.split_at(split);
    if number.is_empty() {
        return Err(Error::invalid(
            "amount",
            s,
            "expected an integer amount followed by a denom, e.g. 1000ustake",
        ));
    }
    let amount: u128 = number.parse().map_err(|e| Error::invalid("amount", s, e))?;
    let denom = match (denom, default_denom) {
        ("", Some(default)) => default,
        ("", None) => {
            return Err(Error::invalid(
                "amount",
                s,
                "missing denom, e.g. 1000ustake",
            ))
        }
        (denom, _) => denom,
    };
    validate_denom(denom).map_err(|reason| Error::invalid("amount", s, reason))?;
    Ok(Coin::new(Uint128::new(amount), denom))
}

/// Parses an amount that must be in `denom` (a bare number, or a number followed by `denom`).
pub fn parse_amount_in(s: &str, denom: &str) -> Result<Uint128> {
    let coin = parse_coin(s, Some(denom))?;
    if coin.denom != denom {
        return Err(Error::invalid(
            "amount",
            s,
            format!("must be in {denom}, not {}", coin.denom),
        ));
    }
    Uint128::try_from(coin.amount).map_err(|e| Error::invalid("amount", s, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coins_parse_with_and_without_default_denom() {
        let coin = parse_coin("1000ustake", None).unwrap();
        assert_eq!(
            (coin.amount.to_string().as_str(), coin.denom.as_str()),
            ("1000", "ustake")
        );
        let ibc = parse_coin(
            "5ibc/27394FB092D2ECCD56123C74F36E4C1F926001CEADA9CA97EA622B25F41E5EB2",
            None,
        )
        .unwrap();
        assert!(ibc.denom.starts_with("ibc/"));
        assert_eq!(parse_coin("7", Some("ustake")).unwrap().denom, "ustake");
        for bad in [
            "",
            "ustake",
            "10",
            "1.5ustake",
            "10u",
            "-3ustake",
            "10 ustake",
        ] {
            assert!(parse_coin(bad, None).is_err(), "{bad:?} parsed");
        }
        assert!(parse_amount_in("5uatom", "ustake").is_err());
        assert_eq!(parse_amount_in("5", "ustake").unwrap().u128(), 5);
    }

    #[test]
    fn fee_is_the_ceiling_of_gas_times_price() {
        let price: GasPrice = "0.025ustake".parse().unwrap();
        assert_eq!(price.denom, "ustake");
        assert_eq!(price.fee_for(200_000), 5_000);
        assert_eq!(price.fee_for(200_001), 5_001); // 5000.025 rounds up
        assert_eq!(price.fee_for(0), 0);
        assert_eq!(price.to_string(), "0.025ustake");
        let whole: GasPrice = "2ustake".parse().unwrap();
        assert_eq!(whole.fee_for(3), 6);
        assert_eq!(whole.to_string(), "2ustake");
        for bad in ["ustake", "0.025", "0..1ustake", "1.2.3ustake", ".ustake"] {
            assert!(bad.parse::<GasPrice>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn a_deployment_gives_the_chain_and_the_defaults_the_rest() {
        let contract =
            |address: &str| serde_json::json!({"code_id": 1, "checksum": "00", "address": address});
        let deployment: Deployment = serde_json::from_value(serde_json::json!({
            "chain_id": "opengpu-demo",
            "rpc": "http://127.0.0.1:26757",
            "bech32_prefix": "wasm",
            "stake_denom": "ustake",
            "gas_price": "0.025ustake",
            "contracts": {
                "registry": contract("wasm1r"),
                "task_market": contract("wasm1m"),
                "staking_vault": contract("wasm1v"),
                "verification": contract("wasm1x"),
            },
        }))
        .unwrap();
        let config = ChainConfig::from_deployment(&deployment).unwrap();
        assert_eq!(
            (config.rpc.as_str(), config.chain_id.as_str()),
            ("http://127.0.0.1:26757", "opengpu-demo")
        );
        assert_eq!(config.gas_price, Some("0.025ustake".parse().unwrap()));
        assert_eq!(config.gas, GasSetting::Auto);
        assert_eq!(config.gas_adjustment, DEFAULT_GAS_ADJUSTMENT);
        assert_eq!(config.tx_timeout, DEFAULT_TX_TIMEOUT);
        let bad = Deployment {
            gas_price: "cheap".into(),
            ..deployment
        };
        assert!(ChainConfig::from_deployment(&bad).is_err());
        let bare = ChainConfig::new("http://node:26657");
        assert_eq!((bare.chain_id.as_str(), bare.gas_price), ("", None));
    }

    #[test]
    fn gas_setting_is_auto_or_positive() {
        assert_eq!("auto".parse::<GasSetting>().unwrap(), GasSetting::Auto);
        assert_eq!(
            "250000".parse::<GasSetting>().unwrap(),
            GasSetting::Fixed(250_000)
        );
        assert!("0".parse::<GasSetting>().is_err());
        assert!("lots".parse::<GasSetting>().is_err());
    }
}
