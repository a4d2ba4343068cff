//! The provider daemon on real chains: racing, offering, crashing, reconnecting and refusing
//! bad kernels, with every coin accounted for. Tasks are the shipped examples, published with
//! `opengpu task publish --example` and checked with `opengpu example check` (CPU reference).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use crate::cli::amount;
use crate::daemon::{wait_for, Provider, ProviderOptions};
use crate::localnet::Localnet;
use crate::steps::{protocol_fee, show};

pub const BUDGET: u128 = 10_000;
pub const COLLATERAL: u128 = 1_000;
/// Hash-chain elements: a small, bit-exact task.
const HASH_SIZE: &str = "4096";

/// As `client`: publishes the hash-chain example with `seed`; returns the task id.
fn publish_example(net: &Localnet, seed: u64, model: &str, extra: &[&str]) -> String {
    publish_example_tx(net, seed, model, extra)["task_id"]
        .as_u64()
        .expect("publish prints the task id")
        .to_string()
}

/// [`publish_example`] returning the command's JSON (task id, txhash, gas).
fn publish_example_tx(net: &Localnet, seed: u64, model: &str, extra: &[&str]) -> Value {
    publish_named_example(net, "hash-chain", HASH_SIZE, seed, model, extra)
}

/// As `client`: publishes example `name` of `size` with `seed` under `model`, paying
/// [`BUDGET`] (an auction's maximum price) with [`COLLATERAL`] per committer (a 100-block
/// deadline unless `extra` sets one; an auction's windows come from `extra`);
/// returns the command's JSON.
pub fn publish_named_example(
    net: &Localnet,
    name: &str,
    size: &str,
    seed: u64,
    model: &str,
    extra: &[&str],
) -> Value {
    let seed = seed.to_string();
    let budget = format!("{BUDGET}uatom");
    let collateral = format!("{COLLATERAL}ustake");
    // An auction's budget is its maximum price; its deadline is the end of bidding.
    let auction = model == "auction";
    let mut args = vec![
        "--from",
        "client",
        "task",
        "publish",
        "--example",
        name,
        "--size",
        size,
        "--seed",
        &seed,
        "--model",
        model,
        if auction { "--max-price" } else { "--payment" },
        &budget,
        "--collateral",
        &collateral,
    ];
    if !auction && !extra.contains(&"--deadline-blocks") {
        args.extend(["--deadline-blocks", "100"]);
    }
    args.extend_from_slice(extra);
    net.cli_json(&args)
}

/// Waits until task `id` is final and returns its `task show` JSON.
pub fn wait_final(net: &Localnet, id: &str, limit: Duration) -> Value {
    wait_for(&format!("task {id} to end"), limit, || {
        let shown = show(net, id);
        let status = shown["task"]["status"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        ["settled", "expired", "cancelled"]
            .contains(&status.as_str())
            .then_some(shown)
    })
}

fn check_example(net: &Localnet, id: &str, seed: u64) {
    check_named_example(net, id, "hash-chain", HASH_SIZE, seed);
}

/// `opengpu example check`: task `id`'s result against the CPU reference of the example.
pub fn check_named_example(net: &Localnet, id: &str, name: &str, size: &str, seed: u64) {
    net.cli_ok(&[
        "example",
        "check",
        id,
        "--example",
        name,
        "--size",
        size,
        "--seed",
        &seed.to_string(),
    ]);
}

#[test]
fn two_providers_race_on_twenty_first_response_tasks() {
    let net = Localnet::start(1);
    let p1 = Provider::start(&net, "provider-1", ProviderOptions::default());
    let p2 = Provider::start(&net, "provider-2", ProviderOptions::default());
    let addr = |p: &Provider| net.address(&p.name);
    let (a1, a2) = (addr(&p1), addr(&p2));
    let before = (net.balance(&a1, "uatom"), net.balance(&a2, "uatom"));
    let (fee, _) = protocol_fee(&net, BUDGET);

    let ids: Vec<(String, u64)> = (0..20u64)
        .map(|seed| (publish_example(&net, seed, "first-response", &[]), seed))
        .collect();
    let mut paid: BTreeMap<String, u128> = BTreeMap::new();
    for (id, seed) in &ids {
        let task = wait_final(&net, id, Duration::from_secs(180));
        assert_eq!(task["task"]["status"], "settled", "task {id}: {task}");
        let settlement = &task["task"]["settlement"];
        let winner = settlement["winner"].as_str().expect("a winner").to_string();
        assert!(
            winner == a1 || winner == a2,
            "task {id} won by a stranger {winner}"
        );
        assert_eq!(amount(&settlement["paid"]), BUDGET - fee, "task {id}");
        *paid.entry(winner).or_default() += amount(&settlement["paid"]);
        check_example(&net, id, *seed);
    }
    let after = (net.balance(&a1, "uatom"), net.balance(&a2, "uatom"));
    assert_eq!(
        after.0 - before.0,
        paid.get(&a1).copied().unwrap_or(0),
        "provider-1's winnings"
    );
    assert_eq!(
        after.1 - before.1,
        paid.get(&a2).copied().unwrap_or(0),
        "provider-2's winnings"
    );
    assert_eq!(
        paid.values().sum::<u128>(),
        20 * (BUDGET - fee),
        "20 payments, each once"
    );
    // Every committer's collateral came back.
    assert_eq!(
        net.stake("provider-1").1,
        0,
        "provider-1 has nothing locked"
    );
    assert_eq!(
        net.stake("provider-2").1,
        0,
        "provider-2 has nothing locked"
    );
    let won = p1.metric("opengpu_provider_tasks_won_total")
        + p2.metric("opengpu_provider_tasks_won_total");
    assert_eq!(won, 20.0, "the daemons counted 20 wins between them");

    // SIGTERM: a graceful stop with nothing left unrevealed.
    let mut p1 = p1;
    let status = p1.stop();
    assert!(status.success(), "graceful stop exits 0, got {status}");
    let log = p1.log_text();
    assert!(log.contains("stopped"), "the daemon says it stopped");
    assert!(
        !log.contains("NOT REVEALED"),
        "no commitment left unrevealed"
    );
}

#[test]
fn manual_confirmation_pays_the_confirmed_offer_and_finalizes_for_a_silent_client() {
    let net = Localnet::start(1);
    let cheap = Provider::start(
        &net,
        "provider-1",
        ProviderOptions {
            init_flags: &["--price", "300uatom"],
            ..Default::default()
        },
    );
    let dear = Provider::start(
        &net,
        "provider-2",
        ProviderOptions {
            init_flags: &["--price", "500uatom"],
            ..Default::default()
        },
    );
    let (cheap_addr, dear_addr) = (net.address(&cheap.name), net.address(&dear.name));
    let offers_of = |id: &str| -> Vec<(String, u128)> {
        net.cli_json(&["task", "offers", id])
            .as_array()
            .expect("offers is a list")
            .iter()
            .map(|o| {
                (
                    o["provider"].as_str().unwrap().to_string(),
                    amount(&o["price"]),
                )
            })
            .collect()
    };

    // The client confirms the cheaper offer.
    let client_before = net.balance("client", "uatom");
    let id = publish_example(&net, 1, "manual-confirmation", &["--deadline-blocks", "10"]);
    let offers = wait_for("both offers", Duration::from_secs(90), || {
        let offers = offers_of(&id);
        (offers.len() == 2).then_some(offers)
    });
    assert!(offers.contains(&(cheap_addr.clone(), 300)), "{offers:?}");
    assert!(offers.contains(&(dear_addr.clone(), 500)), "{offers:?}");
    // Sealed offers: the prices were inside the commitments, and no offer was revealed
    // before commits closed.
    let deadline = show(&net, &id)["task"]["deadline_height"]
        .as_u64()
        .expect("deadline height");
    for offer in net
        .cli_json(&["task", "offers", &id])
        .as_array()
        .expect("a list")
    {
        let revealed = offer["revealed_height"].as_u64().expect("revealed height");
        assert!(
            revealed > deadline,
            "offer revealed at {revealed}, commits closed after {deadline}: {offer}"
        );
    }
    assert_eq!(
        net.stake("provider-2").1,
        COLLATERAL,
        "the dearer offer's collateral is locked"
    );
    net.cli_json(&[
        "--from",
        "client",
        "task",
        "confirm",
        &id,
        "--provider",
        &cheap_addr,
    ]);
    let task = wait_final(&net, &id, Duration::from_secs(30));
    let settlement = &task["task"]["settlement"];
    assert_eq!(settlement["winner"], cheap_addr.as_str());
    assert_eq!(amount(&settlement["price"]), 300);
    assert_eq!(amount(&settlement["refund"]), BUDGET - 300);
    assert_eq!(
        net.balance("client", "uatom"),
        client_before - 300,
        "client paid the offer only"
    );
    assert_eq!(
        net.stake("provider-2").1,
        0,
        "the other collateral unlocked"
    );
    check_example(&net, &id, 1);

    // A silent client: after the confirm window the cheapest offer is finalized by a daemon.
    let id = publish_example(&net, 2, "manual-confirmation", &["--deadline-blocks", "10"]);
    let task = wait_final(&net, &id, Duration::from_secs(120));
    let settlement = &task["task"]["settlement"];
    assert_eq!(task["task"]["status"], "settled");
    assert_eq!(
        settlement["winner"],
        cheap_addr.as_str(),
        "the cheapest offer wins"
    );
    assert_eq!(amount(&settlement["price"]), 300);
    assert_eq!(net.stake("provider-1").1, 0);
    assert_eq!(net.stake("provider-2").1, 0);
    check_example(&net, &id, 2);
}

#[test]
fn a_provider_killed_after_committing_forfeits_its_collateral_to_the_client() {
    let net = Localnet::start(1);
    let mut provider = Provider::start(
        &net,
        "provider-1",
        ProviderOptions {
            env: &[("FAILPOINTS", "provider::before_reveal=return")],
            ..Default::default()
        },
    );
    let provider_addr = net.address(&provider.name);
    let (bonded_before, _) = net.stake("provider-1");
    let client_before = net.balances("client");
    let published = publish_example_tx(&net, 7, "first-response", &["--deadline-blocks", "10"]);
    let id = published["task_id"].as_u64().expect("task id").to_string();
    wait_for("the commitment", Duration::from_secs(60), || {
        let shown = show(&net, &id);
        (shown["task"]["commit_count"] == 1).then_some(())
    });
    provider.kill();
    assert_eq!(
        net.stake("provider-1").1,
        COLLATERAL,
        "collateral locked by the commit"
    );

    // After the deadline and the reveal window, anyone may expire the task.
    let reveals_close = show(&net, &id)["commitments"][0]["reveal_deadline_height"]
        .as_u64()
        .expect("reveal deadline");
    wait_for(
        "the reveal window to close",
        Duration::from_secs(120),
        || {
            let height = net.cli_json(&["chain", "status"])["status"]["latest_height"].as_u64()?;
            (height > reveals_close).then_some(())
        },
    );
    let expired = net.cli_json(&["--from", "client", "task", "expire", &id]);
    let task = show(&net, &id);
    assert_eq!(task["task"]["status"], "expired", "{task}");
    assert_eq!(
        net.stake("provider-1"),
        (bonded_before - COLLATERAL, 0),
        "slashed, unlocked"
    );
    let client_after = net.balances("client");
    assert_eq!(
        client_after.uatom, client_before.uatom,
        "escrow refunded in full"
    );
    let publish_fee = net.tx_fee(&published);
    let expire_fee = net.tx_fee(&expired);
    assert_eq!(
        client_after.ustake,
        client_before.ustake - publish_fee - expire_fee + COLLATERAL,
        "the client got the forfeited collateral"
    );
    assert_eq!(task["commitments"][0]["provider"], provider_addr.as_str());
}

#[test]
fn the_provider_catches_up_on_tasks_published_while_its_node_was_down() {
    let net = Localnet::start(4);
    let provider = Provider::start(&net, "provider-1", ProviderOptions::default());
    let me = net.address(&provider.name);
    let first = publish_example(&net, 1, "first-response", &[]);
    assert_eq!(
        wait_final(&net, &first, Duration::from_secs(90))["task"]["settlement"]["winner"],
        me.as_str()
    );

    net.stop_node(0); // the provider's node: its websocket and RPC go away
    let node1 = net.rpc(1);
    let during: Vec<(String, u64)> = (10..13u64)
        .map(|seed| {
            let id = publish_example(&net, seed, "first-response", &["--node", &node1]);
            (id, seed)
        })
        .collect();
    net.restart_stopped_nodes();

    for (id, seed) in &during {
        let task = wait_final(&net, id, Duration::from_secs(180));
        assert_eq!(task["task"]["status"], "settled", "{task}");
        assert_eq!(
            task["task"]["settlement"]["winner"],
            me.as_str(),
            "task {id}"
        );
        check_example(&net, id, *seed);
    }
    assert!(
        provider.metric("opengpu_provider_reconnects_total") >= 1.0,
        "it reconnected"
    );
    assert_eq!(provider.metric("opengpu_provider_tasks_won_total"), 4.0);
}

const NOT_COMPILING: &str =
    "__kernel void broken(__global uint *out) { out[0] = undefined_name; }\n";
/// Never ends: the store keeps the loop alive (LLVM may not delete it).
const ENDLESS: &str = r#"__kernel void spin(__global uint *out) {
    for (uint i = 0; ; i++) { out[0] = i; }
}
"#;

#[test]
fn bad_kernels_are_skipped_and_counted_while_good_ones_are_served() {
    let net = Localnet::start(1);
    let provider = Provider::start(
        &net,
        "provider-1",
        ProviderOptions {
            init_flags: &["--time-limit", "3s"],
            ..Default::default()
        },
    );
    let publish_source = |name: &str, source: &str, entry: &str| -> String {
        let path = net.path(&format!("{name}.cl"));
        std::fs::write(&path, source).expect("writing a kernel");
        let path = path.display().to_string();
        let budget = format!("{BUDGET}uatom");
        let published = net.cli_json(&[
            "--from",
            "client",
            "task",
            "publish",
            "--kernel",
            &path,
            "--entry",
            entry,
            "--global",
            "1",
            "--arg",
            "output:4",
            "--model",
            "first-response",
            "--payment",
            &budget,
            "--collateral",
            "1000ustake",
            "--deadline-blocks",
            "200",
            // A decisive policy, so the daemon takes the task (the kernel never gets to run).
            "--verify",
            &format!("reference:{}", "00".repeat(32)),
            // The CLI's own check would refuse the kernel that does not build: this test is
            // about the daemon meeting one.
            "--no-local-check",
        ]);
        published["task_id"].as_u64().expect("task id").to_string()
    };
    let broken = publish_source("broken", NOT_COMPILING, "broken");
    let endless = publish_source("endless", ENDLESS, "spin");
    let good = publish_example(&net, 3, "first-response", &[]);

    let task = wait_final(&net, &good, Duration::from_secs(120));
    assert_eq!(
        task["task"]["settlement"]["winner"],
        net.address("provider-1").as_str()
    );
    check_example(&net, &good, 3);
    wait_for("both failures counted", Duration::from_secs(60), || {
        let compile =
            provider.metric(r#"opengpu_provider_tasks_failed_total{reason="compile_error"}"#);
        let timeout = provider.metric(r#"opengpu_provider_tasks_failed_total{reason="timeout"}"#);
        (compile == 1.0 && timeout == 1.0).then_some(())
    });
    for id in [&broken, &endless] {
        assert_eq!(
            show(&net, id)["task"]["commit_count"],
            0,
            "no commitment on task {id}"
        );
        // Nothing committed: the client cancels and gets the budget back.
        net.cli_json(&["--from", "client", "task", "cancel", id]);
        assert_eq!(show(&net, id)["task"]["status"], "cancelled");
    }
    // It still serves after both failures.
    let after = publish_example(&net, 4, "first-response", &[]);
    assert_eq!(
        wait_final(&net, &after, Duration::from_secs(90))["task"]["status"],
        "settled"
    );
}
