/**
 * The desired kernel objects, kept incrementally: an index by kind and key that a PlanDelta updates
 * in time proportional to the delta, and that says which keys the delta touched. It is what the
 * kernel applier's delta path reads (`get`), and `toKernelState()` gives the flat, sorted state a full
 * pass diffs against — the same value `flattenPlan` computes from scratch (a property test holds
 * the two equal).
 *
 * Several owners may want one key (a host-wide route and an entry's, two entries): the host-wide
 * object wins, then the entry with the smallest id, which is what `flattenPlan`'s first-wins merge
 * over (host-wide, entries sorted by id) gives.
 */
import {
  type AddressSpec,
  type DesiredState,
  type KernelState,
  keyAddress,
  keyNdpProxy,
  keyNeighbour,
  keyRoute,
  keyRule,
  type NdpProxySpec,
  type NeighbourSpec,
  type PlanEntry,
  type RouteSpec,
  type RuleSpec,
} from "./desired-state.ts";
import type { PlanDelta } from "./planner.ts";

/** The host-wide kernel objects of a desired state. */
export type HostObjects = Pick<
  DesiredState,
  "links" | "sysctls" | "routingTables" | "addresses" | "routes" | "rules"
>;

export type KeyedKindName = "address" | "rule" | "route" | "neighbour" | "ndp-proxy";

/** Keys whose desired object may have changed, by kind. */
export type TouchedKeys = Map<KeyedKindName, Set<string>>;

interface SpecOf {
  address: AddressSpec;
  rule: RuleSpec;
  route: RouteSpec;
  neighbour: NeighbourSpec;
  "ndp-proxy": NdpProxySpec;
}

/** The owner id of host-wide objects: sorts before every entry id. */
const HOST = "";

type Owners<T> = Array<[owner: string, spec: T]>;

class KeyTable<T> {
  readonly byKey = new Map<string, Owners<T>>();
  constructor(readonly key: (t: T) => string) {}

  add(owner: string, spec: T, touched: Set<string>): void {
    const k = this.key(spec);
    touched.add(k);
    const list = this.byKey.get(k);
    if (!list) {
      this.byKey.set(k, [[owner, spec]]);
      return;
    }
    const i = list.findIndex(([o]) => o === owner);
    if (i >= 0) list[i] = [owner, spec];
    else {
      list.push([owner, spec]);
      list.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    }
  }

  remove(owner: string, spec: T, touched: Set<string>): void {
    const k = this.key(spec);
    const list = this.byKey.get(k);
    if (!list) return;
    const i = list.findIndex(([o]) => o === owner);
    if (i < 0) return;
    touched.add(k);
    list.splice(i, 1);
    if (list.length === 0) this.byKey.delete(k);
  }

  get(k: string): T | undefined {
    return this.byKey.get(k)?.[0]?.[1];
  }

  sorted(): T[] {
    return [...this.byKey.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, list]) => (list[0] as [string, T])[1]);
  }
}

export class DesiredKernel {
  private readonly tables: { [K in KeyedKindName]: KeyTable<SpecOf[K]> } = {
    address: new KeyTable(keyAddress),
    rule: new KeyTable(keyRule),
    route: new KeyTable(keyRoute),
    neighbour: new KeyTable(keyNeighbour),
    "ndp-proxy": new KeyTable(keyNdpProxy),
  };
  private host: Pick<DesiredState, "links" | "sysctls" | "routingTables" | "addresses" | "routes" | "rules"> =
    {
      links: [],
      sysctls: [],
      routingTables: [],
      addresses: [],
      routes: [],
      rules: [],
    };
  private cached: KernelState | undefined;
  /** Bumped whenever the host-wide objects are replaced (callers cache what they derive from them). */
  hostVersion = 0;

  /** Built from a complete desired state. */
  static of(state: DesiredState): DesiredKernel {
    const d = new DesiredKernel();
    const sink = newTouched();
    d.setHost(state, sink);
    for (const e of state.entries) d.addEntry(e, sink);
    return d;
  }

  /**
   * Apply what one planner batch changed; returns the keys whose wish may differ now. `host` gives
   * the host-wide objects, read only when the delta says they changed.
   */
  apply(delta: PlanDelta, host: HostObjects | (() => HostObjects)): TouchedKeys {
    const touched = newTouched();
    for (const e of delta.removed) this.removeEntry(e, touched);
    for (const e of delta.added) this.addEntry(e, touched);
    if (delta.hostChanged) this.setHost(typeof host === "function" ? host() : host, touched);
    return touched;
  }

  get<K extends KeyedKindName>(kind: K, key: string): SpecOf[K] | undefined {
    return this.tables[kind].get(key) as SpecOf[K] | undefined;
  }

  /** Host-wide devices the agent creates (VLAN devices, bgp_nic, the VRF). */
  links(): DesiredState["links"] {
    return this.host.links;
  }

  /** Bridge tables (named after their bridge). */
  routingTables(): DesiredState["routingTables"] {
    return this.host.routingTables;
  }

  /** The flat state a full pass diffs against (memoised until the next change). */
  toKernelState(): KernelState {
    if (this.cached) return this.cached;
    const h = this.host;
    this.cached = {
      links: uniqueSorted(h.links, (l) => `${l.kind}|${l.name}`),
      addresses: this.tables.address.sorted(),
      rules: this.tables.rule.sorted(),
      routes: this.tables.route.sorted(),
      neighbours: this.tables.neighbour.sorted(),
      ndpProxies: this.tables["ndp-proxy"].sorted(),
      sysctls: uniqueSorted(h.sysctls, (s) => s.key),
      routingTables: uniqueSorted(h.routingTables, (t) => String(t.id)),
    };
    return this.cached;
  }

  private addEntry(e: PlanEntry, touched: TouchedKeys): void {
    this.objects(e.id, e, touched, "add");
  }

  private removeEntry(e: PlanEntry, touched: TouchedKeys): void {
    this.objects(e.id, e, touched, "remove");
  }

  /** Add or remove every keyed object of one owner (an entry, or the host-wide objects). */
  private objects(
    owner: string,
    o: Partial<Pick<PlanEntry, "addresses" | "rules" | "routes" | "neighbours" | "ndpProxies">>,
    touched: TouchedKeys,
    op: "add" | "remove",
  ): void {
    this.cached = undefined;
    const t = this.tables;
    for (const a of o.addresses ?? []) t.address[op](owner, a, sinkOf(touched, "address"));
    for (const r of o.rules ?? []) t.rule[op](owner, r, sinkOf(touched, "rule"));
    for (const r of o.routes ?? []) t.route[op](owner, r, sinkOf(touched, "route"));
    for (const n of o.neighbours ?? []) t.neighbour[op](owner, n, sinkOf(touched, "neighbour"));
    for (const p of o.ndpProxies ?? []) t["ndp-proxy"][op](owner, p, sinkOf(touched, "ndp-proxy"));
  }

  private setHost(state: HostObjects, touched: TouchedKeys): void {
    this.hostVersion++;
    this.objects(HOST, this.host, touched, "remove");
    this.host = {
      links: state.links,
      sysctls: state.sysctls,
      routingTables: state.routingTables,
      addresses: uniqueSorted(state.addresses, keyAddress),
      routes: uniqueSorted(state.routes, keyRoute),
      rules: uniqueSorted(state.rules, keyRule),
    };
    this.objects(HOST, this.host, touched, "add");
  }
}

export function newTouched(): TouchedKeys {
  return new Map();
}

export function sinkOf(t: TouchedKeys, kind: KeyedKindName): Set<string> {
  let s = t.get(kind);
  if (!s) {
    s = new Set();
    t.set(kind, s);
  }
  return s;
}

/** Merge `from` into `into`. */
export function mergeTouched(into: TouchedKeys, from: TouchedKeys): void {
  for (const [k, keys] of from) {
    const s = sinkOf(into, k);
    for (const key of keys) s.add(key);
  }
}

export function touchedCount(t: TouchedKeys): number {
  let n = 0;
  for (const s of t.values()) n += s.size;
  return n;
}

function uniqueSorted<T>(items: readonly T[], key: (t: T) => string): T[] {
  const m = new Map<string, T>();
  for (const i of items) if (!m.has(key(i))) m.set(key(i), i);
  return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
}
