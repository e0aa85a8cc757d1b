/**
 * Render the agent's part of FRR's configuration from the planner's `FrrIntent`.
 *
 * Ownership convention (FRR drops comments, so the mark must survive `show running-config`): every
 * line the agent adds either lives in a route-map named `OVN-BGP-…` or references one
 * (`redistribute table 200 route-map OVN-BGP-TABLE`, `ip import-table 200 route-map OVN-BGP-TABLE`).
 * The route-maps are permit-all (or match only the agent's routes), so they change nothing about
 * what is advertised compared with upstream's bare `redistribute …`; they only make the agent's lines
 * recognisable after an agent restart, so the diff can remove exactly those and nothing else.
 *
 * Verified on FRR 8.4.4 (see test/integration/frr/):
 * - `ip import-table N [route-map R]` is a zebra command, N in 1..252; `ipv6 import-table` does not
 *   exist ("% Unknown command", added upstream only in 2025).
 * - `redistribute table N` under `address-family ipv6 unicast` is accepted with exit code 0 but is a
 *   no-op (it never appears in the running config); so IPv6 in the table layout goes another way:
 *   the agent's IPv6 host routes also sit in the main table with a distinctive metric, and
 *   `redistribute kernel route-map OVN-BGP-KERNEL6` (`match metric M`, `set metric 0`) picks exactly
 *   those (`ipv6KernelMetric`).
 * - An empty `vrf NAME` / `exit-vrf` context is accepted but never shown in the running config, so it
 *   is not rendered (it would make every diff non-empty). `router bgp AS vrf NAME` is accepted even
 *   when the kernel has no such VRF.
 * - Route-maps are rendered before their users: bgpd warns "The route-map '…' does not exist"
 *   otherwise.
 */
import type { FrrIntent } from "../../plan/desired-state.ts";

/** Prefix of the agent's route-map names (diff-frr-config.ts owns exactly the ones rendered here). */
export const OWNED_ROUTE_MAP_PREFIX = "OVN-BGP-";
/** Permit-all marker route-map for the table layout's import and redistribution. */
export const RM_TABLE = `${OWNED_ROUTE_MAP_PREFIX}TABLE`;
/** IPv6 kernel routes of the agent in the table layout (matched by metric). */
export const RM_KERNEL6 = `${OWNED_ROUTE_MAP_PREFIX}KERNEL6`;
/** Permit-all marker route-map for `redistribute connected` in the agent's BGP VRF instance. */
export const RM_CONNECTED = `${OWNED_ROUTE_MAP_PREFIX}CONNECTED`;

export interface RenderFrrOptions {
  /**
   * Table layout, IPv6: FRR 8.4 cannot import a non-main kernel table for IPv6. When set, the kernel
   * side is expected to also keep the agent's IPv6 host routes in the main table with this metric,
   * and bgpd redistributes kernel routes with exactly this metric (advertised with MED 0).
   * Absent: the table layout advertises IPv4 only.
   */
  readonly ipv6KernelMetric?: number;
}

/** A terminal error: the same intent fails the same way, so it is a status, not a retry. */
export class FrrRenderError extends Error {
  readonly code = "FRR_RENDER";
}

const VRF_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,35}$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function validate(intent: FrrIntent, opts: RenderFrrOptions): void {
  if (!Number.isInteger(intent.asn) || intent.asn < 1 || intent.asn > 4294967295)
    throw new FrrRenderError(`invalid BGP AS ${intent.asn}`);
  if (intent.routerId !== undefined && !IPV4.test(intent.routerId))
    throw new FrrRenderError(`invalid BGP router-id ${JSON.stringify(intent.routerId)}`);
  if (intent.layout === "vrf") {
    if (!intent.vrf) throw new FrrRenderError("layout vrf needs a vrf");
    if (!VRF_NAME.test(intent.vrf.name))
      throw new FrrRenderError(`invalid VRF name ${JSON.stringify(intent.vrf.name)}`);
  } else {
    const t = intent.importTable;
    // zebra's `ip import-table` accepts 1..252 only (253-255 are the kernel's default/main/local).
    if (t === undefined || !Number.isInteger(t) || t < 1 || t > 252)
      throw new FrrRenderError(`layout table needs an import table in 1..252 (FRR 8.4 limit), got ${t}`);
  }
  const m = opts.ipv6KernelMetric;
  if (m !== undefined && (!Number.isInteger(m) || m < 1 || m > 4294967295))
    throw new FrrRenderError(`invalid IPv6 kernel route metric ${m}`);
}

function routeMap(name: string, body: readonly string[] = []): string[] {
  return [`route-map ${name} permit 10`, ...body.map((l) => ` ${l}`), "exit", "!"];
}

function addressFamily(afi: "ipv4" | "ipv6", body: readonly string[]): string[] {
  return [" !", ` address-family ${afi} unicast`, ...body.map((l) => `  ${l}`), " exit-address-family"];
}

/**
 * The agent's FRR configuration as text lines, in an order FRR accepts when fed to `vtysh -f`:
 * route-maps, then zebra globals, then BGP instances.
 */
export function renderFrrConfig(intent: FrrIntent, opts: RenderFrrOptions = {}): string[] {
  validate(intent, opts);
  const routerId = intent.routerId !== undefined ? [` bgp router-id ${intent.routerId}`] : [];
  const out: string[] = [];
  if (intent.layout === "table") {
    const table = intent.importTable as number;
    const v6 = opts.ipv6KernelMetric;
    out.push(...routeMap(RM_TABLE));
    if (v6 !== undefined) out.push(...routeMap(RM_KERNEL6, [`match metric ${v6}`, "set metric 0"]));
    out.push(`ip import-table ${table} route-map ${RM_TABLE}`, "!");
    out.push(`router bgp ${intent.asn}`, ...routerId);
    out.push(...addressFamily("ipv4", [`redistribute table ${table} route-map ${RM_TABLE}`]));
    if (v6 !== undefined) out.push(...addressFamily("ipv6", [`redistribute kernel route-map ${RM_KERNEL6}`]));
    out.push("exit");
    return out;
  }
  const vrf = (intent.vrf as { name: string }).name;
  out.push(...routeMap(RM_CONNECTED));
  out.push(`router bgp ${intent.asn}`, ...routerId);
  out.push(...addressFamily("ipv4", [`import vrf ${vrf}`]), ...addressFamily("ipv6", [`import vrf ${vrf}`]));
  out.push("exit", "!");
  out.push(`router bgp ${intent.asn} vrf ${vrf}`, ...routerId);
  out.push(...addressFamily("ipv4", [`redistribute connected route-map ${RM_CONNECTED}`]));
  out.push(...addressFamily("ipv6", [`redistribute connected route-map ${RM_CONNECTED}`]));
  out.push("exit");
  return out;
}
