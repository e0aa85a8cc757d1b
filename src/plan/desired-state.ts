/**
 * The host's desired state: the contract between the pure planner (src/plan) and the appliers
 * (src/host/*). Plain, serialisable values only; every field is already validated (IPs, MACs,
 * prefixes and device names were parsed by the planner), so appliers never see Southbound strings.
 *
 * Identity: each object has a `key` (see the key* helpers below) that the appliers use to diff
 * desired against observed state. Two plan entries that want the same object produce the same key
 * and are merged by `flattenPlan`.
 */

export type IpFamily = 4 | 6;

/** The seed's event names: what made the agent want (or stop wanting) an object. */
export type SeedEvent =
  | "PortBindingChassisCreatedEvent"
  | "PortBindingChassisDeletedEvent"
  | "SubnetRouterAttachedEvent"
  | "SubnetRouterDetachedEvent"
  | "TenantPortCreatedEvent"
  | "TenantPortDeletedEvent"
  | "FIPSetEvent"
  | "FIPUnsetEvent"
  | "OVNLBCreateEvent"
  | "OVNLBDeleteEvent"
  | "ProviderBridgeEvent";

/** Why an object is wanted: the Southbound row (by logical port) and the seed's event. */
export interface Cause {
  readonly event: SeedEvent;
  /** Port_Binding.logical_port (the bridge name for ProviderBridgeEvent, the Load_Balancer's name for OVNLB*). */
  readonly logicalPort: string;
  /** What kind of exposure this is, for humans: "provider-vm", "cr-lrp", "tenant-subnet", "tenant-vm", "fip", "bridge". */
  readonly kind: ExposureKind;
}
export type ExposureKind =
  | "provider-vm"
  | "cr-lrp"
  | "tenant-subnet"
  | "tenant-vm"
  | "fip"
  | "lb-vip"
  | "bridge";

/** `ip address` on a device. `cidr` is canonical ("172.24.4.92/32", "2001:db8::21c/128"). */
export interface AddressSpec {
  readonly dev: string;
  readonly cidr: string;
  readonly family: IpFamily;
}

/**
 * `ip rule add [to <to>] lookup <table> [suppress_prefixlength N] priority <priority>`; `to` is a
 * canonical CIDR. Layout `per-ip` has one rule per exposed IP or subnet (`to`); layout `per-bridge`
 * one rule per bridge table and family without `to`, with `suppressPrefixlength` 0 so the table's
 * default route is ignored and only its host and subnet routes steer traffic.
 */
export interface RuleSpec {
  readonly family: IpFamily;
  readonly priority: number;
  readonly to?: string;
  readonly table: number;
  readonly suppressPrefixlength?: number;
}

/** A route in a numbered table. `dst` is a canonical CIDR, or "default". */
export interface RouteSpec {
  readonly family: IpFamily;
  readonly table: number;
  readonly dst: string;
  readonly dev: string;
  readonly via?: string;
  readonly scope: "link" | "global";
  /** Route metric (IPv6 host routes of the table layout: see TABLE_LAYOUT_IPV6_METRIC). */
  readonly metric?: number;
}

/**
 * FRR 8.4 has no `ipv6 import-table`, and `redistribute table` under the IPv6 address family is
 * accepted but does nothing. So in the `table` layout each advertised IPv6 address also gets a
 * host route in the main table with this metric, and bgpd redistributes kernel routes matching
 * exactly this metric (route-map OVN-BGP-KERNEL6). The ip rule at `ip_rule_priority` still
 * decides forwarding; the main-table copy only carries the announcement.
 */
export const TABLE_LAYOUT_IPV6_METRIC = 1179;
export const MAIN_TABLE = 254;

/** A permanent neighbour entry (`nud permanent`). */
export interface NeighbourSpec {
  readonly family: IpFamily;
  readonly dev: string;
  readonly ip: string;
  readonly mac: string;
}

/** An IPv6 NDP proxy entry (`ip -6 neigh add proxy <ip> dev <dev>`). */
export interface NdpProxySpec {
  readonly dev: string;
  readonly ip: string;
}

/** A device the agent creates and owns. */
export type LinkSpec =
  | { readonly kind: "vlan"; readonly name: string; readonly parent: string; readonly vlanId: number }
  | { readonly kind: "vrf"; readonly name: string; readonly table: number }
  | { readonly kind: "dummy"; readonly name: string; readonly master?: string };

/** A sysctl under /proc/sys, dotted form: "net.ipv4.conf.br-ex.proxy_arp". */
export interface SysctlSpec {
  readonly key: string;
  readonly value: string;
}

/** A routing table name registered in the rt_tables drop-in. */
export interface RoutingTableSpec {
  readonly id: number;
  readonly name: string;
}

/** An OpenFlow flow on a provider bridge, owned through `cookie`. */
export interface FlowSpec {
  readonly bridge: string;
  readonly cookie: number;
  readonly priority: number;
  /** ovs-ofctl match, e.g. "ip,in_port=patch-provnet-1-to-br-int" (port names already validated). */
  readonly match: string;
  /** ovs-ofctl actions, e.g. "mod_dl_dst:aa:bb:cc:dd:ee:ff,NORMAL". */
  readonly actions: string;
  /** OpenFlow table; absent: 0. */
  readonly table?: number;
}

/** What the agent wants from FRR; rendering to text is the FRR applier's job. */
export interface FrrIntent {
  readonly asn: number;
  readonly routerId?: string;
  readonly layout: "vrf" | "table";
  /** layout "vrf": the VRF whose connected routes (the /32s and /128s on bgp_nic) are redistributed and leaked. */
  readonly vrf?: { readonly name: string; readonly table: number };
  /** layout "table": the kernel table imported into zebra (`ip import-table N`) and redistributed. */
  readonly importTable?: number;
  /** layout "table": the metric of the IPv6 host routes in the main table that bgpd redistributes. */
  readonly ipv6KernelMetric?: number;
}

/** The kernel, OVS and FRR objects one Southbound-derived exposure wants, with its cause. */
export interface PlanEntry {
  /** Stable id of the exposure, e.g. "provider-vm:vm1-port" or "tenant-subnet:lrp-41389d96:10.0.0.64/26". */
  readonly id: string;
  readonly cause: Cause;
  /** The IPs this entry advertises over BGP (canonical, no prefix length). */
  readonly advertised: readonly string[];
  readonly addresses: readonly AddressSpec[];
  readonly rules: readonly RuleSpec[];
  readonly routes: readonly RouteSpec[];
  readonly neighbours: readonly NeighbourSpec[];
  readonly ndpProxies: readonly NdpProxySpec[];
}

/** Something the planner could not use; it is reported, and everything else stays in the plan. */
export interface PlanProblem {
  readonly table: string;
  /** The offending row, by its most human name (logical_port, chassis name) or uuid. */
  readonly object: string;
  readonly message: string;
}

/** The complete desired host state. */
export interface DesiredState {
  readonly chassis: string;
  /** Per-Southbound-object exposures, sorted by id. */
  readonly entries: readonly PlanEntry[];
  /** Host-wide objects that do not come from one port: bridge tables, proxy ARP, VLAN devices, bgp_nic/VRF, flows. */
  readonly links: readonly LinkSpec[];
  readonly addresses: readonly AddressSpec[];
  readonly routes: readonly RouteSpec[];
  /** Layout per-bridge: the one rule per bridge table and family (per-ip: none here, rules are per entry). */
  readonly rules: readonly RuleSpec[];
  readonly sysctls: readonly SysctlSpec[];
  readonly routingTables: readonly RoutingTableSpec[];
  readonly flows: readonly FlowSpec[];
  readonly frr: FrrIntent;
  readonly problems: readonly PlanProblem[];
}

export const keyAddress = (a: AddressSpec): string => `${a.dev}|${a.cidr}`;
export const keyRule = (r: {
  readonly family: IpFamily;
  readonly priority: number;
  readonly to?: string;
  readonly table: number;
  readonly suppressPrefixlength?: number;
}): string =>
  `${r.family}|${r.priority}|${r.to ?? "all"}|${r.table}${r.suppressPrefixlength !== undefined ? `|suppress${r.suppressPrefixlength}` : ""}`;
export const keyRoute = (r: RouteSpec): string => `${r.family}|${r.table}|${r.dst}`;
export const keyNeighbour = (n: NeighbourSpec): string => `${n.dev}|${n.ip}`;
export const keyNdpProxy = (n: NdpProxySpec): string => `${n.dev}|${n.ip}`;
export const keyFlow = (f: FlowSpec): string => `${f.bridge}|${f.table ?? 0}|${f.priority}|${f.match}`;

/** The flat, de-duplicated kernel objects an applier reconciles. */
export interface KernelState {
  readonly links: readonly LinkSpec[];
  readonly addresses: readonly AddressSpec[];
  readonly rules: readonly RuleSpec[];
  readonly routes: readonly RouteSpec[];
  readonly neighbours: readonly NeighbourSpec[];
  readonly ndpProxies: readonly NdpProxySpec[];
  readonly sysctls: readonly SysctlSpec[];
  /** Names for the bridge/announce tables (the rt_tables drop-in); absent: the applier leaves the file alone. */
  readonly routingTables?: readonly RoutingTableSpec[];
}

function uniqueBy<T>(items: Iterable<T>, key: (t: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const item of items) if (!seen.has(key(item))) seen.set(key(item), item);
  return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
}

const flattened = new WeakMap<DesiredState, KernelState>();

/**
 * Merge host-wide objects and every entry's objects into one de-duplicated, sorted set. States are
 * immutable (the planner hands out a new one after each change), so the result is memoised per state:
 * passes triggered by drift, FRR or the timer reuse it.
 */
export function flattenPlan(state: DesiredState): KernelState {
  const hit = flattened.get(state);
  if (hit) return hit;
  const out = flattenUncached(state);
  flattened.set(state, out);
  return out;
}

function flattenUncached(state: DesiredState): KernelState {
  const e = state.entries;
  return {
    links: uniqueBy(state.links, (l) => `${l.kind}|${l.name}`),
    addresses: uniqueBy([...state.addresses, ...e.flatMap((x) => x.addresses)], keyAddress),
    rules: uniqueBy([...state.rules, ...e.flatMap((x) => x.rules)], keyRule),
    routes: uniqueBy([...state.routes, ...e.flatMap((x) => x.routes)], keyRoute),
    neighbours: uniqueBy(
      e.flatMap((x) => x.neighbours),
      keyNeighbour,
    ),
    ndpProxies: uniqueBy(
      e.flatMap((x) => x.ndpProxies),
      keyNdpProxy,
    ),
    sysctls: uniqueBy(state.sysctls, (s) => s.key),
    routingTables: uniqueBy(state.routingTables, (t) => String(t.id)),
  };
}
