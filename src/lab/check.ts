/**
 * `lab check`: the seed's walks, asserted with the spine's RIB and real packets from the spine's
 * namespace. Every assertion is polled against a deadline (never a fixed sleep); a failed assertion
 * is reported with what was seen, and every other assertion is still checked.
 *
 *  1. Provider VM: 172.24.4.92/32 (and 2001:db8::21c/128) at the spine over two paths, originated by
 *     the VM's host; ping and TCP reach a listener that runs only in the VM's namespace; the VM's
 *     gateway resolves to br-ex's MAC (proxy ARP: the reply path).
 *  2. Tenant VM: 10.0.0.95/32 originated by the cr-lrp host only; the gateway host holds the seed's
 *     rule, subnet route and permanent neighbour; packets reach the VM across the Geneve segment.
 *  3. FIP: associating 172.24.4.79 makes the VM's host announce it; packets reach the VM through it.
 *  4. Changes: FIP removal withdraws it; moving vm1-provider moves its route; gateway failover moves
 *     the cr-lrp, subnet and tenant VM exposure.
 */

import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { run } from "../host/exec.ts";
import { labRuleLayout } from "./agent.ts";
import { applyManualExposure, BASELINE, type WorkloadPlacement } from "./manual-exposure.ts";
import type { LabNames } from "./names.ts";
import { TUNNEL } from "./names.ts";
import { enterLabPlatform, ovnVersion, ovsVersion } from "./platform.ts";
import { ping, type SpineRoute, spineRoute, startListener, tcpBanner } from "./probes.ts";
import { alive, poll, stopPids } from "./proc.ts";
import { readState, StateRecorder } from "./state.ts";
import { hostRules } from "./status.ts";
import { fabricNode, HOSTS, type HostName, ovnName, PROBE_PORT, SPINE, WORKLOAD as W } from "./topology.ts";
import { associateFip, disassociateFip, moveVm1, setGatewayHost, waitBound } from "./workloads.ts";

export interface CheckResult {
  readonly walk: string;
  readonly name: string;
  /** false only for a failure; a known, explained limitation of the seed's setup counts as ok. */
  readonly ok: boolean;
  readonly status: "pass" | "fail" | "limit";
  readonly detail: string;
}

/** Thrown by an assertion whose path cannot carry packets for a reason the check has identified. */
export class Limitation extends Error {}

function ovnVersionText(): string {
  const v = ovnVersion();
  return v ? `OVN ${v}` : "an older OVN";
}

/**
 * Whether this OVN has "northd: Fix direct access to SNAT network" (24.03.2, 24.09.0 and later):
 * there TCP to a tenant VM through a SNAT'ing router must pass, and a failure is a failure.
 */
export function ovnHasSnatFix(version: string | undefined): boolean {
  const [a = 0, b = 0, c = 0] = (version ?? "").split(".").map(Number);
  return a > 24 || (a === 24 && (b > 3 || (b === 3 && c >= 2)));
}

export interface CheckReport {
  readonly ok: boolean;
  readonly results: readonly CheckResult[];
  readonly seconds: number;
  readonly mode: string;
}

const SPINE_LO4 = fabricNode(SPINE).lo4;
const SPINE_LO6 = fabricNode(SPINE).lo6;
/** How long a change may take to show at the spine ("within a few seconds", with slack for a loaded CI box). */
const CHANGE_DEADLINE_MS = 30_000;
const ROUTE_DEADLINE_MS = 30_000;
const PACKET_DEADLINE_MS = 15_000;

class Checker {
  readonly results: CheckResult[] = [];
  constructor(private readonly say: (l: string) => void) {}

  async expect(walk: string, name: string, fn: () => Promise<string>): Promise<boolean> {
    let r: CheckResult;
    try {
      r = { walk, name, ok: true, status: "pass", detail: await fn() };
    } catch (err) {
      const limit = err instanceof Limitation;
      r = { walk, name, ok: limit, status: limit ? "limit" : "fail", detail: (err as Error).message };
    }
    this.results.push(r);
    this.say(`  ${r.status.toUpperCase().padEnd(5)} ${name}${r.detail ? `: ${r.detail}` : ""}`);
    return r.ok;
  }
}

const fmt = (r: SpineRoute) => `from ${r.origins.join(",") || "?"} via ${r.nexthops.join(" | ")}`;

/** Poll the spine until `prefix` is there with ≥ 2 next hops and originated exactly by `host`. */
async function routeFrom(
  names: LabNames,
  prefix: string,
  host: string,
  timeoutMs = ROUTE_DEADLINE_MS,
): Promise<string> {
  const t0 = Date.now();
  let last: SpineRoute | undefined;
  try {
    await poll(
      async () => {
        last = await spineRoute(names, prefix);
        return (
          last !== undefined &&
          last.nexthops.length >= 2 &&
          last.origins.length === 1 &&
          last.origins[0] === host
        );
      },
      prefix,
      timeoutMs,
      250,
    );
  } catch {
    throw new Error(
      `after ${timeoutMs / 1000} s the spine has ${last ? `${prefix} ${fmt(last)}` : `no BGP route for ${prefix}`}; wanted 2 paths from ${host}`,
    );
  }
  return `${fmt(last as SpineRoute)} (${((Date.now() - t0) / 1000).toFixed(1)} s)`;
}

async function routeGone(names: LabNames, prefix: string): Promise<string> {
  const t0 = Date.now();
  let last: SpineRoute | undefined;
  try {
    await poll(
      async () => {
        last = await spineRoute(names, prefix);
        return last === undefined;
      },
      prefix,
      CHANGE_DEADLINE_MS,
      250,
    );
  } catch {
    throw new Error(
      `after ${CHANGE_DEADLINE_MS / 1000} s the spine still has ${prefix} ${last ? fmt(last) : ""}`,
    );
  }
  return `withdrawn at the spine in ${((Date.now() - t0) / 1000).toFixed(1)} s`;
}

async function pings(names: LabNames, dst: string, deadlineMs = PACKET_DEADLINE_MS): Promise<string> {
  const src = dst.includes(":") ? SPINE_LO6 : SPINE_LO4;
  const t0 = Date.now();
  try {
    await poll(() => ping(names, SPINE, src, dst), `ping ${dst}`, deadlineMs, 200);
  } catch {
    throw new Error(`no echo reply from ${dst} to ${src} within ${deadlineMs / 1000} s`);
  }
  return `echo reply ${src} → ${dst} (${((Date.now() - t0) / 1000).toFixed(1)} s)`;
}

async function tcp(names: LabNames, dst: string, banner: string, port = PROBE_PORT): Promise<string> {
  const src = dst.includes(":") ? SPINE_LO6 : SPINE_LO4;
  let last = "";
  try {
    await poll(
      async () => {
        const r = await tcpBanner(names, SPINE, src, dst, port);
        last = r.text;
        return r.ok && r.text === banner;
      },
      `tcp ${dst}`,
      PACKET_DEADLINE_MS,
      300,
    );
  } catch {
    throw new Error(
      `TCP ${src} → [${dst}]:${port} did not return the VM's banner (last: ${last || "nothing"})`,
    );
  }
  return `TCP ${src} → [${dst}]:${port} answered "${banner}"`;
}

/** The device the provider network is reached through: br-ex, or its VLAN device (`lab up --vlan`). */
function providerDev(names: LabNames): string {
  const vlan = readState(names)?.providerVlan;
  return vlan !== undefined ? `br-ex.${vlan}` : "br-ex";
}

async function brexMac(names: LabNames, host: string): Promise<string> {
  const dev = providerDev(names);
  return (await run({ argv: ["cat", `/sys/class/net/${dev}/address`], netns: names.ns(host) })).stdout.trim();
}

/**
 * The rule that steers the tenant subnet into br-ex's table: the seed's `to 10.0.0.64/26` (layout
 * per-ip), or the bridge table's one `suppress_prefixlength 0` rule (per-bridge), where the subnet
 * route in that table does the steering.
 */
function steeringRule(names: LabNames, host: string): RegExp {
  return labRuleLayout(names, host) === "per-bridge"
    ? /^\d+:\s+from all lookup \S+ suppress_prefixlength 0/
    : /to 10\.0\.0\.(64|65)\/26/;
}
const steeringRuleText = (names: LabNames, host: string) =>
  labRuleLayout(names, host) === "per-bridge"
    ? "rule lookup br-ex suppress_prefixlength 0"
    : `rule to ${W.tenant.cidr4}`;

/** Whether the host steers the tenant subnet: per-ip by its rule, per-bridge by the subnet route of ours. */
async function steersSubnet(names: LabNames, host: string): Promise<boolean> {
  if (labRuleLayout(names, host) === "per-ip")
    return (await hostRules(names, host)).some((r) => /to 10\.0\.0\.(64|65)\/26/.test(r));
  const rt = await run({
    argv: ["ip", "-n", names.ns(host), "route", "show", "table", "all", W.tenant.cidr4, "proto", "179"],
  });
  return rt.stdout.trim() !== "";
}

/** The seed's objects on the gateway host: subnet rule, subnet route via the cr-lrp, permanent neighbour. */
async function gatewayObjects(names: LabNames, host: string): Promise<string> {
  const ns = names.ns(host);
  const missing: string[] = [];
  let rule = "";
  let route = "";
  await poll(
    async () => {
      missing.length = 0;
      const rules = await hostRules(names, host);
      rule = rules.find((r) => steeringRule(names, host).test(r)) ?? "";
      if (!rule) missing.push(`${steeringRuleText(names, host)} (have: ${rules.join("; ") || "none"})`);
      const rt = await run({ argv: ["ip", "-n", ns, "route", "show", "table", "all", W.tenant.cidr4] });
      const dev = providerDev(names);
      route = rt.stdout.split("\n").find((l) => l.includes(`via ${W.router.gwIp4} dev ${dev} `)) ?? "";
      if (!route) missing.push(`route ${W.tenant.cidr4} via ${W.router.gwIp4} dev ${dev}`);
      const ne = await run({ argv: ["ip", "-n", ns, "neigh", "show", W.router.gwIp4, "dev", dev] });
      if (!(ne.stdout.includes(W.router.gwMac) && ne.stdout.includes("PERMANENT")))
        missing.push(
          `permanent neighbour ${W.router.gwIp4} lladdr ${W.router.gwMac} dev ${dev} (have: ${ne.stdout.trim() || "none"})`,
        );
      return missing.length === 0;
    },
    "gateway objects",
    ROUTE_DEADLINE_MS,
    250,
  ).catch(() => {
    throw new Error(`${host} lacks ${missing.join("; ")}`);
  });
  return `${rule}; ${route.trim()}; ${W.router.gwIp4} lladdr ${W.router.gwMac} PERMANENT`;
}

/** Packets counted on the tunnel segment's ports of two hosts (the Geneve path). */
/** Packets the cookie-999 MAC-rewrite flow for `proto` (ip, ipv6) on a host's br-ex has matched. */
async function rewritePackets(names: LabNames, host: string, proto: "ip" | "ipv6"): Promise<number> {
  // Flow counters are pulled from the datapath by the revalidators: let one round finish first.
  await run({ argv: ["ovs-appctl", "revalidator/wait"], env: { OVS_RUNDIR: names.dir(host) } });
  const res = await run({
    argv: ["ovs-ofctl", "dump-flows", "br-ex", "cookie=0x3e7/-1"],
    env: { OVS_RUNDIR: names.dir(host) },
  });
  let n = 0;
  for (const line of res.stdout.split("\n")) {
    const m = /n_packets=(\d+),.*priority=\d+,(\w+),in_port=\S+ actions=mod_dl_dst/.exec(line);
    if (m?.[2] === proto) n += Number(m[1]);
  }
  return n;
}

/** Packets a host sent out of its two uplinks (eth1 to leaf-1, eth2 to leaf-2). */
async function uplinkTx(names: LabNames, host: string): Promise<number> {
  const res = await run({ argv: ["ip", "-n", names.ns(host), "-s", "-j", "link", "show"] });
  const links = JSON.parse(res.stdout || "[]") as { ifname: string; stats64?: { tx: { packets: number } } }[];
  return links
    .filter((l) => l.ifname === "eth1" || l.ifname === "eth2")
    .reduce((s, l) => s + (l.stats64?.tx.packets ?? 0), 0);
}

/** `ping -c N` from a VM's namespace: whether every echo came back, and the replies' TTL. */
/** Echoes walk 1c sends: enough that the uplinks' background traffic stays well below them. */
const ECHOES_1C = 20;

async function vmPing(
  names: LabNames,
  vm: string,
  dst: string,
  count = 3,
): Promise<{ ok: boolean; ttl?: number; out: string }> {
  const res = await run({
    argv: [
      "ping",
      ...(dst.includes(":") ? ["-6"] : []),
      "-n",
      "-c",
      String(count),
      "-i",
      "0.2",
      "-W",
      "1",
      dst,
    ],
    netns: names.ns(vm),
    timeoutMs: 5000 + count * 1000,
  });
  const ttl = /(?:ttl|hlim)=(\d+)/.exec(res.stdout)?.[1];
  return {
    ok: res.code === 0,
    ...(ttl ? { ttl: Number(ttl) } : {}),
    out: res.stdout.trim().split("\n").slice(-2).join("; "),
  };
}

async function tunnelPackets(names: LabNames, ports: readonly string[]): Promise<number> {
  const res = await run({ argv: ["ip", "-n", names.ns(TUNNEL), "-s", "-j", "link", "show"] });
  const links = JSON.parse(res.stdout || "[]") as { ifname: string; stats64?: { rx: { packets: number } } }[];
  return links.filter((l) => ports.includes(l.ifname)).reduce((s, l) => s + (l.stats64?.rx.packets ?? 0), 0);
}

/**
 * TCP to a tenant VM's fixed IP through the cr-lrp meets router-test's SNAT (Neutron's default): the
 * inbound SYN is never tracked in the router's SNAT zone, so OVN commits the VM's SYN-ACK as a new
 * outbound connection and rewrites its source to the gateway IP; the spine then sees a reply from the
 * wrong address. ICMP is not affected. If the gateway's conntrack shows exactly that, say so.
 */
async function snatExplains(names: LabNames, gw: string): Promise<Limitation | undefined> {
  const res = await run({ argv: ["ovs-appctl", "dpctl/dump-conntrack"], env: { OVS_RUNDIR: names.dir(gw) } });
  const hit = res.stdout
    .split("\n")
    .find(
      (l) =>
        l.includes(`orig=(src=${W.vmTenant.ip4},dst=${SPINE_LO4},sport=${PROBE_PORT}`) &&
        l.includes(`dst=${W.router.gwIp4},`),
    );
  if (!hit || ovnHasSnatFix(ovnVersion())) return undefined;
  return new Limitation(
    `the SYN reached ${W.vmTenant.name}, but router-test's SNAT (snat ${W.router.gwIp4} for ${W.tenant.cidr4}, ` +
      `Neutron's default) rewrote the VM's SYN-ACK to come from ${W.router.gwIp4}: OVN never tracked the ` +
      `outside-initiated connection in the SNAT zone, so it committed the reply as a new outbound one ` +
      `(conntrack on ${gw}: ${hit.trim()}). ICMP is unaffected (above); a router with --disable-snat carries TCP on this path. ` +
      `OVN's bug, fixed by "northd: Fix direct access to SNAT network" in OVN 24.09.0 and 24.03.2 (this lab runs ${ovnVersionText()}).`,
  );
}

const tunPort = (host: HostName) => `h${HOSTS.indexOf(host) + 1}`;

export async function check(names: LabNames, say: (l: string) => void): Promise<CheckReport> {
  const t0 = Date.now();
  const state = readState(names);
  if (state?.phase !== "up") {
    say(
      `lab "${names.instance}" is not up${state ? ` (phase ${state.phase})` : ""}: run \`ovn-bgp lab up\` first`,
    );
    return { ok: false, results: [], seconds: 0, mode: "none" };
  }
  enterLabPlatform(state.platform);
  const rec = new StateRecorder(names, state);
  const manual = state.mode !== "agent";
  const c = new Checker(say);
  say(`lab "${names.instance}": checking the seed's walks (${manual ? "MANUAL exposure" : "agent"})`);

  let placement: WorkloadPlacement = {
    vm1Host: (state.workload.vm1Host as HostName | undefined) ?? BASELINE.vm1Host,
    gatewayHost: (state.workload.gatewayHost as HostName | undefined) ?? BASELINE.gatewayHost,
    fip: state.workload.fip ?? false,
  };
  /** Apply a workload change in OVN, record it, and (manual mode) re-install the seed's objects by hand. */
  const change = async (to: Partial<WorkloadPlacement>): Promise<void> => {
    const next = { ...placement, ...to };
    if (next.fip !== placement.fip) await (next.fip ? associateFip(names) : disassociateFip(names));
    if (next.vm1Host !== placement.vm1Host) await moveVm1(names, placement.vm1Host, next.vm1Host);
    if (next.gatewayHost !== placement.gatewayHost) {
      await setGatewayHost(names, next.gatewayHost);
      await waitBound(names, ovnName.crLrp, next.gatewayHost);
    }
    placement = next;
    state.workload = { ...placement };
    rec.save();
    if (manual) await applyManualExposure(names, placement);
  };
  const listeners: number[] = [];
  try {
    await change(BASELINE);
    const nonce = randomBytes(4).toString("hex");
    const banner = (vm: string) => `${vm} ${nonce}`;
    /** What the load balancer's member answers on its own port (the VIP's traffic lands there). */
    const memberBanner = `${W.vmTenant.name} ${nonce} (load balancer member :${W.lb.memberPort})`;
    for (const vm of [W.vm1.name, W.vmTenant.name])
      listeners.push(
        startListener(rec, names, vm, PROBE_PORT, banner(vm), join(names.runDir, `${vm}-listener.log`)),
      );
    if (state.loadBalancer)
      listeners.push(
        startListener(
          rec,
          names,
          W.vmTenant.name,
          W.lb.memberPort,
          memberBanner,
          join(names.runDir, `${W.vmTenant.name}-lb-listener.log`),
        ),
      );
    await delay(300); // the listeners' own start-up; the TCP probes poll anyway

    say("walk 1: VM on the provider network");
    const v1h = placement.vm1Host;
    await c.expect("1", `spine RIB: ${W.vm1.ip4}/32 via two paths from ${v1h}`, () =>
      routeFrom(names, `${W.vm1.ip4}/32`, v1h),
    );
    await c.expect("1", `ping ${W.vm1.ip4} from the spine`, () => pings(names, W.vm1.ip4));
    await c.expect("1", `TCP to the listener in ${W.vm1.name}`, () =>
      tcp(names, W.vm1.ip4, banner(W.vm1.name)),
    );
    await c.expect(
      "1",
      `reply path: the VM's gateway resolves to ${providerDev(names)}'s MAC (proxy ARP)`,
      async () => {
        const mac = await brexMac(names, v1h);
        const ne = await run({ argv: ["ip", "-n", names.ns(W.vm1.name), "neigh", "show", W.provider.gw4] });
        if (!ne.stdout.includes(mac))
          throw new Error(
            `${W.provider.gw4} is "${ne.stdout.trim()}", ${providerDev(names)} of ${v1h} is ${mac}`,
          );
        return `${W.provider.gw4} lladdr ${mac} (${providerDev(names)} of ${v1h})`;
      },
    );
    await c.expect("1", `IPv6: spine RIB ${W.vm1.ip6}/128 via two paths from ${v1h}`, () =>
      routeFrom(names, `${W.vm1.ip6}/128`, v1h),
    );
    await c.expect("1", `IPv6: ping ${W.vm1.ip6} from the spine`, () => pings(names, W.vm1.ip6));
    await c.expect("1", `IPv6: TCP to the listener in ${W.vm1.name}`, () =>
      tcp(names, W.vm1.ip6, banner(W.vm1.name)),
    );
    await c.expect(
      "1",
      `IPv6 reply path: the VM's gateway ${W.provider.gw6} resolves to ${providerDev(names)}'s MAC (the agent's neighbour-solicitation responder, proxy ARP's IPv6 twin)`,
      async () => {
        const mac = await brexMac(names, v1h);
        const ne = await run({
          argv: ["ip", "-n", names.ns(W.vm1.name), "-6", "neigh", "show", W.provider.gw6],
        });
        if (!ne.stdout.includes(mac))
          throw new Error(
            `${W.provider.gw6} is "${ne.stdout.trim()}", ${providerDev(names)} of ${v1h} is ${mac}`,
          );
        return `${W.provider.gw6} lladdr ${mac} (${providerDev(names)} of ${v1h})`;
      },
    );

    say("walk 1b: a provider VM on another host reaches vm1 (br-ex's flows, the kernel, a leaf, BGP)");
    const v2h = W.vm2.host;
    for (const dst of [W.vm1.ip4, W.vm1.ip6]) {
      const proto = dst.includes(":") ? "ipv6" : "ip";
      await c.expect("1b", `${W.vm2.name} on ${v2h} → ${dst} on ${v1h}, routed`, async () => {
        // Both VMs' /32s (/128s) must be announced first: each direction goes through BGP.
        await routeFrom(names, `${W.vm2.ip4}/32`, v2h);
        const [rw0, up0] = [await rewritePackets(names, v2h, proto), await uplinkTx(names, v2h)];
        let r = await vmPing(names, W.vm2.name, dst);
        for (let i = 0; !r.ok && i < 20; i++) {
          await delay(500);
          r = await vmPing(names, W.vm2.name, dst);
        }
        if (!r.ok) throw new Error(`no echo reply: ${r.out}`);
        const [rw1, up1] = [await rewritePackets(names, v2h, proto), await uplinkTx(names, v2h)];
        if (r.ttl === undefined || r.ttl >= 64) throw new Error(`reply TTL ${r.ttl}: not routed`);
        if (rw1 - rw0 < 3)
          throw new Error(`${v2h}'s ${proto} rewrite flow matched ${rw1 - rw0} packet(s), expected ≥ 3`);
        if (up1 - up0 < 3) throw new Error(`${v2h}'s uplinks sent ${up1 - up0} packet(s), expected ≥ 3`);
        const arp = await run({
          argv: ["ip", "-n", names.ns(W.vm2.name), ...(proto === "ipv6" ? ["-6"] : []), "neigh", "show", dst],
        });
        if (!arp.stdout.includes(W.vm1.mac))
          throw new Error(
            `${W.vm2.name} resolved ${dst} to "${arp.stdout.trim()}", not vm1's ${W.vm1.mac} (OVN answers)`,
          );
        return `reply TTL ${r.ttl}; ${dst} resolved by OVN to ${W.vm1.mac}; ${v2h}: rewrite flow +${rw1 - rw0}, uplinks +${up1 - up0} packets`;
      });
    }

    say("walk 1c: a provider VM on vm1's host reaches it over br-int, never through the kernel");
    for (const dst of [W.vm1.ip4, W.vm1.ip6]) {
      const proto = dst.includes(":") ? "ipv6" : "ip";
      await c.expect("1c", `${W.vm3.name} on ${W.vm3.host} → ${dst} on ${v1h}, switched`, async () => {
        if (W.vm3.host !== v1h) throw new Error(`${W.vm3.name} is on ${W.vm3.host}, vm1 on ${v1h}`);
        const [rw0, up0] = [await rewritePackets(names, v1h, proto), await uplinkTx(names, v1h)];
        const r = await vmPing(names, W.vm3.name, dst, ECHOES_1C);
        if (!r.ok) throw new Error(`no echo reply: ${r.out}`);
        const [rw1, up1] = [await rewritePackets(names, v1h, proto), await uplinkTx(names, v1h)];
        if (r.ttl !== 64) throw new Error(`reply TTL ${r.ttl}: expected 64 (no router on the way)`);
        // Other traffic may cross meanwhile (BGP keepalives on the uplinks, neighbour discovery,
        // a handful inside user-mode Linux): fewer than the echoes sent means the echoes did not.
        if (rw1 - rw0 >= ECHOES_1C)
          throw new Error(`${v1h}'s ${proto} rewrite flow matched ${rw1 - rw0} packet(s)`);
        if (up1 - up0 >= ECHOES_1C) throw new Error(`${v1h}'s uplinks sent ${up1 - up0} packet(s)`);

        return `reply TTL 64; ${v1h}: rewrite flow +${rw1 - rw0}, uplinks +${up1 - up0} packets (echoes stayed on br-int)`;
      });
    }

    say("walk 2: VM on a tenant network, through the cr-lrp");
    // The seed's walk 2 is a VM without a floating IP (its traffic goes through the cr-lrp's node).
    await change({ fip: false });
    const gw = placement.gatewayHost;
    await c.expect("2", `spine RIB: ${W.router.gwIp4}/32 (cr-lrp) from ${gw}`, () =>
      routeFrom(names, `${W.router.gwIp4}/32`, gw),
    );
    await c.expect("2", `spine RIB: ${W.vmTenant.ip4}/32 from ${gw} only (not ${W.vmTenant.host})`, () =>
      routeFrom(names, `${W.vmTenant.ip4}/32`, gw),
    );
    await c.expect("2", `${gw} holds the seed's rule, subnet route and permanent neighbour`, () =>
      gatewayObjects(names, gw),
    );
    /** A ping from the spine that must cross the Geneve segment between the gateway and the VM's host. */
    const pingAcrossGeneve = async (dst: string): Promise<string> => {
      const ports = [tunPort(gw), tunPort(W.vmTenant.host)];
      const before = await tunnelPackets(names, ports);
      const detail = await pings(names, dst);
      const after = await tunnelPackets(names, ports);
      if (after - before < 2)
        throw new Error(`${detail}, but the tunnel segment saw no packets between the two hosts`);
      return `${detail}; ${after - before} packets on the Geneve segment`;
    };
    await c.expect("2", `ping ${W.vmTenant.ip4} through ${gw} and Geneve to ${W.vmTenant.host}`, () =>
      pingAcrossGeneve(W.vmTenant.ip4),
    );
    await c.expect("2", `TCP to the listener in ${W.vmTenant.name}`, () =>
      tcp(names, W.vmTenant.ip4, banner(W.vmTenant.name)).catch(async (err: Error) => {
        throw (await snatExplains(names, gw)) ?? err;
      }),
    );
    await c.expect("2", `IPv6: spine RIB ${W.router.gwIp6}/128 (cr-lrp) from ${gw}`, () =>
      routeFrom(names, `${W.router.gwIp6}/128`, gw),
    );
    // The GUA tenant subnet (expose_ipv6_gua_tenant_networks): no NAT for IPv6, so TCP works too;
    // the router's replies leave through the cr-lrp towards the provider gateway, which br-ex's
    // neighbour-solicitation responder answers.
    await c.expect(
      "2",
      `IPv6: spine RIB ${W.vmTenant.ip6}/128 from ${gw} only (not ${W.vmTenant.host})`,
      () => routeFrom(names, `${W.vmTenant.ip6}/128`, gw),
    );
    await c.expect("2", `IPv6: ping ${W.vmTenant.ip6} through ${gw} and Geneve to ${W.vmTenant.host}`, () =>
      pingAcrossGeneve(W.vmTenant.ip6),
    );
    await c.expect("2", `IPv6: TCP to the listener in ${W.vmTenant.name} (no NAT)`, () =>
      tcp(names, W.vmTenant.ip6, banner(W.vmTenant.name)),
    );

    say("walk 3: tenant VM with a floating IP");
    await change({ fip: true });
    await c.expect("3", `spine RIB: ${W.fip.ip4}/32 from ${W.vmTenant.host} (the VM's host)`, () =>
      routeFrom(names, `${W.fip.ip4}/32`, W.vmTenant.host),
    );
    await c.expect("3", `ping ${W.fip.ip4} (FIP) from the spine`, () => pings(names, W.fip.ip4));
    await c.expect("3", `TCP to ${W.fip.ip4} reaches ${W.vmTenant.name}`, () =>
      tcp(names, W.fip.ip4, banner(W.vmTenant.name)),
    );

    say("walk 3b: a load balancer on router-test with a provider VIP (as ovn-octavia-provider makes it)");
    const lb = state.loadBalancer === true && !manual;
    if (manual) say("  (skipped with MANUAL exposure: the seed has no load balancer to install by hand)");
    else if (!lb)
      await c.expect("3b", `TCP to the load balancer VIP ${W.lb.vip4}`, async () => {
        throw new Limitation(
          `no load balancer in this lab: its Open vSwitch (${ovsVersion() ?? "?"}) aborts in the userspace ` +
            `conntrack once a load-balanced connection reaches the member's host ("conntrack.c:1063: assertion ` +
            `conn->conn_type == CT_CONN_TYPE_DEFAULT failed"); \`lab up --platform trixie\` (OVS 3.5) carries it. ` +
            `The agent's load balancer exposure is proven by test/integration/agent/load-balancer.test.ts.`,
        );
      });
    else {
      await c.expect("3b", `spine RIB: ${W.lb.vip4}/32 (VIP) from ${gw}, the cr-lrp's host`, () =>
        routeFrom(names, `${W.lb.vip4}/32`, gw),
      );
      await c.expect(
        "3b",
        `TCP to the VIP ${W.lb.vip4}:${PROBE_PORT} reaches its member ${W.vmTenant.name}:${W.lb.memberPort}`,
        () => tcp(names, W.lb.vip4, memberBanner),
      );
    }

    say(
      `walk 4: changes${manual ? " (MANUAL exposure: the lab re-installs the seed's objects after each change)" : ""}`,
    );
    await change({ fip: false });
    await c.expect("4", `FIP removed: ${W.fip.ip4}/32 withdrawn`, () => routeGone(names, `${W.fip.ip4}/32`));
    const newVm1Host: HostName =
      HOSTS.find((h) => h !== placement.vm1Host && h !== W.vmTenant.host) ?? "rack-1-host-1";
    await change({ vm1Host: newVm1Host });
    await c.expect("4", `vm1-provider moved: ${W.vm1.ip4}/32 now from ${newVm1Host}`, () =>
      routeFrom(names, `${W.vm1.ip4}/32`, newVm1Host, CHANGE_DEADLINE_MS),
    );
    await c.expect("4", `vm1-provider moved: ${W.vm1.ip6}/128 now from ${newVm1Host}`, () =>
      routeFrom(names, `${W.vm1.ip6}/128`, newVm1Host, CHANGE_DEADLINE_MS),
    );
    await c.expect("4", `ping ${W.vm1.ip4} on ${newVm1Host}`, () => pings(names, W.vm1.ip4));
    // The VM keeps its old neighbour entry for its IPv6 gateway (the old host's br-ex MAC): the new
    // host's flows rewrite it and its responder answers the next solicitation.
    await c.expect("4", `IPv6: ping ${W.vm1.ip6} on ${newVm1Host}`, () => pings(names, W.vm1.ip6));
    const newGw: HostName =
      W.router.gatewayChassis.map((g) => g.host).find((h) => h !== placement.gatewayHost) ?? "rack-1-host-2";
    await change({ gatewayHost: newGw });
    await c.expect("4", `failover: cr-lrp ${W.router.gwIp4}/32 now from ${newGw}`, () =>
      routeFrom(names, `${W.router.gwIp4}/32`, newGw, CHANGE_DEADLINE_MS),
    );
    await c.expect("4", `failover: ${W.vmTenant.ip4}/32 now from ${newGw}`, () =>
      routeFrom(names, `${W.vmTenant.ip4}/32`, newGw, CHANGE_DEADLINE_MS),
    );
    await c.expect("4", `failover: ${W.vmTenant.ip6}/128 now from ${newGw}`, () =>
      routeFrom(names, `${W.vmTenant.ip6}/128`, newGw, CHANGE_DEADLINE_MS),
    );
    if (lb) {
      await c.expect("4", `failover: the load balancer VIP ${W.lb.vip4}/32 now from ${newGw}`, () =>
        routeFrom(names, `${W.lb.vip4}/32`, newGw, CHANGE_DEADLINE_MS),
      );
    }
    await c.expect("4", `failover: ${newGw} holds the subnet rule, route and neighbour`, () =>
      gatewayObjects(names, newGw),
    );
    await c.expect("4", `failover: the old gateway ${gw} no longer steers ${W.tenant.cidr4}`, async () => {
      await poll(
        async () => !(await steersSubnet(names, gw)),
        "old rule gone",
        CHANGE_DEADLINE_MS,
        250,
      ).catch(() => {
        throw new Error(`${gw} still steers ${W.tenant.cidr4}`);
      });
      return `${gw} no longer steers ${W.tenant.cidr4} (${labRuleLayout(names, gw)})`;
    });
    // Right after a failover OVN reprograms both gateways (slow inside user-mode Linux): the
    // change's deadline, not a packet's.
    await c.expect("4", `failover: ping ${W.vmTenant.ip4} through ${newGw}`, () =>
      pings(names, W.vmTenant.ip4, CHANGE_DEADLINE_MS),
    );
    if (lb) {
      await c.expect("4", `failover: TCP to the VIP ${W.lb.vip4} through ${newGw}`, () =>
        tcp(names, W.lb.vip4, memberBanner),
      );
    }

    say("restoring the seed's placement");
    await change(BASELINE);
  } catch (err) {
    c.results.push({
      walk: "-",
      name: "check aborted",
      ok: false,
      status: "fail",
      detail: (err as Error).message,
    });
    say(`  FAIL  check aborted: ${(err as Error).stack ?? String(err)}`);
  } finally {
    await stopPids(listeners.filter(alive));
    state.processes = state.processes.filter((p) => !listeners.includes(p.pid));
    rec.save();
  }
  const seconds = (Date.now() - t0) / 1000;
  const failed = c.results.filter((r) => !r.ok);
  const byWalk = new Map<string, CheckResult[]>();
  for (const r of c.results) byWalk.set(r.walk, [...(byWalk.get(r.walk) ?? []), r]);
  say("");
  for (const [walk, rs] of byWalk) {
    const limits = rs.filter((r) => r.status === "limit").length;
    say(
      `walk ${walk}: ${rs.every((r) => r.ok) ? "PASS" : `FAIL (${rs.filter((r) => !r.ok).length} of ${rs.length})`}` +
        (limits ? ` — ${limits} known limitation(s), explained above` : ""),
    );
  }
  say(
    `check: ${c.results.length - failed.length}/${c.results.length} passed in ${seconds.toFixed(1)} s (${manual ? "manual exposure" : "agent"})`,
  );
  return {
    ok: failed.length === 0 && c.results.length > 0,
    results: c.results,
    seconds,
    mode: manual ? "manual" : "agent",
  };
}
