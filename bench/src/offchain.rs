//! Off-chain inputs end to end, through the `opengpu` command line as a client runs it:
//! `opengpu serve` serves the files, `task publish --offchain` puts their hash on-chain, the
//! running provider daemon fetches, checks, runs and is paid. The table shows publish gas
//! against input size, off-chain and (for contrast) on-chain, and publish -> settled time.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use opengpu_examples::{
    column_sums_matrix, COLUMN_SUMS_COLUMNS, COLUMN_SUMS_ENTRY, COLUMN_SUMS_SOURCE,
};
use serde_json::Value;

use crate::ChainArgs;

const COLUMNS: usize = COLUMN_SUMS_COLUMNS;
const ROW_BYTES: usize = COLUMNS * 4;
const POLL: Duration = Duration::from_millis(50);
const SETTLE_LIMIT: Duration = Duration::from_secs(300);

struct Row {
    input: String,
    placement: &'static str,
    gas: u64,
    settled: Option<(u64, Duration)>,
}

/// The `opengpu` binary with the bench chain's deployment and test keyring.
struct Cli<'a> {
    binary: &'a Path,
    chain: &'a ChainArgs,
}

impl Cli<'_> {
    fn command(&self) -> Command {
        let mut command = Command::new(self.binary);
        command
            .arg("--deployment")
            .arg(&self.chain.deployment)
            .arg("--home")
            .arg(&self.chain.keys)
            .args(["--keyring-backend", "test", "-o", "json"]);
        command
    }

    fn json(&self, args: &[&str]) -> anyhow::Result<Value> {
        let output = self.command().args(args).output()?;
        if !output.status.success() {
            bail!(
                "opengpu {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(serde_json::from_slice(&output.stdout)?)
    }
}

/// `opengpu serve DIR` on a free loopback port; killed when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(cli: &Cli, dir: &Path) -> anyhow::Result<Server> {
        let mut child = cli
            .command()
            .arg("serve")
            .arg(dir)
            .args(["--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .spawn()?;
        let mut stdout = BufReader::new(child.stdout.take().context("serve's stdout")?);
        let mut text = String::new();
        let printed: Value = loop {
            if stdout.read_line(&mut text)? == 0 {
                bail!("opengpu serve exited: {text}");
            }
            if let Ok(value) = serde_json::from_str(&text) {
                break value;
            }
        };
        let url = printed["url"].as_str().context("serve's URL")?.to_string();
        Ok(Server { child, url })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn run(
    chain: &ChainArgs,
    opengpu: &Path,
    work: &Path,
    offchain_mib: &[u64],
    onchain_kib: &[u64],
) -> anyhow::Result<()> {
    let cli = Cli {
        binary: opengpu,
        chain,
    };
    let served = work.join("served");
    std::fs::create_dir_all(&served)?;
    let server = Server::start(&cli, &served)?;
    let kernel = work.join("column_sums.cl");
    std::fs::write(&kernel, COLUMN_SUMS_SOURCE)?;
    let mut rows = Vec::new();
    for (seed, kib) in onchain_kib.iter().enumerate() {
        let input = format!("{kib} KiB");
        let task = Task::write(work, kib * 1024, seed as u32)?;
        rows.push(task.publish(&cli, &kernel, &input, None)?);
    }
    for (seed, mib) in offchain_mib.iter().enumerate() {
        let input = format!("{mib} MiB");
        let task = Task::write(work, mib << 20, 100 + seed as u32)?;
        rows.push(task.publish(&cli, &kernel, &input, Some((&server.url, &served)))?);
        // Each input is kept only while measured: 256 MiB files add up.
        task.remove();
        let _ = std::fs::remove_dir_all(&served).and_then(|()| std::fs::create_dir(&served));
    }
    drop(server);
    print_section(&rows);
    Ok(())
}

/// One task's input and expected output files.
struct Task {
    input: PathBuf,
    expected: PathBuf,
    rows: usize,
}

impl Task {
    fn write(work: &Path, bytes: u64, seed: u32) -> anyhow::Result<Task> {
        let rows = (bytes as usize).div_ceil(ROW_BYTES).max(1);
        let (data, sums) = column_sums_matrix(rows, seed);
        let task = Task {
            input: work.join(format!("input-{seed}.bin")),
            expected: work.join(format!("expected-{seed}.bin")),
            rows,
        };
        std::fs::write(&task.input, data)?;
        std::fs::write(&task.expected, sums)?;
        Ok(task)
    }

    fn remove(&self) {
        let _ = std::fs::remove_file(&self.input);
        let _ = std::fs::remove_file(&self.expected);
    }

    /// Publishes (off-chain when `served` names the server and its directory) and waits until
    /// the running daemon settles the task.
    fn publish(
        &self,
        cli: &Cli,
        kernel: &Path,
        input: &str,
        served: Option<(&str, &Path)>,
    ) -> anyhow::Result<Row> {
        let path = |p: &Path| p.display().to_string();
        let (kernel, buffer) = (path(kernel), format!("buffer:{}", path(&self.input)));
        let verify = format!("reference-outputs:{}", path(&self.expected));
        let (output, rows) = (format!("output:{ROW_BYTES}"), format!("u32:{}", self.rows));
        let global = COLUMNS.to_string();
        let mut args = vec![
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
            &rows,
            "--verify",
            &verify,
            "--payment",
            "10000uatom",
            "--deadline-blocks",
            "150",
        ];
        let dir;
        if let Some((url, served_dir)) = served {
            dir = path(served_dir);
            args.extend(["--offchain", "--input-url", url, "--input-dir", &dir]);
        }
        let started = Instant::now();
        let published = cli.json(&args)?;
        let gas = published["gas_used"].as_u64().context("publish's gas")?;
        let height = published["height"].as_u64().context("publish's height")?;
        let id = published["task_id"]
            .as_u64()
            .context("task id")?
            .to_string();
        let settled = loop {
            let shown = cli.json(&["task", "show", &id])?;
            match shown["task"]["status"].as_str() {
                Some("settled") => {
                    let at = shown["task"]["settlement"]["height"].as_u64();
                    break at.map(|h| (h.saturating_sub(height), started.elapsed()));
                }
                Some("open") | Some("committed") | None if started.elapsed() < SETTLE_LIMIT => {
                    std::thread::sleep(POLL)
                }
                _ => break None,
            }
        };
        eprintln!(
            "[offchain] {input} ({}): gas {gas}, settled {settled:?}",
            placement(served)
        );
        Ok(Row {
            input: input.to_string(),
            placement: placement(served),
            gas,
            settled,
        })
    }
}

fn placement(served: Option<(&str, &Path)>) -> &'static str {
    match served {
        Some(_) => "off-chain (sha256 + URL)",
        None => "on-chain (bytes in the tx)",
    }
}

fn print_section(rows: &[Row]) {
    println!("## Off-chain inputs\n");
    println!(
        "The column-sum kernel (every input byte read once, 4096 work items, 16 KiB output, \
         checked by the reference hash of the CPU's sums) published with `opengpu task publish` \
         and served by the running `opengpu-provider`: inputs on-chain (the bytes in the \
         transaction, the localnet's 1 MiB limit) and off-chain (`--offchain`: only sha256, \
         size and URL on-chain; `opengpu serve` on loopback; the daemon fetches, checks the \
         hash and runs). Settled: blocks from publish to settlement, and wall time from starting \
         the CLI (which hashes the file and builds the kernel locally first) until the settled \
         task was seen. Goal: publish gas independent of input size.\n"
    );
    println!(
        "| input | where | publish gas | publish -> settled, blocks | publish -> settled, s |"
    );
    println!("|---:|---|---:|---:|---:|");
    for row in rows {
        let (blocks, secs) = match row.settled {
            Some((blocks, took)) => (blocks.to_string(), format!("{:.1}", took.as_secs_f64())),
            None => ("not settled".into(), "-".into()),
        };
        println!(
            "| {} | {} | {} | {blocks} | {secs} |",
            row.input, row.placement, row.gas
        );
    }
    let off: Vec<u64> = rows
        .iter()
        .filter(|r| r.placement.starts_with("off"))
        .map(|r| r.gas)
        .collect();
    if let (Some(min), Some(max)) = (off.iter().min(), off.iter().max()) {
        let growth = (*max as f64 - *min as f64) / *min as f64 * 100.0;
        println!(
            "\nOff-chain publish gas from the smallest to the largest input: {min} to {max} \
             ({growth:+.2}%: the digits of the size and nothing else).\n"
        );
        let largest = rows.iter().rfind(|r| r.placement.starts_with("off"));
        let settled = largest.is_some_and(|r| r.settled.is_some());
        crate::goals::report(
            "off-chain inputs: publish gas from the smallest to the largest input",
            "independent of the input size; the largest input settles end to end",
            &format!(
                "{min} to {max} gas ({growth:+.2}%); {} {}",
                largest.map_or("-", |r| r.input.as_str()),
                if settled { "settled" } else { "not settled" }
            ),
            growth.abs() < 1.0 && settled,
            "",
        );
    }
}
