//! Manual Confirmation through the CLI: two providers commit sealed offers (the price inside
//! the commitment) of the correct output at different prices, reveal them once commits close,
//! only the client may confirm, and the confirmed one is paid its price while the client gets
//! the rest back and the other provider's collateral is released.

use crate::cli::{amount, Balances};
use crate::localnet::Localnet;
use crate::steps::{become_provider, commit_offer};
use crate::steps::{min_bond, protocol_fee, publish, show, wait_past_height};
use crate::vector_add::VectorAdd;

const BUDGET: u128 = 100_000;
const COLLATERAL: u128 = 500;
const PRICE_1: u128 = 80_000;
const PRICE_2: u128 = 65_000;

#[test]
fn manual_confirmation_task_is_confirmed_by_the_client() {
    let net = Localnet::start(1);
    let bond = min_bond(&net);
    let (fee, collector) = protocol_fee(&net, PRICE_1);
    let (p1, p2) = (net.address("provider-1"), net.address("provider-2"));
    let client_before = net.balances("client");
    let p1_before = net.balances("provider-1");
    let p2_before = net.balances("provider-2");
    let collector_before = net.balances(&collector);
    let mut p1_fees = become_provider(&net, "provider-1");
    let mut p2_fees = become_provider(&net, "provider-2");

    let vadd = VectorAdd::write(&net, "vadd");
    let (id, mut client_fees) = publish(
        &net,
        &vadd,
        &[
            "--model",
            "manual-confirmation",
            "--payment",
            &format!("{BUDGET}uatom"),
            "--collateral",
            &format!("{COLLATERAL}ustake"),
            "--deadline-blocks",
            "15",
            "--verify",
            &vadd.verify_reference(),
        ],
    );
    assert_eq!(show(&net, &id)["task"]["model"], "manual_confirmation");

    // Both compute the right answer and commit a sealed offer with its own price (a bare
    // number is in the task's denom); each has the collateral locked.
    for (provider, price, fees) in [
        ("provider-1", format!("{PRICE_1}uatom"), &mut p1_fees),
        ("provider-2", PRICE_2.to_string(), &mut p2_fees),
    ] {
        let result = VectorAdd::write_result(&net, &format!("{provider}.bin"), &vadd.output);
        *fees += commit_offer(&net, provider, &id, &result, &price).1;
        assert_eq!(net.stake(provider), (bond, COLLATERAL), "{provider} locked");
    }
    // Sealed: no offer can be opened while commits are open (refused before broadcasting).
    let stderr = net.cli_fails(1, &["--from", "provider-1", "task", "reveal", &id]);
    assert!(stderr.contains("commits close"), "{stderr}");
    let deadline = show(&net, &id)["task"]["deadline_height"]
        .as_u64()
        .expect("deadline height");
    wait_past_height(&net, deadline);
    // The price comes from the reveal plan; another one would not open the commitment.
    let stderr = net.cli_fails(
        1,
        &[
            "--from",
            "provider-2",
            "task",
            "reveal",
            &id,
            "--price",
            "1",
        ],
    );
    assert!(stderr.contains("sealed in the commitment"), "{stderr}");
    for (provider, fees) in [("provider-1", &mut p1_fees), ("provider-2", &mut p2_fees)] {
        let revealed = net.cli_json(&["--from", provider, "task", "reveal", &id]);
        *fees += net.tx_fee(&revealed);
        assert_eq!(revealed["valid"], true, "{revealed}");
        assert_eq!(
            revealed["settled"], false,
            "Manual Confirmation waits for the client"
        );
    }
    let offers = net.cli_json(&["task", "offers", &id]);
    let offered: Vec<(String, u128)> = offers
        .as_array()
        .expect("offers is a list")
        .iter()
        .map(|o| {
            (
                o["provider"].as_str().unwrap().to_string(),
                amount(&o["price"]),
            )
        })
        .collect();
    assert_eq!(offered, [(p1.clone(), PRICE_1), (p2.clone(), PRICE_2)]);

    // Only the client may confirm: refused in simulation, so nothing is broadcast and the
    // provider pays no fee.
    let p2_now = net.balances("provider-2");
    let stderr = net.cli_fails(
        1,
        &[
            "--from",
            "provider-2",
            "task",
            "confirm",
            &id,
            "--provider",
            &p2,
        ],
    );
    assert!(stderr.contains("only the task's client"), "{stderr}");
    assert_eq!(
        net.balances("provider-2"),
        p2_now,
        "a refused confirm costs nothing"
    );
    assert_eq!(show(&net, &id)["task"]["status"], "committed");

    // The client confirms provider-1, the dearer offer: the choice is the client's (finalize
    // after the window would take the cheapest).
    let confirmed = net.cli_json(&[
        "--from",
        "client",
        "task",
        "confirm",
        &id,
        "--provider",
        "provider-1",
    ]);
    client_fees += net.tx_fee(&confirmed);
    let settled = confirmed["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["event"] == "task_settled")
        .unwrap_or_else(|| panic!("no task_settled event: {confirmed}"));
    assert_eq!(settled["winner"], p1.as_str());
    assert_eq!(amount(&settled["amount"]), PRICE_1 - fee);
    assert_eq!(amount(&settled["fee"]), fee);
    assert_eq!(amount(&settled["refund"]), BUDGET - PRICE_1);

    let task = &show(&net, &id)["task"];
    assert_eq!(task["status"], "settled");
    assert_eq!(amount(&task["settlement"]["price"]), PRICE_1);
    net.cli_json(&["task", "watch", &id, "--max-wait", "30s"]);

    assert_eq!(
        net.balances("client"),
        Balances {
            ustake: client_before.ustake - client_fees,
            uatom: client_before.uatom - PRICE_1, // paid BUDGET, refunded BUDGET - PRICE_1
        }
    );
    assert_eq!(
        net.balances("provider-1"),
        Balances {
            ustake: p1_before.ustake - bond - p1_fees,
            uatom: p1_before.uatom + PRICE_1 - fee,
        }
    );
    assert_eq!(
        net.balances("provider-2"),
        Balances {
            ustake: p2_before.ustake - bond - p2_fees,
            uatom: p2_before.uatom,
        }
    );
    assert_eq!(
        net.balances(&collector),
        Balances {
            uatom: collector_before.uatom + fee,
            ..collector_before
        }
    );
    // Both collaterals released, none slashed.
    assert_eq!(net.stake("provider-2"), (bond, 0));
    assert_eq!(net.stake("provider-1"), (bond, 0));
}
