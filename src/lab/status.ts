/**
 * `lab up`'s summary (what runs where and how to look) and `lab status` (each host's exposed IPs —
 * its rules at the agent's priority and the prefixes its BGP originates — and the spine's routes).
 */

import { run } from "../host/exec.ts";
import { vtyshJson } from "./frr.ts";
import type { LabNames } from "./names.ts";
import { CENTRAL, TUNNEL } from "./names.ts";
import { enterLabPlatform, type Platform, platformBinDir } from "./platform.ts";
import { spineBgpPrefixes, spineRoute } from "./probes.ts";
import { alive } from "./proc.ts";
import { type LabMode, readState } from "./state.ts";
import { HOST_SPECS, HOSTS, LEAVES, RULE_PRIORITY, SPINE, WORKLOAD as W } from "./topology.ts";

export function upSummary(
  names: LabNames,
  mode: LabMode,
  note?: string,
  platform: Platform = "bookworm",
): string[] {
  const bin = platformBinDir(platform);
  const ns = names.ns;
  const vty = (node: string, cmd: string) =>
    `ip netns exec ${ns(node)} vtysh --vty_socket ${names.frrSockDir(node)} -c "${cmd}"`;
  return [
    "",
    `lab "${names.instance}" is up — exposure: ${mode === "agent" ? "ovn-bgp agent on every host" : `MANUAL (${note ?? "manual"})`}`,
    "",
    "What runs where (one network namespace per node):",
    `  ${ns(SPINE)}: FRR (zebra, bgpd) AS 65000, swp1 → leaf-1, swp2 → leaf-2`,
    ...LEAVES.map((l) => `  ${ns(l)}: FRR, eBGP unnumbered to the spine and to every host`),
    ...HOST_SPECS.map(
      (h) =>
        `  ${ns(h.name)}: FRR, ovsdb-server, ovs-vswitchd (netdev), ovn-controller${mode === "agent" ? ", ovn-bgp agent" : ""}; eth1 → leaf-1, eth2 → leaf-2; Geneve ${h.tunnelIp} on br-phy`,
    ),
    `  ${ns(CENTRAL)}: OVN NB + SB ovsdb-server, ovn-northd (unix sockets in ${names.dir(CENTRAL)})`,
    `  ${ns(TUNNEL)}: Linux bridge of the Geneve segment`,
    `  ${ns(W.vm1.name)}: ${W.vm1.ip4}, ${W.vm1.ip6} on br-int of ${W.vm1.host}`,
    `  ${ns(W.vm2.name)}: ${W.vm2.ip4}, ${W.vm2.ip6} on br-int of ${W.vm2.host} (reaches vm1 across hosts)`,
    `  ${ns(W.vm3.name)}: ${W.vm3.ip4}, ${W.vm3.ip6} on br-int of ${W.vm3.host} (reaches vm1 over br-int)`,
    `  ${ns(W.vmTenant.name)}: ${W.vmTenant.ip4} (private-test) on br-int of ${W.vmTenant.host}; router-test gateway ${W.router.gwIp4}; floating IP ${W.fip.ip4}`,
    "",
    `How to look${bin ? ` (the ${platform} daemons' own tools first: export PATH=${bin}:$PATH)` : ""}:`,
    `  ${vty(SPINE, "show ip route")}`,
    `  ${vty(SPINE, "show bgp ipv4 unicast")}`,
    `  ip -n ${ns("rack-1-host-1")} rule; ip -n ${ns("rack-1-host-1")} route show table all | grep br-ex`,
    `  ip netns exec ${ns(SPINE)} ping -I 172.30.0.1 ${W.vm1.ip4}; ip netns exec ${ns(SPINE)} ping -I 172.30.0.1 ${W.fip.ip4}`,
    `  ip netns exec ${ns(W.vm2.name)} ping ${W.vm1.ip4}   # across hosts: TTL below 64`,
    `  ovn-nbctl --db=unix:${names.dir(CENTRAL)}/nb.sock show; ovn-sbctl --db=unix:${names.dir(CENTRAL)}/sb.sock show`,
    `  logs: ${names.runDir}/<node>/*.log, FRR: /var/run/frr/<namespace>/frr.log`,
    "",
    "Next: ovn-bgp lab check | ovn-bgp lab status | ovn-bgp lab down",
  ];
}

interface BgpTable {
  routes?: Record<string, { path?: string; aspath?: string; valid?: boolean }[]>;
}

/** Prefixes a host originates (empty AS path) in its BGP table. */
export async function hostOriginated(names: LabNames, host: string): Promise<string[]> {
  const out: string[] = [];
  for (const af of ["ipv4", "ipv6"]) {
    const t = await vtyshJson<BgpTable>(names, host, `show bgp ${af} unicast json`);
    for (const [prefix, paths] of Object.entries(t.routes ?? {}))
      if (paths.some((p) => (p.path ?? p.aspath ?? "x") === "")) out.push(prefix);
  }
  return out.sort();
}

export async function hostRules(names: LabNames, host: string): Promise<string[]> {
  const out: string[] = [];
  for (const fam of ["-4", "-6"]) {
    const res = await run({
      argv: ["ip", fam, "-n", names.ns(host), "rule", "show", "priority", String(RULE_PRIORITY)],
    });
    for (const l of res.stdout.split("\n")) if (l.trim()) out.push(l.trim());
  }
  return out;
}

export async function printStatus(names: LabNames, say: (l: string) => void): Promise<boolean> {
  const state = readState(names);
  if (!state) {
    say(`lab "${names.instance}" is not up (no ${names.stateFile})`);
    return false;
  }
  enterLabPlatform(state.platform);
  const dead = state.processes.filter((p) => !alive(p.pid) && !p.name.endsWith("probe-listener"));
  say(
    `lab "${names.instance}": ${state.phase} on ${state.platform ?? "bookworm"}, mode ${state.mode ?? "?"}${state.modeNote ? ` (${state.modeNote})` : ""}, started ${state.startedAt}`,
  );
  say(
    `  processes: ${state.processes.length - dead.length} running${dead.length ? `, NOT running: ${dead.map((p) => p.name).join(", ")}` : ""}`,
  );
  const wl = state.workload;
  say(
    `  workload: vm1-provider on ${wl.vm1Host ?? "?"}, gateway (cr-lrp) on ${wl.gatewayHost ?? "?"}, FIP ${wl.fip ? W.fip.ip4 : "not associated"}`,
  );
  if (state.phase !== "up") return false;
  say("  workloads (where the spine learns each from):");
  const vmTenantHost = W.vmTenant.host;
  const rows: Array<[string, string, string]> = [
    [`${W.vm1.name} (provider, on ${wl.vm1Host ?? "?"})`, `${W.vm1.ip4}/32`, `${W.vm1.ip6}/128`],
    [`${W.vm2.name} (provider, on ${W.vm2.host})`, `${W.vm2.ip4}/32`, `${W.vm2.ip6}/128`],
    [`${W.vm3.name} (provider, on ${W.vm3.host})`, `${W.vm3.ip4}/32`, `${W.vm3.ip6}/128`],
    [`cr-lrp of ${W.router.name} (on ${wl.gatewayHost ?? "?"})`, `${W.router.gwIp4}/32`, ""],
    [`${W.vmTenant.name} (tenant, on ${vmTenantHost}, via the cr-lrp)`, `${W.vmTenant.ip4}/32`, ""],
    [`floating IP of ${W.vmTenant.name}`, wl.fip ? `${W.fip.ip4}/32` : "", ""],
  ];
  if (state.loadBalancer)
    rows.push([
      `load balancer ${W.lb.name} on ${W.router.name} (VIP, via the cr-lrp)`,
      `${W.lb.vip4}/32`,
      "",
    ]);
  for (const [what, ...prefixes] of rows) {
    const parts: string[] = [];
    for (const p of prefixes.filter(Boolean)) {
      const r = await spineRoute(names, p).catch(() => undefined);
      parts.push(`${p} ${r ? `from ${r.origins.join(",") || "?"}` : "NOT announced"}`);
    }
    say(`    ${what}: ${parts.join("; ") || "not associated"}`);
  }
  for (const h of HOSTS) {
    say(`  ${h}:`);
    say(
      `    announces: ${(await hostOriginated(names, h).catch((e: Error) => [`(${e.message})`])).join(", ") || "(nothing)"}`,
    );
    for (const r of await hostRules(names, h)) say(`    rule ${r}`);
  }
  say(`  ${SPINE} BGP routes:`);
  for (const v6 of [false, true])
    for (const p of await spineBgpPrefixes(names, v6)) {
      const r = await spineRoute(names, p);
      if (r) say(`    ${p.padEnd(22)} from ${r.origins.join(",") || "?"} via ${r.nexthops.join(" | ")}`);
    }
  return dead.length === 0;
}
