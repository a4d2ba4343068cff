// The connection to one node and one deployment: the RPC client, the typed contract clients
// generated from schema/ (src/contracts/, never edited by hand), the checks that the deployment
// file matches the chain, and the live block feed over the node's websocket.
import { CosmWasmClient } from "@cosmjs/cosmwasm";
import { RegistryQueryClient } from "./contracts/Registry.client";
import { StakingVaultQueryClient } from "./contracts/StakingVault.client";
import { TaskMarketQueryClient } from "./contracts/TaskMarket.client";

/** What `localnet/deploy.sh` writes to localnet/addresses/<chain-id>.json (the fields we read). */
export interface DeployedContract {
  code_id: number;
  checksum?: string;
  address: string;
}
export interface Deployment {
  chain_id: string;
  rpc?: string;
  bech32_prefix?: string;
  stake_denom?: string;
  contracts: {
    registry: DeployedContract;
    task_market: DeployedContract;
    staking_vault: DeployedContract;
    verification: DeployedContract;
  };
}

export interface Settings {
  /** The node's CometBFT RPC, e.g. http://127.0.0.1:26657; empty: the deployment's `rpc`. */
  rpc: string;
  /** Where the deployment file is: a URL relative to the page (default ./deployment.json). */
  deploymentUrl: string;
  /** A deployment pasted into the settings; wins over deploymentUrl when set. */
  deploymentJson: string;
}

export const DEFAULT_SETTINGS: Settings = {
  rpc: "",
  deploymentUrl: "./deployment.json",
  deploymentJson: "",
};

const SETTINGS_KEY = "opengpu-explorer-settings";

/** Settings: the query string (?rpc=...&deployment=...) wins, then what was saved, then defaults. */
export function loadSettings(): Settings {
  let saved: Partial<Settings>;
  try {
    saved = JSON.parse(localStorage.getItem(SETTINGS_KEY) ?? "{}") as Partial<Settings>;
  } catch {
    saved = {};
  }
  const params = new URLSearchParams(window.location.search);
  return {
    rpc: params.get("rpc") ?? saved.rpc ?? DEFAULT_SETTINGS.rpc,
    deploymentUrl:
      params.get("deployment") ?? saved.deploymentUrl ?? DEFAULT_SETTINGS.deploymentUrl,
    deploymentJson: params.has("deployment") ? "" : (saved.deploymentJson ?? ""),
  };
}

export function saveSettings(settings: Settings): void {
  localStorage.setItem(SETTINGS_KEY, JSON.stringify(settings));
}

/** A failure a person can act on: `title` says what is wrong, `hint` what to do about it. */
export class ConnectionProblem extends Error {
  constructor(
    readonly kind: "deployment" | "node-down" | "mismatch",
    readonly title: string,
    readonly hint: string,
    readonly details: string[] = [],
  ) {
    super(title);
  }
}

function parseDeployment(text: string, source: string): Deployment {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ConnectionProblem(
      "deployment",
      `The deployment file ${source} is not JSON`,
      "Give the file localnet/deploy.sh wrote (localnet/addresses/<chain-id>.json) in Settings.",
      [String(e)],
    );
  }
  const d = value as Partial<Deployment>;
  const names = ["registry", "task_market", "staking_vault", "verification"] as const;
  const missing = names.filter((n) => typeof d.contracts?.[n]?.address !== "string");
  if (typeof d.chain_id !== "string" || missing.length > 0) {
    throw new ConnectionProblem(
      "deployment",
      `The deployment file ${source} is not an opengpu deployment`,
      "It needs chain_id and contracts.{registry,task_market,staking_vault,verification}.address, as localnet/deploy.sh writes them.",
      missing.map((n) => `no contracts.${n}.address`),
    );
  }
  return d as Deployment;
}

export async function loadDeployment(settings: Settings): Promise<Deployment> {
  if (settings.deploymentJson.trim() !== "") {
    return parseDeployment(settings.deploymentJson, "pasted in Settings");
  }
  const url = new URL(settings.deploymentUrl, window.location.href).toString();
  let response: Response;
  try {
    response = await fetch(url, { cache: "no-store" });
  } catch (e) {
    throw new ConnectionProblem(
      "deployment",
      `Cannot read the deployment file at ${url}`,
      "Open Settings and give its URL, or paste localnet/addresses/<chain-id>.json there.",
      [String(e)],
    );
  }
  if (!response.ok) {
    throw new ConnectionProblem(
      "deployment",
      `No deployment file at ${url} (HTTP ${response.status})`,
      "Run `just deploy` (it writes localnet/addresses/<chain-id>.json) and serve the page with `just web`, or paste the file in Settings.",
    );
  }
  return parseDeployment(await response.text(), url);
}

export interface Chain {
  rpc: string;
  deployment: Deployment;
  client: CosmWasmClient;
  market: TaskMarketQueryClient;
  registry: RegistryQueryClient;
  vault: StakingVaultQueryClient;
}

export function rpcOf(settings: Settings, deployment: Deployment): string {
  return (settings.rpc.trim() || deployment.rpc || "http://127.0.0.1:26657").replace(/\/+$/, "");
}

export function nodeDown(rpc: string, error: unknown): ConnectionProblem {
  return new ConnectionProblem(
    "node-down",
    `The node at ${rpc} does not answer`,
    "Is the chain running? Start it with `just localnet` (then `just deploy` once), or set another RPC URL in Settings. This page retries by itself.",
    [String(error)],
  );
}

/** Connects and checks that the chain is the deployment's: chain id, and each contract's code. */
export async function connect(rpc: string, deployment: Deployment): Promise<Chain> {
  let client: CosmWasmClient;
  let chainId: string;
  try {
    client = await CosmWasmClient.connect(rpc);
    chainId = await client.getChainId();
  } catch (e) {
    throw nodeDown(rpc, e);
  }
  const problems: string[] = [];
  if (chainId !== deployment.chain_id) {
    problems.push(`the node runs chain ${chainId}, the deployment is for ${deployment.chain_id}`);
  } else {
    let checksums: Map<number, string>;
    try {
      checksums = new Map((await client.getCodes()).map((c) => [c.id, c.checksum.toLowerCase()]));
    } catch (e) {
      throw nodeDown(rpc, e);
    }
    for (const [name, c] of Object.entries(deployment.contracts)) {
      try {
        const info = await client.getContract(c.address);
        if (info.codeId !== c.code_id) {
          problems.push(`${name} ${c.address} runs code ${info.codeId}, the deployment says ${c.code_id}`);
        }
        const checksum = checksums.get(info.codeId);
        if (c.checksum && checksum && checksum !== c.checksum.toLowerCase()) {
          problems.push(`${name}: code ${info.codeId} has checksum ${checksum}, the deployment says ${c.checksum}`);
        }
      } catch (e) {
        problems.push(`no ${name} contract at ${c.address} on this chain (${String(e)})`);
      }
    }
  }
  if (problems.length > 0) {
    client.disconnect();
    throw new ConnectionProblem(
      "mismatch",
      "The deployment file does not match this chain",
      "The chain was probably reset since the contracts were deployed: run `just deploy` again (it rewrites localnet/addresses/), or pick the right RPC URL and deployment file in Settings.",
      problems,
    );
  }
  return {
    rpc,
    deployment,
    client,
    market: new TaskMarketQueryClient(client, deployment.contracts.task_market.address),
    registry: new RegistryQueryClient(client, deployment.contracts.registry.address),
    vault: new StakingVaultQueryClient(client, deployment.contracts.staking_vault.address),
  };
}

/** Latest height from the node's /status (plain HTTP: also tells whether the node is up). */
export async function fetchHeight(rpc: string): Promise<number> {
  const response = await fetch(`${rpc}/status`, { cache: "no-store", signal: AbortSignal.timeout(3000) });
  if (!response.ok) throw new Error(`HTTP ${response.status} from ${rpc}/status`);
  const body = (await response.json()) as { result: { sync_info: { latest_block_height: string } } };
  return Number(body.result.sync_info.latest_block_height);
}

export interface FeedEvents {
  onHeight: (height: number) => void;
  onDown: (error: unknown) => void;
}

/**
 * New block heights as they are committed: a websocket subscription to NewBlockHeader events on
 * the node's /websocket. When the socket closes, /status tells whether the node is down; the feed
 * reconnects with backoff and polls /status meanwhile, so the page notices the node coming back.
 */
export class BlockFeed {
  private socket: WebSocket | undefined;
  private timer: number | undefined;
  private stopped = false;
  private backoffMs = 500;

  constructor(
    private readonly rpc: string,
    private readonly events: FeedEvents,
  ) {
    this.open();
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.timer);
    this.socket?.close();
  }

  private open(): void {
    if (this.stopped) return;
    const url = `${this.rpc.replace(/^http/, "ws")}/websocket`;
    let socket: WebSocket;
    try {
      socket = new WebSocket(url);
    } catch (e) {
      this.events.onDown(e);
      this.retry();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      this.backoffMs = 500;
      socket.send(
        JSON.stringify({
          jsonrpc: "2.0",
          method: "subscribe",
          id: 1,
          params: { query: "tm.event='NewBlockHeader'" },
        }),
      );
      // The current height at once, not only at the next block.
      fetchHeight(this.rpc).then(this.events.onHeight, () => undefined);
    };
    socket.onmessage = (message: MessageEvent<string>) => {
      try {
        const body = JSON.parse(message.data) as {
          result?: { data?: { value?: { header?: { height?: string } } } };
        };
        const height = body.result?.data?.value?.header?.height;
        if (height !== undefined) this.events.onHeight(Number(height));
      } catch {
        // not a block header: ignore
      }
    };
    socket.onclose = () => {
      if (this.stopped) return;
      fetchHeight(this.rpc).then(
        (h) => this.events.onHeight(h),
        (e: unknown) => this.events.onDown(e),
      );
      this.retry();
    };
  }

  private retry(): void {
    if (this.stopped) return;
    this.timer = window.setTimeout(() => this.open(), this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, 4000);
  }
}
