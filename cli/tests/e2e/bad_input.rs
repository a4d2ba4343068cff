//! Bad input through the CLI: each mistake exits non-zero with a message that names it, and
//! no one loses money. Checks that fail before broadcasting leave every balance exactly as it
//! was (so no transaction was sent); a wrong but well-committed answer that does not match the
//! client's reference hash is refused on chain: it wins nothing and costs the provider its gas
//! fees; the hash is the client's word, not proof, so its collateral is released, not slashed.

use crate::cli::{amount, Balances, EXIT_REFUSED, EXIT_USAGE};
use crate::localnet::Localnet;
use crate::steps::{
    become_provider, commit, commitment_state, min_bond, protocol_fee, publish, show,
};
use crate::vector_add::VectorAdd;

const BUDGET: u128 = 40_000;
const COLLATERAL: u128 = 5_000;

#[test]
fn bad_input_through_the_cli_fails_clearly_and_loses_nothing() {
    let net = Localnet::start(1);
    let bond = min_bond(&net);
    let (fee, _) = protocol_fee(&net, BUDGET);
    let (p1, p2) = (net.address("provider-1"), net.address("provider-2"));
    let client_before = net.balances("client");
    let p1_before = net.balances("provider-1");
    let p2_before = net.balances("provider-2");
    let mut p1_fees = become_provider(&net, "provider-1");
    let mut p2_fees = become_provider(&net, "provider-2");
    let vadd = VectorAdd::write(&net, "vadd");

    // --- refused before anything is broadcast
    // `task publish` of the vector addition with some flag values replaced, some flags added.
    let publish_with = |replace: &[(&str, &str)], extra: &[&str]| -> Vec<String> {
        let mut flags = vadd.publish_args();
        flags.extend(
            [
                "--payment",
                "1000uatom",
                "--deadline-blocks",
                "100",
                "--unverified",
            ]
            .map(String::from),
        );
        for (flag, value) in replace {
            let at = flags.iter().position(|f| f == flag).expect("flag present");
            flags[at + 1] = value.to_string();
        }
        ["--from", "client", "task", "publish"]
            .iter()
            .map(|s| s.to_string())
            .chain(flags)
            .chain(extra.iter().map(|s| s.to_string()))
            .collect()
    };
    let run_fails = |code: i32, args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        net.cli_fails(code, &args)
    };

    let missing = net.path("missing.cl").display().to_string();
    let stderr = run_fails(1, publish_with(&[("--kernel", &missing)], &[]));
    assert!(
        stderr.contains(&format!("cannot read kernel file {missing}")),
        "{stderr}"
    );
    assert!(stderr.contains("No such file"), "{stderr}");

    let stderr = run_fails(EXIT_USAGE, publish_with(&[], &["--arg", "u32:-1"]));
    assert!(
        stderr.contains("invalid value 'u32:-1' for '--arg <TYPE:VALUE>'"),
        "{stderr}"
    );
    let stderr = run_fails(EXIT_USAGE, publish_with(&[], &["--arg", "matrix:3"]));
    assert!(
        stderr.contains("unknown argument type \"matrix\""),
        "{stderr}"
    );
    let stderr = run_fails(1, publish_with(&[], &["--arg", "buffer:nowhere.bin"]));
    assert!(
        stderr.contains("cannot read input buffer file nowhere.bin"),
        "{stderr}"
    );

    // The client holds ustake and uatom only; ufoo is refused by the market's rules, which the
    // CLI reads from the chain before signing anything.
    let stderr = run_fails(1, publish_with(&[("--payment", "5ufoo")], &[]));
    assert!(
        stderr.contains("the market does not accept payment in ufoo; accepted: ustake, uatom"),
        "{stderr}"
    );

    assert_eq!(
        net.cli_json(&["task", "list"]),
        serde_json::json!([]),
        "no task was created"
    );
    assert_eq!(
        net.balances("client"),
        client_before,
        "nothing was broadcast"
    );

    // --- a task that checks results against the reference output
    let (id, publish_fee) = publish(
        &net,
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
    // provider-1 commits the right output; provider-2 a wrong one (one element off).
    let right = VectorAdd::write_result(&net, "provider-1.bin", &vadd.output);
    let mut wrong_bytes = vadd.output.clone();
    wrong_bytes[4] ^= 1;
    let wrong = VectorAdd::write_result(&net, "provider-2.bin", &wrong_bytes);
    let (committed, commit_fee) = commit(&net, "provider-1", &id, &right);
    p1_fees += commit_fee;
    p2_fees += commit(&net, "provider-2", &id, &wrong).1;
    let p1_committed = net.balances("provider-1");

    // A reveal whose data no longer opens the commitment is refused locally: first the output
    // file changed after the commit, then the saved salt.
    std::fs::write(&right, &wrong_bytes).unwrap();
    let stderr = net.cli_fails(1, &["--from", "provider-1", "task", "reveal", &id]);
    assert!(stderr.contains("changed since the commit"), "{stderr}");
    assert!(stderr.contains(&right.display().to_string()), "{stderr}");
    std::fs::write(&right, &vadd.output).unwrap();

    let reveal_file = committed["reveal_file"]
        .as_str()
        .expect("reveal_file")
        .to_string();
    let saved = std::fs::read_to_string(&reveal_file).unwrap();
    let mut plan: serde_json::Value = serde_json::from_str(&saved).unwrap();
    let salt = plan["salt"].as_str().unwrap().to_string();
    let flipped = if salt.starts_with('0') { "1" } else { "0" };
    plan["salt"] = format!("{flipped}{}", &salt[1..]).into();
    std::fs::write(&reveal_file, plan.to_string()).unwrap();
    let stderr = net.cli_fails(1, &["--from", "provider-1", "task", "reveal", &id]);
    assert!(
        stderr.contains("does not open its own commitment"),
        "{stderr}"
    );
    std::fs::write(&reveal_file, saved).unwrap();

    assert_eq!(
        net.balances("provider-1"),
        p1_committed,
        "refused reveals sent nothing"
    );
    let shown = show(&net, &id);
    assert_eq!(commitment_state(&shown, &p1), "committed", "still openable");

    // A well-committed answer unlike the client's reference hash: the reveal goes through,
    // the market refuses it without slashing (the hash is the client's word, not proof), the
    // collateral is released, and the CLI exits with its documented code (after printing the
    // transaction, whose fee provider-2 paid).
    let client_now = net.balances("client");
    let out = net.cli(&["-o", "json", "--from", "provider-2", "task", "reveal", &id]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(EXIT_REFUSED), "{stderr}");
    assert!(stderr.contains("the reveal was refused"), "{stderr}");
    assert!(stderr.contains("does not match reference hash"), "{stderr}");
    assert!(
        stderr.contains(&format!("the collateral of {COLLATERAL} was released")),
        "{stderr}"
    );
    let refused: serde_json::Value = serde_json::from_slice(&out.stdout).expect("reveal JSON");
    assert_eq!(refused["valid"], false, "{refused}");
    p2_fees += net.tx_fee(&refused);
    let shown = show(&net, &id);
    assert_eq!(commitment_state(&shown, &p2), "refused");
    assert_eq!(
        shown["task"]["status"], "committed",
        "a refused reveal settles nothing"
    );
    assert_eq!(net.stake("provider-2"), (bond, 0), "released, not slashed");
    assert_eq!(
        net.balances("client"),
        client_now,
        "the client gains nothing from a mismatch with its own hash"
    );

    // The honest provider, its files intact, reveals and wins.
    let revealed = net.cli_json(&["--from", "provider-1", "task", "reveal", &id]);
    p1_fees += net.tx_fee(&revealed);
    assert_eq!(revealed["valid"], true, "{revealed}");
    assert_eq!(revealed["settled"], true, "{revealed}");
    let task = &show(&net, &id)["task"];
    assert_eq!(task["settlement"]["winner"], p1.as_str());
    assert_eq!(amount(&task["settlement"]["paid"]), BUDGET - fee);

    // Nothing lost: the client paid the budget once, for the correct result, and one publish
    // fee; provider-1 paid only its bond (still its own, in the vault) and fees, and was paid;
    // provider-2 lost its fees, and kept its bond.
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
            ustake: p1_before.ustake - bond - p1_fees,
            uatom: p1_before.uatom + BUDGET - fee,
        }
    );
    assert_eq!(net.stake("provider-1"), (bond, 0));
    assert_eq!(
        net.balances("provider-2"),
        Balances {
            ustake: p2_before.ustake - bond - p2_fees,
            uatom: p2_before.uatom,
        }
    );
}
