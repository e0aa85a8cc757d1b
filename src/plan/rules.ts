/**
 * The exposure rules: what one Port_Binding row contributes to this chassis' plan, and the
 * derived topology they share (memoised as dependency-tracked nodes, see dep-graph.ts).
 *
 * Binding rule: a port is "here" when its `chassis` column is one of our Chassis rows. During a
 * live migration OVN binds the destination in `additional_chassis` (and lists both in
 * requested-chassis) while `chassis` stays on the source; we deliberately ignore
 * `additional_chassis`, so exactly one hypervisor advertises the /32 at any time, and the
 * exposure moves when ovn-controller moves `chassis` at activation (as upstream does). VIF ports
 * also need `up` not false (absent `up`, older OVN, counts as up).
 *
 * Topology (works for Neutron and for plain ovn-nbctl data; no name conventions needed):
 *  - provider datapath: has a localnet port; mapped here when its options:network_name is in
 *    our bridge mappings (tagged localnet → device br-ex.<tag>);
 *  - gateway port (kind "cr-lrp"): a chassisredirect row (its options:distributed-port LRP's
 *    peer sits on the provider datapath; Neutron's "cr-<lrp>" name is the fallback), or a
 *    gateway router's l3gateway row whose peer sits on a provider datapath;
 *  - tenant subnet: a router port (patch/l3gateway) on a router with a local gateway, whose
 *    peer sits on a datapath without localnet; its networks come from its `mac` column
 *    ("fa:16:3e:34:30:23 10.0.0.65/26");
 *  - FIPs: nat_addresses entries on the provider-side router port, exposed where the resident
 *    port (VM port: distributed; cr-lrp: centralized) is bound.
 */
import type { AgentConfig } from "../config/agent-config.ts";
import {
  contains,
  hostCidr,
  type IpPrefix,
  isIpv6Gua,
  type MacColumn,
  type NatEntry,
  type Parsed,
  parseIpPrefix,
  parseMacColumn,
  parseNatEntry,
  parseNeutronCidrs,
  quote,
  unexposableReason,
} from "../sb/addresses.ts";
import { type LoadBalancer, vipAddress } from "../sb/load-balancer.ts";
import { KNOWN_PORT_TYPES, type PortBinding } from "../sb/port-binding.ts";
import type { DepGraph } from "./dep-graph.ts";
import type { PlanEntry, PlanProblem } from "./desired-state.ts";
import { EntryDraft, type ExposeVia } from "./entry-builder.ts";
import { type BridgeSlot, type BridgeSlots, vlanDevice } from "./host-wide.ts";
import type { HostNetwork } from "./local-facts.ts";
import { logicalPortError } from "./names.ts";
import { keyDpType, keyLbDp, keyName, keyRow, type SbStore } from "./sb-store.ts";

export type DpBridge =
  | { readonly kind: "none" }
  | { readonly kind: "unmapped" }
  | { readonly kind: "mapped"; readonly slot: BridgeSlot; readonly via: ExposeVia; readonly network: string };

export interface GatewayInfo {
  readonly uuid: string;
  readonly logicalPort: string;
  readonly mac: string;
  /** The gateway's networks as written ("172.24.4.163/24"), exposable ones only. */
  readonly nets: readonly IpPrefix[];
  readonly via: ExposeVia;
  /** The router port it redirects (chassisredirect) or itself (l3gateway). */
  readonly routerPort: string;
}

interface GatewayResult {
  readonly info?: GatewayInfo;
  readonly problem?: string;
}

export interface TenantSubnet {
  /** Canonical network ("10.0.0.64/26"). */
  readonly cidr: string;
  /** The router port's address with its prefix, for containment tests. */
  readonly net: IpPrefix;
  /** The gateway's address of the same family: the route's next hop. */
  readonly via: string;
  readonly gateway: GatewayInfo;
  readonly routerPort: string;
}

interface LrpResult {
  readonly subnets: readonly TenantSubnet[];
  readonly tenantDatapath?: string;
  readonly problem?: string;
}

/** What one row contributes. */
export interface UnitOutput {
  readonly entries: readonly PlanEntry[];
  readonly problems: readonly PlanProblem[];
  /** A tenant datapath whose VM ports this chassis exposes (for conditional monitoring). */
  readonly tenantDatapath?: string;
}

const EMPTY: UnitOutput = { entries: [], problems: [] };
const SCOPE_KEYS = { 4: "neutron:subnet_pool_addr_scope4", 6: "neutron:subnet_pool_addr_scope6" } as const;
const NO_SUBNETS: LrpResult = { subnets: [] };

const macCache = new WeakMap<PortBinding, Parsed<MacColumn>>();
const natCache = new WeakMap<PortBinding, readonly Parsed<NatEntry>[]>();

function macOf(pb: PortBinding): Parsed<MacColumn> {
  let m = macCache.get(pb);
  if (!m) {
    m = parseMacColumn(pb.mac);
    macCache.set(pb, m);
  }
  return m;
}

function natOf(pb: PortBinding): readonly Parsed<NatEntry>[] {
  let n = natCache.get(pb);
  if (!n) {
    n = pb.natAddresses.map(parseNatEntry);
    natCache.set(pb, n);
  }
  return n;
}

/** Problems of one row (a class method, not a closure: one is made per row). */
class Reporter {
  readonly list: PlanProblem[] = [];
  constructor(private readonly object: string) {}
  report(message: string): void {
    this.list.push({ table: "Port_Binding", object: this.object, message });
  }
}

/** Whether two prefixes of one family share any address (one contains the other). */
const overlaps = (a: IpPrefix, b: IpPrefix): boolean =>
  a.family === b.family && (contains(a, b) || contains(b, a));

export class Rules {
  private readonly tenantExposure: boolean;
  private readonly scopes: ReadonlySet<string>;

  private readonly hostNets: ReadonlyArray<{ net: IpPrefix; text: string }>;

  constructor(
    private readonly config: AgentConfig,
    private readonly slots: BridgeSlots,
    private readonly store: SbStore,
    private readonly graph: DepGraph,
    hostNetworks: readonly HostNetwork[] = [],
  ) {
    this.tenantExposure = config.expose_tenant_networks || config.expose_ipv6_gua_tenant_networks;
    this.scopes = new Set(config.address_scopes);
    const nets: Array<{ net: IpPrefix; text: string }> = [];
    for (const h of hostNetworks) {
      const p = parseIpPrefix(h.cidr);
      if (p.ok) nets.push({ net: p.value, text: `${h.cidr} on ${h.dev}` });
    }
    this.hostNets = nets;
  }

  /**
   * Why an entry must not be applied: one of its prefixes (rule, route, advertised address)
   * overlaps the host's own addresses or connected networks. Undefined: it is safe.
   */
  private overlapsHost(e: PlanEntry): string | undefined {
    if (this.hostNets.length === 0) return undefined;
    // A VM's /32 is its rule, its route and its advertisement: look at each prefix once.
    const prefixes = new Set([
      ...e.rules.flatMap((r) => (r.to !== undefined ? [r.to] : [])),
      ...e.routes.filter((r) => r.dst !== "default").map((r) => r.dst),
      ...e.advertised.map((ip) => (ip.includes("/") ? ip : hostCidr(ip, ip.includes(":") ? 6 : 4))),
    ]);
    for (const text of prefixes) {
      const p = parseIpPrefix(text);
      if (!p.ok) continue;
      const hit = this.hostNets.find((h) => overlaps(p.value, h.net));
      if (hit)
        return `${e.cause.event} ${p.value.network}: overlaps the host's own ${hit.text}; not exposed (it would steer the host's traffic into the provider bridge)`;
    }
    return undefined;
  }

  // ---- tracked reads ------------------------------------------------------------------------

  /**
   * Untracked: which Chassis rows are ours changes only when our Chassis row is (re)created or
   * removed, and the planner then recomputes everything (cheaper than 100,000 registrations).
   */
  private isOurs(chassis: string | undefined): boolean {
    return this.store.isOurs(chassis);
  }

  /**
   * A gateway router's ports (type l3gateway) are pinned by options:l3gateway-chassis (a name);
   * ovn-controller also fills `chassis` once it claims them. Either one makes them ours.
   */
  private gatewayHere(pb: PortBinding): boolean {
    if (this.isOurs(pb.chassis)) return true;
    return pb.type === "l3gateway" && this.store.isOurName(pb.options.get("l3gateway-chassis"));
  }

  private portsOn(dp: string, type: string): readonly PortBinding[] {
    this.graph.read(keyDpType(dp, type));
    return this.store.portsOn(dp, type);
  }

  /** The row named `name`, if it is usable (safe name, known type). */
  private lookup(name: string | undefined): PortBinding | undefined {
    if (name === undefined) return undefined;
    this.graph.read(keyName(name));
    const pb = this.store.byName(name);
    return pb && this.isSane(pb) ? pb : undefined;
  }

  private isSane(pb: PortBinding): boolean {
    return logicalPortError(pb.logicalPort) === undefined && KNOWN_PORT_TYPES.has(pb.type);
  }

  /** Usable and the canonical owner of its name. */
  private usable(pb: PortBinding): boolean {
    this.graph.read(keyName(pb.logicalPort));
    return this.isSane(pb) && this.store.byName(pb.logicalPort)?.uuid === pb.uuid;
  }

  // ---- derived topology (memoised nodes) ------------------------------------------------------

  bridgeOf(dp: string): DpBridge {
    return this.graph.node(`n:br:${dp}`, (): DpBridge => {
      const localnets = this.portsOn(dp, "localnet");
      if (localnets.length === 0) return { kind: "none" };
      for (const ln of localnets) {
        const network = ln.options.get("network_name");
        const slot = network === undefined ? undefined : this.slots.byNetwork.get(network);
        if (!slot || network === undefined) continue;
        const dev = ln.tag === undefined ? slot.bridge : vlanDevice(slot.bridge, ln.tag).dev;
        if (dev === undefined) continue; // reported by the host-wide plan
        return { kind: "mapped", slot, via: { table: slot.table, dev }, network };
      }
      return { kind: "unmapped" };
    });
  }

  private gatewayInfo(g: PortBinding): GatewayResult {
    return this.graph.node(`n:gw1:${g.uuid}`, (): GatewayResult => {
      this.graph.read(keyRow(g.uuid));
      if (!this.gatewayHere(g)) return {};
      let routerPort: PortBinding | undefined;
      let routerPortName: string;
      if (g.type === "chassisredirect") {
        routerPortName =
          g.options.get("distributed-port") ??
          (g.logicalPort.startsWith("cr-") ? g.logicalPort.slice(3) : g.logicalPort);
        routerPort = this.lookup(routerPortName);
        if (!routerPort) return { problem: `distributed port ${quote(routerPortName)} not found` };
      } else {
        routerPort = g;
        routerPortName = g.logicalPort;
      }
      const peer = this.lookup(routerPort.options.get("peer"));
      if (!peer) return g.type === "chassisredirect" ? { problem: "router port has no peer" } : {};
      const br = this.bridgeOf(peer.datapath);
      if (br.kind !== "mapped") {
        if (g.type === "chassisredirect" && br.kind === "unmapped")
          return { problem: "external network is not in the local bridge mappings" };
        return {};
      }
      let mac = macOf(g);
      if (mac.ok && mac.value.ips.length === 0 && routerPort !== g) mac = macOf(routerPort);
      if (!mac.ok) return { problem: mac.error };
      const nets = mac.value.ips.filter((p) => unexposableReason(p) === undefined);
      if (mac.value.mac === undefined || nets.length === 0)
        return { problem: "gateway port has no MAC and IP" };
      return {
        info: {
          uuid: g.uuid,
          logicalPort: g.logicalPort,
          mac: mac.value.mac,
          nets,
          via: br.via,
          routerPort: routerPortName,
        },
      };
    });
  }

  /** This chassis' gateways on a router datapath, sorted by logical port. */
  gatewaysOf(dp: string): readonly GatewayInfo[] {
    return this.graph.node(`n:gws:${dp}`, () => {
      const out: GatewayInfo[] = [];
      for (const type of ["chassisredirect", "l3gateway"]) {
        for (const g of this.portsOn(dp, type)) {
          if (!this.usable(g)) continue;
          const r = this.gatewayInfo(g);
          if (r.info) out.push(r.info);
        }
      }
      return out.sort((a, b) => (a.logicalPort < b.logicalPort ? -1 : 1));
    });
  }

  private scopeAllowed(pb: PortBinding, family: 4 | 6): boolean {
    if (this.scopes.size === 0) return true;
    const scope = pb.externalIds.get(SCOPE_KEYS[family]);
    return scope !== undefined && this.scopes.has(scope);
  }

  private familyAllowed(p: IpPrefix): boolean {
    return this.config.expose_tenant_networks || isIpv6Gua(p);
  }

  /** The tenant subnets a router port exposes here (empty unless its router's gateway is local). */
  private lrpSubnets(l: PortBinding): LrpResult {
    return this.graph.node(`n:lrp:${l.uuid}`, (): LrpResult => {
      this.graph.read(keyRow(l.uuid));
      if (!this.tenantExposure) return NO_SUBNETS;
      const gws = this.gatewaysOf(l.datapath);
      const gw = gws[0];
      if (!gw || gws.some((g) => g.uuid === l.uuid || g.routerPort === l.logicalPort)) return NO_SUBNETS;
      const peer = this.lookup(l.options.get("peer"));
      if (!peer) return NO_SUBNETS;
      if (this.bridgeOf(peer.datapath).kind !== "none") return NO_SUBNETS;
      const mac = macOf(l);
      if (!mac.ok) return { subnets: [], problem: mac.error };
      const subnets: TenantSubnet[] = [];
      const refused: string[] = [];
      for (const net of mac.value.ips) {
        if (unexposableReason(net) !== undefined || !this.familyAllowed(net)) continue;
        const floor =
          net.family === 4 ? this.config.min_exposed_prefix_ipv4 : this.config.min_exposed_prefix_ipv6;
        if (net.prefix < floor) {
          refused.push(
            `tenant subnet ${net.network} is wider than /${floor} (min_exposed_prefix_ipv${net.family}): not exposed, it would steer the host's own traffic`,
          );
          continue;
        }
        if (!this.scopeAllowed(peer, net.family)) continue;
        if (gw.nets.some((n) => n.ip === net.ip)) continue;
        const via = gw.nets.find((n) => n.family === net.family);
        if (!via) continue;
        subnets.push({ cidr: net.network, net, via: via.ip, gateway: gw, routerPort: l.logicalPort });
      }
      return {
        subnets,
        tenantDatapath: peer.datapath,
        ...(refused.length ? { problem: refused.join("; ") } : {}),
      };
    });
  }

  /** Subnets of a tenant datapath exposed from this chassis. */
  tenantSubnets(dp: string): readonly TenantSubnet[] {
    return this.graph.node(`n:ten:${dp}`, () => {
      if (this.bridgeOf(dp).kind !== "none") return [];
      const out: TenantSubnet[] = [];
      for (const type of ["patch", "l3gateway"]) {
        for (const p of this.portsOn(dp, type)) {
          if (!this.usable(p)) continue;
          const l = this.lookup(p.options.get("peer"));
          if (!l || l.datapath === dp) continue;
          const r = this.lrpSubnets(l);
          if (r.tenantDatapath === dp) out.push(...r.subnets);
        }
      }
      return out.sort((a, b) => (a.cidr < b.cidr ? -1 : a.cidr > b.cidr ? 1 : 0));
    });
  }

  // ---- units --------------------------------------------------------------------------------

  unit(pb: PortBinding): UnitOutput {
    const nameErr = logicalPortError(pb.logicalPort);
    if (nameErr)
      return { entries: [], problems: [{ table: "Port_Binding", object: pb.uuid, message: nameErr }] };
    const rep = new Reporter(pb.logicalPort);
    if (!KNOWN_PORT_TYPES.has(pb.type)) {
      rep.report(`unknown type ${quote(pb.type)}`);
      return { entries: [], problems: rep.list };
    }
    // Untracked on purpose: the planner re-runs every row sharing a name when that set changes.
    if (!this.store.isCanonical(pb)) {
      rep.report(`logical_port also used by another row; row ${pb.uuid} ignored`);
      return { entries: [], problems: rep.list };
    }
    const entries: PlanEntry[] = [];
    let tenantDatapath: string | undefined;
    switch (pb.type) {
      case "":
      case "virtual":
        this.vif(pb, entries, rep);
        break;
      case "chassisredirect":
        this.gateway(pb, entries, rep);
        break;
      case "l3gateway":
        if (!this.gateway(pb, entries, rep)) tenantDatapath = this.routerPort(pb, entries, rep);
        break;
      case "patch":
        tenantDatapath = this.routerPort(pb, entries, rep);
        break;
    }
    if (pb.natAddresses.length > 0) this.natCarrier(pb, entries, rep);
    // Nothing the Southbound says may steer the host's own traffic: such entries are refused, named.
    for (let i = entries.length - 1; i >= 0; i--) {
      const why = this.overlapsHost(entries[i] as PlanEntry);
      if (why === undefined) continue;
      rep.report(why);
      entries.splice(i, 1);
    }
    // Column oddities matter only for rows that take part here (topology or exposed rows).
    if (entries.length > 0 || tenantDatapath !== undefined || pb.type !== "")
      for (const o of pb.oddities) rep.report(`odd column ${o}`);
    if (entries.length === 0 && rep.list.length === 0 && tenantDatapath === undefined) return EMPTY;
    return { entries, problems: rep.list, ...(tenantDatapath !== undefined ? { tenantDatapath } : {}) };
  }

  /** The port's IPs: from `mac`, or from neutron:cidrs when `mac` is only "unknown". */
  private portIps(pb: PortBinding, rep: Reporter): IpPrefix[] {
    const mac = macOf(pb);
    if (!mac.ok) {
      rep.report(mac.error);
      return [];
    }
    let ips: readonly IpPrefix[] = mac.value.ips;
    if (ips.length === 0 && mac.value.unknown) {
      const cidrs = pb.externalIds.get("neutron:cidrs");
      if (cidrs === undefined) return [];
      const parsed = parseNeutronCidrs(cidrs);
      if (!parsed.ok) {
        rep.report(parsed.error);
        return [];
      }
      ips = parsed.value;
    }
    const out: IpPrefix[] = [];
    for (const p of ips) {
      const why = unexposableReason(p);
      if (why) rep.report(why);
      else out.push(p);
    }
    return out;
  }

  private vif(pb: PortBinding, entries: PlanEntry[], rep: Reporter): void {
    const br = this.bridgeOf(pb.datapath);
    if (br.kind === "unmapped") return;
    if (br.kind === "mapped") {
      if (!this.isOurs(pb.chassis) || pb.up === false) return;
      const ips = this.portIps(pb, rep);
      if (ips.length === 0) return;
      const d = new EntryDraft(this.config, `provider-vm:${pb.logicalPort}`, {
        event: "PortBindingChassisCreatedEvent",
        logicalPort: pb.logicalPort,
        kind: "provider-vm",
      });
      for (const ip of ips) d.exposeHost(ip, br.via);
      if (pb.type === "virtual") {
        // Upstream: an IPv6 VIP (e.g. Amphora) on a provider network needs NDP proxy for its prefix.
        const cidrs = parseNeutronCidrs(pb.externalIds.get("neutron:cidrs") ?? "");
        if (cidrs.ok)
          for (const c of cidrs.value)
            if (c.family === 6 && c.explicitPrefix)
              d.ndpProxies.push({ dev: br.via.dev, ip: c.network.slice(0, c.network.indexOf("/")) });
      }
      entries.push(d.finish());
      return;
    }
    // Tenant network: exposed from the chassis of the router's gateway, not the VM's chassis.
    if (!this.tenantExposure || this.config.advertisement_method_tenant_networks === "subnet") return;
    if (pb.type === "" && pb.chassis === undefined) return;
    const subnets = this.tenantSubnets(pb.datapath);
    if (subnets.length === 0) return;
    const d = new EntryDraft(this.config, `tenant-vm:${pb.logicalPort}`, {
      event: "TenantPortCreatedEvent",
      logicalPort: pb.logicalPort,
      kind: "tenant-vm",
    });
    for (const ip of this.portIps(pb, rep)) {
      if (!this.familyAllowed(ip) || !this.scopeAllowed(pb, ip.family)) continue;
      const s = subnets.find((x) => contains(x.net, ip));
      if (s) d.advertise(ip, s.gateway.via.dev);
    }
    if (!d.isEmpty()) entries.push(d.finish());
  }

  /** A gateway port bound here; false when the row is not a gateway port. */
  private gateway(pb: PortBinding, entries: PlanEntry[], rep: Reporter): boolean {
    const r = this.gatewayInfo(pb);
    if (r.problem) rep.report(r.problem);
    if (!r.info) return r.problem !== undefined || pb.type === "chassisredirect";
    const g = r.info;
    const d = new EntryDraft(this.config, `cr-lrp:${pb.logicalPort}`, {
      event: "PortBindingChassisCreatedEvent",
      logicalPort: pb.logicalPort,
      kind: "cr-lrp",
    });
    for (const net of g.nets) {
      d.exposeHost(net, g.via);
      // The kernel only has link-local addresses on br-ex, so OVN would not answer its ARP.
      d.neighbours.push({ family: net.family, dev: g.via.dev, ip: net.ip, mac: g.mac });
      if (net.family === 6 && net.explicitPrefix)
        d.ndpProxies.push({ dev: g.via.dev, ip: net.network.slice(0, net.network.indexOf("/")) });
    }
    entries.push(d.finish());
    this.loadBalancerVips(pb, g, entries, rep);
    return true;
  }

  /**
   * Load balancers on this gateway's router (as ovn-octavia-provider makes them) whose VIP is on
   * the provider network: the router's gateway port answers for the VIP and does the DNAT, so the
   * VIP is exposed from this chassis like a centralized FIP, and follows the gateway on failover.
   * VIPs outside the gateway's networks (tenant-side VIPs) are not this chassis' to announce.
   */
  private loadBalancerVips(pb: PortBinding, g: GatewayInfo, entries: PlanEntry[], rep: Reporter): void {
    for (const { lb, ips, bad } of this.routerLoadBalancers(pb.datapath, g)) {
      for (const key of bad)
        rep.report(`load balancer ${quote(lb.name || lb.uuid)}: VIP ${quote(key)} is not an address`);
      if (ips.length === 0) continue;
      const name = lb.name || lb.uuid;
      const d = new EntryDraft(this.config, `lb-vip:${name}:${pb.logicalPort}`, {
        event: "OVNLBCreateEvent",
        logicalPort: name,
        kind: "lb-vip",
      });
      for (const ip of ips) d.exposeHost(ip, g.via);
      entries.push(d.finish());
    }
  }

  /**
   * The load balancers of a router and their VIPs on the gateway's networks. OVN's Southbound
   * lists a load balancer under the switches it is applied to (before 23.09 only those; later also
   * `lr_datapath_group`), so the router's own datapath and every switch attached to it are looked at.
   */
  private routerLoadBalancers(
    routerDp: string,
    g: GatewayInfo,
  ): ReadonlyArray<{ lb: LoadBalancer; ips: IpPrefix[]; bad: string[] }> {
    return this.graph.node(`n:lbs:${routerDp}:${g.uuid}`, () => {
      const dps = new Set<string>([routerDp]);
      for (const lrp of this.portsOn(routerDp, "patch")) {
        const peer = this.lookup(lrp.options.get("peer"));
        if (peer && peer.datapath !== routerDp) dps.add(peer.datapath);
      }
      const seen = new Set<string>();
      const out: Array<{ lb: LoadBalancer; ips: IpPrefix[]; bad: string[] }> = [];
      for (const dp of [...dps].sort()) {
        this.graph.read(keyLbDp(dp));
        for (const lb of this.store.loadBalancersOn(dp)) {
          if (seen.has(lb.uuid)) continue;
          seen.add(lb.uuid);
          const ips: IpPrefix[] = [];
          const bad: string[] = [];
          for (const key of lb.vips) {
            const addr = vipAddress(key);
            const ip = addr === undefined ? undefined : parseIpPrefix(addr);
            if (!ip?.ok) {
              bad.push(key);
              continue;
            }
            const v = ip.value;
            if (unexposableReason(v) !== undefined || g.nets.some((n) => n.ip === v.ip)) continue;
            if (!g.nets.some((n) => n.family === v.family && contains(n, v))) continue;
            if (!ips.some((x) => x.ip === v.ip)) ips.push(v);
          }
          out.push({ lb, ips, bad });
        }
      }
      return out.sort((a, b) => (a.lb.name < b.lb.name ? -1 : a.lb.name > b.lb.name ? 1 : 0));
    });
  }

  /** A router port: tenant subnets behind a local gateway. Returns the tenant datapath. */
  private routerPort(pb: PortBinding, entries: PlanEntry[], rep: Reporter): string | undefined {
    const r = this.lrpSubnets(pb);
    if (r.problem) rep.report(r.problem);
    for (const s of r.subnets) {
      const d = new EntryDraft(this.config, `tenant-subnet:${pb.logicalPort}:${s.cidr}`, {
        event: "SubnetRouterAttachedEvent",
        logicalPort: pb.logicalPort,
        kind: "tenant-subnet",
      });
      const via = s.gateway.via;
      d.rule(s.cidr, s.net.family, via);
      d.routes.push({
        family: s.net.family,
        table: via.table,
        dst: s.cidr,
        dev: via.dev,
        via: s.via,
        scope: "global",
      });
      if (this.config.advertisement_method_tenant_networks === "subnet")
        d.advertiseSubnet(s.cidr, s.net.family, s.via, via.dev);
      entries.push(d.finish());
    }
    return r.subnets.length > 0 ? r.tenantDatapath : undefined;
  }

  /** FIPs listed in this port's nat_addresses, grouped by the port they are resident on. */
  private natCarrier(pb: PortBinding, entries: PlanEntry[], rep: Reporter): void {
    const br = this.bridgeOf(pb.datapath);
    const parsed = natOf(pb);
    for (const p of parsed) if (!p.ok) rep.report(p.error);
    if (br.kind !== "mapped") return;
    const groups = new Map<string, IpPrefix[]>();
    for (const p of parsed) {
      if (!p.ok) continue;
      const e = p.value;
      let resident: string;
      let exclude: readonly IpPrefix[] = [];
      if (e.resident !== undefined) {
        const x = this.lookup(e.resident);
        if (!x) continue;
        const gatewayish = x.type === "chassisredirect" || x.type === "l3gateway";
        if (gatewayish ? !this.gatewayHere(x) : !this.isOurs(x.chassis) || x.up === false) continue;
        if (gatewayish) {
          // Centralized: only behind a usable local gateway, whose own (SNAT) address is its
          // cr-lrp entry's, not a FIP.
          const g = this.gatewayInfo(x).info;
          if (!g) continue;
          // OVN lists the router's load balancer VIPs among the gateway's NAT addresses: those
          // are the load balancer's entries (OVNLBCreateEvent), not floating IPs.
          exclude = [...g.nets, ...this.routerLoadBalancers(x.datapath, g).flatMap((l) => l.ips)];
        }
        resident = x.logicalPort;
      } else if (pb.type === "l3gateway" && this.gatewayHere(pb)) {
        // A gateway router's NAT addresses: its own external address is its cr-lrp-like entry.
        resident = pb.logicalPort;
        const gw = this.lookup(pb.options.get("peer"));
        exclude = (gw && this.gatewayInfo(gw).info?.nets) || [];
      } else continue;
      let list = groups.get(resident);
      if (!list) {
        list = [];
        groups.set(resident, list);
      }
      for (const ip of e.ips) {
        const why = unexposableReason(ip);
        if (why) rep.report(why);
        else if (!exclude.some((x) => x.ip === ip.ip)) list.push(ip);
      }
    }
    for (const [resident, ips] of [...groups].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (ips.length === 0) continue;
      const d = new EntryDraft(this.config, `fip:${pb.logicalPort}:${resident}`, {
        event: "FIPSetEvent",
        logicalPort: resident,
        kind: "fip",
      });
      for (const ip of ips) d.exposeHost(ip, br.via);
      entries.push(d.finish());
    }
  }
}
