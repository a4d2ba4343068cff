//! `opengpu-provider register`: bonds up to the configured stake and registers (or updates)
//! the provider with this machine's device and the configured price floors.

use cosmwasm_std::{Coin, Uint128};
use opengpu_client::Opengpu;
use opengpu_types::registry::{self, ProviderProfile};
use opengpu_types::vault;
use serde::Serialize;

use super::{emit, setup, OutputFormat};
use crate::config::Config;
use crate::executor::opencl::device_info;
use crate::executor::DeviceSelector;

#[derive(clap::Args, Debug)]
pub struct RegisterArgs {}

#[derive(Serialize)]
struct Registered {
    provider: String,
    bonded: Uint128,
    bond_added: Uint128,
    action: &'static str,
    profile: ProviderProfile,
}

pub async fn run(config: &Config, output: OutputFormat) -> anyhow::Result<()> {
    let registration = config.registration.clone().ok_or_else(|| {
        anyhow::anyhow!("the config has no [registration] section (moniker, bond)")
    })?;
    let connection = setup::connect(config).await?;
    let signer = setup::signer(config, &connection.deployment.bech32_prefix)?;
    let address = signer.address();
    let handle = crate::signer::SignerHandle::spawn(signer, connection.chain.clone());
    let market = Opengpu::new(&connection.chain, &connection.contracts);

    let min_bond = market.registry_config().await?.min_bond;
    let wanted = registration.bond.unwrap_or(min_bond).max(min_bond);
    let stake = market.stake(&address).await?;
    let bond_added = wanted.saturating_sub(stake.bonded);
    if !bond_added.is_zero() {
        let funds = vec![Coin::new(bond_added, &connection.deployment.stake_denom)];
        handle
            .execute(
                &connection.contracts.staking_vault,
                &vault::ExecuteMsg::Bond {},
                funds,
            )
            .await?;
    }

    let selector = DeviceSelector {
        platform: config.executor.platform,
        device: config.executor.device,
    };
    let profile = ProviderProfile {
        moniker: registration.moniker.clone(),
        device: device_info(selector)?,
        prices: config
            .policy
            .price_floor
            .iter()
            .map(|(denom, amount)| Coin::new(*amount, denom))
            .collect(),
        payout_addr: registration.payout_addr.clone(),
        payout_route: registration.payout_route.clone(),
    };
    let registered = market.provider(&address).await.is_ok();
    let (msg, action) = if registered {
        (
            registry::ExecuteMsg::Update {
                profile: profile.clone(),
            },
            "updated",
        )
    } else {
        (
            registry::ExecuteMsg::Register {
                profile: profile.clone(),
            },
            "registered",
        )
    };
    handle
        .execute(&connection.contracts.registry, &msg, vec![])
        .await?;
    let result = Registered {
        provider: address.clone(),
        bonded: stake.bonded + bond_added,
        bond_added,
        action,
        profile,
    };
    emit(output, &result, || {
        format!(
            "{action} {address} ({}) on {} with {} bonded ({} added); device: {}",
            result.profile.moniker,
            connection.deployment.chain_id,
            result.bonded,
            bond_added,
            result.profile.device.name
        )
    })
}
