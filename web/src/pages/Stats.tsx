import type { Chain } from "../chain";
import { Chart, type Series } from "../components/Chart";
import type { TaskInfo } from "../contracts/TaskMarket.types";
import { useChainData } from "../live";
import { blocksToSettle, closedTasks, liveTasks, settledOf } from "../market";

const COLORS = ["#2f6fdf", "#d9822b", "#2b9d5c", "#b03fb0", "#c23b3b"];

async function loadStats(chain: Chain): Promise<{ all: TaskInfo[]; settled: TaskInfo[] }> {
  const [live, closed] = await Promise.all([liveTasks(chain), closedTasks(chain)]);
  return { all: [...closed.values(), ...live], settled: settledOf(closed) };
}

function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

export function StatsPage() {
  const { data, error } = useChainData(loadStats, "stats");
  if (error && !data) return <p className="error">Could not read the market: {error}</p>;
  if (!data) return <p>Loading…</p>;
  const latencies = data.settled.map((t) => ({ x: t.settlement!.height, y: blocksToSettle(t) ?? 0 }));
  const denoms = [...new Set(data.settled.map((t) => t.denom))].sort();
  const prices: Series[] = denoms.map((denom, i) => ({
    label: denom,
    color: COLORS[i % COLORS.length],
    points: data.settled
      .filter((t) => t.denom === denom)
      .map((t) => ({ x: t.settlement!.height, y: Number(t.settlement!.price) })),
  }));
  const perBlock = new Map<number, number>();
  for (const t of data.all) perBlock.set(t.created_height, (perBlock.get(t.created_height) ?? 0) + 1);
  const published = [...perBlock].sort((a, b) => a[0] - b[0]).map(([x, y]) => ({ x, y }));
  const statuses = new Map<string, number>();
  for (const t of data.all) statuses.set(t.status, (statuses.get(t.status) ?? 0) + 1);
  const p50 = median(latencies.map((p) => p.y));
  return (
    <section>
      <h2>Stats</h2>
      {error && <p className="error">Refresh failed: {error}</p>}
      <p data-testid="stats-summary">
        {data.all.length} task(s) on chain:{" "}
        {[...statuses].map(([s, n]) => `${n} ${s}`).join(", ") || "none"}
        {p50 !== undefined && <>; median publish → settled: {p50} blocks</>}
      </p>
      <div className="charts">
        <Chart
          title="Settlement latency"
          xLabel="settled at height"
          yLabel="blocks from publish"
          series={[{ label: "blocks to settle", color: COLORS[0], points: latencies }]}
          kind="dots"
          testId="chart-latency"
        />
        <Chart title="Prices over time" xLabel="settled at height" yLabel="price" series={prices} kind="line" testId="chart-prices" />
        <Chart
          title="Tasks published per block"
          xLabel="height"
          yLabel="tasks"
          series={[{ label: "published", color: COLORS[2], points: published }]}
          kind="bar"
          testId="chart-per-block"
        />
      </div>
    </section>
  );
}
