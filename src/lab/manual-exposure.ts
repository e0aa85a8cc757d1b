/**
 * Manual exposure: installs by hand exactly what the seed says the agent installs, with the `table`
 * layout of this kernel (no VRF, no dummy): `ip rule to X lookup br-ex` at 32000, the br-ex table's
 * routes, the cr-lrp's permanent neighbour, proxy ARP/NDP on br-ex, and the host routes FRR announces
 * (table 200, imported and redistributed; IPv6 as metric-marked main-table routes, because FRR 8.4 has
 * no `ipv6 import-table`). It is the lab's fallback until the agent runs, and `lab up --manual` for
 * telling a data-path problem from an agent problem.
 *
 * It is level-based: `applyManualExposure` flushes the lab's objects on every host and installs the
 * set that the current workload state (where vm1 runs, where the gateway is, whether the FIP is set)
 * calls for, so a change is just another apply.
 */
import { run, runOk } from "../host/exec.ts";
import type { LabNames } from "./names.ts";
import { vsctl } from "./ovn.ts";
import { poll } from "./proc.ts";
import {
  ANNOUNCE_TABLE,
  BREX_TABLE,
  HOSTS,
  type HostName,
  IPV6_KERNEL_METRIC,
  RULE_PRIORITY,
  WORKLOAD as W,
} from "./topology.ts";
import { ipBatch, sysctl } from "./underlay.ts";

export interface WorkloadPlacement {
  readonly vm1Host: HostName;
  readonly gatewayHost: HostName;
  readonly fip: boolean;
}

export const BASELINE: WorkloadPlacement = {
  vm1Host: W.vm1.host,
  gatewayHost: W.router.gatewayChassis[0].host,
  // The seed ends with 172.24.4.79 on the tenant VM: `lab up` leaves the lab in that state.
  fip: true,
};

/** One exposure, as the seed's events describe it. */
interface Exposure {
  readonly ip: string;
  readonly family: 4 | 6;
  /** Rule destination (an address or a subnet). */
  readonly ruleTo: string;
  /** Extra br-ex table routes and neighbours (cr-lrp and tenant subnet). */
  readonly brexRoutes: readonly string[];
  readonly neighbours: readonly string[];
  /** Announced as a host route. */
  readonly announce: boolean;
}

/** What each host exposes for a placement: the seed's three walks. */
export function exposuresFor(p: WorkloadPlacement): Map<HostName, Exposure[]> {
  const out = new Map<HostName, Exposure[]>(HOSTS.map((h) => [h, []]));
  const add = (h: HostName, e: Exposure) => out.get(h)?.push(e);
  const r = W.router;
  // Provider VM (PortBindingChassisCreatedEvent).
  for (const [ip, family] of [
    [W.vm1.ip4, 4],
    [W.vm1.ip6, 6],
  ] as const)
    add(p.vm1Host, { ip, family, ruleTo: ip, brexRoutes: [], neighbours: [], announce: true });
  // The other provider VMs (the cross-host and same-host walks), where they run.
  for (const vm of [W.vm2, W.vm3])
    for (const [ip, family] of [
      [vm.ip4, 4],
      [vm.ip6, 6],
    ] as const)
      add(vm.host, { ip, family, ruleTo: ip, brexRoutes: [], neighbours: [], announce: true });
  // cr-lrp, its permanent neighbour (the kernel has no address in the provider subnet, so OVN would
  // not answer its ARP), the tenant subnet behind it and the tenant VM (announced, no rule of its own).
  add(p.gatewayHost, {
    ip: r.gwIp4,
    family: 4,
    ruleTo: r.gwIp4,
    brexRoutes: [`${r.gwIp4} dev br-ex scope link`],
    neighbours: [`${r.gwIp4} lladdr ${r.gwMac} dev br-ex nud permanent`],
    announce: true,
  });
  add(p.gatewayHost, {
    ip: r.gwIp6,
    family: 6,
    ruleTo: r.gwIp6,
    brexRoutes: [`${r.gwIp6} dev br-ex`],
    neighbours: [`${r.gwIp6} lladdr ${r.gwMac} dev br-ex nud permanent`],
    announce: true,
  });
  add(p.gatewayHost, {
    ip: W.tenant.cidr4,
    family: 4,
    ruleTo: W.tenant.cidr4,
    brexRoutes: [`${W.tenant.cidr4} via ${r.gwIp4} dev br-ex`],
    neighbours: [],
    announce: false,
  });
  add(p.gatewayHost, {
    ip: W.vmTenant.ip4,
    family: 4,
    ruleTo: "",
    brexRoutes: [],
    neighbours: [],
    announce: true,
  });
  // The GUA tenant subnet (expose_ipv6_gua_tenant_networks): routed through the cr-lrp, no NAT.
  add(p.gatewayHost, {
    ip: W.tenant.cidr6,
    family: 6,
    ruleTo: W.tenant.cidr6,
    brexRoutes: [`${W.tenant.cidr6} via ${r.gwIp6} dev br-ex`],
    neighbours: [],
    announce: false,
  });
  add(p.gatewayHost, {
    ip: W.vmTenant.ip6,
    family: 6,
    ruleTo: "",
    brexRoutes: [],
    neighbours: [],
    announce: true,
  });
  // Distributed FIP (FIPSetEvent), exposed where the VM's port is bound.
  if (p.fip)
    add(W.vmTenant.host, {
      ip: W.fip.ip4,
      family: 4,
      ruleTo: W.fip.ip4,
      brexRoutes: [],
      neighbours: [],
      announce: true,
    });
  return out;
}

/**
 * Upstream's cookie-999 flows: IP from OVN towards the kernel gets br-ex's MAC whatever MAC OVN used
 * (the provider gateway's MAC_Binding is shared by every chassis, so OVN may address another host's
 * br-ex, and the kernel would drop the frame). ovn-controller creates the localnet patch port only
 * where the provider network is in use, so `wait` says whether this host must have it now.
 */
export async function ensureBridgeFlows(names: LabNames, host: HostName, wait: boolean): Promise<void> {
  const ns = names.ns(host);
  const findPatch = async () =>
    (await vsctl(names, host, ["list-ports", "br-ex"])).split("\n").find((p) => p.startsWith("patch-"));
  const patch = wait
    ? await poll(findPatch, `the localnet patch port on br-ex of ${host}`, 30_000, 200)
    : await findPatch();
  if (!patch) return;
  const mac = (await runOk({ argv: ["cat", "/sys/class/net/br-ex/address"], netns: ns })).stdout.trim();
  // OpenFlow port names stop at 15 characters; OVN's patch names are longer: match the number.
  const ofport = (await vsctl(names, host, ["get", "Interface", patch, "ofport"])).trim();
  const flows = ["ip", "ipv6"].map(
    (proto) => `cookie=999,priority=900,${proto},in_port=${ofport},actions=mod_dl_dst:${mac},NORMAL`,
  );
  await runOk({
    argv: ["ovs-ofctl", "add-flows", "br-ex", "-"],
    stdin: `${flows.join("\n")}\n`,
    env: { OVS_RUNDIR: names.dir(host) },
  });
}

/** Host-wide set-up the agent does per provider bridge: table defaults, helper addresses, proxy ARP/NDP. */
export async function prepareBridge(names: LabNames, host: HostName): Promise<void> {
  const ns = names.ns(host);
  await sysctl(ns, {
    "net.ipv4.conf.br-ex.proxy_arp": 1,
    "net.ipv6.conf.br-ex.proxy_ndp": 1,
    "net.ipv4.conf.br-ex.rp_filter": 0,
  });
  await ipBatch(ns, [
    "link set br-ex up",
    "address replace 169.254.1.1/32 dev br-ex",
    "address replace fd53:d91e:400:7f17::1:1/128 dev br-ex",
    `route replace default dev br-ex scope link table ${BREX_TABLE}`,
    `route replace ::/0 dev br-ex table ${BREX_TABLE}`,
    // The provider VMs' IPv6 gateway: nobody owns it, so the host answers its neighbour solicitations.
    `neigh replace proxy ${W.provider.gw6} dev br-ex`,
  ]);
}

async function flushHost(names: LabNames, host: HostName): Promise<void> {
  const ns = names.ns(host);
  for (const fam of ["-4", "-6"]) {
    // Every rule at the agent's priority, one by one (ip rule del removes the first match).
    for (let i = 0; i < 100; i++) {
      const res = await run({
        argv: ["ip", fam, "-n", ns, "rule", "del", "priority", String(RULE_PRIORITY)],
      });
      if (res.code !== 0) break;
    }
    await run({ argv: ["ip", fam, "-n", ns, "route", "flush", "table", String(ANNOUNCE_TABLE)] });
  }
  const lines: string[] = [];
  const brex = await run({ argv: ["ip", "-n", ns, "-j", "route", "show", "table", String(BREX_TABLE)] });
  for (const r of JSON.parse(brex.stdout || "[]") as { dst: string }[])
    if (r.dst !== "default") lines.push(`route del ${r.dst} table ${BREX_TABLE}`);
  const brex6 = await run({
    argv: ["ip", "-6", "-n", ns, "-j", "route", "show", "table", String(BREX_TABLE)],
  });
  for (const r of JSON.parse(brex6.stdout || "[]") as { dst: string }[])
    if (r.dst !== "default") lines.push(`route del ${r.dst} table ${BREX_TABLE}`);
  // (`ip -j route show metric N` drops the metric from its output: filter here instead.)
  const main6 = await run({ argv: ["ip", "-6", "-n", ns, "-j", "route", "show", "dev", "br-ex"] });
  for (const r of JSON.parse(main6.stdout || "[]") as { dst: string; metric?: number }[])
    if (r.metric === IPV6_KERNEL_METRIC)
      lines.push(`route del ${r.dst} dev br-ex metric ${IPV6_KERNEL_METRIC}`);
  const neigh = await run({
    argv: ["ip", "-n", ns, "-j", "neigh", "show", "dev", "br-ex", "nud", "permanent"],
  });
  for (const n of JSON.parse(neigh.stdout || "[]") as { dst: string }[])
    lines.push(`neigh del ${n.dst} dev br-ex`);
  for (const l of lines) await run({ argv: ["ip", "-n", ns, ...l.split(" ")] });
}

async function applyHost(names: LabNames, host: HostName, exposures: readonly Exposure[]): Promise<void> {
  const ns = names.ns(host);
  await flushHost(names, host);
  await ensureBridgeFlows(
    names,
    host,
    exposures.some((e) => e.ruleTo === W.vm1.ip4 || e.ruleTo === W.fip.ip4),
  );
  const lines: string[] = [];
  for (const e of exposures) {
    const f = e.family === 6 ? "-6 " : "";
    if (e.ruleTo) lines.push(`${f}rule add to ${e.ruleTo} lookup ${BREX_TABLE} priority ${RULE_PRIORITY}`);
    for (const r of e.brexRoutes) lines.push(`${f}route replace ${r} table ${BREX_TABLE}`);
    for (const n of e.neighbours) lines.push(`${f}neigh replace ${n}`);
    if (e.announce) {
      if (e.family === 4) lines.push(`route replace ${e.ip}/32 dev br-ex scope link table ${ANNOUNCE_TABLE}`);
      else lines.push(`-6 route replace ${e.ip}/128 dev br-ex metric ${IPV6_KERNEL_METRIC}`);
    }
  }
  for (const l of lines) await runOk({ argv: ["ip", "-n", ns, ...l.split(" ")] });
}

/** Make every host expose exactly what `placement` calls for. */
export async function applyManualExposure(names: LabNames, placement: WorkloadPlacement): Promise<void> {
  const plan = exposuresFor(placement);
  await Promise.all(HOSTS.map((h) => applyHost(names, h, plan.get(h) ?? [])));
}
