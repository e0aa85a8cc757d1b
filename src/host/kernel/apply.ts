/**
 * Carrying out a diff: all iproute2 ops go into ONE `ip -force -batch -` (plus one `ip -6 -force
 * -batch -` when IPv6 rules change, and one for devices when they change: see KernelChannel), sysctls into one write, drop-in files atomically. Every op gets
 * its own result: the batch's "Command failed -:LINE" messages are mapped back to the op that owns
 * the line, so a partial failure says exactly what is and is not installed.
 *
 * Deleting something that is already gone is success (the upstream agent left a route behind
 * because deleting a missing neighbour raised): a delete line whose error means "no such object"
 * counts as done.
 */
import { setTimeout as delay } from "node:timers/promises";
import type { Exec } from "../exec.ts";
import { unsupportedLinkMessage } from "./diff.ts";
import { writeAtomic } from "./dropin-files.ts";
import { type BatchResult, runWriteBatch } from "./ip-batch.ts";
import type { IpWriter } from "./ip-session.ts";
import { deletesVrfDevice, isUnsupportedKindError } from "./link.ts";
import type { SysctlIo } from "./sysctl.ts";
import type { ApplyItem, ApplyReport, KernelOp, KernelOps } from "./types.ts";

export interface ApplyContext {
  readonly exec: Exec;
  readonly netns?: string;
  readonly sysctl: SysctlIo;
  /** Where iproute2 lines go; default: one `ip -batch` process per channel and call (through `exec`). */
  readonly writer?: IpWriter;
  /** Pause after creating or enslaving a VRF or dummy, before its addresses; default DEVICE_SETTLE_MS. */
  readonly deviceSettleMs?: number;
  /** How that pause is taken (tests record it instead of waiting); default a timer. */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface ApplyOutcome {
  readonly report: ApplyReport;
  /** Link kinds the kernel refused to create in this run. */
  readonly unsupportedLinkKinds: ReadonlySet<string>;
}

/**
 * After a pass creates a VRF or a dummy, or moves a dummy into its VRF, the address lines wait this
 * long (and a VRF's removal is spread over settled steps, see batchesOf). FRR's zebra (seen with
 * 8.4) drops addresses that arrive right behind such a link change when the device's name was in
 * use before (a re-created bgp-nic, a renamed bgp_nic): it then shows the dummy in its VRF without
 * addresses and nothing is announced, until the addresses are added again. Measured inside
 * user-mode Linux: one batch lost them in 5 of 12 re-creations, a 300 ms pause in none. It only
 * costs the passes that create or remove those devices (start on a fresh host, a layout change).
 */
export const DEVICE_SETTLE_MS = 1000;

/** Batches longer than this skip the session (see applyKernelOps). */
export const LARGE_BATCH_LINES = 500;

/** Error texts that mean "the object is not there": success for a delete. */
const GONE =
  /No such file or directory|No such process|Cannot find device|[Aa]ddress not found|Cannot assign requested address/;

const isDeleteLine = (line: string): boolean => /^\S+ del\b/.test(line);

/** Lay the ops' lines out in one batch text, remembering which op owns each line. */
export function layoutBatch(ops: readonly KernelOp[]): { text: string; lines: string[]; owner: number[] } {
  const lines: string[] = [];
  const owner: number[] = [];
  ops.forEach((op, i) => {
    for (const l of op.lines) {
      lines.push(l);
      owner.push(i);
    }
  });
  return { text: lines.length ? `${lines.join("\n")}\n` : "", lines, owner };
}

/** A VRF or dummy created, fixed or deleted (the devices zebra must catch up with). */
const touchesAnnounceDevice = (o: KernelOp): boolean => o.linkKind === "vrf" || o.linkKind === "dummy";

/**
 * The batches of one apply, in order: links, then IPv4, then IPv6. When a VRF goes, the links are
 * three batches with a settle between each (see DEVICE_SETTLE_MS): the other devices first (the
 * dummy: zebra withdraws its connected routes), then the VRF, then what is created. zebra 8.4
 * aborted in vrf_delete (meta_queue_free) when the VRF went while its routes were still queued.
 */
function batchesOf(ops: readonly KernelOp[]): Array<["link" | "ip" | "ip6", KernelOp[]]> {
  const links = ops.filter((o) => o.channel === "link");
  const linkBatches: KernelOp[][] = links.some(deletesVrfDevice)
    ? [
        links.filter((o) => o.op === "del" && !deletesVrfDevice(o)),
        links.filter(deletesVrfDevice),
        links.filter((o) => o.op !== "del" && !deletesVrfDevice(o)),
      ]
    : [links];
  return [
    ...linkBatches.map((b): ["link", KernelOp[]] => ["link", b]),
    ["ip", ops.filter((o) => o.channel === "ip")],
    ["ip6", ops.filter((o) => o.channel === "ip6")],
  ];
}

export async function applyKernelOps(plan: KernelOps, ctx: ApplyContext): Promise<ApplyOutcome> {
  const errors = new Map<KernelOp, string[]>();
  const addError = (op: KernelOp, e: string) => {
    const list = errors.get(op);
    if (list) list.push(e);
    else errors.set(op, [e]);
  };
  let processes = 0;
  const ns = ctx.netns ? { netns: ctx.netns } : {};
  const batches = { link: "", ip: "", ip6: "" };
  let settleBefore = false;

  const settle = () => (ctx.sleep ?? delay)(ctx.deviceSettleMs ?? DEVICE_SETTLE_MS);
  for (const [channel, ops] of batchesOf(plan.ops)) {
    const { text, lines, owner } = layoutBatch(ops);
    batches[channel] += text;
    if (lines.length === 0) continue;
    if (settleBefore) {
      settleBefore = false;
      await settle();
    }
    let result: BatchResult;
    try {
      // The long-lived session for the hot path's small batches; a large batch (a full pass, a
      // burst) is read by its own `ip` from a file, at the kernel's pace, whatever the agent's event
      // loop is doing meanwhile (e.g. reading the monitor's echo of this very batch).
      const fam = channel === "ip6" ? { family: 6 as const } : {};
      result =
        ctx.writer && lines.length <= LARGE_BATCH_LINES
          ? await ctx.writer.write(lines, channel === "ip6" ? 6 : 4)
          : await runWriteBatch(ctx.exec, lines, { ...ns, ...fam, ...(ctx.writer ? { viaFile: true } : {}) });
    } catch (e) {
      const reason = `could not run ip: ${(e as Error).message}`;
      const all = lines.map((_, i) => i + 1);
      result = { lineErrors: new Map(all.map((n) => [n, reason])), unknown: new Set(all), processes: 1 };
    }
    processes += result.processes;
    // Devices the announce layout hangs on settle before the next batch touches them or their VRF.
    if (channel === "link") settleBefore = ops.some(touchesAnnounceDevice);
    for (const [n, err] of result.lineErrors) {
      const line = lines[n - 1];
      const op = ops[owner[n - 1] ?? -1];
      if (line === undefined || op === undefined) continue;
      if (isDeleteLine(line) && GONE.test(err) && !result.unknown.has(n)) continue;
      const hint = /File exists/.test(err) ? " (an object that is not ours already holds this key)" : "";
      addError(op, `"${line}": ${err}${hint}`);
    }
  }

  const sysctlOps = plan.ops.filter((o) => o.channel === "sysctl" && o.sysctl);
  if (sysctlOps.length > 0) {
    const entries = sysctlOps.map((o) => ({ path: o.sysctl?.path ?? "", value: o.sysctl?.value ?? "" }));
    try {
      const res = await ctx.sysctl.write(entries);
      processes += res.processes;
      for (const o of sysctlOps) {
        const e = res.errors.get(o.sysctl?.path ?? "");
        if (e !== undefined) addError(o, e);
      }
    } catch (e) {
      for (const o of sysctlOps) addError(o, (e as Error).message);
    }
  }

  for (const o of plan.ops) {
    if (o.channel !== "file" || !o.file) continue;
    try {
      await writeAtomic(o.file.path, o.file.content);
    } catch (e) {
      addError(o, (e as Error).message);
    }
  }

  const unsupported = new Set<string>();
  const items: ApplyItem[] = plan.ops.map((o) => {
    const errs = errors.get(o);
    if (!errs) return { kind: o.kind, key: o.key, op: o.op, ok: true };
    if (o.kind === "link" && o.linkKind && o.op !== "del" && errs.some(isUnsupportedKindError))
      unsupported.add(o.linkKind);
    return { kind: o.kind, key: o.key, op: o.op, ok: false, error: errs.join("; ") };
  });
  for (const bl of plan.blocked)
    items.push({ kind: bl.kind, key: bl.key, op: bl.op, ok: false, error: bl.error });

  const problems = [...plan.problems];
  if (unsupported.size > 0) {
    const msg = unsupportedLinkMessage(unsupported);
    if (!problems.includes(msg)) problems.push(msg);
  }
  const count = (p: (i: ApplyItem) => boolean) => items.filter(p).length;
  const opItems = items.slice(0, plan.ops.length);
  return {
    report: {
      items,
      counts: {
        ops: plan.ops.length,
        ok: count((i) => i.ok),
        failed: opItems.filter((i) => !i.ok).length,
        blocked: plan.blocked.length,
        add: plan.ops.filter((o) => o.op === "add").length,
        del: plan.ops.filter((o) => o.op === "del").length,
        replace: plan.ops.filter((o) => o.op === "replace").length,
      },
      problems,
      processes,
      batches,
    },
    unsupportedLinkKinds: unsupported,
  };
}
