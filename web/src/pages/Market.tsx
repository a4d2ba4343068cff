import type { Chain } from "../chain";
import type { TaskInfo } from "../contracts/TaskMarket.types";
import { coin, modelName, phase, short } from "../format";
import { useChainData, useLive } from "../live";
import { blocksToSettle, closedTasks, liveTasks, settledOf } from "../market";

/** How many settled tasks the Market page lists (the newest). */
const RECENT = 15;

async function loadMarket(chain: Chain): Promise<{ live: TaskInfo[]; settled: TaskInfo[]; closed: number }> {
  const [live, closed] = await Promise.all([liveTasks(chain), closedTasks(chain)]);
  const settled = settledOf(closed);
  return { live, settled: settled.slice(-RECENT).reverse(), closed: closed.size };
}

export function MarketPage() {
  const { height } = useLive();
  const { data, error, asOf } = useChainData(loadMarket, "market");
  return (
    <section>
      <h2>
        Open tasks{" "}
        <small>
          {asOf !== undefined && (
            <>
              as of height <span data-testid="as-of-height">{asOf}</span>
            </>
          )}
        </small>
      </h2>
      {error && <p className="error">Could not read the market: {error}</p>}
      {!data ? (
        <p>Loading…</p>
      ) : data.live.length === 0 ? (
        <p data-testid="no-open-tasks">No open tasks.</p>
      ) : (
        <table data-testid="open-tasks">
          <thead>
            <tr>
              <th>Task</th>
              <th>Model</th>
              <th>Payment</th>
              <th>Deadline</th>
              <th>Phase</th>
              <th>Client</th>
            </tr>
          </thead>
          <tbody>
            {data.live.map((t) => (
              <tr key={t.id} data-testid={`open-task-${t.id}`}>
                <td>
                  <a href={`#/task/${t.id}`}>#{t.id}</a>
                </td>
                <td>{modelName(t.model)}</td>
                <td>{coin(t.budget, t.denom)}</td>
                <td>height {t.deadline_height}</td>
                <td>{phase(t, height)}</td>
                <td title={t.client}>{short(t.client)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Recently settled</h2>
      {data && data.settled.length === 0 && <p>No settled tasks yet.</p>}
      {data && data.settled.length > 0 && (
        <table data-testid="settled-tasks">
          <thead>
            <tr>
              <th>Task</th>
              <th>Model</th>
              <th>Winner</th>
              <th>Price</th>
              <th>Settled at</th>
              <th>Blocks to settle</th>
            </tr>
          </thead>
          <tbody>
            {data.settled.map((t) => (
              <tr key={t.id} data-testid={`settled-task-${t.id}`}>
                <td>
                  <a href={`#/task/${t.id}`}>#{t.id}</a>
                </td>
                <td>{modelName(t.model)}</td>
                <td title={t.settlement?.winner}>{short(t.settlement?.winner)}</td>
                <td>{t.settlement && coin(t.settlement.price, t.denom)}</td>
                <td>height {t.settlement?.height}</td>
                <td data-testid="blocks-to-settle">{blocksToSettle(t)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {data && (
        <p className="note">
          {data.closed} closed task(s) read from the chain (settled, expired, cancelled); tasks pruned before this page
          opened are not listed.
        </p>
      )}
    </section>
  );
}
