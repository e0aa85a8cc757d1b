/**
 * Permanent neighbours (`ip neigh … nud permanent`), owned through `protocol <route_protocol>`.
 * A neighbour key (device + IP) holds one entry: a dynamic entry the kernel learned is cache and is
 * overwritten (`neigh replace`), but a permanent entry with another protocol is someone's
 * configuration and is never touched; the desired item is then reported as blocked.
 */
import { keyNeighbour, type NeighbourSpec } from "../../plan/desired-state.ts";
import { isRecord, num, str } from "./ip-batch.ts";
import { ipOp, type KeyedKind, label, missingDev } from "./keyed-kind.ts";
import type { ObservedNeighbour } from "./types.ts";
import { canonicalIp, checkIfName, checkIp, checkMac, familyOf } from "./validate.ts";

/** Parse `ip -N -j neigh show nud permanent` (both families). */
export function parseNeighbours(json: readonly unknown[]): ObservedNeighbour[] {
  const out: ObservedNeighbour[] = [];
  for (const o of json) {
    if (!isRecord(o)) continue;
    const ip = canonicalIp(str(o, "dst") ?? "");
    const dev = str(o, "dev");
    if (ip === undefined || dev === undefined) continue;
    const mac = str(o, "lladdr");
    out.push({
      family: familyOf(ip),
      dev,
      ip,
      protocol: num(o, "protocol") ?? 0,
      ...(mac !== undefined ? { mac: mac.toLowerCase() } : {}),
    });
  }
  return out;
}

export const desiredNeighbourKey = keyNeighbour;
export const observedNeighbourKey = (n: ObservedNeighbour): string => `${n.dev}|${n.ip}`;

export function checkNeighbour(n: NeighbourSpec): NeighbourSpec {
  return { family: n.family, dev: checkIfName(n.dev), ip: checkIp(n.ip, n.family), mac: checkMac(n.mac) };
}

/** `replace`, not `add`: a dynamic (learned) entry for the IP must not make the add fail. */
export function neighbourSetLine(n: NeighbourSpec, protocol: number): string {
  return `neigh replace ${n.ip} lladdr ${n.mac} dev ${n.dev} nud permanent protocol ${protocol}`;
}

export function neighbourDelLine(n: { ip: string; dev: string }): string {
  return `neigh del ${n.ip} dev ${n.dev}`;
}

/** Permanent neighbours as a keyed kind: one entry per device and IP, ours or someone's. */
export const neighbourKind: KeyedKind<NeighbourSpec, ObservedNeighbour> = {
  kind: "neighbour",
  desired: (s) => s.neighbours,
  observed: (o) => o.neighbours,
  label: (raw) => `${label(raw.dev)}|${label(raw.ip)}`,
  check: checkNeighbour,
  key: keyNeighbour,
  observedKey: observedNeighbourKey,
  observedDev: (n) => n.dev,
  decide(want, have, ctx, out) {
    const [h] = have;
    const key = want ? keyNeighbour(want) : observedNeighbourKey(h as ObservedNeighbour);
    if (!want) {
      if (h && h.protocol === ctx.proto) out.del(ipOp("neighbour", key, "del", [neighbourDelLine(h)]));
      return;
    }
    if (h && h.protocol !== ctx.proto) {
      // Someone's permanent entry: same MAC means the wish is met; another MAC is a conflict.
      if (h.mac !== want.mac)
        out.block({
          kind: "neighbour",
          key,
          op: "add",
          error: `a permanent neighbour ${want.ip} on ${want.dev} with lladdr ${h.mac ?? "none"} exists and is not ours (protocol ${h.protocol}); left untouched`,
        });
      return;
    }
    if (h && h.mac === want.mac) return;
    if (!ctx.present(want.dev))
      out.block({ kind: "neighbour", key, op: h ? "replace" : "add", error: missingDev(want.dev) });
    else
      out.add(
        "neighbour",
        ipOp("neighbour", key, h ? "replace" : "add", [neighbourSetLine(want, ctx.proto)]),
      );
  },
  after(want, have, ctx) {
    const [h] = have;
    if (!want) return h && h.protocol === ctx.proto ? [] : [...have];
    if ((h && h.protocol !== ctx.proto) || (h && h.mac === want.mac) || !ctx.present(want.dev))
      return [...have];
    return [{ family: want.family, dev: want.dev, ip: want.ip, mac: want.mac, protocol: ctx.proto }];
  },
};
