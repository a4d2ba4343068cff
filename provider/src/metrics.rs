//! Prometheus metrics and the `/metrics` endpoint.

use std::convert::Infallible;
use std::net::SocketAddr;

use hyper::server::conn::AddrIncoming;
use hyper::service::{make_service_fn, service_fn};
use hyper::{Body, Method, Request, Response, StatusCode};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};
use tokio_util::sync::CancellationToken;

/// Pipeline stages whose latency is recorded.
pub mod stage {
    /// Event received (or task found by catch-up) until the policy took it.
    pub const ADMIT: &str = "admit";
    /// Waiting for a free execution slot.
    pub const QUEUE: &str = "queue";
    /// Kernel run in the worker, compilation included.
    pub const EXECUTE: &str = "execute";
    /// The task's own check (reference hash, Freivalds) on the result before committing.
    pub const SELF_CHECK: &str = "self_check";
    /// Task taken until its commit was broadcast, kernel time excluded: the provider's own
    /// overhead.
    pub const OVERHEAD_TO_COMMIT: &str = "overhead_to_commit";
    /// Commit broadcast until included.
    pub const COMMIT: &str = "commit";
    /// Reveal broadcast until included.
    pub const REVEAL: &str = "reveal";
    /// Auction: sealed bid broadcast until included.
    pub const BID: &str = "bid";
    /// Auction: bid reveal broadcast until included.
    pub const BID_REVEAL: &str = "bid_reveal";

    /// Every stage, each shown from the start (a count of 0 until observed).
    pub const ALL: [&str; 9] = [
        ADMIT,
        QUEUE,
        EXECUTE,
        SELF_CHECK,
        OVERHEAD_TO_COMMIT,
        COMMIT,
        REVEAL,
        BID,
        BID_REVEAL,
    ];
}

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    pub tasks_seen: IntCounter,
    pub tasks_taken: IntCounter,
    pub tasks_skipped: IntCounterVec,
    pub tasks_won: IntCounter,
    pub tasks_lost: IntCounter,
    pub tasks_failed: IntCounterVec,
    pub tasks_dropped: IntCounterVec,
    pub tasks_refused: IntCounterVec,
    pub tasks_slashed: IntCounterVec,
    pub tasks_in_flight: IntGauge,
    /// The latest block height the event source reported.
    pub chain_height: IntGauge,
    pub reconnects: IntCounter,
    pub auction_bids: IntCounter,
    pub auction_bid_reveals: IntCounter,
    pub auction_advances: IntCounter,
    pub auctions_won: IntCounter,
    pub auctions_lost: IntCounter,
    pub stage_seconds: HistogramVec,
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new_custom(Some("opengpu_provider".into()), None)
            .expect("static prefix is valid");
        let counter = |name: &str, help: &str| {
            let c = IntCounter::new(name, help).expect("static metric");
            registry
                .register(Box::new(c.clone()))
                .expect("unique metric");
            c
        };
        let counter_vec = |name: &str, help: &str, label: &str| {
            let c = IntCounterVec::new(Opts::new(name, help), &[label]).expect("static metric");
            registry
                .register(Box::new(c.clone()))
                .expect("unique metric");
            c
        };
        let tasks_in_flight = IntGauge::new("tasks_in_flight", "Tasks taken and not finished")
            .expect("static metric");
        registry
            .register(Box::new(tasks_in_flight.clone()))
            .expect("unique metric");
        let chain_height = IntGauge::new(
            "chain_height",
            "Latest block height reported by the websocket's new-block events",
        )
        .expect("static metric");
        registry
            .register(Box::new(chain_height.clone()))
            .expect("unique metric");
        // Blocks are 200 ms to a few seconds; kernels run up to minutes.
        let buckets = vec![
            0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
        ];
        let stage_seconds = HistogramVec::new(
            HistogramOpts::new("stage_seconds", "Latency of each pipeline stage").buckets(buckets),
            &["stage"],
        )
        .expect("static metric");
        registry
            .register(Box::new(stage_seconds.clone()))
            .expect("unique metric");
        for name in stage::ALL {
            stage_seconds.with_label_values(&[name]);
        }
        Metrics {
            tasks_seen: counter("tasks_seen_total", "Tasks the provider learned about"),
            tasks_taken: counter("tasks_taken_total", "Tasks the policy accepted"),
            tasks_skipped: counter_vec(
                "tasks_skipped_total",
                "Tasks not taken, by reason",
                "reason",
            ),
            tasks_won: counter(
                "tasks_won_total",
                "Tasks settled with this provider as winner",
            ),
            tasks_lost: counter("tasks_lost_total", "Tasks committed to but won by another"),
            tasks_failed: counter_vec(
                "tasks_failed_total",
                "Tasks taken but not completed, by reason",
                "reason",
            ),
            tasks_dropped: counter_vec(
                "tasks_dropped_total",
                "Tasks taken, then let go before committing because the chain moved on, by reason",
                "reason",
            ),
            tasks_refused: counter_vec(
                "tasks_refused_total",
                "Tasks run, then not committed because the result failed the task's own check, by reason",
                "reason",
            ),
            tasks_slashed: counter_vec(
                "tasks_slashed_total",
                "Commitments whose collateral the market took, by reason",
                "reason",
            ),
            reconnects: counter("reconnects_total", "Websocket reconnections"),
            auction_bids: counter(
                "auction_bids_total",
                "Sealed auction bids placed (in a block)",
            ),
            auction_bid_reveals: counter(
                "auction_bid_reveals_total",
                "Auction bids opened (in a block)",
            ),
            auction_advances: counter(
                "auction_advances_total",
                "Advance transactions this provider got into a block (an award or hand-over applied)",
            ),
            auctions_won: counter(
                "auctions_won_total",
                "Auctions bid on whose award this provider held (first award or hand-over), counted when its part ends",
            ),
            auctions_lost: counter(
                "auctions_lost_total",
                "Auctions bid on that ended for this provider without its award",
            ),
            tasks_in_flight,
            chain_height,
            stage_seconds,
            registry,
        }
    }

    pub fn skipped(&self, reason: &str) {
        self.tasks_skipped.with_label_values(&[reason]).inc();
    }

    pub fn failed(&self, reason: &str) {
        self.tasks_failed.with_label_values(&[reason]).inc();
    }

    pub fn dropped(&self, reason: &str) {
        self.tasks_dropped.with_label_values(&[reason]).inc();
    }

    pub fn refused(&self, reason: &str) {
        self.tasks_refused.with_label_values(&[reason]).inc();
    }

    pub fn slashed(&self, reason: &str) {
        self.tasks_slashed.with_label_values(&[reason]).inc();
    }

    pub fn observe(&self, stage: &str, elapsed: std::time::Duration) {
        self.stage_seconds
            .with_label_values(&[stage])
            .observe(elapsed.as_secs_f64());
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buffer)
            .expect("encoding into a Vec cannot fail");
        String::from_utf8(buffer).expect("the text format is UTF-8")
    }

    /// Serves `GET /metrics` on `addr` until `shutdown`.
    pub async fn serve(self, addr: SocketAddr, shutdown: CancellationToken) -> anyhow::Result<()> {
        let make_service = make_service_fn(move |_| {
            let metrics = self.clone();
            async move {
                Ok::<_, Infallible>(service_fn(move |request: Request<Body>| {
                    let metrics = metrics.clone();
                    async move { Ok::<_, Infallible>(metrics.respond(&request)) }
                }))
            }
        });
        let incoming = AddrIncoming::bind(&addr)
            .map_err(|e| anyhow::anyhow!("cannot listen for metrics on {addr}: {e}"))?;
        // With port 0 the system picks one: log the real address.
        let bound = incoming.local_addr();
        let server = hyper::Server::builder(incoming).serve(make_service);
        tracing::info!(addr = %bound, "metrics at http://{bound}/metrics");
        server
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await
            .map_err(|e| anyhow::anyhow!("metrics server: {e}"))
    }

    fn respond(&self, request: &Request<Body>) -> Response<Body> {
        let (status, body) = match (request.method(), request.uri().path()) {
            (&Method::GET, "/metrics") => (StatusCode::OK, self.render()),
            _ => (StatusCode::NOT_FOUND, "try /metrics\n".to_string()),
        };
        Response::builder()
            .status(status)
            .header("content-type", "text/plain; version=0.0.4")
            .body(Body::from(body))
            .expect("static response parts are valid")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_are_counted_by_reason_in_the_text_format() {
        let metrics = Metrics::new();
        metrics.skipped("price_below_floor");
        metrics.skipped("price_below_floor");
        metrics.failed("compile_error");
        metrics.refused("freivalds_failed");
        metrics.slashed("outvoted");
        metrics.observe(stage::EXECUTE, std::time::Duration::from_millis(30));
        let text = metrics.render();
        assert!(
            text.contains("opengpu_provider_tasks_skipped_total{reason=\"price_below_floor\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("opengpu_provider_tasks_failed_total{reason=\"compile_error\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("opengpu_provider_tasks_refused_total{reason=\"freivalds_failed\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("opengpu_provider_tasks_slashed_total{reason=\"outvoted\"} 1"),
            "{text}"
        );
        assert!(text.contains("opengpu_provider_stage_seconds_count{stage=\"execute\"} 1"));
    }

    #[test]
    fn every_stage_and_auction_counter_shows_before_it_is_observed() {
        let text = Metrics::new().render();
        for name in stage::ALL {
            let line = format!("opengpu_provider_stage_seconds_count{{stage=\"{name}\"}} 0");
            assert!(text.contains(&line), "{line} in {text}");
        }
        for name in [
            "auction_bids_total",
            "auction_bid_reveals_total",
            "auction_advances_total",
            "auctions_won_total",
            "auctions_lost_total",
        ] {
            assert!(
                text.contains(&format!("opengpu_provider_{name} 0")),
                "{name}"
            );
        }
    }
}
