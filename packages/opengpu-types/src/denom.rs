//! The Cosmos SDK's denom rule, `[a-zA-Z][a-zA-Z0-9/:._-]{2,127}`, as the market (allowed
//! denoms), the registry (price floors) and every off-chain parser of amounts check it.

/// Why a string is not a denom.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[error("{denom:?} is not a valid denom: {reason}")]
pub struct InvalidDenom {
    pub denom: String,
    pub reason: &'static str,
}

/// Checks `denom` against the Cosmos SDK's rule: a letter, then 2 to 127 of letters, digits and
/// `/:._-`. Native (`ustake`) and IBC (`ibc/27394F...`) denoms pass.
pub fn validate_denom(denom: &str) -> Result<(), InvalidDenom> {
    let invalid = |reason| {
        Err(InvalidDenom {
            denom: denom.to_string(),
            reason,
        })
    };
    if !(3..=128).contains(&denom.len()) {
        return invalid("a denom has 3 to 128 characters");
    }
    if !denom.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return invalid("a denom starts with a letter");
    }
    if !denom
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/:._-".contains(c))
    {
        return invalid("a denom holds only letters, digits and / : . _ -");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_and_ibc_denoms_pass() {
        for denom in [
            "ustake",
            "uatom",
            "ibc/27394FB092D2ECCD56123C74F36E4C1F926001CEADA9CA97EA622B25F41E5EB2",
            "factory/wasm1abc/sub.denom_x-1:2",
            "abc",
        ] {
            assert_eq!(validate_denom(denom), Ok(()), "{denom}");
        }
        assert_eq!(validate_denom(&"a".repeat(128)), Ok(()));
    }

    #[test]
    fn malformed_denoms_fail_with_the_rule_they_break() {
        let reason = |denom: &str| validate_denom(denom).unwrap_err().reason;
        for denom in ["", "u", "ab", &"a".repeat(129)] {
            assert_eq!(
                reason(denom),
                "a denom has 3 to 128 characters",
                "{denom:?}"
            );
        }
        for denom in ["1stake", "/ustake", "_abc"] {
            assert_eq!(reason(denom), "a denom starts with a letter", "{denom:?}");
        }
        for denom in ["us take", "ustake!", "u€stake", "ustake\n"] {
            assert_eq!(
                reason(denom),
                "a denom holds only letters, digits and / : . _ -",
                "{denom:?}"
            );
        }
        assert_eq!(
            validate_denom("1abc").unwrap_err().to_string(),
            "\"1abc\" is not a valid denom: a denom starts with a letter"
        );
    }
}
