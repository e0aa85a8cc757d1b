/**
 * The pure part of the kernel applier: desired (from `flattenPlan`) × observed → the smallest set
 * of ops, plus the desired items that cannot be attempted (invalid values, missing devices,
 * foreign objects in the way). Ownership rules decide what prune may remove:
 * - rules, routes, neighbours, NDP proxies: ours iff they carry `protocol <route_protocol>`;
 * - addresses: every non-link-local address on an owned device (bgp_nic, desired dummies), and
 *   helper addresses (exact values, `isHelperAddress`) elsewhere;
 * - links: named by the plan, or carrying our alias (created by an earlier plan).
 * Anything else is foreign and is neither deleted nor changed.
 *
 * Op order: devices change first, in a batch of their own (deletes, then creates: VRF before the
 * dummy enslaved to it). Then the main batch: withdrawals (rules before the routes they lead to),
 * then addresses, routes (on-link routes before the routes whose gateway they make reachable),
 * neighbours, NDP proxies and finally rules, so traffic is only steered to a table once the table
 * can carry it.
 */
import type { KernelState, LinkSpec, NeighbourSpec, RuleSpec } from "../../plan/desired-state.ts";
import {
  addressAddLine,
  addressDelLine,
  checkAddress,
  isLinkLocal,
  isUpstreamHelperAddress,
  observedAddressKey,
} from "./address.ts";
import { renderRtProtos, renderRtTables } from "./dropin-files.ts";
import {
  checkLink,
  judgeLink,
  linkCreateLines,
  linkCreateRank,
  linkDelLine,
  linkFixLines,
  OWNED_LINK_KINDS,
  OWNER_ALIAS,
} from "./link.ts";
import { checkNdpProxy, ndpProxyAddLine, ndpProxyDelLine, observedNdpProxyKey } from "./ndp-proxy.ts";
import { checkNeighbour, neighbourDelLine, neighbourSetLine, observedNeighbourKey } from "./neighbour.ts";
import { checkRoute, observedRouteKey, routeDelLine, routeEqual, routeLine } from "./route.ts";
import { checkRule, observedRuleKey, ruleAddLine, ruleDelLine } from "./rule.ts";
import { normaliseSysctl } from "./sysctl.ts";
import type {
  BlockedItem,
  KernelObjectKind,
  KernelOp,
  KernelOps,
  ObservedAddress,
  ObservedKernel,
  ObservedNeighbour,
  ObservedRule,
} from "./types.ts";
import { checkSysctlValue, InvalidValueError, sysctlPath } from "./validate.ts";

export interface DiffOptions {
  readonly routeProtocol: number;
  /** Devices whose every (non link-local) address is the agent's: bgp_nic. */
  readonly ownedDevices?: readonly string[];
  /** Which addresses on other devices are the agent's helpers (default: the upstream scheme). */
  readonly isHelperAddress?: (cidr: string) => boolean;
  readonly rtTablesDropin?: string;
  readonly rtProtosDropin?: string;
}

/** The single message for "this layout needs device kinds this kernel lacks". */
export function unsupportedLinkMessage(kinds: Iterable<string>): string {
  const ks = [...new Set(kinds)].sort();
  const layout = ks.some((k) => k === "vrf" || k === "dummy");
  const base = `this kernel cannot create ${ks.join(" and ")} devices (iproute2: "Unknown device type": the module is not available)`;
  return layout
    ? `${base}; announce_via = vrf needs a VRF and a dummy device: set announce_via = table, which needs neither. Everything else is applied.`
    : `${base}; the objects that need them are skipped, everything else is applied.`;
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = m.get(k);
    if (list) list.push(it);
    else m.set(k, [it]);
  }
  return m;
}

class OpsBuilder {
  readonly dels: KernelOp[] = [];
  readonly links: KernelOp[] = [];
  readonly addrs: KernelOp[] = [];
  readonly linkRoutes: KernelOp[] = [];
  readonly gwRoutes: KernelOp[] = [];
  readonly neighs: KernelOp[] = [];
  readonly proxies: KernelOp[] = [];
  readonly rules: KernelOp[] = [];
  readonly tail: KernelOp[] = [];
  readonly blocked: BlockedItem[] = [];
  readonly problems = new Set<string>();

  block(kind: KernelObjectKind, key: string, error: string, op: BlockedItem["op"] = "add"): void {
    this.blocked.push({ kind, key, op, error });
  }

  /** Validate a desired item; on failure block it with an error naming the object. */
  check<T>(kind: KernelObjectKind, label: string, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (e) {
      if (e instanceof InvalidValueError || e instanceof Error) {
        this.block(kind, label, `${kind} ${label}: ${e.message}`);
        return undefined;
      }
      throw e;
    }
  }

  ops(): KernelOp[] {
    return [
      ...this.dels,
      ...this.links,
      ...this.addrs,
      ...this.linkRoutes,
      ...this.gwRoutes,
      ...this.neighs,
      ...this.proxies,
      ...this.rules,
      ...this.tail,
    ];
  }
}

const ipOp = (
  kind: KernelObjectKind,
  key: string,
  op: KernelOp["op"],
  lines: string[],
  channel: "link" | "ip" | "ip6" = "ip",
): KernelOp => ({ kind, key, op, channel, lines });

/** A loose label for an item whose fields may be hostile: JSON keeps newlines out of logs. */
const label = (v: unknown): string => JSON.stringify(v);

export function diffKernel(desired: KernelState, observed: ObservedKernel, opts: DiffOptions): KernelOps {
  const b = new OpsBuilder();
  const proto = opts.routeProtocol;
  const isHelper = opts.isHelperAddress ?? isUpstreamHelperAddress;

  // ---- links -------------------------------------------------------------------------------
  const observedLinks = new Map(observed.links.map((l) => [l.name, l]));
  const creating = new Set<string>();
  const recreating = new Set<string>();
  const deleting = new Set<string>();
  const wantedLinks: LinkSpec[] = [];
  for (const raw of desired.links) {
    const l = b.check("link", label(raw.name), () => checkLink(raw));
    if (l) wantedLinks.push(l);
  }
  const wantedNames = new Set(wantedLinks.map((l) => l.name));
  for (const l of observed.links) {
    if (wantedNames.has(l.name) || l.alias !== OWNER_ALIAS || !OWNED_LINK_KINDS.has(l.kind ?? "")) continue;
    deleting.add(l.name);
    b.links.push(ipOp("link", l.name, "del", [linkDelLine(l.name)], "link"));
  }
  const present = (dev: string) => (observedLinks.has(dev) && !deleting.has(dev)) || creating.has(dev);
  const unsupported: string[] = [];
  for (const l of [...wantedLinks].sort((x, y) => linkCreateRank(x) - linkCreateRank(y))) {
    const verdict = judgeLink(l, observedLinks.get(l.name));
    if (verdict.action === "none") continue;
    if (verdict.action === "conflict") {
      b.block("link", l.name, verdict.why, "replace");
      continue;
    }
    if (verdict.action !== "fix" && observed.unsupportedLinkKinds.has(l.kind)) {
      unsupported.push(l.kind);
      b.block("link", l.name, `cannot create ${l.kind} device ${l.name}: the kernel lacks ${l.kind} support`);
      continue;
    }
    const needs = l.kind === "vlan" ? l.parent : l.kind === "dummy" ? l.master : undefined;
    if (needs !== undefined && !present(needs)) {
      b.block("link", l.name, `device ${needs} (needed by ${l.name}) does not exist`);
      continue;
    }
    const withKind = (op: KernelOp): KernelOp => ({ ...op, linkKind: l.kind });
    if (verdict.action === "create") {
      creating.add(l.name);
      b.links.push(withKind(ipOp("link", l.name, "add", linkCreateLines(l), "link")));
    } else if (verdict.action === "recreate") {
      creating.add(l.name);
      recreating.add(l.name);
      b.links.push(
        withKind(ipOp("link", l.name, "replace", [linkDelLine(l.name), ...linkCreateLines(l)], "link")),
      );
    } else b.links.push(withKind(ipOp("link", l.name, "replace", linkFixLines(l), "link")));
  }
  if (unsupported.length > 0) b.problems.add(unsupportedLinkMessage(unsupported));
  /** Observed objects on a device being deleted or recreated are gone after the batch. */
  const vanishing = (dev: string | undefined) =>
    dev !== undefined && (deleting.has(dev) || recreating.has(dev));
  const missingDev = (dev: string) => `device ${dev} does not exist`;

  // ---- addresses -----------------------------------------------------------------------------
  const ownedDevs = new Set([
    ...(opts.ownedDevices ?? []),
    ...wantedLinks.filter((l) => l.kind === "dummy").map((l) => l.name),
  ]);
  const haveAddrs = new Map<string, ObservedAddress>();
  for (const a of observed.addresses) if (!vanishing(a.dev)) haveAddrs.set(observedAddressKey(a), a);
  const wantAddrs = new Set<string>();
  for (const raw of desired.addresses) {
    const a = b.check("address", `${label(raw.dev)}|${label(raw.cidr)}`, () => checkAddress(raw));
    if (!a) continue;
    const key = `${a.dev}|${a.cidr}`;
    if (wantAddrs.has(key)) continue;
    wantAddrs.add(key);
    if (haveAddrs.has(key)) continue;
    if (!present(a.dev)) b.block("address", key, missingDev(a.dev));
    else b.addrs.push(ipOp("address", key, "add", [addressAddLine(a)]));
  }
  for (const [key, a] of haveAddrs) {
    if (wantAddrs.has(key)) continue;
    const ours = (ownedDevs.has(a.dev) && !isLinkLocal(a)) || isHelper(a.cidr);
    if (ours) b.dels.push(ipOp("address", key, "del", [addressDelLine(a)]));
  }

  // ---- routes ------------------------------------------------------------------------------
  const haveRoutes = groupBy(
    observed.routes.filter((r) => !vanishing(r.dev)),
    observedRouteKey,
  );
  const wantRoutes = new Set<string>();
  const routeDels: KernelOp[] = [];
  for (const raw of desired.routes) {
    const r = b.check("route", `${raw.family}|${raw.table}|${label(raw.dst)}`, () => checkRoute(raw));
    if (!r) continue;
    const key = `${r.family}|${r.table}|${r.dst}`;
    if (wantRoutes.has(key)) continue;
    wantRoutes.add(key);
    const [have, ...extra] = haveRoutes.get(key) ?? [];
    for (const x of extra) routeDels.push(ipOp("route", key, "del", [routeDelLine(x, proto)]));
    if (have && routeEqual(r, have)) continue;
    if (!present(r.dev)) {
      b.block("route", key, missingDev(r.dev), have ? "replace" : "add");
      continue;
    }
    const op = ipOp("route", key, have ? "replace" : "add", [routeLine(have ? "replace" : "add", r, proto)]);
    (r.via === undefined ? b.linkRoutes : b.gwRoutes).push(op);
  }
  for (const [key, list] of haveRoutes) {
    if (wantRoutes.has(key)) continue;
    for (const x of list) routeDels.push(ipOp("route", key, "del", [routeDelLine(x, proto)]));
  }

  // ---- neighbours --------------------------------------------------------------------------
  const haveNeigh = new Map<string, ObservedNeighbour>();
  for (const n of observed.neighbours) if (!vanishing(n.dev)) haveNeigh.set(observedNeighbourKey(n), n);
  const wantNeigh = new Set<string>();
  const neighDels: KernelOp[] = [];
  for (const raw of desired.neighbours) {
    const n: NeighbourSpec | undefined = b.check("neighbour", `${label(raw.dev)}|${label(raw.ip)}`, () =>
      checkNeighbour(raw),
    );
    if (!n) continue;
    const key = `${n.dev}|${n.ip}`;
    if (wantNeigh.has(key)) continue;
    wantNeigh.add(key);
    const have = haveNeigh.get(key);
    if (have && have.protocol !== proto) {
      // Someone's permanent entry: same MAC means the wish is met; another MAC is a conflict.
      if (have.mac !== n.mac)
        b.block(
          "neighbour",
          key,
          `a permanent neighbour ${n.ip} on ${n.dev} with lladdr ${have.mac ?? "none"} exists and is not ours (protocol ${have.protocol}); left untouched`,
        );
      continue;
    }
    if (have && have.mac === n.mac) continue;
    if (!present(n.dev)) b.block("neighbour", key, missingDev(n.dev), have ? "replace" : "add");
    else b.neighs.push(ipOp("neighbour", key, have ? "replace" : "add", [neighbourSetLine(n, proto)]));
  }
  for (const [key, n] of haveNeigh) {
    if (wantNeigh.has(key) || n.protocol !== proto) continue;
    neighDels.push(ipOp("neighbour", key, "del", [neighbourDelLine(n)]));
  }

  // ---- NDP proxies -------------------------------------------------------------------------
  const haveProxy = new Map(
    observed.ndpProxies.filter((p) => !vanishing(p.dev)).map((p) => [observedNdpProxyKey(p), p]),
  );
  const wantProxy = new Set<string>();
  const proxyDels: KernelOp[] = [];
  for (const raw of desired.ndpProxies) {
    const p = b.check("ndp-proxy", `${label(raw.dev)}|${label(raw.ip)}`, () => checkNdpProxy(raw));
    if (!p) continue;
    const key = `${p.dev}|${p.ip}`;
    if (wantProxy.has(key)) continue;
    wantProxy.add(key);
    if (haveProxy.has(key)) continue; // ours, or a foreign twin that already does the job
    if (!present(p.dev)) b.block("ndp-proxy", key, missingDev(p.dev));
    else b.proxies.push(ipOp("ndp-proxy", key, "add", [ndpProxyAddLine(p, proto)]));
  }
  for (const [key, p] of haveProxy) {
    if (wantProxy.has(key) || p.protocol !== proto) continue;
    proxyDels.push(ipOp("ndp-proxy", key, "del", [ndpProxyDelLine(p)]));
  }

  // ---- rules -------------------------------------------------------------------------------
  const ourRules = groupBy(
    observed.rules.filter((r) => r.protocol === proto),
    observedRuleKey,
  );
  const wantRules = new Set<string>();
  const ruleDels: KernelOp[] = [];
  const ruleChannel = (r: { family: 4 | 6 }) => (r.family === 6 ? "ip6" : "ip");
  for (const raw of desired.rules) {
    const r: RuleSpec | undefined = b.check(
      "rule",
      `${raw.family}|${raw.priority}|${label(raw.to)}|${raw.table}`,
      () => checkRule(raw),
    );
    if (!r) continue;
    const key = `${r.family}|${r.priority}|${r.to}|${r.table}`;
    if (wantRules.has(key)) continue;
    wantRules.add(key);
    const [have, ...extra] = ourRules.get(key) ?? [];
    for (const x of extra) ruleDels.push(ipOp("rule", key, "del", [ruleDelLine(x, proto)], ruleChannel(x)));
    if (!have) b.rules.push(ipOp("rule", key, "add", [ruleAddLine(r, proto)], ruleChannel(r)));
  }
  for (const [key, list] of ourRules) {
    if (wantRules.has(key)) continue;
    for (const x of list as ObservedRule[])
      ruleDels.push(ipOp("rule", key, "del", [ruleDelLine(x, proto)], ruleChannel(x)));
  }
  // Withdrawal order: rules, neighbours, proxies, routes; then addresses and links pushed above.
  b.dels.unshift(...ruleDels, ...neighDels, ...proxyDels, ...routeDels);

  // ---- sysctls -----------------------------------------------------------------------------
  for (const s of desired.sysctls) {
    const checked = b.check("sysctl", label(s.key), () => ({
      ...sysctlPath(s.key),
      value: checkSysctlValue(s.value),
    }));
    if (!checked) continue;
    if (checked.dev !== undefined && !present(checked.dev)) {
      b.block("sysctl", s.key, missingDev(checked.dev), "replace");
      continue;
    }
    const have = observed.sysctls.get(s.key);
    if (
      have !== undefined &&
      normaliseSysctl(have) === normaliseSysctl(checked.value) &&
      !recreatingDev(checked.dev)
    )
      continue;
    b.tail.push({
      kind: "sysctl",
      key: s.key,
      op: "replace",
      channel: "sysctl",
      lines: [],
      sysctl: { key: s.key, path: checked.path, value: checked.value },
    });
  }
  function recreatingDev(dev: string | undefined): boolean {
    return dev !== undefined && (recreating.has(dev) || (creating.has(dev) && !observedLinks.has(dev)));
  }

  // ---- drop-in files -----------------------------------------------------------------------
  const file = (path: string | undefined, render: () => string) => {
    if (path === undefined) return;
    const content = b.check("file", path, render);
    if (content === undefined) return;
    const have = observed.files.get(path);
    if (have === content) return;
    b.tail.push({
      kind: "file",
      key: path,
      op: have === undefined ? "add" : "replace",
      channel: "file",
      lines: [],
      file: { path, content },
    });
  };
  if (desired.routingTables !== undefined)
    file(opts.rtTablesDropin, () => renderRtTables(desired.routingTables ?? []));
  file(opts.rtProtosDropin, () => renderRtProtos(proto));

  return { ops: b.ops(), blocked: b.blocked, problems: [...b.problems] };
}
