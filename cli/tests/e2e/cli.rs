//! Running the real `opengpu` binary against a [`Localnet`], and reading the chain's answers:
//! balances, stake, and the fee a transaction actually paid.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::localnet::Localnet;

/// The `opengpu` binary built from this crate.
pub const OPENGPU: &str = env!("CARGO_BIN_EXE_opengpu");
/// Longest any one CLI call may take before the test fails (`task watch` gets `--max-wait`).
const CLI_TIMEOUT: Duration = Duration::from_secs(120);
/// Exit code of clap usage errors (a malformed flag value).
pub const EXIT_USAGE: i32 = 2;
/// Exit code of `task reveal` when the outputs did not match the client's reference hash: the
/// reveal is refused and the collateral released (no proof of a fault, so no slash). Documented
/// in client/README.md and `opengpu task --help`.
pub const EXIT_REFUSED: i32 = 7;

/// Bank balances of one account in the two denoms the localnet funds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Balances {
    pub ustake: u128,
    pub uatom: u128,
}

impl Localnet {
    /// Runs `opengpu --deployment <this chain> --keyring-backend test --home <its home> ARGS`
    /// in the work directory, with no OPENGPU_* variable from the caller's environment.
    pub fn cli(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(OPENGPU);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("OPENGPU_") {
                cmd.env_remove(key);
            }
        }
        cmd.arg("--deployment")
            .arg(self.deployment())
            .args(["--keyring-backend", "test", "--home"])
            .arg(self.opengpu_home())
            .args(args)
            .current_dir(self.work_dir());
        eprintln!("$ opengpu {}", args.join(" "));
        let out = run_with_timeout(cmd, CLI_TIMEOUT);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !stderr.is_empty() {
            eprintln!("{}", stderr.trim_end());
        }
        eprintln!("  -> {}", out.status);
        out
    }

    /// `cli` that must succeed; returns stdout.
    pub fn cli_ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(
            out.status.success(),
            "`opengpu {}` failed with {}:\n{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("stdout is UTF-8")
    }

    /// `cli ... -o json` that must succeed; its single JSON document.
    pub fn cli_json(&self, args: &[&str]) -> Value {
        let mut all = vec!["-o", "json"];
        all.extend_from_slice(args);
        let stdout = self.cli_ok(&all);
        serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!(
                "`opengpu {}` printed no JSON ({e}):\n{stdout}",
                args.join(" ")
            )
        })
    }

    /// `cli` that must exit with `code` and say why on stderr; returns stderr.
    pub fn cli_fails(&self, code: i32, args: &[&str]) -> String {
        let out = self.cli(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.code(),
            Some(code),
            "`opengpu {}` should exit with {code}; stderr:\n{stderr}",
            args.join(" ")
        );
        assert!(
            !stderr.trim().is_empty(),
            "a failure must say why on stderr"
        );
        stderr
    }

    /// Address of a key in the test keyring.
    pub fn address(&self, name: &str) -> String {
        let info = self.cli_json(&["keys", "show", name]);
        info["address"]
            .as_str()
            .expect("keys show has an address")
            .to_string()
    }

    /// Bank balance of a key name or address in one denom (0 when it holds none).
    pub fn balance(&self, who: &str, denom: &str) -> u128 {
        denom_amount(&self.cli_json(&["balance", who]), denom)
    }

    /// Both balances of a key name or address, in one query.
    pub fn balances(&self, who: &str) -> Balances {
        let json = self.cli_json(&["balance", who]);
        Balances {
            ustake: denom_amount(&json, "ustake"),
            uatom: denom_amount(&json, "uatom"),
        }
    }

    /// `stake show WHO`: `(bonded, locked)`.
    pub fn stake(&self, who: &str) -> (u128, u128) {
        let json = self.cli_json(&["stake", "show", who]);
        (amount(&json["bonded"]), amount(&json["locked"]))
    }

    /// `chain params`: the three contracts' configurations.
    pub fn params(&self) -> Value {
        self.cli_json(&["chain", "params"])
    }

    /// The fee (in ustake) that the transaction of a CLI command's JSON output paid, read from
    /// the chain (node 0's REST API). Also checks what the CLI documents: fee = ceil(gas x
    /// price) at the deployment's gas price, with the gas limit the CLI reported.
    pub fn tx_fee(&self, tx: &Value) -> u128 {
        let hash = tx["txhash"]
            .as_str()
            .expect("a transaction's JSON has its txhash");
        let found = self.rest_get(&format!("/cosmos/tx/v1beta1/txs/{hash}"));
        assert_eq!(found["tx_response"]["code"], 0, "tx {hash} failed: {found}");
        let fee = &found["tx"]["auth_info"]["fee"];
        let coins = fee["amount"].as_array().expect("fee amount is a list");
        assert_eq!(coins.len(), 1, "one fee coin: {fee}");
        assert_eq!(
            coins[0]["denom"], "ustake",
            "fees are paid in ustake: {fee}"
        );
        let paid = amount(&coins[0]["amount"]);
        let gas_limit = amount(&fee["gas_limit"]);
        if let Some(wanted) = tx.get("gas_wanted") {
            assert_eq!(amount(wanted), gas_limit, "gas_wanted reported for {hash}");
        }
        let (digits, scale) = self.gas_price();
        assert_eq!(
            paid,
            (gas_limit * digits).div_ceil(10u128.pow(scale)),
            "fee of {hash} = ceil({gas_limit} gas x price)"
        );
        paid
    }

    /// The deployment's gas price as `digits / 10^scale` ustake (e.g. 0.025 = 25 / 10^3).
    fn gas_price(&self) -> (u128, u32) {
        let price = self.deployment_json()["gas_price"]
            .as_str()
            .expect("gas_price")
            .to_string();
        let number = price
            .strip_suffix("ustake")
            .unwrap_or_else(|| panic!("gas price {price} is not in ustake"));
        let (int, frac) = number.split_once('.').unwrap_or((number, ""));
        let digits = format!("{int}{frac}").parse().expect("a decimal gas price");
        (digits, frac.len() as u32)
    }

    /// The deployment file deploy.sh wrote.
    fn deployment_json(&self) -> Value {
        let text = std::fs::read_to_string(self.deployment()).expect("reading the deployment");
        serde_json::from_str(&text).expect("deployment JSON")
    }

    /// GET on node 0's REST API (the deployment's `rest`); retries for a few seconds while the
    /// answer is not 200 (a transaction the RPC just reported may take a moment to show here).
    fn rest_get(&self, path: &str) -> Value {
        let deployment = self.deployment_json();
        let rest = deployment["rest"].as_str().expect("rest").to_string();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (status, body) = http_get(&rest, path);
            if status == 200 {
                return serde_json::from_str(&body)
                    .unwrap_or_else(|e| panic!("GET {path}: not JSON ({e}): {body}"));
            }
            assert!(Instant::now() < deadline, "GET {path}: {status} {body}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// One denom's amount in `opengpu balance -o json` (0 when absent).
fn denom_amount(json: &Value, denom: &str) -> u128 {
    json["balances"]
        .as_array()
        .expect("balances is a list")
        .iter()
        .find(|c| c["denom"] == denom)
        .map_or(0, |c| amount(&c["amount"]))
}

/// An amount as the contracts and the bank print it: a decimal string (or a number).
pub fn amount(v: &Value) -> u128 {
    match v {
        Value::String(s) => s.parse().unwrap_or_else(|_| panic!("not an amount: {v}")),
        Value::Number(n) => n
            .as_u64()
            .map(u128::from)
            .unwrap_or_else(|| panic!("not an amount: {v}")),
        _ => panic!("not an amount: {v}"),
    }
}

/// Runs `cmd` to completion, killing it (and failing the test) after `timeout`.
fn run_with_timeout(mut cmd: Command, timeout: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {OPENGPU}: {e}"));
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let out = std::thread::spawn(move || {
        let mut buf = Vec::new();
        stdout.read_to_end(&mut buf).map(|_| buf)
    });
    let err = std::thread::spawn(move || {
        let mut buf = Vec::new();
        stderr.read_to_end(&mut buf).map(|_| buf)
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for opengpu") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("opengpu did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out.join().expect("stdout reader").expect("reading stdout"),
        stderr: err.join().expect("stderr reader").expect("reading stderr"),
    }
}

/// A minimal HTTP/1.0 GET on `http://HOST:PORT` (the server closes the connection after the
/// body, so there is no chunked encoding to undo): `(status, body)`.
fn http_get(base: &str, path: &str) -> (u16, String) {
    let host = base
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("{base} is not an http:// URL"))
        .trim_end_matches('/');
    let mut stream =
        TcpStream::connect(host).unwrap_or_else(|e| panic!("connecting to {host}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("setting a read timeout");
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").expect("sending GET");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .unwrap_or_else(|e| panic!("reading GET {path}: {e}"));
    let (head, body) = response
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("GET {path}: malformed response {response:?}"));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("GET {path}: no status in {head:?}"));
    (status, body.to_string())
}
