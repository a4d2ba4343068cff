//! `opengpu provider`: the registry of compute providers.

use anyhow::{anyhow, Result};
use clap::{Args, Subcommand, ValueEnum};
use cosmwasm_std::Coin;
use opengpu_client::config::parse_coin;
use opengpu_client::Opengpu;
use opengpu_types::ibc::PayoutRoute;
use opengpu_types::registry::{
    DeviceInfo, ExecuteMsg, Provider, ProviderFilter, ProviderProfile, ProviderStatus,
};

use super::args::{apply_device_spec, default_device, parse_bytes};
use super::output::{bytes, fields, table, tx_json, tx_line};
use super::Context;

#[derive(Subcommand, Debug)]
pub enum ProviderCommand {
    /// Register the --from account as a provider (needs the registry's minimum bond: see
    /// `opengpu stake bond`)
    Register(RegisterArgs),
    /// Change the --from provider's profile; what is not given stays as it is
    Update(UpdateArgs),
    /// Stop taking new tasks
    Pause,
    /// Take new tasks again
    Resume,
    /// Leave the registry (only with no collateral locked)
    Deregister,
    /// Show one provider with its bonded stake and eligibility
    Show {
        /// Key name or address [default: the --from key]
        who: Option<String>,
    },
    /// List registered providers
    List(ListArgs),
}

#[derive(Args, Debug)]
pub struct RegisterArgs {
    /// Public name of the provider (1 to 64 characters)
    #[arg(long)]
    moniker: String,
    /// OpenCL device facts as key=value pairs, e.g.
    /// type=gpu,compute-units=28,global-mem=8GiB,max-work-group=1024,fp64=true,name=RTX.
    /// Keys: type=gpu|cpu|accelerator|other, compute-units=N, global-mem=BYTES,
    /// max-work-group=N, fp64=true|false, name=TEXT. Defaults: a gpu, 1 compute unit,
    /// 1GiB, work-groups of 256, no fp64, named after the moniker
    #[arg(long, value_name = "KEY=VALUE,...")]
    device: Vec<String>,
    /// Lowest payment accepted, one per denom (repeat the flag), e.g. 1ustake
    #[arg(long = "price", value_name = "AMOUNT")]
    prices: Vec<String>,
    /// Address that receives winnings [default: the provider's own]
    #[arg(long, value_name = "ADDRESS")]
    payout: Option<String>,
    #[command(flatten)]
    route: PayoutRouteArgs,
}

/// A payout route: winnings go over IBC to an address on another chain.
#[derive(Args, Debug)]
pub struct PayoutRouteArgs {
    /// Payout route: the channel (its id on the market chain, e.g. channel-0) over which
    /// winnings in the denoms the market lets travel on it go to --payout-receiver on the
    /// chain at its other end; other winnings still go to the payout address. A transfer that
    /// fails or times out becomes the provider's claim (`opengpu claims`)
    #[arg(long, value_name = "CHANNEL", requires = "payout_receiver")]
    payout_channel: Option<String>,
    /// Payout route: the address on the other chain that receives the winnings
    #[arg(long, value_name = "ADDRESS", requires = "payout_channel")]
    payout_receiver: Option<String>,
}

impl PayoutRouteArgs {
    /// The route given, checked as the registry checks it.
    fn route(&self) -> Result<Option<PayoutRoute>> {
        let (Some(channel), Some(receiver)) = (&self.payout_channel, &self.payout_receiver) else {
            return Ok(None);
        };
        let route = PayoutRoute {
            channel: channel.clone(),
            receiver: receiver.clone(),
        };
        route
            .validate()
            .map_err(|e| anyhow!("--payout-channel/--payout-receiver: {e}"))?;
        Ok(Some(route))
    }
}

#[derive(Args, Debug)]
pub struct UpdateArgs {
    /// New public name
    #[arg(long)]
    moniker: Option<String>,
    /// Device facts to change, as key=value pairs (see `provider register --help`)
    #[arg(long, value_name = "KEY=VALUE,...")]
    device: Vec<String>,
    /// New price floors, replacing all current ones (repeat the flag)
    #[arg(long = "price", value_name = "AMOUNT")]
    prices: Vec<String>,
    /// Remove every price floor
    #[arg(long, conflicts_with = "prices")]
    clear_prices: bool,
    /// New payout address
    #[arg(long, value_name = "ADDRESS")]
    payout: Option<String>,
    /// Pay winnings to the provider's own address again
    #[arg(long, conflicts_with = "payout")]
    clear_payout: bool,
    #[command(flatten)]
    route: PayoutRouteArgs,
    /// Remove the payout route: every winning is paid on the market chain again
    #[arg(long, conflicts_with_all = ["payout_channel", "payout_receiver"])]
    clear_payout_route: bool,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Only providers with this status
    #[arg(long, value_enum)]
    status: Option<StatusArg>,
    /// Only providers whose device has at least this much global memory, e.g. 4GiB
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes)]
    min_mem: Option<u64>,
    /// Only providers whose device supports double precision
    #[arg(long)]
    fp64: bool,
    /// List providers whose address sorts after this one
    #[arg(long, value_name = "ADDRESS")]
    start_after: Option<String>,
    /// Most providers to list
    #[arg(long, default_value_t = 100)]
    limit: usize,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum StatusArg {
    Active,
    Paused,
}

pub async fn run(ctx: &mut Context, cmd: ProviderCommand) -> Result<()> {
    let contracts = ctx.contracts()?;
    let chain = ctx.chain().await?.clone();
    let q = Opengpu::new(&chain, &contracts);
    let registry = contracts.registry.as_str();
    let msg = match cmd {
        ProviderCommand::Show { who } => {
            let address = ctx.resolve_address(who.as_deref())?;
            let found = q.provider(&address).await?;
            return ctx.emit(&found, || {
                let mut text = provider_fields(&found.provider);
                text.push_str(&format!(
                    "\n{}",
                    fields(&[
                        ("bonded", found.bonded.to_string()),
                        ("eligible", found.eligible.to_string()),
                    ])
                ));
                text
            });
        }
        ProviderCommand::List(args) => {
            let filter = ProviderFilter {
                status: args.status.map(|s| match s {
                    StatusArg::Active => ProviderStatus::Active,
                    StatusArg::Paused => ProviderStatus::Paused,
                }),
                min_global_mem_bytes: args.min_mem,
                fp64: args.fp64.then_some(true),
            };
            let providers = q.providers(filter, args.start_after, args.limit).await?;
            return ctx.emit(&providers, || providers_table(&providers));
        }
        ProviderCommand::Register(args) => {
            let mut device = DeviceInfo {
                name: args.moniker.clone(),
                ..default_device()
            };
            for spec in &args.device {
                apply_device_spec(&mut device, spec)?;
            }
            ExecuteMsg::Register {
                profile: ProviderProfile {
                    moniker: args.moniker,
                    device,
                    prices: parse_prices(&args.prices)?,
                    payout_addr: args.payout,
                    payout_route: args.route.route()?,
                },
            }
        }
        ProviderCommand::Update(args) => {
            let (info, _) = ctx.signer().await?;
            let current = q.provider(&info.address).await?.provider;
            let mut device = current.device;
            for spec in &args.device {
                apply_device_spec(&mut device, spec)?;
            }
            let prices = if args.clear_prices {
                vec![]
            } else if args.prices.is_empty() {
                current.prices
            } else {
                parse_prices(&args.prices)?
            };
            let payout_addr = if args.clear_payout {
                None
            } else {
                args.payout
                    .or_else(|| current.payout_addr.map(|a| a.to_string()))
            };
            let payout_route = if args.clear_payout_route {
                None
            } else {
                args.route.route()?.or(current.payout_route)
            };
            ExecuteMsg::Update {
                profile: ProviderProfile {
                    moniker: args.moniker.unwrap_or(current.moniker),
                    device,
                    prices,
                    payout_addr,
                    payout_route,
                },
            }
        }
        ProviderCommand::Pause => ExecuteMsg::Pause {},
        ProviderCommand::Resume => ExecuteMsg::Resume {},
        ProviderCommand::Deregister => ExecuteMsg::Deregister {},
    };
    let (info, mut signer) = ctx.signer().await?;
    let tx = signer.execute(&chain, registry, &msg, &[]).await?;
    let provider = q.provider(&info.address).await.ok();
    let json = tx_json(&tx, serde_json::json!({ "provider": provider }));
    ctx.emit(&json, || {
        let what = match msg {
            ExecuteMsg::Register { .. } => "registered",
            ExecuteMsg::Update { .. } => "updated",
            ExecuteMsg::Pause {} => "paused",
            ExecuteMsg::Resume {} => "resumed",
            _ => "deregistered",
        };
        let mut text = format!("{}\n{what} {}", tx_line(&tx), info.address);
        if let Some(found) = &provider {
            text.push_str(&format!(
                "\n{}\n{}",
                provider_fields(&found.provider),
                fields(&[
                    ("bonded", found.bonded.to_string()),
                    ("eligible", found.eligible.to_string())
                ])
            ));
        }
        text
    })
}

fn parse_prices(prices: &[String]) -> Result<Vec<Coin>> {
    prices
        .iter()
        .map(|p| parse_coin(p, None).map_err(Into::into))
        .collect()
}

fn device_line(d: &DeviceInfo) -> String {
    format!(
        "{} {} ({} compute units, {}, work-groups up to {}{})",
        d.device_type,
        if d.name.is_empty() { "-" } else { &d.name },
        d.compute_units,
        bytes(d.global_mem_bytes),
        d.max_work_group_size,
        if d.fp64 { ", fp64" } else { "" }
    )
}

fn prices_line(prices: &[Coin]) -> String {
    if prices.is_empty() {
        return "none".into();
    }
    prices
        .iter()
        .map(|c| format!("{}{}", c.amount, c.denom))
        .collect::<Vec<_>>()
        .join(", ")
}

fn provider_fields(p: &Provider) -> String {
    let r = p.reputation;
    fields(&[
        ("address", p.address.to_string()),
        ("moniker", p.moniker.clone()),
        ("status", p.status.to_string()),
        ("device", device_line(&p.device)),
        ("prices", prices_line(&p.prices)),
        ("payout", p.payout().to_string()),
        (
            "payout route",
            match &p.payout_route {
                Some(route) => format!(
                    "{} over {} (IBC, for the denoms the market sends on that channel)",
                    route.receiver, route.channel
                ),
                None => "none".into(),
            },
        ),
        (
            "reputation",
            format!(
                "won {}, lost {}, expired {}, slashed {}",
                r.won, r.lost, r.expired, r.slashed
            ),
        ),
        ("registered at", format!("height {}", p.registered_height)),
    ])
}

fn providers_table(providers: &[Provider]) -> String {
    if providers.is_empty() {
        return "no providers".into();
    }
    let rows: Vec<Vec<String>> = providers
        .iter()
        .map(|p| {
            vec![
                p.address.to_string(),
                p.moniker.clone(),
                p.status.to_string(),
                device_line(&p.device),
                prices_line(&p.prices),
                format!("{}/{}", p.reputation.won, p.reputation.slashed),
            ]
        })
        .collect();
    table(
        &[
            "address",
            "moniker",
            "status",
            "device",
            "prices",
            "won/slashed",
        ],
        &rows,
    )
}
