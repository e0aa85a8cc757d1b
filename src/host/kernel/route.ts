/**
 * Routes in numbered tables (the bridge tables and the announce table), owned through
 * `proto <route_protocol>`: observation lists only ours, deletes carry the protocol (the kernel
 * then deletes only a matching route), and adds use `route add` (never replace) so a foreign route
 * on the same destination is reported as a conflict instead of being overwritten. Our own route
 * with other attributes is changed with `route replace`.
 */
import { keyRoute, type RouteSpec } from "../../plan/desired-state.ts";
import { isRecord, num, str } from "./ip-batch.ts";
import { ipOp, type KeyedKind, label, missingDev } from "./keyed-kind.ts";
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

/** Routes as a keyed kind: observed routes are only ours (read with the protocol filter). */
export const routeKind: KeyedKind<RouteSpec, ObservedRoute> = {
  kind: "route",
  desired: (s) => s.routes,
  observed: (o) => o.routes,
  label: (raw) => `${raw.family}|${raw.table}|${label(raw.dst)}`,
  check: checkRoute,
  key: keyRoute,
  observedKey: observedRouteKey,
  observedDev: (r) => r.dev,
  decide(want, have, ctx, out) {
    const key = want ? keyRoute(want) : observedRouteKey(have[0] as ObservedRoute);
    const del = (x: ObservedRoute) => out.del(ipOp("route", key, "del", [routeDelLine(x, ctx.proto)]));
    if (!want) {
      for (const x of have) del(x);
      return;
    }
    const [first, ...extra] = have;
    for (const x of extra) del(x);
    if (first && routeEqual(want, first)) return;
    if (!ctx.present(want.dev)) {
      out.block({ kind: "route", key, op: first ? "replace" : "add", error: missingDev(want.dev) });
      return;
    }
    const verb = first ? "replace" : "add";
    out.add(
      want.via === undefined ? "link-route" : "gw-route",
      ipOp("route", key, verb, [routeLine(verb, want, ctx.proto)]),
    );
  },
  after(want, have, ctx) {
    if (!want) return [];
    const [first] = have;
    if (first && routeEqual(want, first)) return [first];
    if (!ctx.present(want.dev)) return first ? [first] : [];
    return [observedFromRoute(want)];
  },
};

function observedFromRoute(r: RouteSpec): ObservedRoute {
  return {
    family: r.family,
    table: r.table,
    dst: r.dst,
    dev: r.dev,
    scope: r.family === 6 ? "global" : r.scope,
    ...(r.via !== undefined ? { via: r.via } : {}),
    ...(r.metric !== undefined ? { metric: r.metric } : {}),
  };
}
