//! Running the real `opengpu-provider` daemon against a [`Localnet`]: configured with
//! `opengpu-provider init`, registered with `register`, run with `run`, its metrics scraped
//! over HTTP. Dropping a [`Provider`] kills the daemon; a failed test prints its log's tail.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::cli::OPENGPU;
use crate::localnet::Localnet;

/// How long a daemon may take to connect, subscribe and catch up.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// `opengpu-provider`, built next to `opengpu` (`just e2e` builds it with fail points).
pub fn provider_binary() -> PathBuf {
    let path = Path::new(OPENGPU).with_file_name("opengpu-provider");
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p opengpu-provider --features failpoints` (just e2e does)",
        path.display()
    );
    path
}

pub struct Provider {
    pub name: String,
    pub config: PathBuf,
    pub log: PathBuf,
    child: Option<Child>,
    metrics_url: Option<String>,
}

/// Options for one daemon.
#[derive(Default)]
pub struct ProviderOptions<'a> {
    /// Extra `opengpu-provider init` flags (`--price 300uatom`, `--time-limit 3s`, ...).
    pub init_flags: &'a [&'a str],
    /// Extra environment (`FAILPOINTS=...`).
    pub env: &'a [(&'a str, &'a str)],
}

impl Provider {
    /// Writes the config for account `name`, registers it (bonding the minimum) and starts the
    /// daemon; returns once it has caught up with the chain.
    pub fn start(net: &Localnet, name: &str, options: ProviderOptions) -> Provider {
        let dir = net.path(&format!("provider-{name}"));
        std::fs::create_dir_all(&dir).expect("creating the provider's directory");
        let config = dir.join("provider.toml");
        let s = |p: PathBuf| p.display().to_string();
        let mut init: Vec<String> = vec![
            "init".into(),
            s(config.clone()),
            "--force".into(),
            "--key".into(),
            name.into(),
            "--keyring-backend".into(),
            "test".into(),
            "--keyring-home".into(),
            s(net.opengpu_home()),
            "--deployment".into(),
            s(net.deployment()),
            "--state-dir".into(),
            s(dir.join("state")),
            "--metrics-listen".into(),
            "127.0.0.1:0".into(),
            "--moniker".into(),
            name.into(),
        ];
        init.extend(options.init_flags.iter().map(|f| f.to_string()));
        run_ok(&init);
        run_ok(&["--config".into(), s(config.clone()), "register".into()]);
        let mut provider = Provider {
            name: name.into(),
            config,
            log: dir.join("provider.log"),
            child: None,
            metrics_url: None,
        };
        provider.spawn(options.env);
        provider
    }

    /// Starts `run` again with the same config (after [`Provider::kill`]).
    pub fn spawn(&mut self, env: &[(&str, &str)]) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("opening the provider log");
        let child = Command::new(provider_binary())
            .arg("--config")
            .arg(&self.config)
            .arg("run")
            .env("RUST_LOG", "info,opengpu_provider=debug")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("starting opengpu-provider run");
        self.child = Some(child);
        let ready_from = std::fs::read_to_string(&self.log).unwrap_or_default().len();
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let text = std::fs::read_to_string(&self.log).unwrap_or_default();
            let fresh = &text[ready_from.min(text.len())..];
            if let Some(url) = metrics_url(fresh) {
                self.metrics_url = Some(url);
            }
            if let (true, Some(url)) = (fresh.contains("caught up"), &self.metrics_url) {
                eprintln!("{} running ({url})", self.name);
                return;
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().expect("try_wait") {
                panic!(
                    "opengpu-provider for {} exited with {status}:\n{text}",
                    self.name
                );
            }
            assert!(
                Instant::now() < deadline,
                "{} not ready after {READY_TIMEOUT:?}:\n{text}",
                self.name
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// SIGKILL: no chance to clean up, as a crash or power loss.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM and wait: the graceful stop.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("the daemon is running");
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        child.wait().expect("waiting for the daemon")
    }

    /// The Prometheus text the daemon serves.
    pub fn metrics(&self) -> String {
        let url = self.metrics_url.as_ref().expect("metrics address known");
        http_get_text(url)
    }

    /// One sample's value, e.g. `opengpu_provider_tasks_failed_total{reason="timeout"}`; 0 when
    /// the daemon never recorded it.
    pub fn metric(&self, sample: &str) -> f64 {
        self.metrics()
            .lines()
            .find_map(|line| {
                let (name, value) = line.rsplit_once(' ')?;
                (name == sample).then(|| value.parse().expect("a numeric sample"))
            })
            .unwrap_or(0.0)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            let text = self.log_text();
            let lines: Vec<&str> = text.lines().collect();
            eprintln!("--- {} log, last lines ({})", self.name, self.log.display());
            eprintln!("{}", lines[lines.len().saturating_sub(40)..].join("\n"));
        }
    }
}

fn run_ok(args: &[String]) {
    eprintln!("$ opengpu-provider {}", args.join(" "));
    let out = Command::new(provider_binary())
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .expect("running opengpu-provider");
    assert!(
        out.status.success(),
        "`opengpu-provider {}` failed:\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprint!("{}", String::from_utf8_lossy(&out.stdout));
}

/// `http://127.0.0.1:PORT/metrics` from the daemon's "metrics at ..." log line.
fn metrics_url(log: &str) -> Option<String> {
    let start = log.find("metrics at http://")? + "metrics at ".len();
    let rest = &log[start..];
    let end = rest.find("/metrics")? + "/metrics".len();
    Some(rest[..end].to_string())
}

fn http_get_text(url: &str) -> String {
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (host, path) = rest.split_at(rest.find('/').expect("a path"));
    let mut stream =
        TcpStream::connect(host).unwrap_or_else(|e| panic!("connecting to {host}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").expect("sending GET");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("reading metrics");
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    assert!(head.contains(" 200 "), "GET {url}: {head}");
    body.to_string()
}

/// Polls `check` every half second until it returns `Some`, for at most `limit`.
pub fn wait_for<T>(what: &str, limit: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}
