// How the page writes chain values: models, phases, amounts, addresses, sizes.
import type { CommitmentState, CompetitionModel, KernelArg, TaskInfo, VerificationPolicy } from "./contracts/TaskMarket.types";

export function modelName(model: CompetitionModel): string {
  if (model === "first_response") return "First Response";
  if (model === "manual_confirmation") return "Manual Confirmation";
  if ("consensus" in model) return `Consensus ${model.consensus.quorum} of ${model.consensus.replicas}`;
  return "Auction";
}

export function verificationName(v: VerificationPolicy): string {
  if ("unverified" in v) return "unverified";
  if ("reference_hash" in v) return `reference hash ${v.reference_hash.sha256.slice(0, 12)}…`;
  return `Freivalds (${v.freivalds.m}×${v.freivalds.k} · ${v.freivalds.k}×${v.freivalds.n}, ${v.freivalds.tolerance})`;
}

export function coin(amount: string | bigint, denom: string): string {
  return `${amount.toString()}${denom}`;
}

export function short(addr: string | null | undefined): string {
  if (!addr) return "-";
  return addr.length > 20 ? `${addr.slice(0, 10)}…${addr.slice(-6)}` : addr;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** Where a live task stands, in a few words. */
export function phase(t: TaskInfo, height: number | undefined): string {
  const slots = `${t.commit_count}/${t.max_committers} committed`;
  const left = height === undefined ? "" : `, ${Math.max(0, t.deadline_height - height)} blocks left`;
  if (t.auction) {
    const a = t.auction;
    if (a.award) return `executing by ${short(a.award.provider)} until ${a.award.execute_deadline}`;
    if (t.status === "open") return `bidding (${a.bid_count} bids${left})`;
    return `opening bids (${a.revealed_count}/${a.bid_count})`;
  }
  switch (t.status) {
    case "open":
      return `taking commitments (${slots}${left})`;
    case "committed":
      return `revealing (${slots})`;
    default:
      return t.status;
  }
}

export function commitmentState(s: CommitmentState): string {
  if ("committed" in s) return "committed";
  if ("revealed" in s) return `revealed at ${s.revealed.height}${s.revealed.price ? ` (price ${s.revealed.price})` : ""}`;
  if ("rejected" in s) return `rejected: ${s.rejected.reason}`;
  if ("refused" in s) return `refused: ${s.refused.reason}`;
  if ("outvoted" in s) return "outvoted";
  if ("forfeited" in s) return "forfeited";
  return "released";
}

export function argSummary(arg: KernelArg): string {
  if ("input" in arg) return `input buffer, ${bytes(Math.floor((arg.input.data.length * 3) / 4))}`;
  if ("output" in arg) return `output buffer, ${bytes(arg.output.size)}`;
  if ("local" in arg) return `local memory, ${bytes(arg.local.size)}`;
  if ("u32" in arg) return `u32 ${arg.u32.value}`;
  if ("i32" in arg) return `i32 ${arg.i32.value}`;
  if ("u64" in arg) return `u64 ${arg.u64.value}`;
  if ("i64" in arg) return `i64 ${arg.i64.value}`;
  if ("f32" in arg) return `f32 ${f32FromBits(arg.f32.bits)}`;
  if ("f64" in arg) return `f64 bits ${arg.f64.bits}`;
  return `remote input, ${bytes(arg.remote_input.size)} at ${arg.remote_input.urls.length} URL(s)`;
}

export function f32FromBits(bits: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, bits >>> 0, true);
  return view.getFloat32(0, true);
}

export function fromBase64(data: string): Uint8Array<ArrayBuffer> {
  const raw = atob(data);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
