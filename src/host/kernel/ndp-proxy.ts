/**
 * IPv6 NDP proxy entries (`ip -6 neigh … proxy`), owned through `protocol <route_protocol>`.
 * Note: the kernel sends no netlink notification when a proxy entry is deleted, so the drift
 * watcher cannot see that; the periodic resync restores them.
 */
import { keyNdpProxy, type NdpProxySpec } from "../../plan/desired-state.ts";
import { isRecord, num, str } from "./ip-batch.ts";
import { ipOp, type KeyedKind, label, missingDev } from "./keyed-kind.ts";
import type { ObservedNdpProxy } from "./types.ts";
import { canonicalIp, checkIfName, checkIp } from "./validate.ts";

/** Parse `ip -N -j neigh show proxy` (IPv4 proxy entries are ignored: the agent makes none). */
export function parseNdpProxies(json: readonly unknown[]): ObservedNdpProxy[] {
  const out: ObservedNdpProxy[] = [];
  for (const o of json) {
    if (!isRecord(o)) continue;
    const ip = canonicalIp(str(o, "dst") ?? "");
    const dev = str(o, "dev");
    if (ip === undefined || dev === undefined || !ip.includes(":")) continue;
    out.push({ dev, ip, protocol: num(o, "protocol") ?? 0 });
  }
  return out;
}

export const desiredNdpProxyKey = keyNdpProxy;
export const observedNdpProxyKey = (n: ObservedNdpProxy): string => `${n.dev}|${n.ip}`;

export function checkNdpProxy(n: NdpProxySpec): NdpProxySpec {
  return { dev: checkIfName(n.dev), ip: checkIp(n.ip, 6) };
}

export function ndpProxyAddLine(n: NdpProxySpec, protocol: number): string {
  return `neigh add proxy ${n.ip} dev ${n.dev} protocol ${protocol}`;
}

export function ndpProxyDelLine(n: NdpProxySpec): string {
  return `neigh del proxy ${n.ip} dev ${n.dev}`;
}

/** NDP proxy entries as a keyed kind (ours by protocol; a foreign twin already does the job). */
export const ndpProxyKind: KeyedKind<NdpProxySpec, ObservedNdpProxy> = {
  kind: "ndp-proxy",
  desired: (s) => s.ndpProxies,
  observed: (o) => o.ndpProxies,
  label: (raw) => `${label(raw.dev)}|${label(raw.ip)}`,
  check: checkNdpProxy,
  key: keyNdpProxy,
  observedKey: observedNdpProxyKey,
  observedDev: (p) => p.dev,
  decide(want, have, ctx, out) {
    const [h] = have;
    const key = want ? keyNdpProxy(want) : observedNdpProxyKey(h as ObservedNdpProxy);
    if (!want) {
      if (h && h.protocol === ctx.proto) out.del(ipOp("ndp-proxy", key, "del", [ndpProxyDelLine(h)]));
      return;
    }
    if (h) return;
    if (!ctx.present(want.dev)) out.block({ kind: "ndp-proxy", key, op: "add", error: missingDev(want.dev) });
    else out.add("ndp-proxy", ipOp("ndp-proxy", key, "add", [ndpProxyAddLine(want, ctx.proto)]));
  },
  after(want, have, ctx) {
    const [h] = have;
    if (!want) return h && h.protocol === ctx.proto ? [] : [...have];
    if (h || !ctx.present(want.dev)) return [...have];
    return [{ dev: want.dev, ip: want.ip, protocol: ctx.proto }];
  },
};
