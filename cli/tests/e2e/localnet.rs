//! [`Localnet`]: a private wasmd chain for one test, started with `localnet/start.sh` and
//! `localnet/deploy.sh` in a temporary directory, on loopback ports no one else uses, and
//! stopped when the value is dropped: at the end of the test, pass or fail (a panic unwinds
//! through the drop), and by a watchdog process if the test binary itself is killed.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, Once};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use tempfile::TempDir;

/// Ports per node in the scheme of `localnet/lib.sh`: node `i` uses `base + 10 * i + offset`
/// (offsets 0 to 6 today); the whole block of ten is checked free.
const PORTS_PER_NODE: u16 = 10;
/// Bases are drawn from this range: below Linux's ephemeral range (32768 and up), where the
/// kernel picks the local ports of outgoing connections (the nodes' P2P dials, every CLI call),
/// so a port checked free stays free until wasmd binds it; and below 26000, so that the
/// default `just localnet` (26657 and up) can run next to the tests.
const BASE_RANGE: std::ops::Range<u16> = 20_000..26_000;
/// Attempts at starting a chain when another process took one of its ports meanwhile.
const START_ATTEMPTS: u32 = 3;
/// Keep the chain's directory of a failed test (its path is printed) when this is set.
pub const KEEP_ENV: &str = "OPENGPU_E2E_KEEP";

/// Chains started by this process: numbers their chain ids.
static CHAINS: AtomicU32 = AtomicU32::new(0);
/// Port ranges handed out by this process (tests may run in parallel threads).
static RESERVED: Mutex<Vec<(u16, u16)>> = Mutex::new(Vec::new());

/// The repository root (the parent of `client/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("client/ has a parent")
        .to_path_buf()
}

/// What every chain needs, checked once per process (so that parallel tests never race to
/// build wasmd): the pinned wasmd (an instant check once built) and the contract artifacts.
fn prerequisites() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let root = repo_root();
        let out = Command::new(root.join("localnet/build-wasmd.sh"))
            .stdin(Stdio::null())
            .output()
            .expect("running localnet/build-wasmd.sh");
        assert!(
            out.status.success(),
            "localnet/build-wasmd.sh failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for name in ["registry", "task_market", "staking_vault", "verification"] {
            let wasm = root.join(format!("artifacts/opengpu_{name}.wasm"));
            assert!(
                wasm.is_file(),
                "{} is missing: run `just wasm` first (`just e2e` does)",
                wasm.display()
            );
        }
    });
}

/// A running chain of `nodes` validators with the four contracts deployed, and an `opengpu`
/// home whose test keyring holds the funded accounts `admin`, `client`, `provider-1` to
/// `provider-4` and `relayer`.
pub struct Localnet {
    pub chain_id: String,
    pub nodes: u16,
    base_port: u16,
    /// Everything of this chain: `chain/` (LOCALNET_HOME), `opengpu/` (OPENGPU_HOME),
    /// `addresses.json` (the deployment) and `work/` (the tests' files).
    dir: Option<TempDir>,
    /// Stops the chain if this process dies without running `Drop`.
    watchdog: Option<Child>,
}

impl Localnet {
    /// Starts `nodes` validators (start.sh) and deploys the contracts (deploy.sh); panics with
    /// the scripts' output when either fails (the drop then stops whatever started).
    pub fn start(nodes: u16) -> Localnet {
        prerequisites();
        let n = CHAINS.fetch_add(1, Ordering::SeqCst);
        let dir = tempfile::Builder::new()
            .prefix("opengpu-e2e-")
            .tempdir()
            .expect("creating a temporary directory");
        let mut net = Localnet {
            chain_id: format!("opengpu-e2e-{}-{n}", std::process::id()),
            nodes,
            base_port: 0,
            dir: Some(dir),
            watchdog: None,
        };
        std::fs::create_dir_all(net.work_dir()).expect("creating work/");
        net.watchdog = Some(net.spawn_watchdog());

        let started = Instant::now();
        for attempt in 1..=START_ATTEMPTS {
            net.base_port = free_base_port(nodes);
            let out = net.script("start.sh", &[&nodes.to_string()]);
            let log = String::from_utf8_lossy(&out.stderr).into_owned();
            if out.status.success() {
                eprintln!("{log}");
                break;
            }
            let port_taken = log.contains("is taken by another process")
                || log.contains("address already in use");
            if !port_taken || attempt == START_ATTEMPTS {
                panic!("localnet/start.sh {nodes} failed (attempt {attempt}):\n{log}");
            }
            eprintln!(
                "a port of base {} was taken meanwhile; retrying elsewhere",
                net.base_port
            );
            net.stop();
            let _ = std::fs::remove_dir_all(net.chain_home()); // absent when init never ran
        }
        let out = net.script("deploy.sh", &[]);
        let log = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "localnet/deploy.sh failed:\n{log}");
        eprintln!("{log}");
        eprintln!(
            "{} ({nodes} node(s), ports {}..{}) started and deployed in {:.1?}",
            net.chain_id,
            net.base_port,
            net.base_port + nodes * PORTS_PER_NODE,
            started.elapsed()
        );
        net
    }

    /// A chain not started yet, with its directory, chain id and a free base port: for a
    /// harness that starts it with other scripts (`ibc::IbcNet`, with `ibc-start.sh`). No
    /// watchdog: that harness brings its own. Dropping it stops the chain as [`Localnet::start`]'s.
    pub fn prepare(nodes: u16, chain_id: String) -> Localnet {
        prerequisites();
        let dir = tempfile::Builder::new()
            .prefix("opengpu-e2e-")
            .tempdir()
            .expect("creating a temporary directory");
        let net = Localnet {
            chain_id,
            nodes,
            base_port: free_base_port(nodes),
            dir: Some(dir),
            watchdog: None,
        };
        std::fs::create_dir_all(net.work_dir()).expect("creating work/");
        net
    }

    /// The base of this chain's ports (node 0's RPC).
    pub fn base_port(&self) -> u16 {
        self.base_port
    }

    /// The directory of everything of this chain.
    pub fn dir(&self) -> &Path {
        self.dir.as_ref().expect("present until dropped").path()
    }

    /// LOCALNET_HOME: the nodes' homes `node0/`, `node1/`, ...
    pub fn chain_home(&self) -> PathBuf {
        self.dir().join("chain")
    }

    /// OPENGPU_HOME: the CLI's keyring and commit/reveal data.
    pub fn opengpu_home(&self) -> PathBuf {
        self.dir().join("opengpu")
    }

    /// The deployment file deploy.sh wrote for this chain.
    pub fn deployment(&self) -> PathBuf {
        self.dir().join("addresses.json")
    }

    /// Where tests put their files; the CLI runs in this directory.
    pub fn work_dir(&self) -> PathBuf {
        self.dir().join("work")
    }

    /// A file in the work directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.work_dir().join(name)
    }

    /// CometBFT RPC endpoint of node `i`.
    pub fn rpc(&self, i: u16) -> String {
        format!("http://127.0.0.1:{}", self.port(i, 0))
    }

    fn port(&self, node: u16, offset: u16) -> u16 {
        self.base_port + PORTS_PER_NODE * node + offset
    }

    fn node_home(&self, i: u16) -> PathBuf {
        self.chain_home().join(format!("node{i}"))
    }

    /// The environment the localnet scripts read, pointing at this chain only.
    fn script_env(&self) -> Vec<(&'static str, String)> {
        let s = |p: PathBuf| p.to_string_lossy().into_owned();
        vec![
            ("LOCALNET_HOME", s(self.chain_home())),
            ("LOCALNET_CHAIN_ID", self.chain_id.clone()),
            ("LOCALNET_BASE_PORT", self.base_port.to_string()),
            ("LOCALNET_ADDRESSES", s(self.deployment())),
            ("OPENGPU_HOME", s(self.opengpu_home())),
        ]
    }

    /// Runs `localnet/NAME ARGS` with this chain's environment.
    pub fn script(&self, name: &str, args: &[&str]) -> std::process::Output {
        Command::new(repo_root().join("localnet").join(name))
            .args(args)
            .envs(self.script_env())
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("running localnet/{name}: {e}"))
    }

    /// Pids recorded by start.sh that are still a `wasmd start --home <that node>` (the same
    /// guard against pid reuse as lib.sh's `is_our_node`).
    fn running_nodes(&self) -> Vec<u32> {
        (0..self.nodes)
            .filter_map(|i| {
                let home = self.node_home(i);
                let pid: u32 = std::fs::read_to_string(home.join("wasmd.pid"))
                    .ok()?
                    .trim()
                    .parse()
                    .ok()?;
                let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
                let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
                cmdline
                    .contains(&format!("wasmd start --home {} ", home.display()))
                    .then_some(pid)
            })
            .collect()
    }

    /// stop.sh for this chain's home, then SIGKILL for any node it left running.
    fn stop(&self) {
        let pids = self.running_nodes();
        let out = Command::new(repo_root().join("localnet/stop.sh"))
            .envs(self.script_env())
            .env("LOCALNET_STOP_GRACE", "5")
            .stdin(Stdio::null())
            .output();
        if let Ok(out) = &out {
            eprint!("{}", String::from_utf8_lossy(&out.stderr));
        }
        let left = self.running_nodes();
        for pid in pids.iter().filter(|p| left.contains(p)) {
            eprintln!("wasmd pid {pid} survived stop.sh: SIGKILL");
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    }

    /// A shell in its own process group (so a Ctrl-C to the test run does not reach it) that
    /// waits for this process to end, then stops the chain and removes its directory. `Drop`
    /// normally does both and kills the watchdog first; this covers a test binary killed
    /// outright (a CI timeout, SIGKILL), which would otherwise leave wasmd running.
    fn spawn_watchdog(&self) -> Child {
        use std::os::unix::process::CommandExt;
        let script = r#"while kill -0 "$E2E_PARENT" 2>/dev/null; do sleep 1; done
"$E2E_ROOT/localnet/stop.sh" >/dev/null 2>&1
rm -rf "$E2E_DIR""#;
        Command::new("sh")
            .args(["-c", script])
            .envs(self.script_env())
            .env("E2E_PARENT", std::process::id().to_string())
            .env("E2E_ROOT", repo_root())
            .env("E2E_DIR", self.dir())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("starting the watchdog")
    }

    /// Stops node `i` alone (SIGTERM, then SIGKILL after 10 s) and waits until it is gone.
    pub fn stop_node(&self, i: u16) {
        let home = self.node_home(i);
        let pid = std::fs::read_to_string(home.join("wasmd.pid")).expect("node pid file");
        let pid = pid.trim().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + std::time::Duration::from_secs(10);
        while Path::new(&format!("/proc/{pid}")).exists() {
            if Instant::now() > deadline {
                let _ = Command::new("kill").args(["-KILL", &pid]).status();
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        eprintln!("node{i} (pid {pid}) stopped");
    }

    /// start.sh again: starts the nodes that are not running and waits for their blocks.
    pub fn restart_stopped_nodes(&self) {
        let out = self.script("start.sh", &[&self.nodes.to_string()]);
        let log = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "localnet/start.sh (resume) failed:\n{log}"
        );
        eprintln!("{log}");
    }

    /// From every node's log, the last warnings and errors and the last few lines: what a
    /// failed test most likely needs (the rest is one "committed block" line after another).
    fn print_logs(&self) {
        for i in 0..self.nodes {
            let log = self.node_home(i).join("wasmd.log");
            let Ok(text) = std::fs::read_to_string(&log) else {
                continue;
            };
            let lines: Vec<&str> = text.lines().collect();
            let notable: Vec<&str> = lines
                .iter()
                .filter(|l| l.contains(" ERR ") || l.contains(" WRN "))
                .copied()
                .collect();
            eprintln!("--- {}: last warnings and errors", log.display());
            eprintln!("{}", notable[notable.len().saturating_sub(15)..].join("\n"));
            eprintln!("--- {}: last lines", log.display());
            eprintln!("{}", lines[lines.len().saturating_sub(5)..].join("\n"));
        }
        eprintln!(
            "(set {KEEP_ENV}=1 to keep {} after a failure)",
            self.dir().display()
        );
    }
}

impl Drop for Localnet {
    fn drop(&mut self) {
        let failed = std::thread::panicking();
        if failed {
            self.print_logs();
        }
        self.stop();
        if let Some(mut watchdog) = self.watchdog.take() {
            // Its process group: the shell and the `sleep` it may be in.
            let _ = Command::new("kill")
                .args(["-TERM", "--", &format!("-{}", watchdog.id())])
                .status();
            let _ = watchdog.wait();
        }
        if let Some(dir) = self.dir.take() {
            if failed && std::env::var_os(KEEP_ENV).is_some() {
                eprintln!("{KEEP_ENV}: keeping {}", dir.keep().display());
            }
        }
    }
}

/// A base port whose whole range (`nodes` blocks of ten) is free on 127.0.0.1 and not handed
/// to another chain of this process. Candidates are random multiples of ten in [`BASE_RANGE`];
/// a port is free when binding 127.0.0.1 to it succeeds.
pub fn free_base_port(nodes: u16) -> u16 {
    let span = nodes * PORTS_PER_NODE;
    let mut reserved = RESERVED.lock().unwrap_or_else(|e| e.into_inner());
    let slots = u64::from((BASE_RANGE.end - BASE_RANGE.start - span) / PORTS_PER_NODE);
    for _ in 0..1000 {
        let base = BASE_RANGE.start + (random() % slots) as u16 * PORTS_PER_NODE;
        let end = base + span;
        let overlaps = reserved.iter().any(|&(s, e)| base < e && s < end);
        if !overlaps && (base..end).all(|p| TcpListener::bind(("127.0.0.1", p)).is_ok()) {
            reserved.push((base, end));
            return base;
        }
    }
    panic!("no free range of {span} loopback ports in {BASE_RANGE:?}");
}

fn random() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.write_u32(std::process::id());
    hasher.finish()
}
