/**
 * Taking over from the Python ovn-bgp-agent (`adopt_upstream_state`, docs/MIGRATION.md): upstream
 * marks nothing it creates, so without this step its rules, routes and neighbours stay next to ours
 * for ever, and when an IP later goes away ours are withdrawn but its twins keep steering traffic.
 *
 * What upstream leaves (../shared/notes/upstream-agent-facts.md): `ip rule to <IP or subnet> lookup
 * <bridge table>` at its priority without a protocol (tenant subnets keep host bits, 10.0.0.65/26),
 * routes in the bridge tables, `nud permanent` neighbours for cr-lrps on the bridges. Its bridge
 * table numbers come from its entries in /etc/iproute2/rt_tables, which the agent then uses for the
 * same bridges (LocalFacts.bridgeTables), so the routes are the same objects.
 *
 * Run once, on the first full pass after start, in two halves around it:
 * - before: routes and neighbours the plan wants are re-marked in place (`replace … proto N`: the
 *   same object, no gap); foreign rules, routes and neighbours in those tables or on those bridges
 *   that the plan does not want are deleted (upstream would have withdrawn them itself);
 * - after (the pass has added ours): foreign twins of our rules are deleted.
 * Only objects in the bridge tables, at `ip_rule_priority`, on the bridge devices are looked at;
 * nothing of FRR's (protocols 186-198) or the kernel's own (2) is touched.
 */
import ipaddr from "ipaddr.js";
import { type KernelState, keyNeighbour, keyRoute } from "../../plan/desired-state.ts";
import type { Exec } from "../exec.ts";
import { runReadBatch, str } from "./ip-batch.ts";
import { ipOp } from "./keyed-kind.ts";
import { neighbourSetLine, parseNeighbours } from "./neighbour.ts";
import { routeLine } from "./route.ts";
import { parseRules } from "./rule.ts";
import type { KernelOp, ObservedNeighbour, ObservedRule } from "./types.ts";

/** Route protocols that are never upstream's: the kernel's own and FRR's. */
const NOT_UPSTREAM = (p: number) => p === 2 || (p >= 186 && p <= 198);

export interface ForeignRoute {
  readonly family: 4 | 6;
  readonly table: number;
  /** As the kernel prints it ("172.24.4.92", "default", "10.0.0.64/26"). */
  readonly dstText: string;
  /** Canonical CIDR or "default". */
  readonly dst: string;
  readonly protocol: number;
}

export interface ForeignState {
  readonly rules: readonly ObservedRule[];
  readonly routes: readonly ForeignRoute[];
  readonly neighbours: readonly ObservedNeighbour[];
}

export interface AdoptScope {
  readonly priority: number;
  readonly protocol: number;
  /** The bridge tables (the plan's routing tables). */
  readonly tables: ReadonlySet<number>;
  /** The bridge devices (and their VLAN devices). */
  readonly devices: ReadonlySet<string>;
}

export interface AdoptionPlan {
  readonly before: readonly KernelOp[];
  readonly after: readonly KernelOp[];
}

/** Read rules, the bridge tables' routes (every protocol) and permanent neighbours. */
export async function readForeign(
  exec: Exec,
  tables: readonly number[],
  netns?: string,
): Promise<ForeignState> {
  const ns = netns ? { netns } : {};
  const cmds = ["rule show", ...tables.map((t) => `route show table ${t}`)];
  const [v4, v6, neighs] = await Promise.all([
    runReadBatch(exec, cmds, ns),
    runReadBatch(exec, cmds, { ...ns, family: 6 }),
    runReadBatch(exec, ["neigh show nud permanent"], ns),
  ]);
  const routes: ForeignRoute[] = [];
  for (const [family, batch] of [
    [4, v4],
    [6, v6],
  ] as const)
    for (const [i, t] of tables.entries()) routes.push(...parseForeignRoutes(batch[i + 1] ?? [], family, t));
  return {
    rules: [...parseRules(v4[0] ?? [], 4), ...parseRules(v6[0] ?? [], 6)],
    routes,
    neighbours: parseNeighbours(neighs[0] ?? []),
  };
}

export function parseForeignRoutes(json: readonly unknown[], family: 4 | 6, table: number): ForeignRoute[] {
  const out: ForeignRoute[] = [];
  for (const o of json) {
    if (typeof o !== "object" || o === null) continue;
    const r = o as Record<string, unknown>;
    const dstText = str(r, "dst");
    const type = str(r, "type");
    if (dstText === undefined || (type !== undefined && type !== "1" && type !== "unicast")) continue;
    const dst = dstText === "default" ? "default" : canonicalCidr(dstText, family);
    if (dst === undefined) continue;
    out.push({ family, table, dstText, dst, protocol: Number(str(r, "protocol") ?? 0) || 0 });
  }
  return out;
}

/** "10.0.0.65/26" → "10.0.0.64/26"; "172.24.4.92" → "172.24.4.92/32". */
export function canonicalCidr(text: string, family: 4 | 6): string | undefined {
  try {
    const withLen = text.includes("/") ? text : `${text}/${family === 4 ? 32 : 128}`;
    const [addr, len] = ipaddr.parseCIDR(withLen);
    const net =
      addr.kind() === "ipv4"
        ? ipaddr.IPv4.networkAddressFromCIDR(withLen)
        : ipaddr.IPv6.networkAddressFromCIDR(withLen);
    return `${net.toString()}/${len}`;
  } catch {
    return undefined;
  }
}

/** Pure: what taking over upstream's objects takes, given what the plan wants. */
export function planAdoption(desired: KernelState, foreign: ForeignState, scope: AdoptScope): AdoptionPlan {
  const before: KernelOp[] = [];
  const after: KernelOp[] = [];
  const chan = (f: 4 | 6) => (f === 6 ? "ip6" : "ip");
  const wantedRules = new Set(
    desired.rules
      .filter((r) => r.to !== undefined)
      .map((r) => `${r.family}|${r.priority}|${r.to}|${r.table}`),
  );
  for (const r of foreign.rules) {
    if (r.protocol === scope.protocol || r.priority !== scope.priority || !scope.tables.has(r.table))
      continue;
    if (r.to === undefined) continue; // a rule without a destination is not one upstream makes
    const dst = canonicalCidr(r.to, r.family);
    const line = `rule del to ${r.to} lookup ${r.table} priority ${r.priority} protocol ${r.protocol}`;
    const op = ipOp("rule", `${r.family}|${r.priority}|${r.to}|${r.table}`, "del", [line], chan(r.family));
    // A twin of a rule we want goes once ours is there; any other is withdrawn at once.
    (wantedRules.has(`${r.family}|${r.priority}|${dst}|${r.table}`) ? after : before).push(op);
  }
  const wantedRoutes = new Map(desired.routes.map((r) => [keyRoute(r), r]));
  for (const r of foreign.routes) {
    if (r.protocol === scope.protocol || NOT_UPSTREAM(r.protocol) || !scope.tables.has(r.table)) continue;
    const key = `${r.family}|${r.table}|${r.dst}`;
    const want = wantedRoutes.get(key);
    before.push(
      want
        ? ipOp("route", key, "replace", [routeLine("replace", want, scope.protocol)], chan(r.family))
        : ipOp(
            "route",
            key,
            "del",
            [`route del ${r.dstText} table ${r.table} proto ${r.protocol}`],
            chan(r.family),
          ),
    );
  }
  const wantedNeighs = new Map(desired.neighbours.map((n) => [keyNeighbour(n), n]));
  for (const n of foreign.neighbours) {
    if (n.protocol === scope.protocol || !scope.devices.has(n.dev)) continue;
    const key = `${n.dev}|${n.ip}`;
    const want = wantedNeighs.get(key);
    before.push(
      want
        ? ipOp("neighbour", key, "replace", [neighbourSetLine(want, scope.protocol)], chan(n.family))
        : ipOp("neighbour", key, "del", [`neigh del ${n.ip} dev ${n.dev}`], chan(n.family)),
    );
  }
  return { before, after };
}

/**
 * Upstream's bridge tables from the main rt_tables file ("201 br-ex"): the agent then uses the same
 * numbers for those bridges, so upstream's routes are the very objects it wants.
 */
export function parseRtTables(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    const m = /^(\d+|0x[0-9a-f]+)\s+(\S+)$/i.exec(line);
    if (!m?.[1] || !m[2]) continue;
    const id = Number(m[1]);
    if (Number.isInteger(id) && id > 0 && id < 253) out.set(m[2], id);
  }
  return out;
}

/** `/etc/iproute2/rt_tables.d/ovn-bgp.conf` → `/etc/iproute2/rt_tables`, where upstream writes. */
export function mainRtTablesOf(dropin: string): string | undefined {
  const i = dropin.lastIndexOf("/rt_tables.d/");
  return i < 0 ? undefined : `${dropin.slice(0, i)}/rt_tables`;
}
