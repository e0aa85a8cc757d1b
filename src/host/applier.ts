/**
 * The one shape of the appliers (kernel, OVS flows, FRR): `plan(desired)` observes the host and
 * diffs — the dry run, nothing is written; `apply(plan)` writes exactly that plan; `sync(desired)` is
 * the two in a row. What an apply did is one ObjectResult per object it touched: applied, failed
 * (with the reason), or pending on a missing dependency (a device, a port, a bridge, FRR itself),
 * which the next pass retries. The agent's status, logs and `sync --once` read only these.
 *
 *   kernel: KernelApplier.plan → KernelOps,       apply → ApplyReport      (kernelResults)
 *   flows:  FlowApplier.plan   → FlowSyncResult,  apply → FlowSyncResult   (flowResults)
 *   frr:    FrrApplier.plan    → FrrPlan,         apply → FrrSyncResult    (frrResults)
 */
import type { FrrSyncResult } from "./frr/frr-applier.ts";
import type { ApplyReport } from "./kernel/types.ts";
import type { FlowSyncResult } from "./openflow/flow-applier.ts";

export type ObjectStatus = "applied" | "failed" | "pending";

export interface ObjectResult {
  /** The object, as its applier names it ("route 4|200|172.24.4.92/32", "flow br-ex ip,in_port=…"). */
  readonly object: string;
  readonly op: string;
  readonly status: ObjectStatus;
  readonly reason?: string;
}

export interface Applier<Desired, Plan, Outcome> {
  /** Observe and diff; writes nothing. */
  plan(desired: Desired): Promise<Plan>;
  /** Write the plan. */
  apply(plan: Plan): Promise<Outcome>;
}

/** A blocked kernel item waits for something that is not there yet (its device): pending, not failed. */
const WAITING = /does not exist|lacks .* support/;

export function kernelResults(r: ApplyReport): ObjectResult[] {
  const blockedFrom = r.counts.ops;
  return r.items.map((i, n) => ({
    object: `${i.kind} ${i.key}`,
    op: i.op,
    status: i.ok ? "applied" : n >= blockedFrom && WAITING.test(i.error ?? "") ? "pending" : "failed",
    ...(i.error !== undefined ? { reason: i.error } : {}),
  }));
}

export function flowResults(r: FlowSyncResult): ObjectResult[] {
  const out: ObjectResult[] = [];
  for (const b of r.bridges) {
    const status = b.error ? "failed" : "applied";
    const reason = b.error ? { reason: b.error } : {};
    for (const f of b.added)
      out.push({ object: `flow ${b.bridge} ${f.match}`, op: "add", status, ...reason });
    for (const f of b.removed)
      out.push({ object: `flow ${b.bridge} ${f.match}`, op: "del", status, ...reason });
    for (const p of b.pending)
      out.push({
        object: `flow ${b.bridge} ${p.flow.match}`,
        op: "add",
        status: "pending",
        reason: p.reason,
      });
    if (b.error && b.added.length + b.removed.length === 0)
      out.push({ object: `bridge ${b.bridge}`, op: "sync", status: "failed", reason: b.error });
  }
  for (const i of r.invalid)
    out.push({
      object: `flow ${i.flow.bridge} ${i.flow.match}`,
      op: "add",
      status: "failed",
      reason: i.reason,
    });
  return out;
}

export function frrResults(r: FrrSyncResult): ObjectResult[] {
  if (!r.changed) return [];
  return r.script
    .trim()
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => ({ object: `frr ${l.trim()}`, op: "apply", status: "applied" as const }));
}

/** Counts by status. */
export function countResults(rs: readonly ObjectResult[]): Record<ObjectStatus, number> {
  const c = { applied: 0, failed: 0, pending: 0 };
  for (const r of rs) c[r.status]++;
  return c;
}
