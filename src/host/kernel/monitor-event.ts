/**
 * One line of `ip -4|-6 -N -o monitor label …` parsed into the object it announces, so the applier
 * can tell its own writes (the line agrees with what it believes the kernel holds) from someone
 * else's change (it does not: a pass heals it). The family comes from which monitor printed the line
 * (`ip rule` lines without a destination do not show it). Anything that does not parse is
 * `undefined`, which the caller treats as drift: a missed heal costs more than a spare pass.
 */
import { canonicalIp } from "./validate.ts";

interface Base {
  readonly family: 4 | 6;
  readonly deleted: boolean;
}
export type MonitorEvent =
  | (Base & {
      readonly kind: "rule";
      readonly priority: number;
      readonly to?: string;
      readonly table: number;
      readonly suppressPrefixlength?: number;
      readonly protocol: number;
      /** Only `from all [to X] lookup T [suppress_prefixlength N]`: the shape the agent makes. */
      readonly plain: boolean;
    })
  | (Base & {
      readonly kind: "route";
      readonly table: number;
      readonly dst: string;
      readonly dev?: string;
      readonly via?: string;
      readonly metric?: number;
      readonly protocol: number;
      readonly unicast: boolean;
    })
  | (Base & {
      readonly kind: "neigh";
      readonly dev: string;
      readonly ip: string;
      readonly mac?: string;
      readonly permanent: boolean;
      readonly proxy: boolean;
      readonly protocol: number;
    })
  | (Base & { readonly kind: "address"; readonly dev: string; readonly cidr: string })
  | (Base & { readonly kind: "link"; readonly name: string });

/** `word value` pairs of a monitor line. */
function pairs(tokens: readonly string[], from: number): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = from; i < tokens.length - 1; i++) {
    const t = tokens[i] as string;
    if (!m.has(t)) m.set(t, tokens[i + 1] as string);
  }
  return m;
}

const num = (v: string | undefined): number | undefined =>
  v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;

function cidrOf(text: string, family: 4 | 6): string | undefined {
  if (text === "default") return "default";
  const [ip, len] = text.split("/");
  const c = canonicalIp(ip ?? "");
  if (c === undefined || (c.includes(":") ? 6 : 4) !== family) return undefined;
  return `${c}/${len ?? (family === 4 ? 32 : 128)}`;
}

export function parseMonitorLine(line: string, family: 4 | 6): MonitorEvent | undefined {
  const m = /^\[([A-Z]+)\](Deleted )?(.*)$/.exec(line.trim());
  if (!m) return undefined;
  const deleted = m[2] !== undefined;
  const body = (m[3] ?? "").trim();
  const tokens = body.split(/\s+/);
  switch (m[1]) {
    case "RULE": {
      const r = /^(\d+):\s+(.*)$/.exec(body);
      if (!r) return undefined;
      const t = (r[2] ?? "").split(/\s+/);
      const kv = pairs(t, 0);
      const table = num(kv.get("lookup"));
      if (table === undefined) return undefined;
      const toText = kv.get("to");
      const to = toText !== undefined ? cidrOf(toText, family) : undefined;
      if (toText !== undefined && to === undefined) return undefined;
      const sp = num(kv.get("suppress_prefixlength"));
      const known = new Set(["from", "to", "lookup", "suppress_prefixlength", "proto"]);
      const plain = kv.get("from") === "all" && t.every((w, i) => i % 2 === 1 || known.has(w));
      return {
        kind: "rule",
        family,
        deleted,
        priority: Number(r[1]),
        table,
        protocol: num(kv.get("proto")) ?? 0,
        plain,
        ...(to !== undefined ? { to } : {}),
        ...(sp !== undefined ? { suppressPrefixlength: sp } : {}),
      };
    }
    case "ROUTE": {
      // With -N a non-unicast route starts with its type number ("2 169.254.0.1 … table 255").
      const unicast = !/^\d+$/.test(tokens[0] ?? "");
      const dstText = unicast ? tokens[0] : tokens[1];
      const dst = dstText !== undefined ? cidrOf(dstText, family) : undefined;
      if (dst === undefined) return undefined;
      const kv = pairs(tokens, unicast ? 1 : 2);
      const via = kv.get("via");
      const dev = kv.get("dev");
      const metric = num(kv.get("metric"));
      const viaIp = via !== undefined ? canonicalIp(via) : undefined;
      return {
        kind: "route",
        family,
        deleted,
        dst,
        table: num(kv.get("table")) ?? 254,
        protocol: num(kv.get("proto")) ?? 0,
        unicast,
        ...(dev !== undefined ? { dev } : {}),
        ...(viaIp !== undefined ? { via: viaIp } : {}),
        ...(metric !== undefined ? { metric } : {}),
      };
    }
    case "NEIGH": {
      const proxy = tokens[0] === "proxy";
      const ip = canonicalIp(tokens[proxy ? 1 : 0] ?? "");
      const kv = pairs(tokens, proxy ? 2 : 1);
      const dev = kv.get("dev");
      if (ip === undefined || dev === undefined) return undefined;
      const mac = kv.get("lladdr")?.toLowerCase();
      return {
        kind: "neigh",
        family,
        deleted,
        dev,
        ip,
        proxy,
        permanent: tokens.includes("PERMANENT"),
        protocol: num(kv.get("proto")) ?? 0,
        ...(mac !== undefined ? { mac } : {}),
      };
    }
    case "ADDR": {
      // "12: br-ex    inet 169.254.1.1/32 scope 0 br-ex\ …"
      const a = /^\d+:\s+(\S+)\s+(inet6?)\s+(\S+)/.exec(body);
      if (!a) return undefined;
      const cidr = cidrOf(a[3] ?? "", a[2] === "inet6" ? 6 : 4);
      if (cidr === undefined) return undefined;
      return { kind: "address", family: a[2] === "inet6" ? 6 : 4, deleted, dev: a[1] as string, cidr };
    }
    case "LINK": {
      const l = /^\d+:\s+([^:@\s]+)[@:]/.exec(body);
      if (!l) return undefined;
      return { kind: "link", family, deleted, name: l[1] as string };
    }
    default:
      return undefined;
  }
}
