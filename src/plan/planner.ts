/**
 * The planner: Southbound replica + local facts + config → DesiredState, pure (no I/O).
 *
 * `Planner` keeps the rows it was given, per-row outputs and a dependency graph, so `apply()`
 * recomputes only the rows and derived topology a change can affect, and returns what changed
 * as a PlanDelta (for "FIPSetEvent logical_port=… ips=…" logs and for appliers that want
 * deltas). `planFromScratch()` is the same machinery run once; the property tests check that
 * both always agree.
 */
import type { AgentConfig } from "../config/agent-config.ts";
import type { Row, RowChange } from "../ovsdb/wire/datum.ts";
import type { PortBinding } from "../sb/port-binding.ts";
import { DepGraph } from "./dep-graph.ts";
import type { DesiredState, PlanEntry, PlanProblem } from "./desired-state.ts";
import { type BridgeSlots, bridgeSlots, computeHostWide, type HostWide } from "./host-wide.ts";
import type { LocalFacts } from "./local-facts.ts";
import { Rules, type UnitOutput } from "./rules.ts";
import { SbStore } from "./sb-store.ts";

export type Tables = ReadonlyMap<string, ReadonlyMap<string, Row>>;

/** What one batch of changes did to the plan. */
export interface PlanDelta {
  /** Entries that appeared, or the new version of entries that changed. */
  readonly added: readonly PlanEntry[];
  /** Entries that went away, or the old version of entries that changed. */
  readonly removed: readonly PlanEntry[];
  /** Problems that appeared with this batch. */
  readonly problems: readonly PlanProblem[];
  /** Whether host-wide objects (bridges, VLAN devices, flows, FRR intent) changed. */
  readonly hostChanged: boolean;
}

const entryKey = (e: PlanEntry): string => JSON.stringify(e);
const problemKey = (p: PlanProblem): string => `${p.table}\u0000${p.object}\u0000${p.message}`;
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export class Planner {
  private facts: LocalFacts;
  private slots: BridgeSlots;
  private readonly store: SbStore;
  private readonly graph = new DepGraph();
  private rules: Rules;
  private readonly outputs = new Map<string, UnitOutput>();
  private host: HostWide;
  private cached: DesiredState | undefined;
  /** Rows recomputed by the last load/apply/setFacts (observability and incrementality tests). */
  lastRecomputed = 0;

  constructor(
    private readonly config: AgentConfig,
    facts: LocalFacts,
  ) {
    this.facts = facts;
    this.store = new SbStore(facts.chassisName);
    this.slots = bridgeSlots(config, facts);
    this.rules = new Rules(config, this.slots, this.store, this.graph, facts.hostNetworks);
    this.host = computeHostWide(config, facts, this.slots, []);
  }

  /** Replace everything with a full snapshot (tables by name, rows by uuid). */
  load(tables: Tables): void {
    this.store.clear(this.facts.chassisName);
    this.graph.clear();
    this.outputs.clear();
    for (const [uuid, row] of tables.get("Chassis") ?? []) this.store.putChassis(row, uuid);
    for (const [uuid, row] of tables.get("Logical_DP_Group") ?? [])
      this.store.putDpGroup(uuid, row, undefined);
    for (const [uuid, row] of tables.get("Load_Balancer") ?? [])
      this.store.putLoadBalancer(uuid, row, undefined);
    for (const row of (tables.get("Port_Binding") ?? new Map()).values()) this.store.putPort(row, undefined);
    this.recomputeAll();
  }

  /** Apply row changes (from the replica) and return what changed in the plan. */
  apply(changes: readonly RowChange[]): PlanDelta {
    const touched = new Set<string>();
    const dirtyRows = new Set<string>();
    let hostDirty = false;
    let oursChanged = false;
    for (const c of changes) {
      if (c.table === "Port_Binding") {
        const old = this.store.deletePort(c.uuid, touched);
        const next = c.kind === "delete" ? undefined : this.store.putPort(c.new, touched);
        if (old?.type === "localnet" || next?.type === "localnet") hostDirty = true;
        dirtyRows.add(c.uuid);
        // Rows sharing a name may change canonical owner (see Rules.unit).
        if (old) for (const u of this.store.sameName(old.logicalPort)) dirtyRows.add(u);
        if (next) for (const u of this.store.sameName(next.logicalPort)) dirtyRows.add(u);
      } else if (c.table === "Chassis") {
        if (this.store.putChassis(c.kind === "delete" ? undefined : c.new, c.uuid)) oursChanged = true;
      } else if (c.table === "Load_Balancer") {
        this.store.putLoadBalancer(c.uuid, c.kind === "delete" ? undefined : c.new, touched);
      } else if (c.table === "Logical_DP_Group") {
        this.store.putDpGroup(c.uuid, c.kind === "delete" ? undefined : c.new, touched);
      }
    }
    if (oursChanged) return this.recomputeEverything();
    const dirtyUnits = new Set<string>();
    this.graph.touch(touched, dirtyUnits);
    for (const u of dirtyUnits) dirtyRows.add(u.slice(2));
    const before = this.snapshot(dirtyRows);
    const oldHost = this.host;
    this.lastRecomputed = 0;
    for (const uuid of dirtyRows) this.recompute(uuid);
    if (hostDirty)
      this.host = computeHostWide(this.config, this.facts, this.slots, this.store.localnets.values());
    return this.delta(before, dirtyRows, oldHost);
  }

  /** New local facts (chassis name, bridge mappings, bridge MACs): everything is recomputed. */
  setFacts(facts: LocalFacts): PlanDelta {
    this.facts = facts;
    this.slots = bridgeSlots(this.config, facts);
    this.rules = new Rules(this.config, this.slots, this.store, this.graph, facts.hostNetworks);
    this.store.rename(facts.chassisName);
    return this.recomputeEverything();
  }

  private recomputeEverything(): PlanDelta {
    const all = new Set(this.outputs.keys());
    for (const uuid of this.store.ports.keys()) all.add(uuid);
    const before = this.snapshot(all);
    const oldHost = this.host;
    this.graph.clear();
    this.outputs.clear();
    this.recomputeAll();
    return this.delta(before, all, oldHost);
  }

  /** The host-wide part of the desired state (cheap: no entries are gathered). */
  hostWide(): HostWide {
    return this.host;
  }

  /** The complete desired state (cached until the next change). */
  state(): DesiredState {
    if (this.cached) return this.cached;
    const entries: PlanEntry[] = [];
    const problems = new Map<string, PlanProblem>();
    for (const p of this.host.problems) problems.set(problemKey(p), p);
    for (const out of this.outputs.values()) {
      for (const e of out.entries) entries.push(e);
      for (const p of out.problems) problems.set(problemKey(p), p);
    }
    entries.sort((a, b) => cmp(a.id, b.id));
    const h = this.host;
    this.cached = {
      chassis: this.facts.chassisName,
      entries,
      links: h.links,
      addresses: h.addresses,
      routes: h.routes,
      rules: h.rules,
      sysctls: h.sysctls,
      routingTables: h.routingTables,
      flows: h.flows,
      frr: h.frr,
      problems: [...problems.entries()].sort(([a], [b]) => cmp(a, b)).map(([, p]) => p),
    };
    return this.cached;
  }

  /** How many exposures the plan holds (O(rows), no entries gathered). */
  entryCount(): number {
    let n = 0;
    for (const out of this.outputs.values()) n += out.entries.length;
    return n;
  }

  /** Every row the planner could not use, with why (O(rows), no entries gathered). */
  problems(): PlanProblem[] {
    if (this.cached) return [...this.cached.problems];
    const problems = new Map<string, PlanProblem>();
    for (const p of this.host.problems) problems.set(problemKey(p), p);
    for (const out of this.outputs.values()) for (const p of out.problems) problems.set(problemKey(p), p);
    return [...problems.entries()].sort(([a], [b]) => cmp(a, b)).map(([, p]) => p);
  }

  /**
   * Tenant datapaths whose VM ports this chassis exposes (behind a local gateway): the SB
   * monitor condition must include their ports (see src/sb/monitor-spec.ts).
   */
  tenantDatapaths(): string[] {
    const out = new Set<string>();
    for (const o of this.outputs.values()) if (o.tenantDatapath !== undefined) out.add(o.tenantDatapath);
    return [...out].sort();
  }

  private recomputeAll(): void {
    this.cached = undefined;
    this.lastRecomputed = 0;
    for (const [uuid, pb] of this.store.ports) this.recomputeUnit(uuid, pb);
    this.graph.fresh = false;
    this.host = computeHostWide(this.config, this.facts, this.slots, this.store.localnets.values());
  }

  private recompute(uuid: string): void {
    this.recomputeUnit(uuid, this.store.ports.get(uuid));
  }

  private recomputeUnit(uuid: string, pb: PortBinding | undefined): void {
    this.cached = undefined;
    this.lastRecomputed++;
    const unit = `u:${uuid}`;
    if (!pb) {
      this.graph.forget(unit);
      this.outputs.delete(uuid);
      return;
    }
    const out = this.graph.track(unit, () => this.rules.unit(pb));
    if (out.entries.length > 0 || out.problems.length > 0 || out.tenantDatapath !== undefined)
      this.outputs.set(uuid, out);
    else if (this.outputs.size > 0) this.outputs.delete(uuid);
  }

  private snapshot(rows: Iterable<string>): Map<string, UnitOutput> {
    const m = new Map<string, UnitOutput>();
    for (const uuid of rows) {
      const o = this.outputs.get(uuid);
      if (o) m.set(uuid, o);
    }
    return m;
  }

  private delta(before: Map<string, UnitOutput>, rows: Iterable<string>, oldHost: HostWide): PlanDelta {
    const oldEntries = new Map<string, PlanEntry>();
    const oldProblems = new Set<string>();
    for (const o of before.values()) {
      for (const e of o.entries) oldEntries.set(e.id, e);
      for (const p of o.problems) oldProblems.add(problemKey(p));
    }
    for (const p of oldHost.problems) oldProblems.add(problemKey(p));
    const newEntries = new Map<string, PlanEntry>();
    const problems: PlanProblem[] = [];
    const seen = new Set<string>();
    const addProblem = (p: PlanProblem) => {
      const k = problemKey(p);
      if (!oldProblems.has(k) && !seen.has(k)) problems.push(p);
      seen.add(k);
    };
    for (const uuid of rows) {
      const o = this.outputs.get(uuid);
      if (!o) continue;
      for (const e of o.entries) newEntries.set(e.id, e);
      for (const p of o.problems) addProblem(p);
    }
    for (const p of this.host.problems) addProblem(p);
    const added: PlanEntry[] = [];
    const removed: PlanEntry[] = [];
    for (const [id, e] of newEntries) {
      const old = oldEntries.get(id);
      if (!old) added.push(e);
      else if (entryKey(old) !== entryKey(e)) {
        removed.push(old);
        added.push(e);
      }
    }
    for (const [id, e] of oldEntries) if (!newEntries.has(id)) removed.push(e);
    added.sort((a, b) => cmp(a.id, b.id));
    removed.sort((a, b) => cmp(a.id, b.id));
    return { added, removed, problems, hostChanged: JSON.stringify(oldHost) !== JSON.stringify(this.host) };
  }
}

/** The desired state computed in one go from a full snapshot. */
export function planFromScratch(config: AgentConfig, facts: LocalFacts, tables: Tables): DesiredState {
  const p = new Planner(config, facts);
  p.load(tables);
  return p.state();
}
