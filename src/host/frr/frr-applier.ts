/**
 * Reconcile FRR with the agent's `FrrIntent`: render → read `show running-config` → diff over the
 * agent-owned parts → apply the difference in ONE vtysh process → read back and verify.
 *
 * An identical config is never re-applied (an empty diff writes nothing: re-applying FRR config is
 * what flaps sessions in MetalLB), and nothing the operator wrote is ever removed. Errors carry
 * stable codes: FRR_RENDER and FRR_CONFLICT are terminal (same input, same failure: report them);
 * FRR_UNAVAILABLE and FRR_COMMAND are worth retrying.
 */
import type { FrrIntent } from "../../plan/desired-state.ts";
import type { Exec } from "../exec.ts";
import {
  diffFrrConfig,
  type FrrConfigDiff,
  findAsnConflict,
  isEmptyDiff,
  renderFrrScript,
} from "./diff-frr-config.ts";
import { parseFrrConfig } from "./frr-config-tree.ts";
import { type RenderFrrOptions, renderFrrConfig } from "./render-frr-config.ts";
import { FrrCommandError, Vtysh } from "./vtysh.ts";

export interface FrrApplierOptions {
  /** `frr_vty_socket_dir` (default /run/frr; a namespaced FRR `-N NAME` uses /var/run/frr/NAME). */
  readonly socketDir: string;
  readonly netns?: string;
  readonly exec?: Exec;
  readonly render?: RenderFrrOptions;
  /** Words before `vtysh` (config `frr_command_prefix`). */
  readonly commandPrefix?: readonly string[];
}

/** The operator's FRR config contradicts the intent (e.g. another BGP AS). Terminal. */
export class FrrConflictError extends Error {
  readonly code = "FRR_CONFLICT";
}

export interface FrrPlan {
  readonly diff: FrrConfigDiff;
  /** The vtysh script that would be (or was) applied; empty when nothing changes. */
  readonly script: string;
}

export interface FrrSyncResult extends FrrPlan {
  readonly changed: boolean;
}

export class FrrApplier {
  readonly vtysh: Vtysh;

  constructor(private readonly opts: FrrApplierOptions) {
    this.vtysh = new Vtysh({
      socketDir: opts.socketDir,
      ...(opts.netns !== undefined ? { netns: opts.netns } : {}),
      ...(opts.exec !== undefined ? { exec: opts.exec } : {}),
      ...(opts.commandPrefix !== undefined ? { commandPrefix: opts.commandPrefix } : {}),
    });
  }

  /** Dry run: what `sync` would do, without changing FRR. */
  async plan(intent: FrrIntent): Promise<FrrPlan> {
    const render =
      intent.ipv6KernelMetric !== undefined
        ? { ...this.opts.render, ipv6KernelMetric: intent.ipv6KernelMetric }
        : this.opts.render;
    const desired = parseFrrConfig(renderFrrConfig(intent, render).join("\n"));
    const running = parseFrrConfig(await this.vtysh.runningConfig());
    const conflict = findAsnConflict(desired, running);
    if (conflict) throw new FrrConflictError(conflict);
    const diff = diffFrrConfig(desired, running);
    return { diff, script: renderFrrScript(diff) };
  }

  /**
   * Bring FRR to the intent. Reads back after a write: a line FRR accepted but does not keep would
   * otherwise be re-applied on every pass, so it is reported as FRR_COMMAND instead.
   */
  async sync(intent: FrrIntent): Promise<FrrSyncResult> {
    return this.apply(await this.plan(intent), intent);
  }

  /** Send what `plan` found in one vtysh batch, then read back (see `sync`). */
  async apply(planned: FrrPlan, intent: FrrIntent): Promise<FrrSyncResult> {
    if (isEmptyDiff(planned.diff)) return { ...planned, changed: false };
    await this.vtysh.applyScript(planned.script);
    const after = await this.plan(intent);
    if (!isEmptyDiff(after.diff))
      throw new FrrCommandError(
        `FRR accepted but did not keep: ${after.script.trim().split("\n").join(" | ")}`,
        after.script,
      );
    return { ...planned, changed: true };
  }
}
