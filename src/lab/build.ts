/**
 * `lab up`: builds the seed's lab on this machine, in order: namespaces and veths, FRR on every node
 * and OVN central (in parallel), the chassis, the Neutron-shaped workloads and VM namespaces, then the
 * exposure (the agent on every host, or the manual exposure), and waits until the spine has learned
 * the seed's routes. Everything it creates is recorded in the state file as it goes.
 */

import { existsSync } from "node:fs";
import { type AnnounceLayout, kernelHasVrf, type RuleLayout, startAgents } from "./agent.ts";
import { applyManualFrr, startFrr } from "./frr.ts";
import { applyManualExposure, BASELINE, prepareBridge } from "./manual-exposure.ts";
import { CENTRAL, type LabNames, LabUsageError } from "./names.ts";
import { startAllChassis, startCentral } from "./ovn.ts";
import { enterLabPlatform, ovsVersion, type Platform, platformFromEnv } from "./platform.ts";
import { spineRoute } from "./probes.ts";
import { alive, poll } from "./proc.ts";
import { type LabMode, type LabState, newState, readState, StateRecorder } from "./state.ts";
import { removeLab } from "./teardown.ts";
import { HOSTS, ovnName, WORKLOAD as W } from "./topology.ts";
import { buildUnderlay } from "./underlay.ts";
import { associateFip, createWorkloads, ovsCarriesLoadBalancers, plugVm, waitBound } from "./workloads.ts";

export type Say = (line: string) => void;

export interface UpOptions {
  /** Skip the agent: install the seed's objects by hand. */
  readonly manual?: boolean;
  /** The agents' `ip_rule_layout` (default per-ip, the seed's; also OVN_BGP_LAB_RULE_LAYOUT). */
  readonly ruleLayout?: RuleLayout;
  /**
   * The agents' `announce_via` (also OVN_BGP_LAB_LAYOUT); default: the seed's `vrf` where the kernel
   * can create VRF and dummy devices, else `table`.
   */
  readonly announceVia?: AnnounceLayout;
  /** Make the provider network a VLAN network with this tag (also OVN_BGP_LAB_VLAN); agent mode only. */
  readonly vlan?: number;
  /** Which OVS/OVN/FRR the lab runs (also OVN_BGP_PLATFORM; default bookworm, the host's). */
  readonly platform?: Platform;
  /** How long to wait for the spine to learn the seed's routes. */
  readonly routesTimeoutMs?: number;
}

export interface UpResult {
  readonly state: LabState;
  readonly mode: LabMode;
  readonly seconds: number;
  /** Seed routes the spine had not learned when `up` returned (empty when all are there). */
  readonly missingRoutes: readonly string[];
}

/** The prefixes the spine must learn in the seed's baseline state. */
export const BASELINE_PREFIXES = [
  `${W.vm1.ip4}/32`,
  `${W.router.gwIp4}/32`,
  `${W.vmTenant.ip4}/32`,
  `${W.vm1.ip6}/128`,
  `${W.fip.ip4}/32`,
];

export class LabAlreadyUpError extends Error {
  readonly code = "LAB_ALREADY_UP";
}

/** Is something of this instance alive (a recorded process or namespace)? */
export async function labPresence(
  names: LabNames,
): Promise<{ state?: LabState; pids: number[]; namespaces: string[] }> {
  const state = readState(names);
  const pids = (state?.processes ?? []).map((p) => p.pid).filter(alive);
  const namespaces = names.allNamespaces().filter((ns) => existsSync(`/run/netns/${ns}`));
  return { ...(state ? { state } : {}), pids, namespaces };
}

export async function up(names: LabNames, say: Say, opts: UpOptions = {}): Promise<UpResult> {
  const t0 = Date.now();
  const present = await labPresence(names);
  if (present.pids.length > 0 || present.namespaces.length > 0) {
    const since = present.state ? ` (started ${present.state.startedAt}, ${present.state.phase})` : "";
    throw new LabAlreadyUpError(
      `lab "${names.instance}" is already up${since}: ${present.namespaces.length} namespaces, ${present.pids.length} processes. ` +
        `Run \`ovn-bgp lab down${names.instance === "lab" ? "" : ` --instance ${names.instance}`}\` first, or use another --instance.`,
    );
  }
  if (process.getuid?.() !== 0) throw new LabUsageError("lab up needs root (network namespaces, OVS, FRR)");
  const envVlan = process.env.OVN_BGP_LAB_VLAN;
  const vlan = opts.vlan ?? (envVlan ? Number(envVlan) : undefined);
  if (vlan !== undefined && !(Number.isInteger(vlan) && vlan >= 1 && vlan <= 4094))
    throw new LabUsageError(`lab up: VLAN tag ${JSON.stringify(envVlan ?? vlan)} is not 1..4094`);
  if (vlan !== undefined && (opts.manual || process.env.OVN_BGP_LAB_MANUAL === "1"))
    throw new LabUsageError("lab up: a VLAN provider network needs the agent (not --manual)");
  const platform = opts.platform ?? platformFromEnv();
  // Before anything runs: every daemon and tool from here on is the platform's.
  enterLabPlatform(platform);
  if (present.state) await removeLab(names, () => {}); // stale files of a lab that is gone

  const rec = new StateRecorder(names, newState(names));
  if (vlan !== undefined) rec.state.providerVlan = vlan;
  rec.state.platform = platform;
  // The load balancer only where this OVS carries its traffic, and only with the agent.
  rec.state.loadBalancer =
    !(opts.manual || process.env.OVN_BGP_LAB_MANUAL === "1") && ovsCarriesLoadBalancers(ovsVersion());
  rec.save();
  const step = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    const s = Date.now();
    const v = await fn();
    say(`  ${what} (${((Date.now() - s) / 1000).toFixed(1)} s)`);
    return v;
  };
  try {
    say(`lab "${names.instance}": building on ${platform} (prefix ${names.prefix}, run dir ${names.runDir})`);
    await step("namespaces, veths, tunnel segment", () => buildUnderlay(names, rec));
    await step("FRR on 6 nodes; OVN NB/SB + northd", () =>
      Promise.all([startFrr(names, rec), startCentral(names, rec)]),
    );
    await step("OVS + ovn-controller on 3 hosts", () => startAllChassis(names, rec));
    await step(
      `Neutron-shaped workloads and VM namespaces${vlan !== undefined ? ` (provider VLAN ${vlan})` : ""}`,
      async () => {
        await createWorkloads(names, vlan, rec.state.loadBalancer === true);
        const vms = ["vm1", "vm2", "vm3", "vmTenant"] as const;
        await Promise.all(vms.map((k) => plugVm(names, k, W[k].host)));
        await Promise.all([
          ...vms.map((k) => waitBound(names, W[k].portId, W[k].host)),
          waitBound(names, ovnName.crLrp, BASELINE.gatewayHost),
        ]);
      },
    );
    // The seed's last section: the floating IP on the tenant VM (walk 3 of `lab check`).
    if (BASELINE.fip) await step(`floating IP ${W.fip.ip4} on ${W.vmTenant.name}`, () => associateFip(names));
    rec.state.workload = { ...BASELINE };

    let mode: LabMode = "manual";
    // OVN_BGP_LAB_MANUAL=1: the same as --manual, for CI jobs that test the data path while the agent is broken.
    if (opts.manual || process.env.OVN_BGP_LAB_MANUAL === "1") {
      rec.state.modeNote = opts.manual
        ? "manual exposure (--manual)"
        : "manual exposure (OVN_BGP_LAB_MANUAL=1)";
    } else {
      const envLayout = process.env.OVN_BGP_LAB_RULE_LAYOUT;
      const layout: RuleLayout = opts.ruleLayout ?? (envLayout === "per-bridge" ? "per-bridge" : "per-ip");
      const envAnnounce = process.env.OVN_BGP_LAB_LAYOUT;
      const announce: AnnounceLayout =
        opts.announceVia ??
        (envAnnounce === "vrf" || envAnnounce === "table"
          ? envAnnounce
          : (await kernelHasVrf(names.ns(CENTRAL)))
            ? "vrf"
            : "table");
      const res = await step(
        `ovn-bgp agent on 3 hosts (announce_via ${announce}, ip_rule_layout ${layout})`,
        () => startAgents(names, rec, layout, announce),
      );
      if (res.ok) mode = "agent";
      else if (res.notImplemented) {
        rec.state.modeNote = "manual exposure: `ovn-bgp agent` is not implemented yet";
        say("");
        say("  !!! `ovn-bgp agent` is not implemented yet: FALLING BACK TO MANUAL EXPOSURE !!!");
        say("  !!! (the lab installs the seed's rules, routes and neighbours by hand)        !!!");
        say(`  ${res.reason.split("\n").join("\n  ")}`);
        say("");
      } else {
        throw new Error(`ovn-bgp agent failed to start: ${res.reason}`);
      }
    }
    if (mode === "manual") {
      await step("manual exposure (seed's rules, routes, neighbours; FRR import-table)", async () => {
        await Promise.all(HOSTS.map((h) => prepareBridge(names, h)));
        await Promise.all(HOSTS.map((h) => applyManualFrr(names, h)));
        await applyManualExposure(names, BASELINE);
      });
    }
    rec.state.mode = mode;
    rec.save();

    const missing = new Set(BASELINE_PREFIXES);
    await step("spine learns the seed's routes", async () => {
      try {
        await poll(
          async () => {
            for (const p of [...missing]) {
              const r = await spineRoute(names, p);
              if (r && r.nexthops.length >= 2) missing.delete(p);
            }
            return missing.size === 0;
          },
          "the spine's routes",
          opts.routesTimeoutMs ?? 60_000,
          500,
        );
      } catch {
        /* reported below: the lab is up, `check` says exactly what is missing */
      }
    });
    rec.state.phase = "up";
    const seconds = (Date.now() - t0) / 1000;
    rec.state.upSeconds = Math.round(seconds * 10) / 10;
    rec.save();
    if (missing.size > 0)
      say(`  WARNING: the spine has not learned ${[...missing].join(", ")} (with 2 paths) yet`);
    return { state: rec.state, mode, seconds, missingRoutes: [...missing] };
  } catch (err) {
    rec.state.phase = "failed";
    rec.save();
    throw err;
  }
}
