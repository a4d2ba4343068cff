//! Checks on a provider's self-description, shared by `Register` and `Update`.

use cosmwasm_std::{Addr, Api, Coin};
use opengpu_types::denom::validate_denom;
use opengpu_types::ibc::PayoutRoute;
use opengpu_types::registry::{
    DeviceInfo, ProviderProfile, MAX_DEVICE_NAME_LEN, MAX_MONIKER_LEN, MAX_PRICES,
};

use crate::ContractError;

/// A profile whose every field passed its check.
#[derive(Debug)]
pub struct ValidProfile {
    pub moniker: String,
    pub device: DeviceInfo,
    pub prices: Vec<Coin>,
    pub payout_addr: Option<Addr>,
    pub payout_route: Option<PayoutRoute>,
}

pub fn validate_profile(
    api: &dyn Api,
    profile: ProviderProfile,
) -> Result<ValidProfile, ContractError> {
    let len = profile.moniker.chars().count();
    if !(1..=MAX_MONIKER_LEN).contains(&len) {
        return Err(ContractError::InvalidMoniker {
            len,
            max: MAX_MONIKER_LEN,
        });
    }
    validate_device(&profile.device)?;
    validate_prices(&profile.prices)?;
    let payout_addr = profile
        .payout_addr
        .map(|addr| api.addr_validate(&addr))
        .transpose()?;
    if let Some(route) = &profile.payout_route {
        route.validate()?;
    }
    Ok(ValidProfile {
        moniker: profile.moniker,
        device: profile.device,
        prices: profile.prices,
        payout_addr,
        payout_route: profile.payout_route,
    })
}

fn validate_device(device: &DeviceInfo) -> Result<(), ContractError> {
    let len = device.name.chars().count();
    if len > MAX_DEVICE_NAME_LEN {
        return Err(ContractError::DeviceNameTooLong {
            len,
            max: MAX_DEVICE_NAME_LEN,
        });
    }
    let zero_field = if device.compute_units == 0 {
        Some("compute_units")
    } else if device.global_mem_bytes == 0 {
        Some("global_mem_bytes")
    } else if device.max_work_group_size == 0 {
        Some("max_work_group_size")
    } else {
        None
    };
    match zero_field {
        Some(field) => Err(ContractError::ZeroDeviceField { field }),
        None => Ok(()),
    }
}

/// Zero amounts are allowed: a zero floor means the provider works for free in that denom.
fn validate_prices(prices: &[Coin]) -> Result<(), ContractError> {
    if prices.len() > MAX_PRICES {
        return Err(ContractError::TooManyPrices {
            got: prices.len(),
            max: MAX_PRICES,
        });
    }
    // At most MAX_PRICES entries, so the quadratic duplicate check stays bounded.
    for (i, price) in prices.iter().enumerate() {
        // A floor in a denom the chain cannot hold is meaningless; the bound on its length
        // keeps stored profiles small.
        validate_denom(&price.denom)?;
        if prices[..i].iter().any(|p| p.denom == price.denom) {
            return Err(ContractError::DuplicatePriceDenom {
                denom: price.denom.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::testing::MockApi;
    use opengpu_types::registry::DeviceType;

    fn profile() -> ProviderProfile {
        ProviderProfile {
            moniker: "rig-1".into(),
            device: DeviceInfo {
                name: "NVIDIA GeForce RTX 4090".into(),
                device_type: DeviceType::Gpu,
                compute_units: 128,
                global_mem_bytes: 24 << 30,
                max_work_group_size: 1024,
                fp64: true,
            },
            prices: vec![Coin::new(100u128, "ugpu"), Coin::new(0u128, "uatom")],
            payout_addr: None,
            payout_route: None,
        }
    }

    fn check(edit: impl FnOnce(&mut ProviderProfile)) -> Result<ValidProfile, ContractError> {
        let mut p = profile();
        edit(&mut p);
        validate_profile(&MockApi::default(), p)
    }

    #[test]
    fn valid_profile_passes_with_validated_payout_address() {
        let api = MockApi::default();
        let payout = api.addr_make("payout");
        let valid = check(|p| p.payout_addr = Some(payout.to_string())).unwrap();
        assert_eq!(valid.payout_addr, Some(payout));
        assert_eq!(valid.moniker, "rig-1");
    }

    #[test]
    fn moniker_must_have_1_to_64_characters() {
        assert!(matches!(
            check(|p| p.moniker.clear()),
            Err(ContractError::InvalidMoniker { len: 0, max: 64 })
        ));
        assert!(matches!(
            check(|p| p.moniker = "é".repeat(65)),
            Err(ContractError::InvalidMoniker { len: 65, max: 64 })
        ));
        // Characters, not bytes: 64 two-byte characters fit.
        assert!(check(|p| p.moniker = "é".repeat(64)).is_ok());
    }

    #[test]
    fn device_name_longer_than_128_characters_is_rejected() {
        assert!(matches!(
            check(|p| p.device.name = "x".repeat(129)),
            Err(ContractError::DeviceNameTooLong { len: 129, max: 128 })
        ));
        assert!(check(|p| p.device.name = "x".repeat(128)).is_ok());
    }

    #[test]
    fn device_with_zero_compute_units_memory_or_work_group_is_rejected() {
        type Edit = fn(&mut ProviderProfile);
        let cases: [(Edit, &str); 3] = [
            (|p| p.device.compute_units = 0, "compute_units"),
            (|p| p.device.global_mem_bytes = 0, "global_mem_bytes"),
            (|p| p.device.max_work_group_size = 0, "max_work_group_size"),
        ];
        for (edit, name) in cases {
            assert!(
                matches!(check(edit), Err(ContractError::ZeroDeviceField { field }) if field == name)
            );
        }
    }

    #[test]
    fn more_than_8_prices_are_rejected() {
        let many = |n: usize| {
            (0..n)
                .map(|i| Coin::new(1u128, format!("den{i}")))
                .collect()
        };
        assert!(check(|p| p.prices = many(8)).is_ok());
        assert!(matches!(
            check(|p| p.prices = many(9)),
            Err(ContractError::TooManyPrices { got: 9, max: 8 })
        ));
    }

    #[test]
    fn duplicate_price_denoms_are_rejected() {
        let err = check(|p| p.prices.push(Coin::new(5u128, "ugpu"))).unwrap_err();
        assert!(matches!(err, ContractError::DuplicatePriceDenom { denom } if denom == "ugpu"));
    }

    #[test]
    fn zero_price_floor_means_free_and_is_allowed() {
        assert!(check(|p| p.prices = vec![Coin::new(0u128, "ugpu")]).is_ok());
        assert!(check(|p| p.prices.clear()).is_ok());
    }

    #[test]
    fn malformed_price_denoms_are_rejected() {
        for denom in ["", "ab", "1abc", "u gpu", &"a".repeat(129)] {
            let err = check(|p| p.prices = vec![Coin::new(1u128, denom)]).unwrap_err();
            assert!(matches!(err, ContractError::InvalidDenom(_)), "{denom:?}");
        }
        let ibc = "ibc/27394FB092D2ECCD56123C74F36E4C1F926001CEADA9CA97EA622B25F41E5EB2";
        assert!(check(|p| p.prices = vec![Coin::new(1u128, ibc)]).is_ok());
    }

    #[test]
    fn invalid_payout_address_is_rejected() {
        assert!(matches!(
            check(|p| p.payout_addr = Some("not an address".into())),
            Err(ContractError::Std(_))
        ));
    }

    #[test]
    fn payout_routes_are_checked() {
        let route = |channel: &str, receiver: &str| {
            Some(PayoutRoute {
                channel: channel.into(),
                receiver: receiver.into(),
            })
        };
        let valid = check(|p| p.payout_route = route("channel-0", "wasm1home")).unwrap();
        assert_eq!(valid.payout_route, route("channel-0", "wasm1home"));
        for (channel, receiver) in [
            ("chan-0", "wasm1home"),
            ("channel-0", "a\"}"),
            ("channel-0", ""),
        ] {
            assert!(
                matches!(
                    check(|p| p.payout_route = route(channel, receiver)),
                    Err(ContractError::InvalidPayoutRoute(_))
                ),
                "{channel} {receiver}"
            );
        }
    }
}
