// @ts-check
// Browser test of the market explorer against a real chain (run by scripts/web-test.sh, which
// starts the chain, deploys, registers provider-1 and serves the page; see its header for env).
//
// 1. A First Response task published with the CLI shows on the Market page as open within
//    3 blocks of its transaction (the height the page read it at).
// 2. The provider daemon, started now, wins it: the page lists it as settled.
// 3. The Task page shows its commitments; its output downloads byte-identical to
//    `opengpu task result`.
// 4. A Mandelbrot task: its Task page draws the picture.
// 5. The Providers page shows the winner's won count and earnings as the chain has them.
// 6. Stats draws its charts; a deployment for another chain is reported as a mismatch.
// 7. With the daemon stopped, two more tasks stay open on the Market page (market.png).
// 8. With the node stopped, the page says the node is down.
// Screenshots of each page go to $SCREENSHOTS.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { CosmWasmClient } from "@cosmjs/cosmwasm";
import { chromium } from "playwright-core";

const run = promisify(execFile);

/** @param {string} name */
function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this through scripts/web-test.sh`);
  return value;
}
const WEB_URL = env("WEB_URL");
const DEPLOYMENT = env("DEPLOYMENT");
const SCREENSHOTS = env("SCREENSHOTS");
const deployment = JSON.parse(readFileSync(DEPLOYMENT, "utf8"));
const started = Date.now();

/** @param {string} what */
function step(what) {
  console.log(`[web-test] ${((Date.now() - started) / 1000).toFixed(1)}s ${what}`);
}

/** The CLI on the test chain (JSON output). @param {string[]} args */
async function og(...args) {
  const { stdout } = await run(
    env("OPENGPU"),
    ["--home", env("OPENGPU_HOME"), "--keyring-backend", "test", "--deployment", DEPLOYMENT, "-o", "json", ...args],
    { maxBuffer: 64 << 20 },
  );
  return JSON.parse(stdout);
}

/** Publishes a built-in example as `client`; returns {task_id, height}. @param {string[]} args */
async function publish(...args) {
  const out = await og("--from", "client", "task", "publish", ...args);
  return { id: Number(out.task_id), height: Number(out.height) };
}

/** The provider daemon, in the background; its pid in PROVIDER_PID_FILE for the script's cleanup. */
async function startProvider() {
  const log = env("PROVIDER_LOG");
  const daemon = spawn(env("PROVIDER"), ["--config", env("PROVIDER_CONFIG"), "run"], {
    stdio: ["ignore", openSync(log, "a"), openSync(log, "a")],
    detached: false,
  });
  writeFileSync(env("PROVIDER_PID_FILE"), String(daemon.pid));
  for (let i = 0; i < 300; i++) {
    if (readFileSync(log, "utf8").includes("caught up")) return daemon;
    if (daemon.exitCode !== null) throw new Error(`the provider daemon exited:\n${readFileSync(log, "utf8")}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("the provider daemon did not catch up within 60 s");
}

/** @param {import("playwright-core").Page} page @param {string} name */
async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

const chain = await CosmWasmClient.connect(deployment.rpc);
const market = deployment.contracts.task_market.address;
const registry = deployment.contracts.registry.address;
const browser = await chromium.launch({
  executablePath: env("CHROMIUM"),
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
/** @type {import("node:child_process").ChildProcess | undefined} */
let daemon;
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error(`[page error] ${e.message}`));
  page.setDefaultTimeout(30_000);

  step("Market page: connected, no tasks");
  await page.goto(WEB_URL);
  await page.getByTestId("height").filter({ hasText: /^\d+$/ }).waitFor();
  await page.getByTestId("no-open-tasks").waitFor();

  step("publish a hash-chain task (First Response) with the CLI; no daemon runs yet");
  const first = await publish(
    "--example", "hash-chain", "--size", "1024", "--payment", "10000uatom", "--deadline-blocks", "300",
  );
  await page.getByTestId(`open-task-${first.id}`).waitFor({ timeout: 20_000 });
  const seenAt = Number(await page.getByTestId("as-of-height").textContent());
  step(`task ${first.id} (tx at height ${first.height}) shown open in the data of height ${seenAt}`);
  assert.ok(seenAt - first.height <= 3, `task ${first.id} published at ${first.height} first shown at ${seenAt}: more than 3 blocks`);
  await screenshot(page, "market-open");

  step("start the provider daemon: it wins the task");
  daemon = await startProvider();
  const settledRow = page.getByTestId(`settled-task-${first.id}`);
  await settledRow.waitFor({ timeout: 60_000 });
  await page.getByTestId(`open-task-${first.id}`).waitFor({ state: "detached" });
  const onChain = await chain.queryContractSmart(market, { task_info: { task_id: first.id } });
  assert.equal(onChain.status, "settled");
  const blocks = Number(await settledRow.getByTestId("blocks-to-settle").textContent());
  assert.equal(blocks, onChain.settlement.height - onChain.created_height);
  step(`task ${first.id} settled in ${blocks} blocks, shown as settled`);

  step("publish a Mandelbrot task; the daemon wins it too");
  const picture = await publish(
    "--example", "mandelbrot", "--size", "128", "--unverified", "--payment", "100000uatom", "--deadline-blocks", "300",
  );
  await page.getByTestId(`settled-task-${picture.id}`).waitFor({ timeout: 60_000 });
  await screenshot(page, "market-settled");

  step("Task page: commitments, and the result downloaded byte-identical to the CLI's");
  await page.goto(`${WEB_URL}#/task/${first.id}`);
  await page.getByTestId("commitment-0").waitFor();
  const commitments = await chain.queryContractSmart(market, { commitments: { task_id: first.id } });
  assert.equal(await page.getByTestId("commitments").locator("tbody tr").count(), commitments.commitments.length);
  assert.match(await page.getByTestId("commitment-0").textContent() ?? "", /revealed at \d+/);
  const dir = mkdtempSync(join(tmpdir(), "web-test-"));
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("download-0").click()]);
  const downloaded = join(dir, "download.bin");
  await download.saveAs(downloaded);
  const fromCli = join(dir, "cli.bin");
  await og("task", "result", String(first.id), "--out", fromCli);
  const got = readFileSync(downloaded);
  assert.ok(got.length === 4096, `hash-chain of 1024 words is 4096 bytes, downloaded ${got.length}`);
  assert.ok(got.equals(readFileSync(fromCli)), "the downloaded output differs from `opengpu task result`");
  await screenshot(page, "task");

  step("Task page of the Mandelbrot task: the picture");
  await page.goto(`${WEB_URL}#/task/${picture.id}`);
  await page.getByTestId("mandelbrot").waitFor();
  await screenshot(page, "task-mandelbrot");

  step("Providers page: the winner's won count and earnings, as the chain has them");
  const winner = onChain.settlement.winner;
  const { provider } = await chain.queryContractSmart(registry, { provider: { address: winner } });
  let earned = 0n;
  for (const id of [first.id, picture.id]) {
    const t = await chain.queryContractSmart(market, { task_info: { task_id: id } });
    for (const share of t.settlement.shares) if (share.provider === winner) earned += BigInt(share.amount);
  }
  assert.equal(provider.reputation.won, 2);
  await page.goto(`${WEB_URL}#/providers`);
  const row = page.getByTestId(`provider-${winner}`);
  await row.getByTestId("won").filter({ hasText: "2" }).waitFor();
  assert.equal(await row.getByTestId("earnings").textContent(), `${earned}uatom`);
  await page.getByTestId("sort-earnings").click();
  await screenshot(page, "providers");
  step(`provider ${winner}: won 2, earned ${earned}uatom`);

  step("Stats page: charts");
  await page.goto(`${WEB_URL}#/stats`);
  await page.getByTestId("chart-latency").locator("circle").first().waitFor();
  await page.getByTestId("chart-per-block").locator("rect").first().waitFor();
  await screenshot(page, "stats");

  step("a deployment file of another chain: the mismatch message");
  writeFileSync(
    join(env("ROOT"), "web", "dist", "other-deployment.json"),
    JSON.stringify({ ...deployment, chain_id: "some-other-chain" }),
  );
  const other = await context.newPage();
  await other.goto(`${WEB_URL}?deployment=./other-deployment.json`);
  await other.getByTestId("problem-mismatch").filter({ hasText: "some-other-chain" }).waitFor();
  await other.close();

  step("daemon stopped, two more tasks published: open next to the settled ones");
  daemon.kill("SIGTERM");
  if (daemon.exitCode === null) await once(daemon, "exit");
  const more = [
    await publish("--example", "sgemm", "--size", "64", "--payment", "50000uatom", "--deadline-blocks", "300"),
    await publish("--example", "vector-add", "--size", "4096", "--payment", "5000uatom", "--deadline-blocks", "300"),
  ];
  await page.goto(`${WEB_URL}#/`);
  for (const t of more) await page.getByTestId(`open-task-${t.id}`).waitFor();
  await page.getByTestId(`settled-task-${first.id}`).waitFor();
  await screenshot(page, "market");

  step("stop the node: the node-down message");
  await run(join(env("ROOT"), "localnet", "stop.sh"));
  await page.getByTestId("problem-node-down").waitFor({ timeout: 20_000 });
  await screenshot(page, "node-down");

  const readme = env("README_SCREENSHOTS");
  if (process.env.WEB_SCREENSHOTS_UPDATE === "1" || !existsSync(join(readme, "market.png"))) {
    mkdirSync(readme, { recursive: true });
    copyFileSync(join(SCREENSHOTS, "market.png"), join(readme, "market.png"));
    step(`wrote ${join(readme, "market.png")}`);
  }
  step(`all checks passed; screenshots in ${SCREENSHOTS}`);
} finally {
  daemon?.kill("SIGTERM");
  await browser.close();
  chain.disconnect();
}
