import { useEffect, useMemo, useRef } from "react";
import type { Chain } from "../chain";
import type {
  BidInfo,
  CommitmentInfo,
  Kernel,
  Offer,
  ResultResponse,
  TaskRecord,
  TaskResponse,
} from "../contracts/TaskMarket.types";
import {
  argSummary,
  bytes,
  coin,
  commitmentState,
  errorText,
  fromBase64,
  modelName,
  phase,
  short,
  verificationName,
} from "../format";
import { useChainData, useLive } from "../live";
import { PAGE } from "../market";

interface TaskView {
  task?: TaskResponse;
  record?: TaskRecord;
  commitments: CommitmentInfo[];
  offers: Offer[];
  bids: BidInfo[];
  result?: ResultResponse;
  resultError?: string;
}

/** Closed tasks never change (until pruned): read once, kept for the page's lifetime. */
const closedViews = new Map<string, TaskView>();

async function loadTask(chain: Chain, id: number): Promise<TaskView> {
  const key = `${chain.deployment.contracts.task_market.address} ${id}`;
  const cached = closedViews.get(key);
  if (cached) return cached;
  const view = await readTask(chain, id);
  const status = view.task?.task.status;
  if (status === "settled" || status === "expired" || status === "cancelled") closedViews.set(key, view);
  return view;
}

/** A task's kernel never changes: read with the task once, then only its TaskInfo each block. */
const kernels = new Map<string, Kernel>();

async function readTask(chain: Chain, id: number): Promise<TaskView> {
  const key = `${chain.deployment.contracts.task_market.address} ${id}`;
  let task: TaskResponse;
  try {
    const kernel = kernels.get(key);
    task = kernel
      ? { kernel, task: await chain.market.taskInfo({ taskId: id }) }
      : await chain.market.task({ taskId: id });
    kernels.set(key, task.kernel);
  } catch (e) {
    // A closed task past its retention window keeps only a small record.
    const record = await chain.market.record({ taskId: id }).catch(() => {
      throw new Error(`task ${id} is not on this chain (${errorText(e)})`);
    });
    return { record, commitments: [], offers: [], bids: [] };
  }
  const commitments: CommitmentInfo[] = [];
  let after: number | undefined;
  for (let page = 0; page < 20; page++) {
    const { commitments: found } = await chain.market.commitments({ taskId: id, limit: PAGE, startAfter: after });
    commitments.push(...found);
    if (found.length < PAGE) break;
    after = found[found.length - 1].seq;
  }
  const [offers, bids] = await Promise.all([
    chain.market.offers({ taskId: id }).then((r) => r.offers, () => []),
    task.task.auction
      ? chain.market.bids({ taskId: id, limit: PAGE }).then((r) => r.bids, () => [])
      : Promise.resolve([]),
  ]);
  let result: ResultResponse | undefined;
  let resultError: string | undefined;
  if (task.task.status === "settled") {
    try {
      result = await chain.market.result({ taskId: id });
    } catch (e) {
      resultError = errorText(e);
    }
  }
  return { task, commitments, offers, bids, result, resultError };
}

function KernelSummary({ kernel }: { kernel: Kernel }) {
  return (
    <div className="card">
      <h3>Kernel</h3>
      <dl>
        <dt>entry point</dt>
        <dd>
          <code>{kernel.entry_point}</code>
        </dd>
        <dt>global size</dt>
        <dd>{kernel.global_work_size.join(" × ")}</dd>
        <dt>local size</dt>
        <dd>{kernel.local_work_size?.join(" × ") ?? "chosen by the device"}</dd>
        <dt>source</dt>
        <dd>
          {kernel.source.split("\n").length} lines, {bytes(kernel.source.length)}
        </dd>
      </dl>
      <ol className="args" start={0}>
        {kernel.args.map((a, i) => (
          <li key={i}>{argSummary(a)}</li>
        ))}
      </ol>
      <details>
        <summary>OpenCL source</summary>
        <pre>{kernel.source}</pre>
      </details>
    </div>
  );
}

/** The built-in Mandelbrot example's output: escape counts, one u32 per pixel. */
function mandelbrotShape(kernel: Kernel): { width: number; height: number; max: number } | undefined {
  const [w, h] = kernel.global_work_size;
  const max = kernel.args.find((a) => "u32" in a);
  if (kernel.entry_point !== "mandelbrot" || kernel.global_work_size.length !== 2 || !max || !("u32" in max)) {
    return undefined;
  }
  return { width: w, height: h, max: max.u32.value };
}

function MandelbrotPicture({ data, width, height, max }: { data: Uint8Array; width: number; height: number; max: number }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = canvas.current?.getContext("2d");
    if (!ctx || data.length < width * height * 4) return;
    const image = ctx.createImageData(width, height);
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    for (let i = 0; i < width * height; i++) {
      const n = view.getUint32(i * 4, true);
      const t = n >= max ? 0 : Math.sqrt(n / max);
      image.data[i * 4] = Math.round(255 * Math.min(1, t * 2.2));
      image.data[i * 4 + 1] = Math.round(255 * Math.min(1, t * 1.3));
      image.data[i * 4 + 2] = Math.round(255 * Math.min(1, 0.35 + t));
      image.data[i * 4 + 3] = 255;
      if (n >= max) image.data.fill(0, i * 4, i * 4 + 3);
    }
    ctx.putImageData(image, 0, 0);
  }, [data, width, height, max]);
  return <canvas ref={canvas} width={width} height={height} className="picture" data-testid="mandelbrot" />;
}

function Outputs({ taskId, result, kernel }: { taskId: number; result: ResultResponse; kernel: Kernel }) {
  const buffers = useMemo(() => result.outputs.map(fromBase64), [result]);
  const urls = useMemo(() => buffers.map((b) => URL.createObjectURL(new Blob([b], { type: "application/octet-stream" }))), [buffers]);
  useEffect(() => () => urls.forEach((u) => URL.revokeObjectURL(u)), [urls]);
  const shape = mandelbrotShape(kernel);
  return (
    <div className="card">
      <h3>Result</h3>
      <p>
        outputs of <span title={result.provider}>{short(result.provider)}</span>, digest{" "}
        <code title={result.outputs_digest}>{result.outputs_digest.slice(0, 16)}…</code>
      </p>
      <ul>
        {buffers.map((b, i) => (
          <li key={i}>
            <a href={urls[i]} download={`task-${taskId}-output-${i}.bin`} data-testid={`download-${i}`}>
              output {i} ({bytes(b.length)})
            </a>
          </li>
        ))}
      </ul>
      {shape && buffers.length === 1 && <MandelbrotPicture data={buffers[0]} {...shape} />}
    </div>
  );
}

export function TaskPage({ id }: { id: number }) {
  const { height, chain } = useLive();
  const stake = chain?.deployment.stake_denom ?? "";
  const { data, error } = useChainData((c) => loadTask(c, id), `task-${id}`);
  if (error && !data) return <p className="error">Could not read task {id}: {error}</p>;
  if (!data) return <p>Loading task {id}…</p>;
  if (data.record) {
    const r = data.record;
    return (
      <section>
        <h2>Task #{id}</h2>
        <p>
          {r.status}, pruned at height {r.pruned_height}: only its record is kept ({r.model}, budget{" "}
          {coin(r.budget, r.denom)}, winner {short(r.winner)}, price {r.price ?? "-"}).
        </p>
      </section>
    );
  }
  const t = data.task!.task;
  const s = t.settlement;
  const phases: [string, number | undefined][] = [
    ["published", t.created_height],
    ...data.commitments.map((c): [string, number] => [`committed by ${short(c.provider)} (seq ${c.seq})`, c.committed_height]),
    ...data.commitments.flatMap((c): [string, number][] =>
      "revealed" in c.state ? [[`revealed by ${short(c.provider)}`, c.state.revealed.height]] : [],
    ),
    ...(t.auction?.award ? [[`awarded to ${short(t.auction.award.provider)}`, t.auction.award.awarded_height] as [string, number]] : []),
    [t.status === "open" || t.status === "committed" ? "commits close" : "commit deadline", t.deadline_height],
    ...(s ? [["settled", s.height] as [string, number]] : []),
  ];
  phases.sort((a, b) => (a[1] ?? 0) - (b[1] ?? 0));
  return (
    <section>
      <h2>
        Task #{id} <span className={`badge ${t.status}`} data-testid="task-status">{t.status}</span>
      </h2>
      {error && <p className="error">Refresh failed: {error}</p>}
      <div className="grid">
        <div className="card">
          <h3>Terms</h3>
          <dl>
            <dt>model</dt>
            <dd>{modelName(t.model)}</dd>
            <dt>payment</dt>
            <dd>{coin(t.budget, t.denom)}</dd>
            <dt>collateral</dt>
            <dd>{coin(t.collateral, stake)} per committer</dd>
            <dt>verification</dt>
            <dd>{verificationName(t.verification)}</dd>
            <dt>client</dt>
            <dd title={t.client}>{short(t.client)}</dd>
            <dt>outputs</dt>
            <dd>{t.output_sizes.map(bytes).join(", ")}</dd>
            <dt>phase</dt>
            <dd>{t.status === "open" || t.status === "committed" ? phase(t, height) : t.status}</dd>
            {s && (
              <>
                <dt>settlement</dt>
                <dd data-testid="settlement">
                  {short(s.winner)} at {coin(s.price, t.denom)}, paid {coin(s.paid, t.denom)} (fee {s.fee}), refund{" "}
                  {s.refund}; {s.height - t.created_height} blocks after publish
                </dd>
              </>
            )}
          </dl>
        </div>
        <div className="card">
          <h3>Phases</h3>
          <table>
            <tbody>
              {phases.map(([what, h], i) => (
                <tr key={i}>
                  <td>height {h}</td>
                  <td>{what}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
      <div className="card">
        <h3>Commitments</h3>
        {data.commitments.length === 0 ? (
          <p>None yet.</p>
        ) : (
          <table data-testid="commitments">
            <thead>
              <tr>
                <th>Seq</th>
                <th>Provider</th>
                <th>Height</th>
                <th>State</th>
                <th>Collateral</th>
                <th>Commitment</th>
              </tr>
            </thead>
            <tbody>
              {data.commitments.map((c) => (
                <tr key={c.seq} data-testid={`commitment-${c.seq}`}>
                  <td>{c.seq}</td>
                  <td title={c.provider}>{short(c.provider)}</td>
                  <td>{c.committed_height}</td>
                  <td>{commitmentState(c.state)}</td>
                  <td>{coin(c.collateral, stake)}</td>
                  <td>
                    <code title={c.commitment}>{c.commitment.slice(0, 16)}…</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {data.offers.length > 0 && (
          <>
            <h3>Offers</h3>
            <table>
              <tbody>
                {data.offers.map((o) => (
                  <tr key={o.seq}>
                    <td>{short(o.provider)}</td>
                    <td>revealed at {o.revealed_height}</td>
                    <td>price {o.price ?? "-"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
        {data.bids.length > 0 && (
          <>
            <h3>Bids</h3>
            <table>
              <tbody>
                {data.bids.map((b) => (
                  <tr key={b.seq}>
                    <td>{short(b.provider)}</td>
                    <td>height {b.height}</td>
                    <td>{Object.keys(b.state)[0]}</td>
                    <td>{"revealed" in b.state ? b.state.revealed.price : ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
      </div>
      {data.result && <Outputs taskId={id} result={data.result} kernel={data.task!.kernel} />}
      {data.resultError && <p className="error">No result to show: {data.resultError}</p>}
      <KernelSummary kernel={data.task!.kernel} />
    </section>
  );
}
