/**
 * The kernel applier: observe → diff → apply, kept as three steps so `plan` (dry run) can print
 * the diff without touching anything, and `sync` runs all three. Two ways in:
 *
 * - `sync(desired)`, the full pass: read everything (`ip -json`), diff every key, apply. It runs at
 *   start, on drift, after an apply error and periodically, and rebuilds the model.
 * - `applyDelta(desired, touched)`, the hot path: only the keys a Southbound change touched are
 *   decided, against the model (what the last full pass saw plus every write since), and written
 *   through a long-lived `ip -batch` session: no read, no process start, cost ∝ the change.
 *
 * Both run the same per-key decisions (keyed-kind.ts), so they cannot disagree. The model is updated
 * before a write (so the write's own monitor echo already agrees with it, see `explains`); a line
 * the kernel refuses puts its key back (the target's retry, a full pass, tries again); a batch whose
 * outcome is unknown makes the next call a full pass.
 *
 * Ownership mark: `routeProtocol` (config `route_protocol`) on every route, rule, permanent neighbour
 * and NDP proxy entry the agent makes. A fixed number is what lets prune remove exactly the agent's
 * objects and nothing an operator, FRR (proto bgp/zebra) or the kernel installed.
 */

import type { DesiredKernel, KeyedKindName, TouchedKeys } from "../../plan/desired-kernel.ts";
import type { KernelState } from "../../plan/desired-state.ts";
import { type Exec, run } from "../exec.ts";
import { isUpstreamHelperAddress } from "./address.ts";
import { type ForeignState, readForeign } from "./adopt-upstream.ts";
import { applyKernelOps } from "./apply.ts";
import {
  addressOwnership,
  type Decision,
  type DiffOptions,
  decideKey,
  diffKernel,
  helperDevicesOf,
  KEYED_KINDS,
  OpsBuilder,
} from "./diff.ts";
import { IpBatchSession, type IpWriter } from "./ip-session.ts";
import { KernelModel, type ModelJudgeContext } from "./kernel-model.ts";
import type { KindContext } from "./keyed-kind.ts";
import type { MonitorEvent } from "./monitor-event.ts";
import { observeKernel } from "./observe.ts";
import { netnsSysctlIo, procSysIo, type SysctlIo } from "./sysctl.ts";
import type { ApplyReport, KernelOp, KernelOps, ObservedKernel } from "./types.ts";
import { checkProtocol, sysctlPath, validationError } from "./validate.ts";

export interface KernelApplierOptions {
  readonly exec?: Exec;
  /** Work inside this network namespace (tests, labs); default: the agent's own. */
  readonly netns?: string;
  /** Config `route_protocol`: the ownership mark. */
  readonly routeProtocol: number;
  /** Config `rt_tables_dropin`: where table names are registered. */
  readonly rtTablesDropin: string;
  /** Where the protocol's name is registered (e.g. /etc/iproute2/rt_protos.d/ovn-bgp.conf); optional. */
  readonly rtProtosDropin?: string;
  /** Devices whose every (non link-local) address is the agent's: config `bgp_nic`. */
  readonly ownedDevices?: readonly string[];
  /** Which addresses on other devices (bridges) are the agent's helpers; default: the upstream scheme. */
  readonly isHelperAddress?: (cidr: string) => boolean;
  /** Sysctl reader/writer; default: /proc/sys directly, or one `sysctl -w` in the netns. */
  readonly sysctl?: SysctlIo;
  /**
   * Where write lines go. Default: a long-lived `ip -batch` session when `exec` is not given (the
   * agent), else one process per batch through `exec` (tests that inject failures).
   */
  readonly writer?: IpWriter;
  /** Pause between creating a VRF/dummy and adding its addresses (apply.ts DEVICE_SETTLE_MS). */
  readonly deviceSettleMs?: number;
}

/** Failures after which what the kernel holds is not known (see applyWithModel). */
const UNKNOWN_OUTCOME = /outcome unknown|could not run ip/;

/** The delta path's answer when it cannot run: no model yet, or the model is not trusted. */
export const NEEDS_FULL_PASS = "needs-full-pass" as const;

export class KernelApplier {
  private readonly exec: Exec;
  private readonly sysctl: SysctlIo;
  private readonly diffOptions: DiffOptions;
  private readonly writer: IpWriter | undefined;
  /** Link kinds the kernel refused ("Unknown device type"): not retried until restart. */
  private readonly unsupportedLinkKinds = new Set<string>();
  /** Devices the agent has put helper addresses on since it started (see DiffOptions.helperDevices). */
  private readonly helperDevices = new Set<string>();
  private readonly isHelper: (cidr: string) => boolean;
  private model: KernelModel | undefined;
  /** Set when a write failed: the model may be wrong until the next full pass. */
  private stale = true;
  private judge:
    | { model: KernelModel; desired: DesiredKernel; hostVersion: number; ctx: ModelJudgeContext }
    | undefined;

  constructor(private readonly opts: KernelApplierOptions) {
    this.isHelper = opts.isHelperAddress ?? isUpstreamHelperAddress;
    checkProtocol(opts.routeProtocol);
    this.exec = opts.exec ?? run;
    this.sysctl = opts.sysctl ?? (opts.netns ? netnsSysctlIo(this.exec, opts.netns) : procSysIo());
    this.writer =
      opts.writer ?? (opts.exec ? undefined : new IpBatchSession(opts.netns ? { netns: opts.netns } : {}));
    this.diffOptions = {
      routeProtocol: opts.routeProtocol,
      rtTablesDropin: opts.rtTablesDropin,
      ...(opts.rtProtosDropin !== undefined ? { rtProtosDropin: opts.rtProtosDropin } : {}),
      ...(opts.ownedDevices !== undefined ? { ownedDevices: opts.ownedDevices } : {}),
      ...(opts.isHelperAddress !== undefined ? { isHelperAddress: opts.isHelperAddress } : {}),
    };
  }

  /** Read the kernel. With `desired`, the sysctls it names are read too. */
  async observe(desired?: KernelState): Promise<ObservedKernel> {
    const sysctlPaths = new Map<string, string>();
    for (const s of desired?.sysctls ?? []) {
      if (validationError(() => sysctlPath(s.key)) === undefined)
        sysctlPaths.set(s.key, sysctlPath(s.key).path);
    }
    const files = [this.opts.rtTablesDropin, ...(this.opts.rtProtosDropin ? [this.opts.rtProtosDropin] : [])];
    return observeKernel({
      exec: this.exec,
      ...(this.opts.netns ? { netns: this.opts.netns } : {}),
      routeProtocol: this.opts.routeProtocol,
      sysctl: this.sysctl,
      sysctlPaths,
      files,
      unsupportedLinkKinds: this.unsupportedLinkKinds,
    });
  }

  /** Rules, the given tables' routes of every protocol and permanent neighbours (adopt_upstream_state). */
  readForeign(tables: readonly number[]): Promise<ForeignState> {
    return readForeign(this.exec, tables, this.opts.netns);
  }

  /** The dry run: observe, then diff. */
  async plan(desired: KernelState): Promise<KernelOps> {
    return this.diff(desired, await this.observe(desired));
  }

  /** How this applier reads and writes sysctls (for the drift watch). */
  get sysctlIo(): SysctlIo {
    return this.sysctl;
  }

  /** Pure: what would change. */
  diff(desired: KernelState, observed: ObservedKernel): KernelOps {
    return diffKernel(desired, observed, this.optionsFor(desired));
  }

  async apply(ops: KernelOps): Promise<ApplyReport> {
    const out = await applyKernelOps(ops, {
      exec: this.exec,
      sysctl: this.sysctl,
      ...(this.opts.netns ? { netns: this.opts.netns } : {}),
      ...(this.writer ? { writer: this.writer } : {}),
      ...(this.opts.deviceSettleMs !== undefined ? { deviceSettleMs: this.opts.deviceSettleMs } : {}),
    });
    for (const k of out.unsupportedLinkKinds) this.unsupportedLinkKinds.add(k);
    return out.report;
  }

  /**
   * The full pass: observe everything, diff every key, apply, and rebuild the model. `beforeApply`
   * sees the ops first (the agent lets FRR drop a VRF instance before its device goes).
   */
  async sync(
    desired: KernelState,
    opts: { beforeApply?: (ops: KernelOps) => Promise<void> } = {},
  ): Promise<ApplyReport> {
    const t0 = performance.now();
    const observed = await this.observe(desired);
    const t1 = performance.now();
    const decisions: Decision[] = [];
    const ops = diffKernel(desired, observed, this.optionsFor(desired, true), decisions);
    await opts.beforeApply?.(ops);
    const t2 = performance.now();
    const model = new KernelModel(observed);
    this.model = model;
    this.stale = false;
    const report = await this.applyWithModel(ops, decisions, model);
    for (const [i, op] of ops.ops.entries()) {
      if (op.kind !== "link" || !report.items[i]?.ok) continue;
      // Devices changed: the next full pass (the link's own monitor event asks for it) re-reads them;
      // until then the model knows the device is (not) there.
      if (op.op === "del") model.links.delete(op.key);
      else model.links.set(op.key, { name: op.key, up: true, ...(op.linkKind ? { kind: op.linkKind } : {}) });
    }
    const ms = (x: number) => Math.round(x * 10) / 10;
    return {
      ...report,
      phases: { observeMs: ms(t1 - t0), diffMs: ms(t2 - t1), applyMs: ms(performance.now() - t2) },
    };
  }

  /**
   * The delta path: decide only `touched` keys against the model and write the difference through
   * the session. Returns NEEDS_FULL_PASS when there is no trustworthy model (before the first full
   * pass, or after a failed write).
   */
  async applyDelta(
    desired: DesiredKernel,
    touched: TouchedKeys,
  ): Promise<ApplyReport | typeof NEEDS_FULL_PASS> {
    const model = this.model;
    if (!model || this.stale) return NEEDS_FULL_PASS;
    const b = new OpsBuilder();
    const decisions: Decision[] = [];
    const ctx = this.context(model, desired);
    for (const kind of KEYED_KINDS) {
      const keys = touched.get(kind.kind as KeyedKindName);
      if (!keys) continue;
      for (const key of keys) {
        const raw = desired.get(kind.kind as KeyedKindName, key);
        const want =
          raw === undefined ? undefined : b.check(kind.kind, kind.label(raw), () => kind.check(raw));
        if (raw !== undefined && want === undefined) continue; // invalid: blocked with its reason
        decideKey(kind, key, want, model.get(kind.kind as KeyedKindName, key), ctx, b, decisions);
      }
    }
    return this.applyWithModel(b.result(), decisions, model);
  }

  /**
   * Whether a monitor event is the echo of our own write (or none of our business). Called for
   * every monitor line (tens of thousands during a full pass): the judge context is built once per
   * model and host-wide state, not per line.
   */
  explains(e: MonitorEvent, desired: DesiredKernel): boolean {
    const model = this.model;
    if (!model || this.stale) return false;
    const j = this.judge;
    if (j?.model !== model || j.desired !== desired || j.hostVersion !== desired.hostVersion) {
      const ctx = this.context(model, desired);
      const watched = new Set<string>([
        ...(this.opts.ownedDevices ?? []),
        ...desired.links().map((l) => l.name),
        ...desired.routingTables().map((t) => t.name),
      ]);
      this.judge = {
        model,
        desired,
        hostVersion: desired.hostVersion,
        ctx: {
          proto: this.opts.routeProtocol,
          wants: (kind, key) => desired.get(kind, key) !== undefined,
          ownsAddress: ctx.ownsAddress,
          watchesDevice: (name) => watched.has(name),
        },
      };
    }
    return model.explains(e, (this.judge as { ctx: ModelJudgeContext }).ctx);
  }

  /**
   * The keys of `kind` that are wanted and that the model says the kernel holds (the last full
   * observation plus every write since): what a drift check expects to find. Empty while the model
   * is untrusted (a full pass is due anyway).
   */
  inPlace(kind: KeyedKindName, desired: DesiredKernel): string[] {
    const model = this.model;
    if (!model || this.stale) return [];
    return model.keys(kind).filter((k) => desired.get(kind, k) !== undefined);
  }

  /** Stop the write session (host state stays). */
  async close(): Promise<void> {
    await this.writer?.close();
  }

  /** Diff options with every helper device (desired's and the remembered ones); a real pass remembers them. */
  private optionsFor(desired: KernelState, remember = false): DiffOptions {
    const devs = helperDevicesOf(desired, this.isHelper, this.helperDevices);
    if (remember) for (const d of devs) this.helperDevices.add(d);
    return { ...this.diffOptions, helperDevices: devs };
  }

  private context(model: KernelModel, desired: DesiredKernel): KindContext {
    const owned = new Set([
      ...(this.opts.ownedDevices ?? []),
      ...desired
        .links()
        .filter((l) => l.kind === "dummy")
        .map((l) => l.name),
    ]);
    return {
      proto: this.opts.routeProtocol,
      present: (dev) => model.links.has(dev),
      ownsAddress: addressOwnership(owned, this.isHelper, this.helperDevices),
    };
  }

  /**
   * Put every decided key's outcome in the model before writing (the echo must agree), write, then
   * put back the keys whose lines failed and mark the model stale (the next call is a full pass).
   */
  private async applyWithModel(
    ops: KernelOps,
    decisions: readonly Decision[],
    model: KernelModel,
  ): Promise<ApplyReport> {
    const withOps = decisions.filter((d) => d.ops.length > 0);
    for (const d of withOps)
      model.set(d.kind.kind as KeyedKindName, d.key, d.kind.after(d.want, d.have, d.ctx));
    const report = await this.apply(ops);
    const failed = new Set<KernelOp>();
    for (const [i, op] of ops.ops.entries()) {
      const item = report.items[i];
      if (item?.ok !== false) continue;
      failed.add(op);
      // A line the kernel refused changed nothing: its key goes back to what was there, and the
      // model stays trusted (one conflicting object must not turn every later change into a full
      // pass). A line whose outcome is unknown (ip stopped mid-batch) leaves the model untrusted.
      if (UNKNOWN_OUTCOME.test(item.error ?? "")) this.stale = true;
    }
    for (const d of withOps)
      if (d.ops.some((op) => failed.has(op))) model.set(d.kind.kind as KeyedKindName, d.key, d.have);
    return report;
  }
}
