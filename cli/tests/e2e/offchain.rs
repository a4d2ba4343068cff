//! Off-chain inputs on a real chain: `opengpu serve` serves the files, `task publish
//! --offchain` puts only their sha256 and size on-chain, and the provider daemon fetches,
//! checks and runs them; bytes that differ from the hash are never computed on.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use opengpu_examples::{
    column_sums_matrix, COLUMN_SUMS_COLUMNS, COLUMN_SUMS_ENTRY, COLUMN_SUMS_SOURCE,
};
use sha2::{Digest, Sha256};

use crate::cli::{amount, OPENGPU};
use crate::daemon::{wait_for, Provider, ProviderOptions};
use crate::localnet::Localnet;
use crate::provider_daemon::{wait_final, BUDGET, COLLATERAL};
use crate::steps::{protocol_fee, show};

const COLUMNS: usize = COLUMN_SUMS_COLUMNS;
/// Publish gas with a 64 MiB input stays below this: a few hundred thousand, as for any small
/// kernel (on-chain, 64 MiB would need billions).
const PUBLISH_GAS_BOUND: u64 = 1_000_000;

/// `opengpu serve DIR --listen 127.0.0.1:0`, stopped when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(dir: &std::path::Path) -> Server {
        let mut child = Command::new(OPENGPU)
            .arg("serve")
            .arg(dir)
            .args(["--listen", "127.0.0.1:0", "--output", "json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting opengpu serve");
        // One JSON document (pretty-printed): read lines until it parses.
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut text = String::new();
        let printed: serde_json::Value = loop {
            let read = stdout.read_line(&mut text).expect("reading the served URL");
            assert!(
                read > 0,
                "opengpu serve exited before printing its URL: {text}"
            );
            if let Ok(value) = serde_json::from_str(&text) {
                break value;
            }
        };
        let url = printed["url"].as_str().expect("the URL").to_string();
        Server { child, url }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// As `client`: publishes the column-sum kernel over `input` (a file) off-chain, served from
/// `dir` at `url`, verified by the reference `expected` outputs; returns the command's JSON.
fn publish(
    net: &Localnet,
    input: &str,
    expected: &str,
    rows: usize,
    url: &str,
    dir: &str,
) -> serde_json::Value {
    let kernel = net.path("column_sums.cl");
    std::fs::write(&kernel, COLUMN_SUMS_SOURCE).expect("writing the kernel");
    let (kernel, rows) = (kernel.display().to_string(), rows.to_string());
    let (budget, collateral) = (format!("{BUDGET}uatom"), format!("{COLLATERAL}ustake"));
    let (buffer, output) = (format!("buffer:{input}"), format!("output:{}", COLUMNS * 4));
    let (global, u32_rows) = (COLUMNS.to_string(), format!("u32:{rows}"));
    let verify = format!("reference-outputs:{expected}");
    net.cli_json(&[
        "--from",
        "client",
        "task",
        "publish",
        "--kernel",
        &kernel,
        "--entry",
        COLUMN_SUMS_ENTRY,
        "--global",
        &global,
        "--arg",
        &buffer,
        "--arg",
        &output,
        "--arg",
        &u32_rows,
        "--offchain",
        "--input-url",
        url,
        "--input-dir",
        dir,
        "--verify",
        &verify,
        "--payment",
        &budget,
        "--collateral",
        &collateral,
        "--deadline-blocks",
        "40",
    ])
}

#[test]
fn a_served_64_mib_input_is_fetched_checked_and_paid_and_a_wrong_one_is_refused() {
    let net = Localnet::start(1);
    let provider = Provider::start(&net, "provider-1", ProviderOptions::default());
    let served = net.path("served");
    std::fs::create_dir_all(&served).unwrap();
    let server = Server::start(&served);
    let dir = served.display().to_string();
    let provider_addr = net.address("provider-1");
    let (fee, _) = protocol_fee(&net, BUDGET);

    // 64 MiB: 4096 rows of 4096 u32s.
    let rows = 64 * 1024 * 1024 / (COLUMNS * 4);
    let (data, sums) = column_sums_matrix(rows, 7);
    let (input, expected) = (net.path("input.bin"), net.path("expected.bin"));
    std::fs::write(&input, &data).unwrap();
    std::fs::write(&expected, &sums).unwrap();
    let provider_before = net.balance(&provider_addr, "uatom");
    let published = publish(
        &net,
        &input.display().to_string(),
        &expected.display().to_string(),
        rows,
        &server.url,
        &dir,
    );
    let gas = published["gas_used"].as_u64().expect("gas used");
    assert!(
        gas < PUBLISH_GAS_BOUND,
        "publish used {gas} gas with a 64 MiB input"
    );
    let id = published["task_id"].as_u64().expect("task id").to_string();
    let shown = show(&net, &id);
    let arg = &shown["kernel"]["args"][0]["remote_input"];
    assert_eq!(arg["size"], data.len() as u64, "{shown}");
    assert_eq!(
        arg["urls"][0].as_str().unwrap(),
        format!("{}/{}", server.url, arg["sha256"].as_str().unwrap())
    );

    let task = wait_final(&net, &id, Duration::from_secs(240));
    assert_eq!(task["task"]["status"], "settled", "{task}");
    let settlement = &task["task"]["settlement"];
    assert_eq!(settlement["winner"], provider_addr.as_str());
    assert_eq!(amount(&settlement["paid"]), BUDGET - fee);
    assert_eq!(
        net.balance(&provider_addr, "uatom") - provider_before,
        BUDGET - fee
    );
    let result = net.path("result.bin");
    net.cli_ok(&[
        "task",
        "result",
        &id,
        "--out",
        &result.display().to_string(),
    ]);
    assert_eq!(
        std::fs::read(&result).unwrap(),
        sums,
        "the column sums of the served bytes"
    );

    // A file whose bytes differ from the published hash, served under its name before the
    // task appears (the CLI copies the right bytes to a directory nobody serves): the provider
    // fetches it, refuses it and commits nothing; the task expires and the client gets its
    // payment back.
    let rows = 64;
    let (data, sums) = column_sums_matrix(rows, 11);
    let (input, expected) = (net.path("input-2.bin"), net.path("expected-2.bin"));
    std::fs::write(&input, &data).unwrap();
    std::fs::write(&expected, &sums).unwrap();
    let mut tampered = data.clone();
    tampered[12_345] ^= 0x40;
    let name = hex::encode(Sha256::digest(&data));
    std::fs::write(served.join(&name), &tampered).unwrap();
    let unserved = net.path("unserved").display().to_string();
    let client_before = net.balances("client");
    let published = publish(
        &net,
        &input.display().to_string(),
        &expected.display().to_string(),
        rows,
        &server.url,
        &unserved,
    );
    let id = published["task_id"].as_u64().expect("task id").to_string();
    let shown = show(&net, &id);
    assert_eq!(
        shown["kernel"]["args"][0]["remote_input"]["sha256"],
        name.as_str()
    );
    wait_for("the refusal", Duration::from_secs(90), || {
        let refused =
            provider.metric(r#"opengpu_provider_tasks_refused_total{reason="input_mismatch"}"#);
        (refused >= 1.0).then_some(())
    });
    let deadline = show(&net, &id)["task"]["deadline_height"]
        .as_u64()
        .expect("deadline");
    wait_for("the deadline", Duration::from_secs(120), || {
        let height = net.cli_json(&["chain", "status"])["status"]["latest_height"].as_u64()?;
        (height > deadline).then_some(())
    });
    let task = show(&net, &id);
    assert_eq!(
        task["task"]["commit_count"], 0,
        "nothing committed on wrong bytes: {task}"
    );
    let expired = net.cli_json(&["--from", "client", "task", "expire", &id]);
    assert_eq!(show(&net, &id)["task"]["status"], "expired");
    let client_after = net.balances("client");
    assert_eq!(
        client_after.uatom, client_before.uatom,
        "payment refunded in full"
    );
    assert_eq!(
        client_after.ustake,
        client_before.ustake - net.tx_fee(&published) - net.tx_fee(&expired),
        "the client paid only its two fees"
    );
    drop(server);
}
