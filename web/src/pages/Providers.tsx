import { useState } from "react";
import { coin, short } from "../format";
import { useChainData, useLive } from "../live";
import { providerRows, type ProviderRow } from "../market";

type Key = "moniker" | "device" | "prices" | "bonded" | "locked" | "won" | "lost" | "slashed" | "earnings";

const columns: [Key, string][] = [
  ["moniker", "Provider"],
  ["device", "Device"],
  ["prices", "Prices"],
  ["bonded", "Stake bonded"],
  ["locked", "Locked"],
  ["won", "Won"],
  ["lost", "Lost"],
  ["slashed", "Slashed"],
  ["earnings", "Earnings"],
];

function total(m: Map<string, bigint>): bigint {
  let sum = 0n;
  for (const v of m.values()) sum += v;
  return sum;
}

function sortValue(r: ProviderRow, key: Key): string | bigint | number {
  const p = r.provider;
  switch (key) {
    case "moniker":
      return p.moniker || p.address;
    case "device":
      return p.device.compute_units;
    case "prices":
      return p.prices.length > 0 ? BigInt(p.prices[0].amount) : 0n;
    case "bonded":
      return BigInt(r.stake?.bonded ?? "0");
    case "locked":
      return BigInt(r.stake?.locked ?? "0");
    case "won":
      return p.reputation.won;
    case "lost":
      return p.reputation.lost;
    case "slashed":
      return p.reputation.slashed;
    case "earnings":
      return total(r.earnings);
  }
}

export function ProvidersPage() {
  const { chain } = useLive();
  const stakeDenom = chain?.deployment.stake_denom ?? "";
  const { data, error } = useChainData(providerRows, "providers");
  const [sort, setSort] = useState<{ key: Key; desc: boolean }>({ key: "won", desc: true });
  const rows = [...(data ?? [])].sort((a, b) => {
    const x = sortValue(a, sort.key);
    const y = sortValue(b, sort.key);
    const c = x < y ? -1 : x > y ? 1 : 0;
    return sort.desc ? -c : c;
  });
  const header = (key: Key, label: string) => (
    <th key={key}>
      <button
        className="sort"
        data-testid={`sort-${key}`}
        onClick={() => setSort((s) => ({ key, desc: s.key === key ? !s.desc : true }))}
      >
        {label}
        {sort.key === key ? (sort.desc ? " ▼" : " ▲") : ""}
      </button>
    </th>
  );
  return (
    <section>
      <h2>Providers</h2>
      {error && <p className="error">Could not read the providers: {error}</p>}
      {!data ? (
        <p>Loading…</p>
      ) : data.length === 0 ? (
        <p>No provider has registered yet.</p>
      ) : (
        <table data-testid="providers">
          <thead>
            <tr>{columns.map(([k, l]) => header(k, l))}</tr>
          </thead>
          <tbody>
            {rows.map((r) => {
              const p = r.provider;
              const d = p.device;
              return (
                <tr key={p.address} data-testid={`provider-${p.address}`}>
                  <td title={p.address}>
                    <strong>{p.moniker || "-"}</strong>
                    <br />
                    <small>{short(p.address)}</small>
                    {p.status !== "active" && <span className="badge">{p.status}</span>}
                  </td>
                  <td>
                    {d.device_type} · {d.compute_units} CU · {(Number(d.global_mem_bytes) / 2 ** 30).toFixed(1)} GiB
                    {d.fp64 ? " · fp64" : ""}
                    <br />
                    <small>{d.name}</small>
                  </td>
                  <td>{p.prices.map((c) => coin(c.amount, c.denom)).join(", ") || "-"}</td>
                  <td>{r.stake ? coin(r.stake.bonded, stakeDenom) : "-"}</td>
                  <td>{r.stake ? coin(r.stake.locked, stakeDenom) : "-"}</td>
                  <td data-testid="won">{p.reputation.won}</td>
                  <td data-testid="lost">{p.reputation.lost}</td>
                  <td data-testid="slashed">{p.reputation.slashed}</td>
                  <td data-testid="earnings">
                    {[...r.earnings].map(([denom, amount]) => coin(amount, denom)).join(", ") || "0"}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <p className="note">
        Won, lost and slashed count outcomes the registry recorded. Earnings add up what the settled tasks still on
        chain paid each provider (after the market's fee).
      </p>
    </section>
  );
}
