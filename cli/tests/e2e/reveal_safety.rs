//! Reveal safety on a real chain: the provider daemon's node becomes unreachable right after
//! the daemon broadcasts its commit; the commit lands while the daemon cannot see it; once the
//! node answers again the daemon finds its commitment, reveals it and is paid.
//!
//! The daemon talks to its node through a [`Proxy`] in this test, which cuts the connection
//! (every open one, and any new one, until restored) at the commit's broadcast. Cutting the
//! link rather than stopping the node (SIGSTOP, or a stop and restart) keeps the chain making
//! blocks, so the commit lands while the daemon is blind, as when a provider's own network or
//! node fails; and the proxy sees the broadcast itself in the daemon's traffic, so the cut
//! comes exactly after it, with no race against the blocks and no fail point in the daemon.
//! Two cuts are played, one task each: after the node answered the broadcast (the daemon then
//! waits for inclusion in vain: its `tx_timeout` runs out), and before (the broadcast itself
//! ends in a transport error although the node took the transaction).

use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::cli::amount;
use crate::daemon::{wait_for, Provider, ProviderOptions};
use crate::localnet::Localnet;
use crate::provider_daemon::{check_named_example, publish_named_example, wait_final, BUDGET};
use crate::steps::{commitment_state, protocol_fee, show};

/// The daemon's wait for a transaction's block: short, so that it runs out while the node is
/// cut off, well within the market's reveal window.
const TX_TIMEOUT: &str = "2s";
const EXAMPLE: &str = "hash-chain";
const SIZE: &str = "4096";
/// What the daemon sends to broadcast a transaction (a JSON-RPC method).
const BROADCAST: &[u8] = b"broadcast_tx_sync";

#[test]
fn a_commit_whose_node_vanished_right_after_the_broadcast_is_revealed_once_it_is_back() {
    let net = Localnet::start(1);
    let mut provider = Provider::start(&net, "provider-1", ProviderOptions::default());
    // Again, through the proxy, with a short wait for inclusion.
    let status = provider.stop();
    assert!(status.success(), "graceful stop exits 0, got {status}");
    let proxy = Proxy::start(&net.rpc(0));
    let config = std::fs::read_to_string(&provider.config).expect("reading the config");
    let edited = config.replacen(
        "tx_timeout = \"30s\"",
        &format!("tx_timeout = \"{TX_TIMEOUT}\"\nrpc = \"{}\"", proxy.url()),
        1,
    );
    assert_ne!(edited, config, "init writes tx_timeout in [chain]");
    std::fs::write(&provider.config, edited).expect("writing the config");
    provider.spawn(&[]);

    let me = net.address(&provider.name);
    let plans = net.path("provider-provider-1/state/reveal-plans");
    let (fee, _) = protocol_fee(&net, BUDGET);
    let cuts = [
        (1, Cut::AfterAnswer, "commit not confirmed"),
        (2, Cut::BeforeAnswer, "commit broadcast unanswered"),
    ];
    for (seed, cut, unknown) in cuts {
        eprintln!("--- cut {cut:?}");
        let log_from = provider.log_text().len();
        let fresh_log = || provider.log_text()[log_from..].to_string();
        let before = net.balance(&me, "uatom");
        proxy.arm(cut);
        let published = publish_named_example(&net, EXAMPLE, SIZE, seed, "first-response", &[]);
        let id = published["task_id"].as_u64().expect("task id").to_string();
        wait_for(
            "the proxy to cut the daemon off at its commit",
            Duration::from_secs(120),
            || proxy.is_cut().then_some(()),
        );
        // The commit lands while the daemon cannot see the chain.
        wait_for("the commitment on chain", Duration::from_secs(60), || {
            (show(&net, &id)["task"]["commit_count"] == 1).then_some(())
        });
        assert_eq!(commitment_state(&show(&net, &id), &me), "committed");
        // Cut off until the daemon has found the commit's fate unknown (after its whole wait
        // for inclusion, in the first cut) and has failed to read the chain since.
        wait_for(
            "the daemon to find its commit's fate unknown",
            Duration::from_secs(60),
            || fresh_log().contains(unknown).then_some(()),
        );
        wait_for(
            "the daemon to fail reading the chain",
            Duration::from_secs(60),
            || {
                let log = fresh_log();
                let after = &log[log.find(unknown)?..];
                after.contains("cannot read the chain").then_some(())
            },
        );
        assert_eq!(plan_files(&plans), 1, "the reveal plan is kept meanwhile");
        proxy.restore();

        let task = wait_final(&net, &id, Duration::from_secs(120));
        assert_eq!(task["task"]["status"], "settled", "{task}");
        let settlement = &task["task"]["settlement"];
        assert_eq!(settlement["winner"], me.as_str(), "{task}");
        assert_eq!(amount(&settlement["paid"]), BUDGET - fee);
        assert_eq!(
            net.balance(&me, "uatom") - before,
            BUDGET - fee,
            "the daemon was paid"
        );
        check_named_example(&net, &id, EXAMPLE, SIZE, seed);
        wait_for("the reveal plan removed", Duration::from_secs(30), || {
            (plan_files(&plans) == 0).then_some(())
        });
    }
    wait_for("two wins counted", Duration::from_secs(30), || {
        (provider.metric("opengpu_provider_tasks_won_total") == 2.0).then_some(())
    });
    assert_eq!(net.stake("provider-1").1, 0, "no collateral left locked");
}

/// Reveal plans in the daemon's plan directory.
fn plan_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
                .count()
        })
        .unwrap_or(0)
}

/// Where the proxy cuts the daemon off from its node, once armed: at the daemon's next
/// transaction broadcast.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cut {
    /// Once the node's answer to the broadcast has been passed on.
    AfterAnswer,
    /// When the node answers the broadcast: the daemon never gets the answer.
    BeforeAnswer,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Pass,
    Armed(Cut),
    /// The broadcast went by; the cut follows as armed.
    Cutting(Cut),
    Cut,
}

/// A TCP proxy on a free loopback port in front of a node's RPC (HTTP and websocket alike),
/// which can cut every connection and refuse new ones (accepted and closed at once) until
/// restored. Dropping it stops it.
struct Proxy {
    port: u16,
    state: Arc<ProxyState>,
    accept: Option<JoinHandle<()>>,
}

struct ProxyState {
    node: SocketAddr,
    mode: Mutex<Mode>,
    /// Both ends of every open connection, to shut down at a cut.
    open: Mutex<Vec<(TcpStream, TcpStream)>>,
    stopping: AtomicBool,
}

impl Proxy {
    /// A proxy to the node at `rpc` (`http://127.0.0.1:PORT`).
    fn start(rpc: &str) -> Proxy {
        let node = rpc
            .strip_prefix("http://")
            .expect("an http URL")
            .parse()
            .expect("a socket address");
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the proxy");
        let port = listener.local_addr().expect("the proxy's address").port();
        let state = Arc::new(ProxyState {
            node,
            mode: Mutex::new(Mode::Pass),
            open: Mutex::new(Vec::new()),
            stopping: AtomicBool::new(false),
        });
        let accepting = state.clone();
        let accept = std::thread::spawn(move || {
            for client in listener.incoming() {
                if accepting.stopping.load(Ordering::SeqCst) {
                    return;
                }
                if let Ok(client) = client {
                    accepting.serve(client);
                }
            }
        });
        eprintln!("proxy 127.0.0.1:{port} -> {node}");
        Proxy {
            port,
            state,
            accept: Some(accept),
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Cuts at the next broadcast that goes through, as `cut` says.
    fn arm(&self, cut: Cut) {
        *self.state.mode.lock().unwrap() = Mode::Armed(cut);
    }

    fn is_cut(&self) -> bool {
        *self.state.mode.lock().unwrap() == Mode::Cut
    }

    /// Lets connections through again.
    fn restore(&self) {
        *self.state.mode.lock().unwrap() = Mode::Pass;
        eprintln!("proxy: restored");
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.state.stopping.store(true, Ordering::SeqCst);
        self.state.shut_all();
        let _ = TcpStream::connect(("127.0.0.1", self.port)); // wakes the accept loop
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

impl ProxyState {
    /// Relays `client` to the node, both ways, each in a thread of its own.
    fn serve(self: &Arc<Self>, client: TcpStream) {
        if *self.mode.lock().unwrap() == Mode::Cut {
            return; // dropped: closed at once
        }
        let Ok(node) = TcpStream::connect(self.node) else {
            return;
        };
        let (Ok(client_end), Ok(node_end)) = (client.try_clone(), node.try_clone()) else {
            return;
        };
        self.open.lock().unwrap().push((client_end, node_end));
        // Set by the upstream pump when this connection carries the armed broadcast.
        let carries: Arc<Mutex<Option<Cut>>> = Arc::default();
        let (up, down) = (self.clone(), self.clone());
        let (up_carries, down_carries) = (carries.clone(), carries);
        let (Ok(client_r), Ok(node_w)) = (client.try_clone(), node.try_clone()) else {
            return;
        };
        std::thread::spawn(move || up.upstream(client_r, node_w, &up_carries));
        std::thread::spawn(move || down.downstream(node, client, &down_carries));
    }

    /// Daemon to node, watching for the armed broadcast.
    fn upstream(&self, mut from: TcpStream, mut to: TcpStream, carries: &Mutex<Option<Cut>>) {
        use std::io::{Read, Write};
        let mut buf = vec![0u8; 64 * 1024];
        let mut tail: Vec<u8> = Vec::new();
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            // The method name may straddle two reads: look at the end of the last one too.
            let mut window = std::mem::take(&mut tail);
            window.extend_from_slice(&buf[..n]);
            if contains(&window, BROADCAST) {
                let mut mode = self.mode.lock().unwrap();
                if let Mode::Armed(cut) = *mode {
                    *mode = Mode::Cutting(cut);
                    *carries.lock().unwrap() = Some(cut);
                    eprintln!("proxy: a broadcast goes by; cutting {cut:?}");
                }
            }
            tail = window[window.len().saturating_sub(BROADCAST.len())..].to_vec();
            if to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    }

    /// Node to daemon; the armed cut happens here, around the broadcast's answer.
    fn downstream(&self, mut from: TcpStream, mut to: TcpStream, carries: &Mutex<Option<Cut>>) {
        use std::io::{Read, Write};
        let mut buf = vec![0u8; 64 * 1024];
        let mut answer: Vec<u8> = Vec::new();
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let cut = *carries.lock().unwrap();
            match cut {
                Some(Cut::BeforeAnswer) => {
                    self.cut();
                    return;
                }
                Some(Cut::AfterAnswer) => {
                    answer.extend_from_slice(&buf[..n]);
                    let sent = to.write_all(&buf[..n]).and_then(|()| to.flush());
                    if sent.is_err() || http_response_complete(&answer) {
                        self.cut();
                        return;
                    }
                }
                None => {
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    }

    fn cut(&self) {
        *self.mode.lock().unwrap() = Mode::Cut;
        self.shut_all();
        eprintln!("proxy: cut");
    }

    fn shut_all(&self) {
        for (client, node) in self.open.lock().unwrap().drain(..) {
            let _ = client.shutdown(Shutdown::Both);
            let _ = node.shutdown(Shutdown::Both);
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Whether `bytes` hold a whole HTTP response: its head, and a body as long as its
/// Content-Length says (or a chunked body's last chunk).
fn http_response_complete(bytes: &[u8]) -> bool {
    let Some(head_end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&bytes[..head_end]).to_ascii_lowercase();
    let body = &bytes[head_end + 4..];
    let length = head.lines().find_map(|line| {
        line.strip_prefix("content-length:")
            .and_then(|v| v.trim().parse::<usize>().ok())
    });
    match length {
        Some(length) => body.len() >= length,
        None => body.ends_with(b"0\r\n\r\n"),
    }
}
