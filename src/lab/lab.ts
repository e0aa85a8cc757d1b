/**
 * The lab's public API: `up`, `check`, `status`, `down` for one instance, and `runLabCommand`, which
 * the CLI (`ovn-bgp lab …`) and the script entry call. Exit codes: 0 success, 1 a check failed or the
 * lab could not be built, 2 usage (bad instance name, lab already up, not root).
 */

import type { AnnounceLayout, RuleLayout } from "./agent.ts";
import { type Say, up } from "./build.ts";
import { check } from "./check.ts";
import { DEFAULT_INSTANCE, LabUsageError, labNames } from "./names.ts";
import type { Platform } from "./platform.ts";
import { printStatus, upSummary } from "./status.ts";
import { removeLab } from "./teardown.ts";

export { BASELINE_PREFIXES, LabAlreadyUpError, up } from "./build.ts";
export { check } from "./check.ts";
export { labNames } from "./names.ts";
export { leftovers, removeLab } from "./teardown.ts";

export interface LabCommandOptions {
  readonly instance?: string;
  readonly manual?: boolean;
  readonly ruleLayout?: RuleLayout;
  readonly announceVia?: AnnounceLayout;
  readonly vlan?: number;
  readonly platform?: Platform;
}

export async function runLabCommand(command: string, opts: LabCommandOptions, say: Say): Promise<number> {
  try {
    const names = labNames(opts.instance ?? DEFAULT_INSTANCE);
    switch (command) {
      case "up": {
        const res = await up(names, say, {
          ...(opts.manual ? { manual: true } : {}),
          ...(opts.ruleLayout ? { ruleLayout: opts.ruleLayout } : {}),
          ...(opts.announceVia ? { announceVia: opts.announceVia } : {}),
          ...(opts.vlan !== undefined ? { vlan: opts.vlan } : {}),
          ...(opts.platform ? { platform: opts.platform } : {}),
        });
        for (const l of upSummary(names, res.mode, res.state.modeNote, res.state.platform)) say(l);
        say(`up took ${res.seconds.toFixed(1)} s`);
        return 0;
      }
      case "check": {
        const res = await check(names, say);
        return res.ok ? 0 : 1;
      }
      case "status":
        return (await printStatus(names, say)) ? 0 : 1;
      case "down": {
        const t0 = Date.now();
        say(`lab "${names.instance}": tearing down`);
        const left = await removeLab(names, say);
        const n = left.namespaces.length + left.pids.length + left.paths.length;
        if (n > 0) {
          say(`could not remove: ${JSON.stringify(left)}`);
          return 1;
        }
        say(`down took ${((Date.now() - t0) / 1000).toFixed(1)} s; nothing of "${names.instance}" remains`);
        return 0;
      }
      default:
        say(
          "usage: lab up [--manual] [--layout vrf|table] [--rule-layout per-ip|per-bridge] [--vlan TAG] [--platform bookworm|trixie] | check | status | down   [--instance NAME]",
        );
        return 2;
    }
  } catch (err) {
    if (err instanceof LabUsageError || (err as { code?: string }).code === "LAB_ALREADY_UP") {
      say(`error: ${(err as Error).message}`);
      return 2;
    }
    say(`error: ${(err as Error).stack ?? String(err)}`);
    return 1;
  }
}
