/**
 * Parsers for FRR's `show … json` output (FRR 8.4 shapes, tested on output captured from a real FRR
 * in test/fixtures/frr/). They accept `unknown` and keep only the fields the agent uses (session
 * health for metrics/status, routes for "is this IP advertised/learned"), skipping malformed
 * entries instead of failing the whole read.
 */

export interface BgpPeerSummary {
  /** "ipv4Unicast", "ipv6Unicast", … as FRR names the address family. */
  readonly afi: string;
  readonly peer: string;
  readonly remoteAs: number;
  readonly state: string;
  readonly established: boolean;
  readonly prefixesReceived: number;
  readonly prefixesSent: number;
  readonly uptimeMs: number;
}

export interface BgpSummary {
  readonly routerId?: string;
  readonly as?: number;
  readonly peers: readonly BgpPeerSummary[];
}

export interface FrrNexthop {
  readonly ip?: string;
  readonly interfaceName?: string;
  readonly active: boolean;
}

export interface FrrRoute {
  readonly prefix: string;
  readonly protocol: string;
  readonly selected: boolean;
  readonly installed: boolean;
  readonly table?: number;
  readonly distance?: number;
  readonly metric?: number;
  readonly nexthops: readonly FrrNexthop[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** `show bgp summary json` (all address families of the default instance). */
export function parseBgpSummary(json: unknown): BgpSummary {
  if (!isObj(json)) return { peers: [] };
  const peers: BgpPeerSummary[] = [];
  let routerId: string | undefined;
  let as: number | undefined;
  for (const [afi, body] of Object.entries(json)) {
    if (!isObj(body)) continue;
    routerId ??= str(body.routerId);
    as ??= num(body.as);
    if (!isObj(body.peers)) continue;
    for (const [peer, p] of Object.entries(body.peers)) {
      if (!isObj(p)) continue;
      const state = str(p.state) ?? "Unknown";
      peers.push({
        afi,
        peer,
        remoteAs: num(p.remoteAs) ?? 0,
        state,
        established: state === "Established",
        prefixesReceived: num(p.pfxRcd) ?? 0,
        prefixesSent: num(p.pfxSnt) ?? 0,
        uptimeMs: num(p.peerUptimeMsec) ?? 0,
      });
    }
  }
  return { ...(routerId !== undefined ? { routerId } : {}), ...(as !== undefined ? { as } : {}), peers };
}

/** `show bgp vrf all summary json`: `{ "<vrf>": <show bgp summary json of that VRF> }`. */
export function parseBgpVrfAllSummary(json: unknown): Array<BgpPeerSummary & { readonly vrf: string }> {
  if (!isObj(json)) return [];
  return Object.entries(json).flatMap(([vrf, body]) =>
    parseBgpSummary(body).peers.map((p) => ({ ...p, vrf })),
  );
}

/** `show ip route json` / `show ipv6 route json`: every route entry, in FRR's order. */
export function parseRouteTable(json: unknown): FrrRoute[] {
  if (!isObj(json)) return [];
  const out: FrrRoute[] = [];
  for (const [prefix, entries] of Object.entries(json)) {
    if (!Array.isArray(entries)) continue;
    for (const e of entries) {
      if (!isObj(e)) continue;
      const nexthops: FrrNexthop[] = [];
      if (Array.isArray(e.nexthops))
        for (const n of e.nexthops) {
          if (!isObj(n)) continue;
          const ip = str(n.ip);
          const interfaceName = str(n.interfaceName);
          nexthops.push({
            ...(ip !== undefined ? { ip } : {}),
            ...(interfaceName !== undefined ? { interfaceName } : {}),
            active: n.active === true,
          });
        }
      const table = num(e.table);
      const distance = num(e.distance);
      const metric = num(e.metric);
      out.push({
        prefix: str(e.prefix) ?? prefix,
        protocol: str(e.protocol) ?? "unknown",
        selected: e.selected === true,
        installed: e.installed === true,
        ...(table !== undefined ? { table } : {}),
        ...(distance !== undefined ? { distance } : {}),
        ...(metric !== undefined ? { metric } : {}),
        nexthops,
      });
    }
  }
  return out;
}

/** The selected route for `prefix` learned via `protocol`, if any. */
export function findRoute(
  routes: readonly FrrRoute[],
  prefix: string,
  protocol?: string,
): FrrRoute | undefined {
  return routes.find(
    (r) => r.prefix === prefix && r.selected && (protocol === undefined || r.protocol === protocol),
  );
}
