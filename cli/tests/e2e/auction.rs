//! Sealed-bid second-price auctions on a real chain: three daemons with different pricing
//! rules bid on the same tasks; the cheapest wins each at the next price up and is the only one
//! to run the kernel; a winner made to vanish after its award is slashed and the runner-up
//! executes and is paid.

use std::time::Duration;

use serde_json::Value;

use crate::cli::amount;
use crate::daemon::{Provider, ProviderOptions};
use crate::localnet::Localnet;
use crate::provider_daemon::{
    check_named_example, publish_named_example, wait_final, BUDGET, COLLATERAL,
};
use crate::steps::protocol_fee;

const HASH_SIZE: &str = "4096";
/// Kernel runs the daemon counted (one histogram sample per execution).
const EXECUTIONS: &str = "opengpu_provider_stage_seconds_count{stage=\"execute\"}";

/// As `client`: publishes the hash-chain example with `seed` as an auction with a maximum
/// price of [`BUDGET`]; returns the task id.
fn publish_auction(net: &Localnet, seed: u64, windows: &[&str]) -> String {
    publish_named_example(net, "hash-chain", HASH_SIZE, seed, "auction", windows)["task_id"]
        .as_u64()
        .expect("publish prints the task id")
        .to_string()
}

/// `task bids ID`: (provider, state, opened price) per bid.
fn bids(net: &Localnet, id: &str) -> (Vec<(String, String, Option<u128>)>, Value) {
    let shown = net.cli_json(&["task", "bids", id]);
    let list = shown["bids"]
        .as_array()
        .expect("bids is a list")
        .iter()
        .map(|bid| {
            let state = bid["state"]
                .as_object()
                .and_then(|o| o.keys().next().cloned())
                .unwrap_or_default();
            let price = bid["state"][&state]
                .get("price")
                .filter(|p| !p.is_null())
                .map(amount);
            (bid["provider"].as_str().unwrap().to_string(), state, price)
        })
        .collect();
    (list, shown)
}

fn options<'a>(flags: &'a [&'a str], env: &'a [(&'a str, &'a str)]) -> ProviderOptions<'a> {
    ProviderOptions {
        init_flags: flags,
        env,
    }
}

#[test]
fn three_daemons_bid_and_the_cheapest_wins_each_auction_at_the_second_price() {
    let net = Localnet::start(1);
    let auction_only = ["--model", "auction"];
    // Three pricing rules: flat 300; 100 floor but 0.1 per work item (410 for 4096 items);
    // flat 800.
    let cheap = Provider::start(
        &net,
        "provider-1",
        options(
            &[&auction_only[..], &["--bid-floor", "300uatom"]].concat(),
            &[],
        ),
    );
    let mid = Provider::start(
        &net,
        "provider-2",
        options(
            &[
                &auction_only[..],
                &["--bid-floor", "100uatom", "--bid-per-work-item", "0.1uatom"],
            ]
            .concat(),
            &[],
        ),
    );
    let dear = Provider::start(
        &net,
        "provider-3",
        options(
            &[&auction_only[..], &["--bid-floor", "800uatom"]].concat(),
            &[],
        ),
    );
    let (cheap_addr, mid_addr, dear_addr) = (
        net.address(&cheap.name),
        net.address(&mid.name),
        net.address(&dear.name),
    );
    let (fee, _) = protocol_fee(&net, 410);
    let client_before = net.balance("client", "uatom");
    let cheap_before = net.balance(&cheap_addr, "uatom");

    // Bids are sent one transaction at a time by each daemon's signer: a long bid window lets
    // all three bid on all ten.
    let windows = [
        "--bid-blocks",
        "40",
        "--bid-reveal-blocks",
        "10",
        "--execute-blocks",
        "100",
    ];
    let ids: Vec<(String, u64)> = (0..10u64)
        .map(|seed| (publish_auction(&net, seed, &windows), seed))
        .collect();
    for (id, seed) in &ids {
        let task = wait_final(&net, id, Duration::from_secs(240));
        assert_eq!(task["task"]["status"], "settled", "task {id}: {task}");
        let settlement = &task["task"]["settlement"];
        assert_eq!(settlement["winner"], cheap_addr.as_str(), "task {id}");
        assert_eq!(
            amount(&settlement["price"]),
            410,
            "task {id}: paid the second price"
        );
        assert_eq!(amount(&settlement["paid"]), 410 - fee, "task {id}");
        assert_eq!(amount(&settlement["refund"]), BUDGET - 410, "task {id}");
        let (bids, shown) = bids(&net, id);
        let mut opened: Vec<(String, Option<u128>)> = bids
            .iter()
            .map(|(who, _, price)| (who.clone(), *price))
            .collect();
        opened.sort();
        let mut expected = vec![
            (cheap_addr.clone(), Some(300)),
            (mid_addr.clone(), Some(410)),
            (dear_addr.clone(), Some(800)),
        ];
        expected.sort();
        assert_eq!(opened, expected, "task {id}: every bid opened: {shown}");
        let won: Vec<&String> = bids
            .iter()
            .filter(|(_, state, _)| state == "won")
            .map(|(who, _, _)| who)
            .collect();
        assert_eq!(won, vec![&cheap_addr], "task {id}: {shown}");
        check_named_example(&net, id, "hash-chain", HASH_SIZE, *seed);
    }
    assert_eq!(
        net.balance("client", "uatom"),
        client_before - 10 * 410,
        "the client paid ten second prices and got the rest back"
    );
    assert_eq!(
        net.balance(&cheap_addr, "uatom") - cheap_before,
        10 * (410 - fee),
        "the winner was paid ten times"
    );
    assert_eq!(cheap.metric(EXECUTIONS), 10.0, "the winner ran ten kernels");
    assert_eq!(mid.metric(EXECUTIONS), 0.0, "a loser runs nothing");
    assert_eq!(dear.metric(EXECUTIONS), 0.0, "a loser runs nothing");
    for name in ["provider-1", "provider-2", "provider-3"] {
        assert_eq!(net.stake(name).1, 0, "{name} has nothing locked");
    }

    // A fourth daemon underbids everyone, wins, and vanishes: after its execution window the
    // task passes to the runner-up (provider-1) at its own clearing price, the next price up.
    let vanisher = Provider::start(
        &net,
        "provider-4",
        options(
            &[&auction_only[..], &["--bid-floor", "100uatom"]].concat(),
            &[("FAILPOINTS", "provider::vanish_after_award=return")],
        ),
    );
    let vanisher_addr = net.address(&vanisher.name);
    let (vanisher_bonded, _) = net.stake("provider-4");
    let client_before = net.balance("client", "uatom");
    let id = publish_auction(
        &net,
        11,
        &[
            "--bid-blocks",
            "40",
            "--bid-reveal-blocks",
            "10",
            "--execute-blocks",
            "10",
        ],
    );
    let task = wait_final(&net, &id, Duration::from_secs(240));
    assert_eq!(task["task"]["status"], "settled", "{task}");
    let settlement = &task["task"]["settlement"];
    assert_eq!(
        settlement["winner"],
        cheap_addr.as_str(),
        "the runner-up took over"
    );
    assert_eq!(
        amount(&settlement["price"]),
        410,
        "the runner-up is paid the next price up"
    );
    let (bids, shown) = bids(&net, &id);
    let state_of = |who: &str| {
        bids.iter()
            .find(|(p, _, _)| p == who)
            .map(|(_, s, _)| s.clone())
    };
    assert_eq!(
        state_of(&vanisher_addr).as_deref(),
        Some("defaulted"),
        "{shown}"
    );
    assert_eq!(state_of(&cheap_addr).as_deref(), Some("won"), "{shown}");
    assert_eq!(
        net.stake("provider-4"),
        (vanisher_bonded - COLLATERAL, 0),
        "the vanished winner lost its collateral"
    );
    assert_eq!(vanisher.metric(EXECUTIONS), 0.0, "the vanisher ran nothing");
    assert_eq!(cheap.metric(EXECUTIONS), 11.0, "the runner-up ran the task");
    assert_eq!(net.balance("client", "uatom"), client_before - 410);
    check_named_example(&net, &id, "hash-chain", HASH_SIZE, 11);
}
