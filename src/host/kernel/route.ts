/**
 * Routes in numbered tables (the bridge tables and the announce table), owned through
 * `proto <route_protocol>`: observation lists only ours, deletes carry the protocol (the kernel
 * then deletes only a matching route), and adds use `route add` (never replace) so a foreign route
 * on the same destination is reported as a conflict instead of being overwritten. Our own route
 * with other attributes is changed with `route replace`.
 */
import { keyRoute, type RouteSpec } from "../../plan/desired-state.ts";
import { isRecord, num, str } from "./ip-batch.ts";
import type { ObservedRoute } from "./types.ts";
import { canonicalIp, checkDst, checkIfName, checkIp, checkTable, InvalidValueError } from "./validate.ts";

const SCOPES: Record<string, ObservedRoute["scope"]> = {
  "0": "global",
  global: "global",
  "253": "link",
  link: "link",
  "254": "host",
  host: "host",
};

/** Parse `ip -N -j -d route show table all proto N root <family any>` for one family. */
export function parseRoutes(json: readonly unknown[], family: 4 | 6): ObservedRoute[] {
  const out: ObservedRoute[] = [];
  for (const o of json) {
    if (!isRecord(o)) continue;
    const dstRaw = str(o, "dst");
    if (dstRaw === undefined) continue;
    // Only unicast routes are the agent's (type is absent or "1" for unicast with -N).
    const type = str(o, "type");
    if (type !== undefined && type !== "1" && type !== "unicast") continue;
    let dst: string;
    if (dstRaw === "default") dst = "default";
    else {
      const [ip, len] = dstRaw.split("/");
      const c = canonicalIp(ip ?? "");
      if (c === undefined) continue;
      dst = `${c}/${len ?? (family === 4 ? 32 : 128)}`;
    }
    const gw = str(o, "gateway");
    const via = gw !== undefined ? canonicalIp(gw) : undefined;
    const dev = str(o, "dev");
    const metric = num(o, "metric");
    out.push({
      family,
      table: num(o, "table") ?? 254,
      dst,
      scope: SCOPES[str(o, "scope") ?? "0"] ?? "other",
      ...(dev !== undefined ? { dev } : {}),
      ...(via !== undefined ? { via } : {}),
      ...(metric !== undefined ? { metric } : {}),
    });
  }
  return out;
}

export const desiredRouteKey = keyRoute;

export function observedRouteKey(r: ObservedRoute): string {
  return `${r.family}|${r.table}|${r.dst}`;
}

export function checkRoute(r: RouteSpec): RouteSpec {
  return {
    family: r.family,
    table: checkTable(r.table),
    dst: checkDst(r.dst, r.family),
    dev: checkIfName(r.dev),
    scope: checkScope(r.scope),
    ...(r.via !== undefined ? { via: checkIp(r.via, r.family) } : {}),
    ...(r.metric !== undefined ? { metric: checkMetric(r.metric) } : {}),
  };
}

function checkMetric(m: number): number {
  if (Number.isInteger(m) && m >= 0 && m <= 0xffffffff) return m;
  throw new InvalidValueError(`invalid route metric: ${JSON.stringify(m)}`);
}

function checkScope(scope: string): "link" | "global" {
  if (scope === "link" || scope === "global") return scope;
  throw new InvalidValueError(`invalid route scope: ${JSON.stringify(scope)}`);
}

/** Whether our observed route already is the desired one. IPv6 has no route scopes (always global). */
export function routeEqual(want: RouteSpec, have: ObservedRoute): boolean {
  if (have.dev !== want.dev || (have.via ?? "") !== (want.via ?? "")) return false;
  if (want.metric !== undefined && have.metric !== want.metric) return false;
  return want.family === 6 || have.scope === want.scope;
}

/** "default" is written with an explicit family so the batch line needs no `-6`. */
function dstText(dst: string, family: 4 | 6): string {
  if (dst !== "default") return dst;
  return family === 4 ? "0.0.0.0/0" : "::/0";
}

export function routeLine(verb: "add" | "replace", r: RouteSpec, protocol: number): string {
  const via = r.via !== undefined ? ` via ${r.via}` : "";
  const scope = r.family === 4 ? ` scope ${r.scope}` : "";
  const metric = r.metric !== undefined ? ` metric ${r.metric}` : "";
  return `route ${verb} ${dstText(r.dst, r.family)}${via} dev ${r.dev} table ${r.table} proto ${protocol}${scope}${metric}`;
}

export function routeDelLine(r: ObservedRoute, protocol: number): string {
  const metric = r.family === 6 && r.metric !== undefined ? ` metric ${r.metric}` : "";
  return `route del ${dstText(r.dst, r.family)} table ${r.table} proto ${protocol}${metric}`;
}
