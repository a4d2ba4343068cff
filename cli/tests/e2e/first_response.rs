//! First Response through the CLI: the client publishes, one provider commits and reveals the
//! correct output by hand, the task settles in the reveal's transaction and the money moves
//! exactly as documented; on one validator and on four.

use std::time::{Duration, Instant};

use crate::cli::{amount, Balances};
use crate::localnet::Localnet;
use crate::steps::{become_provider, commit, min_bond, protocol_fee, publish, show};
use crate::vector_add::{VectorAdd, OUTPUT_BYTES};

/// Paid in uatom, so that the gas fees (ustake) stay out of the payment's arithmetic.
const BUDGET: u128 = 250_000;
const COLLATERAL: u128 = 1_000;

#[test]
fn first_response_task_flows_end_to_end_through_the_cli() {
    let net = Localnet::start(1);
    first_response_flow(&net);
}

#[test]
fn first_response_flow_runs_on_a_four_validator_network() {
    let net = Localnet::start(4);
    let (id, settled_at) = first_response_flow(&net);

    // Every node has the settlement, and they agree on the chain's progress.
    let net_ref = &net;
    let heights: Vec<u64> = std::thread::scope(|s| {
        let reads: Vec<_> = (0..net.nodes)
            .map(|i| s.spawn(move || node_height(net_ref, i)))
            .collect();
        reads
            .into_iter()
            .map(|r| r.join().expect("height read"))
            .collect()
    });
    let spread = heights.iter().max().unwrap() - heights.iter().min().unwrap();
    assert!(
        spread <= 3,
        "nodes disagree on the height by {spread} blocks: {heights:?}"
    );
    for i in 0..net.nodes {
        wait_for_height(&net, i, settled_at);
        let rpc = net.rpc(i);
        let task = net.cli_json(&["--node", &rpc, "task", "show", &id]);
        assert_eq!(task["task"]["status"], "settled", "task {id} on node{i}");
        assert_eq!(task["task"]["settlement"]["height"], settled_at, "node{i}");
    }
}

/// The whole First Response flow on `net`; returns the task id and the settlement height.
fn first_response_flow(net: &Localnet) -> (String, u64) {
    let (fee, collector) = protocol_fee(net, BUDGET);
    let bond = min_bond(net);
    let provider = net.address("provider-1");
    let client_before = net.balances("client");
    let provider_before = net.balances("provider-1");
    let collector_before = net.balances(&collector);

    let mut provider_fees = become_provider(net, "provider-1");

    let vadd = VectorAdd::write(net, "vadd");
    let (id, publish_fee) = publish(
        net,
        &vadd,
        &[
            "--payment",
            &format!("{BUDGET}uatom"),
            "--collateral",
            &format!("{COLLATERAL}ustake"),
            "--deadline-blocks",
            "200",
            "--verify",
            &vadd.verify_reference(),
        ],
    );
    let task = &show(net, &id)["task"];
    assert_eq!(task["status"], "open");
    assert_eq!(task["model"], "first_response");
    assert_eq!(
        (task["denom"].as_str(), amount(&task["budget"])),
        (Some("uatom"), BUDGET)
    );
    assert_eq!(amount(&task["collateral"]), COLLATERAL);
    assert_eq!(task["output_sizes"], serde_json::json!([OUTPUT_BYTES]));
    assert_eq!(
        net.balance("client", "uatom"),
        client_before.uatom - BUDGET,
        "escrowed"
    );

    // The provider "runs" the kernel (computed in Rust), commits, then reveals.
    let result = VectorAdd::write_result(net, "provider-1-output.bin", &vadd.output);
    let (committed, commit_fee) = commit(net, "provider-1", &id, &result);
    provider_fees += commit_fee;
    let reveal_file = committed["reveal_file"].as_str().expect("reveal_file");
    assert!(
        std::path::Path::new(reveal_file).is_file(),
        "{reveal_file} saved by commit"
    );
    assert_eq!(
        net.stake("provider-1"),
        (bond, COLLATERAL),
        "collateral locked by the commit"
    );
    assert_eq!(show(net, &id)["task"]["status"], "committed");

    let revealed = net.cli_json(&["--from", "provider-1", "task", "reveal", &id]);
    provider_fees += net.tx_fee(&revealed);
    assert_eq!(revealed["valid"], true, "{revealed}");
    assert_eq!(
        revealed["settled"], true,
        "First Response settles in the reveal: {revealed}"
    );

    // `task watch` sees the final state and exits 0.
    let watched = net.cli_json(&[
        "task",
        "watch",
        &id,
        "--interval",
        "200ms",
        "--max-wait",
        "60s",
    ]);
    assert_eq!(watched["status"], "settled");
    let settlement = &watched["settlement"];
    assert_eq!(settlement["winner"], provider.as_str());
    assert_eq!(settlement["paid_to"], provider.as_str());
    assert_eq!(amount(&settlement["price"]), BUDGET);
    assert_eq!(amount(&settlement["fee"]), fee);
    assert_eq!(amount(&settlement["paid"]), BUDGET - fee);
    assert_eq!(amount(&settlement["refund"]), 0);

    // `task result --out` writes exactly the correct output.
    let out = net.path("result.bin");
    let fetched = net.cli_json(&["task", "result", &id, "--out", &out.display().to_string()]);
    assert_eq!(fetched["provider"], provider.as_str());
    assert_eq!(
        std::fs::read(&out).expect("reading the result"),
        vadd.output
    );

    // Exact money: the client paid the budget (uatom) and one publish fee (ustake); the
    // provider got the budget less the 1% fee, and paid its bond and four transaction fees;
    // the fee collector got the fee; the collateral is unlocked.
    assert_eq!(
        net.balances("client"),
        Balances {
            ustake: client_before.ustake - publish_fee,
            uatom: client_before.uatom - BUDGET,
        }
    );
    assert_eq!(
        net.balances("provider-1"),
        Balances {
            ustake: provider_before.ustake - bond - provider_fees,
            uatom: provider_before.uatom + BUDGET - fee,
        }
    );
    assert_eq!(
        net.balances(&collector),
        Balances {
            uatom: collector_before.uatom + fee,
            ..collector_before
        }
    );
    assert_eq!(net.stake("provider-1"), (bond, 0));
    let height = settlement["height"].as_u64().expect("settlement height");
    (id, height)
}

/// Latest height node `i` reports through `opengpu --node <its RPC> chain status`.
fn node_height(net: &Localnet, i: u16) -> u64 {
    let status = net.cli_json(&["--node", &net.rpc(i), "chain", "status"]);
    status["status"]["latest_height"]
        .as_u64()
        .expect("latest_height")
}

fn wait_for_height(net: &Localnet, i: u16, height: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while node_height(net, i) < height {
        assert!(
            Instant::now() < deadline,
            "node{i} stays below height {height}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}
