// Reading the market: all pages of a paginated query, the open tasks, and the history of closed
// tasks kept in memory and extended incrementally (a closed task never changes again, so each
// refresh asks only for the tasks closed since the last one).
import type { Chain } from "./chain";
import type { Provider } from "./contracts/Registry.types";
import type { StakeResponse } from "./contracts/StakingVault.types";
import type { TaskInfo, TaskStatus } from "./contracts/TaskMarket.types";

/** The contracts' page size limit (CONVENTIONS: default 10, max 30). */
export const PAGE = 30;
/** How many pages one refresh reads at most, so a long history cannot stall the page. */
const MAX_PAGES = 40;

async function allTasks(chain: Chain, status: TaskStatus, startAfter?: number): Promise<TaskInfo[]> {
  const found: TaskInfo[] = [];
  let after = startAfter;
  for (let page = 0; page < MAX_PAGES; page++) {
    const { tasks } = await chain.market.tasks({ filter: { status }, limit: PAGE, startAfter: after });
    found.push(...tasks);
    if (tasks.length < PAGE) break;
    after = tasks[tasks.length - 1].id;
  }
  return found;
}

/** Tasks still running: open (taking commitments) and committed (revealing, awarding). */
export async function liveTasks(chain: Chain): Promise<TaskInfo[]> {
  const [open, committed] = await Promise.all([allTasks(chain, "open"), allTasks(chain, "committed")]);
  return [...open, ...committed].sort((a, b) => a.id - b.id);
}

const CLOSED: TaskStatus[] = ["settled", "expired", "cancelled"];

interface History {
  key: string;
  tasks: Map<number, TaskInfo>;
  cursor: Map<TaskStatus, number | undefined>;
}
let history: History | undefined;

/** Every closed task seen so far (settled, expired, cancelled), by id; extended on each call. */
export async function closedTasks(chain: Chain): Promise<Map<number, TaskInfo>> {
  const key = `${chain.rpc} ${chain.deployment.contracts.task_market.address}`;
  if (history?.key !== key) history = { key, tasks: new Map(), cursor: new Map() };
  const h = history;
  await Promise.all(
    CLOSED.map(async (status) => {
      const found = await allTasks(chain, status, h.cursor.get(status));
      for (const t of found) h.tasks.set(t.id, t);
      if (found.length > 0) h.cursor.set(status, found[found.length - 1].id);
    }),
  );
  return h.tasks;
}

export function settledOf(closed: Map<number, TaskInfo>): TaskInfo[] {
  return [...closed.values()].filter((t) => t.status === "settled" && t.settlement).sort((a, b) => a.id - b.id);
}

/** Blocks from publish to settlement. */
export function blocksToSettle(t: TaskInfo): number | undefined {
  return t.settlement ? t.settlement.height - t.created_height : undefined;
}

export interface ProviderRow {
  provider: Provider;
  stake: StakeResponse | undefined;
  /** What the settled tasks in view paid this provider, per denom (its shares, after the fee). */
  earnings: Map<string, bigint>;
}

export async function providerRows(chain: Chain): Promise<ProviderRow[]> {
  const providers: Provider[] = [];
  let after: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const { providers: found } = await chain.registry.providers({ limit: PAGE, startAfter: after });
    providers.push(...found);
    if (found.length < PAGE) break;
    after = found[found.length - 1].address;
  }
  const [stakes, closed] = await Promise.all([
    Promise.all(providers.map((p) => chain.vault.stake({ address: p.address }).catch(() => undefined))),
    closedTasks(chain),
  ]);
  const earnings = new Map<string, Map<string, bigint>>();
  for (const t of settledOf(closed)) {
    for (const share of t.settlement?.shares ?? []) {
      const mine = earnings.get(share.provider) ?? new Map<string, bigint>();
      mine.set(t.denom, (mine.get(t.denom) ?? 0n) + BigInt(share.amount));
      earnings.set(share.provider, mine);
    }
  }
  return providers.map((provider, i) => ({
    provider,
    stake: stakes[i],
    earnings: earnings.get(provider.address) ?? new Map(),
  }));
}
