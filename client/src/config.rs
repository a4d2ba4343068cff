//! Connection and fee settings, and the parsing of amounts (`1000ustake`) and gas prices
//! (`0.025ustake`) as wasmd writes them.

use std::fmt;
use std::str::FromStr;

use cosmwasm_std::{Coin, Uint128};

use crate::error::{Error, Result};

/// Default `--gas-adjustment`: simulated gas is multiplied by this.
pub const DEFAULT_GAS_ADJUSTMENT: f64 = 1.4;
/// Bech32 prefix of wasmd chains, used when no deployment names another.
pub const DEFAULT_BECH32_PREFIX: &str = "wasm";

/// Everything needed to talk to one chain.
#[derive(Clone, Debug)]
pub struct ChainConfig {
    /// CometBFT RPC endpoint, e.g. `http://127.0.0.1:26657`.
    pub rpc: String,
    pub chain_id: String,
    pub bech32_prefix: String,
    pub gas: GasSetting,
    pub gas_adjustment: f64,
    /// Price per unit of gas; signing fails without one (query-only use needs none).
    pub gas_price: Option<GasPrice>,
    /// How long to wait for a broadcast transaction to be included in a block.
    pub tx_timeout: std::time::Duration,
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

/// The Cosmos SDK's denom rule: a letter, then 2 to 127 of letters, digits, `/:._-`.
pub fn validate_denom(denom: &str) -> std::result::Result<(), String> {
    let mut chars = denom.chars();
    let first_ok = matches!(chars.next(), Some(c) if c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || "/:._-".contains(c));
    if first_ok && rest_ok && (3..=128).contains(&denom.len()) {
        Ok(())
    } else {
        Err(format!("{denom:?} is not a valid denom"))
    }
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
