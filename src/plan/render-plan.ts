/**
 * Human and machine renderings of a DesiredState: `renderPlanText` groups objects by cause (the
 * seed's event, the exposure kind, the logical port, the advertised IPs, then kernel objects in
 * `ip`-like notation), then host-wide objects, then problems. `planToJson` is stable and sorted.
 */
import type {
  AddressSpec,
  DesiredState,
  LinkSpec,
  NdpProxySpec,
  NeighbourSpec,
  PlanEntry,
  RouteSpec,
  RuleSpec,
  SeedEvent,
} from "./desired-state.ts";

/** The event logged when an entry goes away (the counterpart of the entry's creation event). */
export function withdrawEvent(event: SeedEvent): SeedEvent {
  switch (event) {
    case "PortBindingChassisCreatedEvent":
      return "PortBindingChassisDeletedEvent";
    case "SubnetRouterAttachedEvent":
      return "SubnetRouterDetachedEvent";
    case "TenantPortCreatedEvent":
      return "TenantPortDeletedEvent";
    case "FIPSetEvent":
      return "FIPUnsetEvent";
    case "OVNLBCreateEvent":
      return "OVNLBDeleteEvent";
    default:
      return event;
  }
}

function tableName(state: DesiredState, id: number): string {
  return state.routingTables.find((t) => t.id === id)?.name ?? String(id);
}

/** Host prefixes print as bare addresses, as `ip rule` and `ip route` show them. */
function bare(cidr: string): string {
  return cidr.endsWith("/32") && !cidr.includes(":")
    ? cidr.slice(0, -3)
    : cidr.endsWith("/128")
      ? cidr.slice(0, -4)
      : cidr;
}

export function renderRule(state: DesiredState, r: RuleSpec): string {
  const sp = r.suppressPrefixlength !== undefined ? ` suppress_prefixlength ${r.suppressPrefixlength}` : "";
  const to = r.to !== undefined ? `to ${bare(r.to)}` : `from all (IPv${r.family})`;
  return `rule ${r.priority}: ${to} lookup ${tableName(state, r.table)}${sp}`;
}

export function renderRoute(state: DesiredState, r: RouteSpec): string {
  const via = r.via ? ` via ${r.via}` : "";
  const scope = r.scope === "link" && !r.via ? " scope link" : "";
  const fam = r.family === 6 && r.dst === "default" ? " -6" : "";
  return `route${fam} table ${tableName(state, r.table)}: ${bare(r.dst)}${via} dev ${r.dev}${scope}`;
}

export const renderAddress = (a: AddressSpec): string => `address ${a.cidr} dev ${a.dev}`;
export const renderNeigh = (n: NeighbourSpec): string =>
  `neigh ${n.ip} lladdr ${n.mac} dev ${n.dev} PERMANENT`;
export const renderNdp = (n: NdpProxySpec): string => `neigh proxy ${n.ip} dev ${n.dev}`;

function renderLink(l: LinkSpec): string {
  switch (l.kind) {
    case "vlan":
      return `link ${l.name} type vlan id ${l.vlanId} link ${l.parent}`;
    case "vrf":
      return `link ${l.name} type vrf table ${l.table}`;
    case "dummy":
      return `link ${l.name} type dummy${l.master ? ` master ${l.master}` : ""}`;
  }
}

function renderEntry(state: DesiredState, e: PlanEntry): string[] {
  const c = e.cause;
  const ips = e.advertised.length ? ` ips=${e.advertised.join(",")}` : "";
  const lines = [`${c.event} ${c.kind} logical_port=${c.logicalPort}${ips}`];
  for (const a of e.addresses) lines.push(`  ${renderAddress(a)}`);
  for (const r of e.rules) lines.push(`  ${renderRule(state, r)}`);
  for (const r of e.routes) lines.push(`  ${renderRoute(state, r)}`);
  for (const n of e.neighbours) lines.push(`  ${renderNeigh(n)}`);
  for (const n of e.ndpProxies) lines.push(`  ${renderNdp(n)}`);
  return lines;
}

export function renderPlanText(state: DesiredState): string {
  const out: string[] = [`plan for chassis ${state.chassis}`, ""];
  out.push(`exposures (${state.entries.length}):`);
  for (const e of state.entries) out.push(...renderEntry(state, e));
  out.push("", "host-wide:");
  for (const t of state.routingTables) out.push(`  table ${t.id} ${t.name}`);
  for (const l of state.links) out.push(`  ${renderLink(l)}`);
  for (const a of state.addresses) out.push(`  ${renderAddress(a)}`);
  for (const r of state.routes) out.push(`  ${renderRoute(state, r)}`);
  for (const s of state.sysctls) out.push(`  sysctl ${s.key}=${s.value}`);
  for (const f of state.flows)
    out.push(`  flow ${f.bridge} cookie=${f.cookie},priority=${f.priority},${f.match} actions=${f.actions}`);
  const frr = state.frr;
  const how =
    frr.layout === "vrf" ? `vrf ${frr.vrf?.name} table ${frr.vrf?.table}` : `import-table ${frr.importTable}`;
  out.push(
    `  frr as ${frr.asn}${frr.routerId ? ` router-id ${frr.routerId}` : ""} layout ${frr.layout} (${how})`,
  );
  out.push("", `problems (${state.problems.length}):`);
  for (const p of state.problems) out.push(`  ${p.table} ${p.object}: ${p.message}`);
  return `${out.join("\n")}\n`;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, sortKeys(o[k])]),
    );
  }
  return v;
}

/** Stable JSON: object keys sorted, arrays in the plan's (already sorted) order. */
export function planToJson(state: DesiredState): string {
  return `${JSON.stringify(sortKeys(state), null, 2)}\n`;
}
