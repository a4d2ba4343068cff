//! The rules that make the market trustless, with real daemons on a real chain: a wrong
//! product is proven wrong on-chain by Freivalds' check and slashed, and a Consensus minority
//! is outvoted and slashed while the agreeing daemons share the payment. The corrupting daemon
//! is an honest binary made to lie by a fail point (`provider::corrupt_output`: it adds 1e6
//! to one element of its result and skips its own check).

use std::time::Duration;

use crate::cli::amount;
use crate::daemon::{wait_for, Provider, ProviderOptions};
use crate::localnet::Localnet;
use crate::provider_daemon::{
    check_named_example, publish_named_example, wait_final, BUDGET, COLLATERAL,
};
use crate::steps::{commitment_state, protocol_fee, show};

const CORRUPT: ProviderOptions = ProviderOptions {
    init_flags: &[],
    env: &[("FAILPOINTS", "provider::corrupt_output=return")],
};

#[test]
fn freivalds_slashes_a_corrupted_sgemm_and_the_honest_daemon_is_paid() {
    let net = Localnet::start(1);
    // The liar alone first, so its wrong result is revealed (and judged) before anyone else's.
    let liar = Provider::start(&net, "provider-1", CORRUPT);
    let liar_addr = net.address(&liar.name);
    let (liar_bonded, _) = net.stake("provider-1");
    let client_before = net.balances("client");

    let published = publish_named_example(&net, "sgemm", "64", 5, "first-response", &[]);
    let id = published["task_id"].as_u64().expect("task id").to_string();
    let shown = show(&net, &id);
    assert_eq!(
        shown["task"]["verification"]["freivalds"]["m"], 64,
        "the sgemm example publishes with Freivalds by default: {shown}"
    );
    wait_for("the liar's reveal", Duration::from_secs(120), || {
        let shown = show(&net, &id);
        let rejected = shown["commitments"]
            .as_array()?
            .iter()
            .any(|c| c["provider"] == liar_addr.as_str() && c["state"].get("rejected").is_some());
        rejected.then_some(())
    });
    let shown = show(&net, &id);
    let reason = shown["commitments"][0]["state"]["rejected"]["reason"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(reason.starts_with("freivalds:"), "{reason}");
    assert_eq!(
        net.stake("provider-1"),
        (liar_bonded - COLLATERAL, 0),
        "the liar's collateral is slashed"
    );
    assert_eq!(
        shown["task"]["status"], "committed",
        "still open for honest work"
    );

    let honest = Provider::start(&net, "provider-2", ProviderOptions::default());
    let honest_addr = net.address(&honest.name);
    let honest_before = net.balance(&honest_addr, "uatom");
    let task = wait_final(&net, &id, Duration::from_secs(180));
    let settlement = &task["task"]["settlement"];
    assert_eq!(settlement["winner"], honest_addr.as_str(), "{task}");
    let (fee, _) = protocol_fee(&net, BUDGET);
    assert_eq!(amount(&settlement["paid"]), BUDGET - fee);
    assert_eq!(
        net.balance(&honest_addr, "uatom"),
        honest_before + BUDGET - fee,
        "the honest daemon is paid"
    );
    let client_after = net.balances("client");
    assert_eq!(client_after.uatom, client_before.uatom - BUDGET);
    assert_eq!(
        client_after.ustake,
        client_before.ustake - net.tx_fee(&published) + COLLATERAL,
        "the liar's collateral went to the client"
    );
    assert_eq!(net.stake("provider-2").1, 0, "nothing left locked");
    check_named_example(&net, &id, "sgemm", "64", 5);
    assert_eq!(
        liar.metric("opengpu_provider_tasks_slashed_total{reason=\"rejected\"}"),
        1.0
    );
}

#[test]
fn consensus_outvotes_and_slashes_the_corrupting_replica_and_the_honest_pair_shares() {
    let net = Localnet::start(1);
    let liar = Provider::start(&net, "provider-1", CORRUPT);
    let a = Provider::start(&net, "provider-2", ProviderOptions::default());
    let b = Provider::start(&net, "provider-3", ProviderOptions::default());
    let addr = |p: &Provider| net.address(&p.name);
    let (liar_addr, a_addr, b_addr) = (addr(&liar), addr(&a), addr(&b));
    let (liar_bonded, _) = net.stake("provider-1");
    let before = (net.balance(&a_addr, "uatom"), net.balance(&b_addr, "uatom"));
    let client_before = net.balances("client");

    // Agreement decides: no reference hash, so the lie is caught by the replicas alone.
    let published = publish_named_example(
        &net,
        "hash-chain",
        "4096",
        9,
        "consensus",
        &[
            "--replicas",
            "3",
            "--quorum",
            "2",
            "--unverified",
            "--deadline-blocks",
            "60",
        ],
    );
    let id = published["task_id"].as_u64().expect("task id").to_string();
    let task = wait_final(&net, &id, Duration::from_secs(240));
    assert_eq!(task["task"]["status"], "settled", "{task}");
    assert_eq!(commitment_state(&task, &liar_addr), "outvoted");

    let (fee, _) = protocol_fee(&net, BUDGET);
    let share = (BUDGET - fee) / 2;
    let shares = task["task"]["settlement"]["shares"]
        .as_array()
        .expect("shares");
    let mut paid: Vec<&str> = shares
        .iter()
        .map(|s| s["provider"].as_str().unwrap_or_default())
        .collect();
    paid.sort();
    let mut honest = vec![a_addr.as_str(), b_addr.as_str()];
    honest.sort();
    assert_eq!(paid, honest, "the agreeing pair is paid: {task}");
    assert!(shares.iter().all(|s| amount(&s["amount"]) == share));
    assert_eq!(net.balance(&a_addr, "uatom"), before.0 + share);
    assert_eq!(net.balance(&b_addr, "uatom"), before.1 + share);
    assert_eq!(
        net.stake("provider-1"),
        (liar_bonded - COLLATERAL, 0),
        "the outvoted replica lost its collateral"
    );
    // Its collateral is split three ways: each winner and the client (who takes the remainder).
    let to_client = COLLATERAL - 2 * (COLLATERAL / 3);
    let client_after = net.balances("client");
    assert_eq!(
        client_after.uatom,
        client_before.uatom - BUDGET + (BUDGET - fee - 2 * share)
    );
    assert_eq!(
        client_after.ustake,
        client_before.ustake - net.tx_fee(&published) + to_client
    );
    assert_eq!(net.stake("provider-2").1, 0);
    assert_eq!(net.stake("provider-3").1, 0);
    check_named_example(&net, &id, "hash-chain", "4096", 9);
}
