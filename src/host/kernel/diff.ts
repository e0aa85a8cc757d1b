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
import type { KernelState, LinkSpec } from "../../plan/desired-state.ts";
import { addressKind, isLinkLocal, isUpstreamHelperAddress } from "./address.ts";
import { renderRtProtos, renderRtTables } from "./dropin-files.ts";
import {
  ADD_ORDER,
  type AddBucket,
  DEL_ORDER,
  ipOp,
  type KeyedKind,
  type KindContext,
  label,
  missingDev,
  type OpSink,
} from "./keyed-kind.ts";
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
import { ndpProxyKind } from "./ndp-proxy.ts";
import { neighbourKind } from "./neighbour.ts";
import { routeKind } from "./route.ts";
import { ruleKind } from "./rule.ts";
import { normaliseSysctl } from "./sysctl.ts";
import type {
  BlockedItem,
  KernelObjectKind,
  KernelOp,
  KernelOps,
  ObservedAddress,
  ObservedKernel,
} from "./types.ts";
import { checkSysctlValue, InvalidValueError, sysctlPath } from "./validate.ts";

export interface DiffOptions {
  readonly routeProtocol: number;
  /** Devices whose every (non link-local) address is the agent's: bgp_nic. */
  readonly ownedDevices?: readonly string[];
  /** Which addresses on other devices are the agent's helpers (default: the upstream scheme). */
  readonly isHelperAddress?: (cidr: string) => boolean;
  /**
   * Devices the agent puts helper addresses on: those of `desired` and those it put them on earlier
   * in this run (provider bridges and their VLAN devices). Only there is a helper-shaped address the
   * agent's. Absent: the devices of `desired` (helperDevicesOf).
   */
  readonly helperDevices?: ReadonlySet<string>;
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

export function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = m.get(k);
    if (list) list.push(it);
    else m.set(k, [it]);
  }
  return m;
}

/** The keyed kinds, in the order their decisions run. */
// biome-ignore lint/suspicious/noExplicitAny: a heterogeneous list of kinds, each typed in its own file
export const KEYED_KINDS: readonly KeyedKind<any, any>[] = [
  addressKind,
  routeKind,
  neighbourKind,
  ndpProxyKind,
  ruleKind,
];

/** One key's decision: what was wanted, what was there, and the ops it produced. */
export interface Decision {
  // biome-ignore lint/suspicious/noExplicitAny: any kind
  readonly kind: KeyedKind<any, any>;
  readonly key: string;
  readonly want: unknown;
  readonly have: readonly unknown[];
  /** The context it was decided in (what `after` needs to say what the key then holds). */
  readonly ctx: KindContext;
  readonly ops: KernelOp[];
}

/** Collects ops by bucket so that the batch keeps its order whatever order the keys are decided in. */
export class OpsBuilder implements OpSink {
  /** The decision being made (its ops are recorded on it), when decisions are collected. */
  current: Decision | undefined;
  private readonly adds = new Map<AddBucket, KernelOp[]>();
  private readonly dels = new Map<KernelObjectKind, KernelOp[]>();
  readonly links: KernelOp[] = [];
  readonly tail: KernelOp[] = [];
  readonly blocked: BlockedItem[] = [];
  readonly problems = new Set<string>();

  add(bucket: AddBucket, op: KernelOp): void {
    this.current?.ops.push(op);
    const l = this.adds.get(bucket);
    if (l) l.push(op);
    else this.adds.set(bucket, [op]);
  }

  del(op: KernelOp): void {
    this.current?.ops.push(op);
    const l = this.dels.get(op.kind);
    if (l) l.push(op);
    else this.dels.set(op.kind, [op]);
  }

  block(item: BlockedItem): void {
    this.blocked.push(item);
  }

  /** Validate a desired item; on failure block it with an error naming the object. */
  check<T>(kind: KernelObjectKind, key: string, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (e) {
      if (e instanceof InvalidValueError || e instanceof Error) {
        this.block({ kind, key, op: "add", error: `${kind} ${key}: ${e.message}` });
        return undefined;
      }
      throw e;
    }
  }

  ops(): KernelOp[] {
    return [
      ...DEL_ORDER.flatMap((k) => this.dels.get(k) ?? []),
      ...this.links,
      ...ADD_ORDER.flatMap((b) => this.adds.get(b) ?? []),
      ...this.tail,
    ];
  }

  result(): KernelOps {
    return { ops: this.ops(), blocked: this.blocked, problems: [...this.problems] };
  }
}

/** Run one key's decision, recording it in `decisions` when given. */
export function decideKey<D, O>(
  kind: KeyedKind<D, O>,
  key: string,
  want: D | undefined,
  have: readonly O[],
  ctx: KindContext,
  b: OpsBuilder,
  decisions: Decision[] | undefined,
): void {
  if (decisions) {
    b.current = { kind, key, want, have, ctx, ops: [] };
    decisions.push(b.current);
  }
  kind.decide(want, have, ctx, b);
  b.current = undefined;
}

/** Decide every key of one kind: the desired ones (in order), then the observed ones nobody wants. */
function diffKind<D, O>(
  kind: KeyedKind<D, O>,
  desired: readonly D[],
  observed: readonly O[],
  vanishing: (dev: string | undefined) => boolean,
  ctx: KindContext,
  b: OpsBuilder,
  decisions: Decision[] | undefined,
): void {
  const have = groupBy(
    observed.filter((o) => !vanishing(kind.observedDev(o))),
    kind.observedKey,
  );
  const seen = new Set<string>();
  for (const raw of desired) {
    const want = b.check(kind.kind, kind.label(raw), () => kind.check(raw));
    if (want === undefined) continue;
    const key = kind.key(want);
    if (seen.has(key)) continue;
    seen.add(key);
    decideKey(kind, key, want, have.get(key) ?? [], ctx, b, decisions);
  }
  for (const [key, list] of have)
    if (!seen.has(key)) decideKey(kind, key, undefined, list, ctx, b, decisions);
}

/**
 * Whether an observed address is the agent's: on an owned device (bgp_nic; not link-local), or a
 * helper-shaped address on a device the agent puts helpers on. The shape alone is not enough: an
 * operator's 169.254.1.1/32 on eth0 is theirs.
 */
export function addressOwnership(
  ownedDevs: ReadonlySet<string>,
  isHelper: (cidr: string) => boolean,
  helperDevs: ReadonlySet<string>,
): (a: ObservedAddress) => boolean {
  return (a) => (ownedDevs.has(a.dev) && !isLinkLocal(a)) || (helperDevs.has(a.dev) && isHelper(a.cidr));
}

/** The devices `desired` puts helper addresses on, added to `known`. */
export function helperDevicesOf(
  desired: Pick<KernelState, "addresses">,
  isHelper: (cidr: string) => boolean,
  known: ReadonlySet<string> = new Set(),
): Set<string> {
  const out = new Set(known);
  for (const a of desired.addresses) if (isHelper(a.cidr)) out.add(a.dev);
  return out;
}

/**
 * The full diff. With `decisions`, every key's decision is recorded there (the applier updates its
 * model from them once the ops are applied).
 */
export function diffKernel(
  desired: KernelState,
  observed: ObservedKernel,
  opts: DiffOptions,
  decisions?: Decision[],
): KernelOps {
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
    const del = ipOp("link", l.name, "del", [linkDelLine(l.name)], "link");
    b.links.push(l.kind !== undefined ? { ...del, linkKind: l.kind } : del);
  }
  const present = (dev: string) => (observedLinks.has(dev) && !deleting.has(dev)) || creating.has(dev);
  const unsupported: string[] = [];
  for (const l of [...wantedLinks].sort((x, y) => linkCreateRank(x) - linkCreateRank(y))) {
    const verdict = judgeLink(l, observedLinks.get(l.name));
    if (verdict.action === "none") continue;
    if (verdict.action === "conflict") {
      b.block({ kind: "link", key: l.name, op: "replace", error: verdict.why });
      continue;
    }
    if (verdict.action !== "fix" && observed.unsupportedLinkKinds.has(l.kind)) {
      unsupported.push(l.kind);
      b.block({
        kind: "link",
        key: l.name,
        op: "add",
        error: `cannot create ${l.kind} device ${l.name}: the kernel lacks ${l.kind} support`,
      });
      continue;
    }
    const needs = l.kind === "vlan" ? l.parent : l.kind === "dummy" ? l.master : undefined;
    if (needs !== undefined && !present(needs)) {
      b.block({
        kind: "link",
        key: l.name,
        op: "add",
        error: `device ${needs} (needed by ${l.name}) does not exist`,
      });
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

  // ---- keyed kinds: addresses, routes, neighbours, NDP proxies, rules ---------------------
  const ownedDevs = new Set([
    ...(opts.ownedDevices ?? []),
    ...wantedLinks.filter((l) => l.kind === "dummy").map((l) => l.name),
  ]);
  const helperDevs = opts.helperDevices ?? helperDevicesOf(desired, isHelper);
  const ctx: KindContext = { proto, present, ownsAddress: addressOwnership(ownedDevs, isHelper, helperDevs) };
  for (const kind of KEYED_KINDS)
    diffKind(kind, kind.desired(desired), kind.observed(observed), vanishing, ctx, b, decisions);

  // ---- sysctls -----------------------------------------------------------------------------
  for (const s of desired.sysctls) {
    const checked = b.check("sysctl", label(s.key), () => ({
      ...sysctlPath(s.key),
      value: checkSysctlValue(s.value),
    }));
    if (!checked) continue;
    if (checked.dev !== undefined && !present(checked.dev)) {
      b.block({ kind: "sysctl", key: s.key, op: "replace", error: missingDev(checked.dev) });
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

  return b.result();
}
