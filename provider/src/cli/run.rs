//! `opengpu-provider run`: the daemon in the foreground until SIGINT or SIGTERM.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use opengpu_client::Opengpu;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::setup;
use crate::chain::LiveChain;
use crate::config::Config;
use crate::daemon::Daemon;
use crate::executor::kcache::KernelCache;
use crate::executor::opencl::{OpenClBackend, OpenClConfig};
use crate::executor::{DeviceSelector, ExecLimits};
use crate::inputs::InputStore;
use crate::metrics::Metrics;
use crate::policy::Rules;
use crate::shared::{Reservations, Shared};
use crate::signer::SignerHandle;
use crate::source::EventSource;
use crate::store::{BidStore, PlanStore};

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// After a stop signal, how long in-flight reveals may take before the daemon exits
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub shutdown_grace: Duration,
}

pub async fn run(config: Config, args: &RunArgs) -> anyhow::Result<()> {
    // First thing: PoCL, once loaded (to read the device below), installs signal handlers of
    // its own, and a SIGTERM handler registered after them never ran (measured: the daemon died
    // of the signal instead of stopping gracefully).
    let shutdown = CancellationToken::new();
    spawn_signal_handler(shutdown.clone())?;
    let connection = setup::connect(&config).await?;
    let signer = setup::signer(&config, &connection.deployment.bech32_prefix)?;
    let address = signer.address();
    let market = Opengpu::new(&connection.chain, &connection.contracts);
    let profile = market.provider(&address).await.with_context(|| {
        format!("{address} is not a registered provider: run `opengpu-provider register` first")
    })?;
    if !profile.eligible {
        tracing::warn!(
            bonded = %profile.bonded,
            status = %profile.provider.status,
            "provider is not eligible (paused or under the minimum bond): commits will fail"
        );
    }

    let executor = &config.executor;
    let workers = config.policy.max_concurrent_tasks;
    let backend = OpenClBackend::start(OpenClConfig {
        worker_exe: std::env::current_exe().context("locating this program for its workers")?,
        selector: DeviceSelector {
            platform: executor.platform,
            device: executor.device,
        },
        limits: ExecLimits {
            time_limit: executor.time_limit,
            memory_limit_bytes: executor.memory_limit_mib.saturating_mul(1 << 20),
        },
        workers,
    })?;
    std::fs::create_dir_all(&executor.state_dir)
        .with_context(|| format!("creating {}", executor.state_dir.display()))?;
    let kernel_cache = KernelCache::in_state_dir(&executor.state_dir, executor.kernel_cache_mib);
    let (backend, _) = backend
        .with_kernel_cache(kernel_cache.clone())
        .with_context(|| format!("preparing the kernel cache {}", kernel_cache.dir.display()))?;
    let inputs = InputStore::in_state_dir(&executor.state_dir, config.inputs.limits())
        .with_context(|| format!("preparing {}/inputs", executor.state_dir.display()))?;
    let backend = backend.with_input_dir(inputs.dir().to_owned());
    let metrics = Metrics::new();
    let shared = Arc::new(Shared {
        chain: Arc::new(LiveChain::new(
            connection.chain.clone(),
            connection.contracts.clone(),
            SignerHandle::spawn(signer, connection.chain.clone()),
        )),
        backend: Arc::new(backend),
        inputs,
        metrics: metrics.clone(),
        store: PlanStore::open(&executor.state_dir, &address)?,
        bids: BidStore::open(&executor.state_dir)?,
        exec_slots: Semaphore::new(workers),
        reservations: Reservations::default(),
        heights: Default::default(),
    });
    tracing::info!(
        provider = %address,
        device = shared.backend.device().name,
        chain = connection.deployment.chain_id,
        market = connection.contracts.task_market,
        "starting"
    );

    if config.metrics.enabled {
        let server = metrics
            .clone()
            .serve(config.metrics.listen, shutdown.clone());
        tokio::spawn(async move {
            if let Err(e) = server.await {
                tracing::error!(error = %e, "metrics endpoint stopped");
            }
        });
    }

    let daemon = Daemon {
        rules: Rules {
            models: config.policy.models.clone(),
            price_floor: config.policy.price_floor.clone(),
            max_collateral: config.policy.max_collateral,
            deadline_margin_blocks: config.policy.deadline_margin_blocks,
            max_in_flight: workers + config.policy.max_queued_tasks,
            accept_unverified: config.policy.accept_unverified,
            bid_prices: config.policy.auction.bid_price.clone(),
        },
        shared,
        shutdown_grace: args.shutdown_grace,
        remembered_tasks: config.policy.remembered_tasks,
    };
    let source = EventSource {
        websocket_url: connection.websocket.clone(),
        chain: connection.chain.clone(),
        contracts: connection.contracts.clone(),
        max_backoff: config.chain.max_reconnect_backoff,
        metrics,
    };
    daemon.run(source, shutdown).await?;
    tracing::info!("stopped");
    Ok(())
}

/// The first SIGINT or SIGTERM starts a graceful stop; a second one exits at once.
fn spawn_signal_handler(shutdown: CancellationToken) -> anyhow::Result<()> {
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    tokio::spawn(async move {
        for round in 0..2 {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            if round == 0 {
                tracing::info!("stop signal: finishing in-flight reveals");
                shutdown.cancel();
            } else {
                tracing::error!("second stop signal: exiting now");
                std::process::exit(130);
            }
        }
    });
    Ok(())
}
