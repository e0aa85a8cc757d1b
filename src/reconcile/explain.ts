/**
 * `ovn-bgp explain <ip|logical port|cidr>`: the seed's walkthrough for one IP, from the live host.
 * Whether this chassis exposes it and why (the Southbound row, the seed's event, the kind of
 * exposure), the host objects that carry it (rule, routes, neighbour, NDP proxy, address, br-ex flows,
 * FRR's BGP table) each with whether it is in place now, or why it is not exposed here (bound to
 * another chassis or to none, refused by the planner and why, waiting for a patch port).
 *
 * "In place" comes from a fresh read of the host (the appliers' dry run), not from the agent's
 * memory; the Southbound facts from a direct `select`, so ports bound elsewhere are seen too.
 */
import ipaddr from "ipaddr.js";
import {
  type DesiredState,
  keyAddress,
  keyNdpProxy,
  keyNeighbour,
  keyRoute,
  keyRule,
  type PlanEntry,
} from "../plan/desired-state.ts";
import { renderAddress, renderNdp, renderNeigh, renderRoute, renderRule } from "../plan/render-plan.ts";
import type { DryRun } from "./agent.ts";

export type Query =
  | { readonly kind: "ip"; readonly ip: string; readonly family: 4 | 6 }
  | { readonly kind: "cidr"; readonly cidr: string; readonly family: 4 | 6 }
  | { readonly kind: "port"; readonly name: string };

export function parseQuery(q: string): Query {
  const s = q.trim();
  if (s.includes("/") && ipaddr.isValidCIDR(s)) {
    const [addr, len] = ipaddr.parseCIDR(s);
    const family = addr.kind() === "ipv4" ? 4 : 6;
    const base = (
      family === 4 ? ipaddr.IPv4.networkAddressFromCIDR(s) : ipaddr.IPv6.networkAddressFromCIDR(s)
    ).toString();
    return { kind: "cidr", cidr: `${base}/${len}`, family };
  }
  if (ipaddr.isValid(s)) {
    const a = ipaddr.process(s);
    return { kind: "ip", ip: a.toString(), family: a.kind() === "ipv4" ? 4 : 6 };
  }
  return { kind: "port", name: s };
}

/** A Port_Binding as the Southbound has it now (any chassis). */
export interface SbPortFact {
  readonly logical_port: string;
  readonly type: string;
  /** Chassis name, or undefined when bound to none. */
  readonly chassis?: string;
  readonly up?: boolean;
  /** How the query matched: logical_port, mac or nat_addresses. */
  readonly matched: string;
}

export interface HostObject {
  readonly kind: string;
  readonly what: string;
  /** "in place", "missing", "differs", "pending: …", "blocked: …", "unknown: …". */
  readonly state: string;
}

export interface Exposure {
  readonly id: string;
  readonly event: string;
  readonly kind: string;
  readonly logical_port: string;
  readonly advertised: readonly string[];
  /** Why this entry came up for the query: it advertises the IP, or its subnet contains it. */
  readonly relation: string;
  readonly objects: readonly HostObject[];
}

export interface Explanation {
  readonly query: string;
  readonly chassis: string;
  readonly exposed: boolean;
  readonly exposures: readonly Exposure[];
  readonly frr: readonly { readonly prefix: string; readonly state: string }[];
  readonly southbound: readonly SbPortFact[];
  readonly problems: readonly string[];
  readonly why_not: readonly string[];
}

export interface ExplainInputs {
  readonly state: DesiredState;
  readonly dryRun: DryRun;
  /** Port_Bindings matching the query, from the Southbound (not only the part this chassis replicates). */
  readonly southbound: readonly SbPortFact[];
  /** FRR's BGP table for one prefix ("in BGP table, advertised to …" / "not in …"). */
  readonly bgpLookup: (prefix: string, family: 4 | 6) => Promise<string>;
  readonly config: { readonly expose_tenant_networks: boolean };
}

const contains = (cidr: string, ip: string): boolean => {
  try {
    const a = ipaddr.process(ip);
    const [net, len] = ipaddr.parseCIDR(cidr);
    return a.kind() === net.kind() && a.match(net, len);
  } catch {
    return false;
  }
};

/** Which entries concern the query, and how. */
export function matchEntries(state: DesiredState, q: Query): Array<{ entry: PlanEntry; relation: string }> {
  const out: Array<{ entry: PlanEntry; relation: string }> = [];
  for (const e of state.entries) {
    let relation: string | undefined;
    if (q.kind === "port") {
      if (e.cause.logicalPort === q.name) relation = "its logical port";
    } else if (q.kind === "ip") {
      if (e.advertised.includes(q.ip)) relation = "advertises it";
      else if (e.routes.some((r) => r.dst !== "default" && contains(r.dst, q.ip)))
        relation = "its subnet contains it";
    } else {
      if (e.routes.some((r) => r.dst === q.cidr) || e.rules.some((r) => r.to === q.cidr))
        relation = "routes it";
      else if (e.advertised.some((ip) => contains(q.cidr, ip))) relation = "advertises an IP inside it";
    }
    if (relation) out.push({ entry: e, relation });
  }
  return out;
}

/** Host objects of one entry, each with its state on the host now. */
function objectsOf(state: DesiredState, e: PlanEntry, d: DryRun): HostObject[] {
  const ops = new Map(d.kernel.ops.map((o) => [`${o.kind}|${o.key}`, o.op]));
  const blocked = new Map(d.kernel.blocked.map((b) => [`${b.kind}|${b.key}`, b.error]));
  const st = (kind: string, key: string): string => {
    const b = blocked.get(`${kind}|${key}`);
    if (b) return `blocked: ${b}`;
    const op = ops.get(`${kind}|${key}`);
    return op === undefined ? "in place" : op === "add" ? "missing" : op === "replace" ? "differs" : op;
  };
  const out: HostObject[] = [];
  for (const a of e.addresses)
    out.push({ kind: "address", what: renderAddress(a), state: st("address", keyAddress(a)) });
  for (const r of e.rules)
    out.push({ kind: "rule", what: renderRule(state, r), state: st("rule", keyRule(r)) });
  for (const r of e.routes)
    out.push({ kind: "route", what: renderRoute(state, r), state: st("route", keyRoute(r)) });
  for (const n of e.neighbours)
    out.push({ kind: "neighbour", what: renderNeigh(n), state: st("neighbour", keyNeighbour(n)) });
  for (const n of e.ndpProxies)
    out.push({ kind: "ndp-proxy", what: renderNdp(n), state: st("ndp-proxy", keyNdpProxy(n)) });
  // The br-ex flows that rewrite the destination MAC of what leaves OVN for the host.
  const bridges = new Set(e.routes.map((r) => r.dev));
  for (const f of state.flows.filter((x) => bridges.has(x.bridge))) {
    const what = `flow ${f.bridge} ${f.table ? `table=${f.table},` : ""}priority=${f.priority},${f.match} actions=${f.actions}`;
    let s = "in place";
    if ("error" in d.flows) s = `unknown: ${d.flows.error}`;
    else {
      const b = d.flows.bridges.find((x) => x.bridge === f.bridge);
      const pending = b?.pending.find((p) => p.flow.match === f.match);
      if (b?.error) s = `unknown: ${b.error}`;
      else if (pending) s = `pending: ${pending.reason}`;
      else if (
        b?.added.some(
          (a) => a.match === f.match && a.priority === f.priority && (a.table ?? 0) === (f.table ?? 0),
        )
      )
        s = "missing";
    }
    out.push({ kind: "flow", what, state: s });
  }
  return out;
}

export async function explain(q: string, inputs: ExplainInputs): Promise<Explanation> {
  const query = parseQuery(q);
  const { state, dryRun } = inputs;
  const matched = matchEntries(state, query);
  const exposures: Exposure[] = matched.map(({ entry: e, relation }) => ({
    id: e.id,
    event: e.cause.event,
    kind: e.cause.kind,
    logical_port: e.cause.logicalPort,
    advertised: e.advertised,
    relation,
    objects: objectsOf(state, e, dryRun),
  }));
  const prefixes = new Set<string>();
  for (const e of matched)
    for (const ip of e.entry.advertised)
      if (query.kind !== "ip" || ip === query.ip || e.relation !== "its subnet contains it")
        prefixes.add(ip.includes(":") ? `${ip}/128` : `${ip}/32`);
  for (const e of matched)
    if (e.relation === "its subnet contains it" && e.entry.cause.kind === "tenant-subnet")
      for (const r of e.entry.routes) if (r.dst !== "default") prefixes.add(r.dst);
  const frr: Array<{ prefix: string; state: string }> = [];
  for (const p of [...prefixes].sort())
    frr.push({
      prefix: p,
      state: await inputs.bgpLookup(p, p.includes(":") ? 6 : 4).catch((e: Error) => `unknown: ${e.message}`),
    });

  const needle = query.kind === "port" ? query.name : query.kind === "ip" ? query.ip : query.cidr;
  const problems = state.problems
    .filter(
      (p) =>
        p.object === needle ||
        p.message.includes(needle) ||
        inputs.southbound.some((s) => s.logical_port === p.object),
    )
    .map((p) => `${p.table} ${p.object}: ${p.message}`);
  const whyNot: string[] = [];
  if (exposures.length === 0) {
    if (inputs.southbound.length === 0)
      whyNot.push(`no Port_Binding carries ${needle} (looked at logical_port, mac and nat_addresses)`);
    for (const s of inputs.southbound) {
      const what = `${s.logical_port} (${s.type || "VM port"}, matched by ${s.matched})`;
      if (s.matched === "nat_addresses")
        whyNot.push(
          `${what}: a router's NAT address, exposed by the chassis that holds the router's gateway port (cr-lrp)`,
        );
      else if (!s.chassis) whyNot.push(`${what}: bound to no chassis (no ovn-controller has claimed it)`);
      else if (s.chassis !== state.chassis)
        whyNot.push(`${what}: bound to chassis ${s.chassis}, not ${state.chassis}; that chassis exposes it`);
      else if (problems.some((p) => p.includes(s.logical_port)))
        whyNot.push(`${what}: bound here but refused, see problems`);
      else
        whyNot.push(
          `${what}: bound here, but the plan wants nothing for it: a port on a network without a localnet port is exposed only behind a router whose gateway (cr-lrp) is on this chassis${inputs.config.expose_tenant_networks ? "" : ", and expose_tenant_networks is False"}`,
        );
    }
  }
  return {
    query: q,
    chassis: state.chassis,
    exposed: exposures.length > 0,
    exposures,
    frr,
    southbound: inputs.southbound,
    problems,
    why_not: whyNot,
  };
}

/** The explanation as a person reads it. */
export function renderExplanation(x: Explanation): string {
  const out: string[] = [];
  out.push(`${x.query} on chassis ${x.chassis}: ${x.exposed ? "EXPOSED" : "not exposed"}`);
  for (const e of x.exposures) {
    out.push(
      "",
      `${e.event} ${e.kind} logical_port=${e.logical_port} (${e.relation}) ips=${e.advertised.join(",")}`,
    );
    for (const o of e.objects) out.push(`  [${o.state === "in place" ? "ok" : "!!"}] ${o.what}: ${o.state}`);
  }
  if (x.frr.length) {
    out.push("", "FRR (what the peers are told):");
    for (const f of x.frr) out.push(`  ${f.prefix}: ${f.state}`);
  }
  if (x.southbound.length) {
    out.push("", "Southbound:");
    for (const s of x.southbound)
      out.push(
        `  Port_Binding ${s.logical_port} type=${s.type || '""'} chassis=${s.chassis ?? "(none)"}${s.up === undefined ? "" : ` up=${s.up}`} (matched by ${s.matched})`,
      );
  }
  if (x.problems.length) {
    out.push("", "problems:");
    for (const p of x.problems) out.push(`  ${p}`);
  }
  if (x.why_not.length) {
    out.push("", "why not:");
    for (const w of x.why_not) out.push(`  ${w}`);
  }
  return `${out.join("\n")}\n`;
}

/** Port_Binding and Chassis rows (RFC 7047 notation, from a `select`) → the facts the query matches. */
export function southboundFactsFrom(
  pbRows: ReadonlyArray<Record<string, unknown>>,
  chassisRows: ReadonlyArray<Record<string, unknown>>,
  q: Query,
): SbPortFact[] {
  const names = new Map<string, string>();
  for (const c of chassisRows) names.set(uuidOf(c._uuid) ?? "", String(c.name));
  const out: SbPortFact[] = [];
  for (const r of pbRows) {
    let matched: string | undefined;
    if (q.kind === "port") matched = r.logical_port === q.name ? "logical_port" : undefined;
    else {
      const hit = (v: unknown) =>
        setOf(v).some((s) => typeof s === "string" && s.split(/\s+/).some((t) => tokenMatches(t, q)));
      if (hit(r.mac)) matched = "mac";
      else if (hit(r.nat_addresses)) matched = "nat_addresses";
    }
    if (!matched) continue;
    const ch = uuidOf(r.chassis);
    const up = setOf(r.up)[0];
    out.push({
      logical_port: String(r.logical_port),
      type: typeof r.type === "string" ? r.type : "",
      ...(ch ? { chassis: names.get(ch) ?? ch } : {}),
      ...(typeof up === "boolean" ? { up } : {}),
      matched,
    });
  }
  return out.sort((a, b) => (a.logical_port < b.logical_port ? -1 : 1));
}

/** `["uuid", "…"]` → the uuid; anything else (an empty set) → undefined. */
function uuidOf(v: unknown): string | undefined {
  return Array.isArray(v) && v[0] === "uuid" && typeof v[1] === "string" ? v[1] : undefined;
}

/** An OVSDB set or scalar as a list of its values. */
function setOf(v: unknown): unknown[] {
  if (Array.isArray(v) && v[0] === "set" && Array.isArray(v[1])) return v[1];
  return v === undefined || v === null ? [] : [v];
}

/** Does one token of a `mac`/`nat_addresses` entry ("10.0.0.5", "10.0.0.1/26") match the query? */
function tokenMatches(token: string, q: Query): boolean {
  const t = token.replace(/^"|"$/g, "");
  const bareIp = t.includes("/") ? t.slice(0, t.indexOf("/")) : t;
  if (!ipaddr.isValid(bareIp)) return false;
  const ip = ipaddr.process(bareIp).toString();
  if (q.kind === "ip") return ip === q.ip;
  if (q.kind === "cidr") return contains(q.cidr, ip);
  return false;
}

/** FRR's `show bgp … <prefix> json`: in its BGP table (and advertised to whom), or not. */
export function describeBgpPrefix(raw: string): string {
  let doc: { prefix?: unknown; paths?: unknown; advertisedTo?: unknown } = {};
  try {
    doc = JSON.parse(raw) as typeof doc;
  } catch {
    return `unknown: ${raw.trim().slice(0, 200)}`;
  }
  if (!doc.prefix || !Array.isArray(doc.paths) || doc.paths.length === 0) return "not in FRR's BGP table";
  const to = doc.advertisedTo && typeof doc.advertisedTo === "object" ? Object.keys(doc.advertisedTo) : [];
  return `in FRR's BGP table (${doc.paths.length} path(s)), ${to.length ? `advertised to ${to.join(", ")}` : "advertised to no peer"}`;
}
