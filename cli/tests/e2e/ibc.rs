//! Cross-chain payments on two real chains joined by a real relayer (`localnet/ibc-start.sh`):
//! the market chain with the contracts, and a home chain with its own token, `uhome`. One test
//! shares one pair of chains (they take a minute to start and link) across four scenarios, each
//! checked to the coin on both chains:
//!
//! (a) the client moves uhome to the market chain (`opengpu ibc transfer`) and pays a First
//!     Response task in the voucher; a daemon whose payout route points home wins and is paid
//!     on the home chain;
//! (b) with the relayer stopped and a 10 s transfer timeout, the payout home times out: it
//!     becomes the provider's claim, withdrawn on the market chain, and nothing arrives home;
//! (c) a client on the home chain publishes an auction with one transfer (`task publish
//!     --from-chain home`); the winner's pay goes home and the unspent budget comes back home;
//! (d) a transfer whose memo carries an invalid task is refused by the market: the coins come
//!     back to the sender on the home chain.

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, UNIX_EPOCH};

use opengpu_types::ibc::{TaskDraft, TransferMemo};
use opengpu_types::kernel::{Kernel, KernelArg, Requirements};
use opengpu_types::market::CompetitionModel;
use opengpu_types::verification::VerificationPolicy;
use serde_json::Value;

use crate::cli::amount;
use crate::daemon::{wait_for, Provider, ProviderOptions};
use crate::localnet::{free_base_port, repo_root, Localnet, KEEP_ENV};
use crate::provider_daemon::wait_final;
use crate::steps::protocol_fee;
use crate::vector_add::VectorAdd;

/// What the client moves from the home chain to the market chain at the start.
const MOVED: u128 = 1_000_000;
/// Budget of the First Response tasks of (a) and (b), in the home token's voucher.
const BUDGET: u128 = 200_000;
/// (c): the auction's maximum price (sent from the home chain) and the two daemons' flat bids.
const MAX_PRICE: u128 = 100_000;
const CHEAP_BID: u128 = 30_000;
const DEAR_BID: u128 = 45_000;
/// (d): what the refused transfer carries.
const REFUSED: u128 = 3_000;
/// The market's transfer timeout while the relayer is down in (b) (the least it allows).
const SHORT_TIMEOUT_SECONDS: &str = "10";
/// How long a payout or refund may take to cross over.
const CROSSING: Duration = Duration::from_secs(90);

/// Two chains, the contracts on the market chain, configured for IBC, and the relayer.
pub struct IbcNet {
    /// The market chain; its directory holds everything (the home chain, the relayer, the IBC
    /// file), so its drop removes it all.
    pub market: Localnet,
    home_chain_id: String,
    home_base_port: u16,
    watchdog: Option<Child>,
}

impl IbcNet {
    /// `ibc-start.sh` (both chains, the link, the relayer), `deploy.sh` on the market chain and
    /// `ibc-configure.sh`; panics with the scripts' output when one fails.
    pub fn start() -> IbcNet {
        let pid = std::process::id();
        let market = Localnet::prepare(1, format!("opengpu-e2e-{pid}-market"));
        let mut net = IbcNet {
            market,
            home_chain_id: format!("opengpu-e2e-{pid}-home"),
            home_base_port: free_base_port(1),
            watchdog: None,
        };
        net.watchdog = Some(net.spawn_watchdog());
        let started = Instant::now();
        net.script_ok("ibc-start.sh", &[], &[]);
        let out = net.market.script("deploy.sh", &[]);
        let log = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "localnet/deploy.sh failed:\n{log}");
        eprintln!("{log}");
        net.script_ok("ibc-configure.sh", &[], &[]);
        eprintln!(
            "{} and {} linked, deployed and configured in {:.1?}",
            net.market.chain_id,
            net.home_chain_id,
            started.elapsed()
        );
        net
    }

    /// The IBC scripts' environment: this pair only.
    fn env(&self) -> Vec<(&'static str, String)> {
        let s = |p: PathBuf| p.to_string_lossy().into_owned();
        vec![
            ("IBC_MARKET_CHAIN_ID", self.market.chain_id.clone()),
            ("IBC_MARKET_BASE_PORT", self.market.base_port().to_string()),
            ("IBC_MARKET_HOME", s(self.market.chain_home())),
            ("IBC_HOME_CHAIN_ID", self.home_chain_id.clone()),
            ("IBC_HOME_BASE_PORT", self.home_base_port.to_string()),
            ("IBC_HOME_HOME", s(self.home_chain_dir())),
            ("IBC_RELAYER_HOME", s(self.relayer_home())),
            ("IBC_FILE", s(self.ibc_file())),
            ("OPENGPU_HOME", s(self.market.opengpu_home())),
            ("LOCALNET_ADDRESSES", s(self.market.deployment())),
        ]
    }

    fn home_chain_dir(&self) -> PathBuf {
        self.market.dir().join("home-chain")
    }

    fn relayer_home(&self) -> PathBuf {
        self.market.dir().join("relayer")
    }

    pub fn ibc_file(&self) -> PathBuf {
        self.market.dir().join("ibc.json")
    }

    /// Runs `localnet/NAME ARGS` with the pair's environment (and `extra`).
    fn script(&self, name: &str, args: &[&str], extra: &[(&str, &str)]) -> Output {
        eprintln!("$ localnet/{name} {}", args.join(" "));
        Command::new(repo_root().join("localnet").join(name))
            .args(args)
            .envs(self.env())
            .envs(extra.iter().copied())
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("running localnet/{name}: {e}"))
    }

    fn script_ok(&self, name: &str, args: &[&str], extra: &[(&str, &str)]) {
        let out = self.script(name, args, extra);
        let log = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "localnet/{name} {} failed:\n{log}",
            args.join(" ")
        );
        eprintln!("{log}");
    }

    /// `opengpu --ibc-file <this pair's> ARGS`.
    pub fn cli(&self, args: &[&str]) -> Output {
        let file = self.ibc_file().display().to_string();
        let mut all = vec!["--ibc-file", file.as_str()];
        all.extend_from_slice(args);
        self.market.cli(&all)
    }

    /// [`IbcNet::cli`] with `-o json`, which must succeed.
    pub fn cli_json(&self, args: &[&str]) -> Value {
        let file = self.ibc_file().display().to_string();
        let mut all = vec!["--ibc-file", file.as_str()];
        all.extend_from_slice(args);
        self.market.cli_json(&all)
    }

    /// A balance on the home chain (`opengpu --chain home balance`).
    pub fn home_balance(&self, who: &str, denom: &str) -> u128 {
        denom_amount(&self.cli_json(&["--chain", "home", "balance", who]), denom)
    }

    /// The IBC file ibc-start.sh wrote.
    pub fn file(&self) -> Value {
        let text = std::fs::read_to_string(self.ibc_file()).expect("reading the IBC file");
        serde_json::from_str(&text).expect("the IBC file is JSON")
    }

    /// `opengpu ibc status -o json`.
    pub fn status(&self) -> Value {
        self.cli_json(&["ibc", "status"])
    }

    /// Like `Localnet`'s watchdog: once this process is gone, ibc-stop.sh (relayer and both
    /// chains) and the directory removed.
    fn spawn_watchdog(&self) -> Child {
        use std::os::unix::process::CommandExt;
        let script = r#"while kill -0 "$E2E_PARENT" 2>/dev/null; do sleep 1; done
"$E2E_ROOT/localnet/ibc-stop.sh" >/dev/null 2>&1
rm -rf "$E2E_DIR""#;
        Command::new("sh")
            .args(["-c", script])
            .envs(self.env())
            .env("E2E_PARENT", std::process::id().to_string())
            .env("E2E_ROOT", repo_root())
            .env("E2E_DIR", self.market.dir())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("starting the watchdog")
    }

    /// The tails a failed test needs: the relayer's log and the home chain's node log.
    fn print_logs(&self) {
        let tail = |path: PathBuf, n: usize| {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            eprintln!("--- {}: last lines", path.display());
            eprintln!("{}", lines[lines.len().saturating_sub(n)..].join("\n"));
        };
        tail(self.relayer_home().join("rly.log"), 30);
        tail(self.home_chain_dir().join("node0/wasmd.log"), 10);
    }
}

impl Drop for IbcNet {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.print_logs();
            if std::env::var_os(KEEP_ENV).is_some() {
                eprintln!("{KEEP_ENV}: ibc-stop.sh with this environment stops what is left");
            }
        }
        let out = self.script("ibc-stop.sh", &[], &[("LOCALNET_STOP_GRACE", "5")]);
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = Command::new("kill")
                .args(["-TERM", "--", &format!("-{}", watchdog.id())])
                .status();
            let _ = watchdog.wait();
        }
        // Then `market` drops: stop.sh (nothing left to stop) and the directory goes.
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

/// Waits until `read()` equals `want` (a payout or refund crossing over), for [`CROSSING`].
fn wait_balance(what: &str, want: u128, read: impl Fn() -> u128) {
    let deadline = Instant::now() + CROSSING;
    loop {
        let got = read();
        if got == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: expected {want}, still {got} after {CROSSING:?}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// A provider's claims in `denom` on the market (`opengpu claims WHO`).
fn claim(net: &IbcNet, who: &str, denom: &str) -> u128 {
    let json = net.cli_json(&["claims", who]);
    json["claims"]
        .as_array()
        .expect("claims is a list")
        .iter()
        .find(|c| c["denom"] == denom)
        .map_or(0, |c| amount(&c["amount"]))
}

/// As `client` on the market chain: a First Response vector addition paying [`BUDGET`] of
/// `denom`; returns its id.
fn publish_first_response(net: &IbcNet, task: &VectorAdd, denom: &str) -> String {
    let mut args: Vec<String> = ["--from", "client", "task", "publish"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(task.publish_args());
    args.extend([
        "--payment".to_string(),
        format!("{BUDGET}{denom}"),
        "--collateral".into(),
        "1000ustake".into(),
        "--deadline-blocks".into(),
        "200".into(),
        "--verify".into(),
        task.verify_reference(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let published = net.cli_json(&args);
    published["task_id"]
        .as_u64()
        .expect("a task id")
        .to_string()
}

/// The market's IBC transfers in flight, from `ibc status`.
fn pending(net: &IbcNet) -> Vec<Value> {
    net.status()["pending_transfers"]
        .as_array()
        .expect("pending_transfers is a list")
        .clone()
}

#[test]
fn ibc_payouts_refunds_and_remote_tasks_cross_between_two_chains() {
    let started = Instant::now();
    let net = IbcNet::start();
    let file = net.file();
    let voucher = file["home_token_on_market"].as_str().unwrap().to_string();
    let market_channel = file["market"]["channel"].as_str().unwrap().to_string();
    let market_addr = net.market.cli_json(&["chain", "status"])["deployment"]["contracts"]
        ["task_market"]["address"]
        .as_str()
        .expect("the market's address")
        .to_string();
    let client = net.market.address("client");
    let provider = net.market.address("provider-1");
    let (fee, collector) = protocol_fee(&net.market, BUDGET);

    // `ibc status`: both chains up, the relayer running, nothing in flight.
    let status = net.status();
    for chain in status["chains"].as_array().expect("chains") {
        assert!(chain["height"].as_u64().is_some(), "{chain}");
    }
    assert_eq!(status["relayer"]["running"], true, "{status}");
    assert_eq!(status["pending_transfers"], serde_json::json!([]));

    // ---- (a) uhome to the market chain, a task paid in its voucher, the payout home ----
    let client_home = net.home_balance("client", "uhome");
    let client_voucher = net.market.balance("client", &voucher);
    let moved = net.cli_json(&[
        "--chain",
        "home",
        "--from",
        "client",
        "ibc",
        "transfer",
        "--to",
        "client",
        "--amount",
        &format!("{MOVED}uhome"),
        "--max-wait",
        "90s",
    ]);
    assert_eq!(moved["outcome"], "delivered", "{moved}");
    assert_eq!(moved["received_denom"], voucher.as_str());
    let balances = &moved["balances"];
    assert_eq!(
        amount(&balances[0]["after"]),
        client_home - MOVED,
        "{moved}"
    );
    assert_eq!(
        amount(&balances[1]["after"]),
        client_voucher + MOVED,
        "{moved}"
    );
    assert_eq!(net.home_balance("client", "uhome"), client_home - MOVED);
    assert_eq!(
        net.market.balance("client", &voucher),
        client_voucher + MOVED
    );

    let route_flags = [
        "--price",
        &format!("{CHEAP_BID}{voucher}"),
        "--payout-channel",
        &market_channel,
        "--payout-receiver",
        &provider,
    ];
    let daemon = Provider::start(
        &net.market,
        "provider-1",
        ProviderOptions {
            init_flags: &route_flags,
            env: &[],
        },
    );
    let shown = net.cli_json(&["provider", "show", "provider-1"]);
    assert_eq!(
        shown["provider"]["payout_route"],
        serde_json::json!({"channel": market_channel, "receiver": provider}),
        "{shown}"
    );

    let provider_home = net.home_balance(&provider, "uhome");
    let client_voucher = net.market.balance("client", &voucher);
    let collector_voucher = net.market.balance(&collector, &voucher);
    let market_voucher = net.market.balance(&market_addr, &voucher);
    let vadd = VectorAdd::write(&net.market, "vadd-a");
    let id = publish_first_response(&net, &vadd, &voucher);
    let task = wait_final(&net.market, &id, Duration::from_secs(180));
    assert_eq!(task["task"]["status"], "settled", "{task}");
    let settlement = &task["task"]["settlement"];
    assert_eq!(settlement["winner"], provider.as_str());
    assert_eq!(amount(&settlement["paid"]), BUDGET - fee);
    assert_eq!(
        settlement["shares"][0]["route"],
        serde_json::json!({"channel": market_channel, "receiver": provider}),
        "{settlement}"
    );
    wait_balance(
        "(a) the payout on the home chain",
        provider_home + BUDGET - fee,
        || net.home_balance(&provider, "uhome"),
    );
    wait_for("(a) no transfer in flight", CROSSING, || {
        pending(&net).is_empty().then_some(())
    });
    assert_eq!(
        net.market.balance("client", &voucher),
        client_voucher - BUDGET
    );
    assert_eq!(
        net.market.balance(&provider, &voucher),
        0,
        "paid home, not here"
    );
    assert_eq!(
        net.market.balance(&collector, &voucher),
        collector_voucher + fee
    );
    assert_eq!(net.market.balance(&market_addr, &voucher), market_voucher);
    assert_eq!(claim(&net, &provider, &voucher), 0);
    eprintln!("(a) done after {:.1?}", started.elapsed());

    // ---- (b) the relayer down, a short timeout: the payout becomes a claim ----
    net.script_ok(
        "ibc-configure.sh",
        &[],
        &[("IBC_TRANSFER_TIMEOUT_SECONDS", SHORT_TIMEOUT_SECONDS)],
    );
    net.script_ok("ibc-stop.sh", &["--relayer-only"], &[]);
    assert_eq!(net.status()["relayer"]["running"], false);
    let provider_home = net.home_balance(&provider, "uhome");
    let client_voucher = net.market.balance("client", &voucher);
    let collector_voucher = net.market.balance(&collector, &voucher);
    let vadd = VectorAdd::write(&net.market, "vadd-b");
    let id = publish_first_response(&net, &vadd, &voucher);
    let task = wait_final(&net.market, &id, Duration::from_secs(180));
    assert_eq!(task["task"]["status"], "settled", "{task}");
    let in_flight = pending(&net);
    assert_eq!(in_flight.len(), 1, "{in_flight:?}");
    let transfer = &in_flight[0];
    assert_eq!(
        transfer["task_id"].as_u64().map(|t| t.to_string()),
        Some(id.clone())
    );
    assert_eq!(amount(&transfer["amount"]), BUDGET - fee);
    assert_eq!(transfer["receiver"], provider.as_str());
    assert_eq!(
        transfer["payee"],
        serde_json::json!({"provider": {"provider": provider}})
    );
    // The home chain's clock must pass the timeout before a relayer may prove it.
    let timeout = transfer["timeout_seconds"]
        .as_u64()
        .expect("timeout_seconds");
    wait_for("(b) the home chain past the timeout", CROSSING, || {
        let status = net.status();
        let home = status["chains"]
            .as_array()?
            .iter()
            .find(|c| c["side"] == "home")?
            .clone();
        let time = humantime::parse_rfc3339_weak(
            home["latest_block_time"].as_str()?.trim_end_matches('Z'),
        )
        .ok()?;
        let seconds = time.duration_since(UNIX_EPOCH).ok()?.as_secs();
        (seconds > timeout).then_some(())
    });
    net.script_ok("ibc-start.sh", &["--relayer-only"], &[]);
    wait_for("(b) the timeout relayed back", CROSSING, || {
        pending(&net).is_empty().then_some(())
    });
    assert_eq!(
        claim(&net, &provider, &voucher),
        BUDGET - fee,
        "the payout is a claim"
    );
    let withdrawn = net.cli_json(&["--from", "provider-1", "claim", "--denom", &voucher]);
    assert_eq!(amount(&withdrawn["amount"]), BUDGET - fee, "{withdrawn}");
    assert_eq!(claim(&net, &provider, &voucher), 0);
    assert_eq!(net.market.balance(&provider, &voucher), BUDGET - fee);
    assert_eq!(
        net.market.balance("client", &voucher),
        client_voucher - BUDGET
    );
    assert_eq!(
        net.market.balance(&collector, &voucher),
        collector_voucher + fee
    );
    assert_eq!(net.market.balance(&market_addr, &voucher), market_voucher);
    // Nothing of it reached the home chain, now that the packet can no longer be delivered.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(net.home_balance(&provider, "uhome"), provider_home);
    net.script_ok("ibc-configure.sh", &[], &[]);
    eprintln!("(b) done after {:.1?}", started.elapsed());

    // ---- (c) an auction published from the home chain: pay and refund go home ----
    let dear_flags = [
        "--model",
        "auction",
        "--price",
        &format!("{DEAR_BID}{voucher}"),
    ];
    let dear = Provider::start(
        &net.market,
        "provider-2",
        ProviderOptions {
            init_flags: &dear_flags,
            env: &[],
        },
    );
    let (fee_c, _) = protocol_fee(&net.market, DEAR_BID);
    let client_home = net.home_balance("client", "uhome");
    let provider_home = net.home_balance(&provider, "uhome");
    let market_voucher = net.market.balance(&market_addr, &voucher);
    let vadd = VectorAdd::write(&net.market, "vadd-c");
    let mut args: Vec<String> = ["--from", "client", "task", "publish"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(vadd.publish_args());
    args.extend([
        "--model".to_string(),
        "auction".into(),
        "--max-price".into(),
        format!("{MAX_PRICE}uhome"),
        "--collateral".into(),
        "1000ustake".into(),
        "--bid-blocks".into(),
        "30".into(),
        "--bid-reveal-blocks".into(),
        "10".into(),
        "--execute-blocks".into(),
        "100".into(),
        "--verify".into(),
        vadd.verify_reference(),
        "--from-chain".into(),
        "home".into(),
        "--max-wait".into(),
        "90s".into(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let published = net.cli_json(&args);
    let id = published["task_id"]
        .as_u64()
        .expect("a task id")
        .to_string();
    assert_eq!(
        published["remote"]["sender"],
        client.as_str(),
        "{published}"
    );
    assert_eq!(amount(&published["remote"]["sent"]["amount"]), MAX_PRICE);
    let shown = net.cli_json(&["task", "show", &id]);
    assert_eq!(shown["task"]["client"], market_addr.as_str(), "{shown}");
    assert_eq!(
        shown["task"]["remote_client"]["sender"],
        client.as_str(),
        "{shown}"
    );
    assert_eq!(shown["task"]["denom"], voucher.as_str());
    assert_eq!(amount(&shown["task"]["budget"]), MAX_PRICE);
    assert_eq!(net.home_balance("client", "uhome"), client_home - MAX_PRICE);
    let task = wait_final(&net.market, &id, Duration::from_secs(240));
    assert_eq!(task["task"]["status"], "settled", "{task}");
    let settlement = &task["task"]["settlement"];
    assert_eq!(
        settlement["winner"],
        provider.as_str(),
        "the cheaper bid wins"
    );
    assert_eq!(
        amount(&settlement["price"]),
        DEAR_BID,
        "at the second price"
    );
    assert_eq!(amount(&settlement["paid"]), DEAR_BID - fee_c);
    let refund = amount(&settlement["refund"]);
    assert_eq!(refund, MAX_PRICE - DEAR_BID);
    wait_balance(
        "(c) the unspent budget back on the home chain",
        client_home - MAX_PRICE + refund,
        || net.home_balance("client", "uhome"),
    );
    wait_balance(
        "(c) the winner's pay on the home chain",
        provider_home + DEAR_BID - fee_c,
        || net.home_balance(&provider, "uhome"),
    );
    wait_for("(c) no transfer in flight", CROSSING, || {
        pending(&net).is_empty().then_some(())
    });
    assert_eq!(net.market.balance(&market_addr, &voucher), market_voucher);
    assert_eq!(net.status()["remote_claims"], serde_json::json!([]));
    drop(dear);
    eprintln!("(c) done after {:.1?}", started.elapsed());

    // ---- (d) a task the market refuses: the coins go back home ----
    let client_home = net.home_balance("client", "uhome");
    let market_voucher = net.market.balance(&market_addr, &voucher);
    let tasks_before = net.cli_json(&["task", "list"]);
    let draft = TaskDraft {
        kernel: Kernel {
            source: "__kernel void k(__global uint *o) { o[get_global_id(0)] = 1; }".into(),
            entry_point: "k".into(),
            global_work_size: vec![4],
            local_work_size: None,
            args: vec![KernelArg::Output { size: 16 }],
        },
        requirements: Requirements::default(),
        collateral: 1000u128.into(),
        deadline_blocks: 0, // outside every market's deadline range
        verification: VerificationPolicy::Unverified {},
        model: CompetitionModel::FirstResponse,
    };
    let memo = serde_json::to_string(&TransferMemo::publish(&market_addr, draft)).unwrap();
    let out = net.cli(&[
        "-o",
        "json",
        "--chain",
        "home",
        "--from",
        "client",
        "ibc",
        "transfer",
        "--to",
        &market_addr,
        "--amount",
        &format!("{REFUSED}uhome"),
        "--memo",
        &memo,
        "--max-wait",
        "90s",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(9), "exit 9: came back; {stderr}");
    let refused: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(refused["outcome"], "refused", "{refused}");
    assert!(
        stderr.contains("went back to"),
        "the message says the coins went back: {stderr}"
    );
    let reason = refused["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("deadline"),
        "the market's own reason: {refused}"
    );
    assert_eq!(
        net.home_balance("client", "uhome"),
        client_home,
        "every uhome back"
    );
    assert_eq!(net.market.balance(&market_addr, &voucher), market_voucher);
    assert_eq!(
        net.cli_json(&["task", "list"]),
        tasks_before,
        "no task published"
    );

    drop(daemon);
    eprintln!(
        "ibc e2e: four scenarios on two chains in {:.1?}",
        started.elapsed()
    );
}
