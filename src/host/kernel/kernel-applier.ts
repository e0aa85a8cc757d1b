/**
 * The kernel applier: observe → diff → apply, kept as three steps so `plan` (dry run) can print
 * the diff without touching anything, and `sync` runs all three. Level-triggered: every call starts
 * from what the kernel really holds, so a failed or partial apply is corrected by the next sync.
 *
 * Ownership mark: `routeProtocol` (config `route_protocol`) on every route, rule, permanent neighbour
 * and NDP proxy entry the agent makes. A fixed number is what lets prune remove exactly the agent's
 * objects and nothing an operator, FRR (proto bgp/zebra) or the kernel installed.
 */

import type { KernelState } from "../../plan/desired-state.ts";
import { type Exec, run } from "../exec.ts";
import { applyKernelOps } from "./apply.ts";
import { type DiffOptions, diffKernel } from "./diff.ts";
import { observeKernel } from "./observe.ts";
import { netnsSysctlIo, procSysIo, type SysctlIo } from "./sysctl.ts";
import type { ApplyReport, KernelOps, ObservedKernel } from "./types.ts";
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
}

export class KernelApplier {
  private readonly exec: Exec;
  private readonly sysctl: SysctlIo;
  private readonly diffOptions: DiffOptions;
  /** Link kinds the kernel refused ("Unknown device type"): not retried until restart. */
  private readonly unsupportedLinkKinds = new Set<string>();

  constructor(private readonly opts: KernelApplierOptions) {
    checkProtocol(opts.routeProtocol);
    this.exec = opts.exec ?? run;
    this.sysctl = opts.sysctl ?? (opts.netns ? netnsSysctlIo(this.exec, opts.netns) : procSysIo());
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

  /** Pure: what would change. */
  diff(desired: KernelState, observed: ObservedKernel): KernelOps {
    return diffKernel(desired, observed, this.diffOptions);
  }

  async apply(ops: KernelOps): Promise<ApplyReport> {
    const out = await applyKernelOps(ops, {
      exec: this.exec,
      sysctl: this.sysctl,
      ...(this.opts.netns ? { netns: this.opts.netns } : {}),
    });
    for (const k of out.unsupportedLinkKinds) this.unsupportedLinkKinds.add(k);
    return out.report;
  }

  async sync(desired: KernelState): Promise<ApplyReport> {
    const observed = await this.observe(desired);
    return this.apply(this.diff(desired, observed));
  }
}
