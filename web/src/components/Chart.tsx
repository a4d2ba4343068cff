// Small SVG charts: points (optionally joined) or bars over integer x values (block heights,
// task ids). No chart library: a few dozen lines cover what the Stats page needs.

export interface Series {
  label: string;
  color: string;
  points: { x: number; y: number }[];
}

const W = 560;
const H = 220;
const PAD = { left: 52, right: 12, top: 12, bottom: 34 };

function ticks(min: number, max: number, count: number, integer = false): number[] {
  if (max <= min) return [min];
  const raw = Math.max((max - min) / count, integer ? 1 : 0);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + 1e-9; v += step) out.push(v);
  return out;
}

export function Chart({
  title,
  xLabel,
  yLabel,
  series,
  kind,
  testId,
}: {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  kind: "line" | "bar" | "dots";
  testId: string;
}) {
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) {
    return (
      <figure className="chart" data-testid={testId}>
        <figcaption>{title}</figcaption>
        <p className="note">No data yet.</p>
      </figure>
    );
  }
  const xMin = Math.min(...all.map((p) => p.x));
  const xMax = Math.max(...all.map((p) => p.x), xMin + 1);
  const yMax = Math.max(...all.map((p) => p.y), 1) * 1.1;
  const sx = (x: number) => PAD.left + ((x - xMin) / (xMax - xMin)) * (W - PAD.left - PAD.right);
  const sy = (y: number) => H - PAD.bottom - (y / yMax) * (H - PAD.top - PAD.bottom);
  const barWidth = Math.max(2, Math.min(14, (W - PAD.left - PAD.right) / (xMax - xMin + 1) - 1));
  return (
    <figure className="chart" data-testid={testId}>
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title}>
        {ticks(0, yMax, 4, kind === "bar").map((v) => (
          <g key={`y${v}`}>
            <line x1={PAD.left} x2={W - PAD.right} y1={sy(v)} y2={sy(v)} className="grid" />
            <text x={PAD.left - 6} y={sy(v) + 4} textAnchor="end">
              {Number(v.toPrecision(6))}
            </text>
          </g>
        ))}
        {ticks(xMin, xMax, 6, true).map((v) => (
          <text key={`x${v}`} x={sx(v)} y={H - PAD.bottom + 16} textAnchor="middle">
            {v}
          </text>
        ))}
        <text x={(W + PAD.left) / 2} y={H - 4} textAnchor="middle" className="axis">
          {xLabel}
        </text>
        <text x={12} y={H / 2} textAnchor="middle" className="axis" transform={`rotate(-90 12 ${H / 2})`}>
          {yLabel}
        </text>
        {series.map((s) =>
          kind === "bar" ? (
            s.points.map((p) => (
              <rect
                key={`${s.label}${p.x}`}
                x={sx(p.x) - barWidth / 2}
                y={sy(p.y)}
                width={barWidth}
                height={H - PAD.bottom - sy(p.y)}
                fill={s.color}
              />
            ))
          ) : (
            <g key={s.label}>
              {kind === "line" && s.points.length > 1 && (
                <polyline
                  fill="none"
                  stroke={s.color}
                  strokeWidth={1.5}
                  points={s.points.map((p) => `${sx(p.x)},${sy(p.y)}`).join(" ")}
                />
              )}
              {s.points.map((p, i) => (
                <circle key={i} cx={sx(p.x)} cy={sy(p.y)} r={3} fill={s.color} />
              ))}
            </g>
          ),
        )}
      </svg>
      {series.length > 1 && (
        <div className="legend">
          {series.map((s) => (
            <span key={s.label}>
              <i style={{ background: s.color }} /> {s.label}
            </span>
          ))}
        </div>
      )}
    </figure>
  );
}
