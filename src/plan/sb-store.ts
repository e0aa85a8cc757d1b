/**
 * The planner's copy of the Southbound rows it reads, with the indexes its rules need:
 * logical_port → rows, (datapath, type) → rows, and this chassis' Chassis uuids. Every mutation
 * returns the dependency keys it touched (see dep-graph.ts).
 */

import type { Row } from "../ovsdb/wire/datum.ts";
import { type Chassis, chassisFromRow } from "../sb/chassis.ts";
import { dpGroupFromRow, type LoadBalancer, loadBalancerFromRow } from "../sb/load-balancer.ts";
import { type PortBinding, portBindingFromRow } from "../sb/port-binding.ts";

export const keyRow = (uuid: string): string => `k:row:${uuid}`;
export const keyName = (name: string): string => `k:name:${name}`;
export const keyDpType = (dp: string, type: string): string => `k:dp:${dp}\u0000${type}`;
/** The load balancers applied to a datapath. */
export const keyLbDp = (dp: string): string => `k:lb:${dp}`;

/** The only types the rules enumerate per datapath (VIFs are reached by name or by their own row). */
const INDEXED_TYPES: ReadonlySet<string> = new Set(["localnet", "patch", "l3gateway", "chassisredirect"]);

const byPort = (a: PortBinding, b: PortBinding): number =>
  a.logicalPort < b.logicalPort ? -1 : a.logicalPort > b.logicalPort ? 1 : a.uuid < b.uuid ? -1 : 1;

export class SbStore {
  readonly ports = new Map<string, PortBinding>();
  /** logical_port → uuid, or the set of uuids while a name is (transiently) duplicated. */
  private readonly names = new Map<string, string | Set<string>>();
  /** Names currently held by more than one row (normally none). */
  private readonly duplicated = new Set<string>();
  private readonly byDpType = new Map<string, Map<string, PortBinding>>();
  private readonly sorted = new Map<string, readonly PortBinding[]>();
  readonly localnets = new Map<string, PortBinding>();
  private readonly chassis = new Map<string, Chassis>();
  private ours = new Set<string>();
  private readonly lbs = new Map<string, LoadBalancer>();
  private readonly dpGroups = new Map<string, readonly string[]>();
  /** datapath → load balancers applied to it (directly or through a group). */
  private readonly lbsByDp = new Map<string, Set<string>>();

  constructor(private ourName: string) {}

  clear(chassisName: string): void {
    this.ourName = chassisName;
    this.ports.clear();
    this.names.clear();
    this.duplicated.clear();
    this.byDpType.clear();
    this.sorted.clear();
    this.localnets.clear();
    this.chassis.clear();
    this.ours = new Set();
    this.lbs.clear();
    this.dpGroups.clear();
    this.lbsByDp.clear();
  }

  /** The datapaths a load balancer is applied to. */
  private lbDatapaths(lb: LoadBalancer): string[] {
    const grouped = lb.datapathGroups.flatMap((g) => this.dpGroups.get(g) ?? []);
    return [...new Set([...lb.datapaths, ...grouped])];
  }

  private indexLb(lb: LoadBalancer, add: boolean, touched: Set<string> | undefined): void {
    for (const dp of this.lbDatapaths(lb)) {
      let set = this.lbsByDp.get(dp);
      if (add) {
        if (!set) {
          set = new Set();
          this.lbsByDp.set(dp, set);
        }
        set.add(lb.uuid);
      } else {
        set?.delete(lb.uuid);
        if (set?.size === 0) this.lbsByDp.delete(dp);
      }
      touched?.add(keyLbDp(dp));
    }
  }

  /** Insert, replace or (row undefined) delete a Load_Balancer; adds the datapaths it touches. */
  putLoadBalancer(uuid: string, row: Row | undefined, touched: Set<string> | undefined): void {
    const old = this.lbs.get(uuid);
    if (old) {
      this.indexLb(old, false, touched);
      this.lbs.delete(uuid);
    }
    if (!row) return;
    const lb = loadBalancerFromRow(row);
    this.lbs.set(uuid, lb);
    this.indexLb(lb, true, touched);
  }

  /** Insert, replace or delete a Logical_DP_Group: the load balancers using it move with it. */
  putDpGroup(uuid: string, row: Row | undefined, touched: Set<string> | undefined): void {
    const users = [...this.lbs.values()].filter((lb) => lb.datapathGroups.includes(uuid));
    for (const lb of users) this.indexLb(lb, false, touched);
    if (row) this.dpGroups.set(uuid, dpGroupFromRow(row));
    else this.dpGroups.delete(uuid);
    for (const lb of users) this.indexLb(lb, true, touched);
  }

  /** The load balancers applied to a datapath, by name. */
  loadBalancersOn(dp: string): LoadBalancer[] {
    const out: LoadBalancer[] = [];
    for (const u of this.lbsByDp.get(dp) ?? []) {
      const lb = this.lbs.get(u);
      if (lb) out.push(lb);
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.uuid < b.uuid ? -1 : 1));
  }

  private keysOf(pb: PortBinding, out: Set<string> | undefined): void {
    if (!out) return;
    out.add(keyRow(pb.uuid));
    out.add(keyName(pb.logicalPort));
    if (INDEXED_TYPES.has(pb.type)) out.add(keyDpType(pb.datapath, pb.type));
  }

  /**
   * Insert or replace a Port_Binding; adds touched keys to `touched`. A load passes no `touched`
   * and guarantees each uuid once (no replace check).
   */
  putPort(row: Row, touched: Set<string> | undefined): PortBinding {
    if (touched !== undefined && this.ports.has(row._uuid)) this.deletePort(row._uuid, touched);
    const pb = portBindingFromRow(row);
    this.ports.set(pb.uuid, pb);
    const names = this.names.get(pb.logicalPort);
    if (names === undefined) this.names.set(pb.logicalPort, pb.uuid);
    else {
      this.duplicated.add(pb.logicalPort);
      if (typeof names === "string") this.names.set(pb.logicalPort, new Set([names, pb.uuid]));
      else names.add(pb.uuid);
    }
    if (INDEXED_TYPES.has(pb.type)) {
      const k = keyDpType(pb.datapath, pb.type);
      let m = this.byDpType.get(k);
      if (!m) {
        m = new Map();
        this.byDpType.set(k, m);
      }
      m.set(pb.uuid, pb);
      if (this.sorted.size > 0) this.sorted.delete(k);
      if (pb.type === "localnet") this.localnets.set(pb.uuid, pb);
    }
    this.keysOf(pb, touched);
    return pb;
  }

  deletePort(uuid: string, touched: Set<string> | undefined): PortBinding | undefined {
    const pb = this.ports.get(uuid);
    if (!pb) return undefined;
    this.ports.delete(uuid);
    const names = this.names.get(pb.logicalPort);
    if (typeof names === "string") this.names.delete(pb.logicalPort);
    else if (names) {
      names.delete(uuid);
      if (names.size === 1) {
        this.names.set(pb.logicalPort, [...names][0] as string);
        this.duplicated.delete(pb.logicalPort);
      }
    }
    if (INDEXED_TYPES.has(pb.type)) {
      const k = keyDpType(pb.datapath, pb.type);
      const m = this.byDpType.get(k);
      m?.delete(uuid);
      if (m?.size === 0) this.byDpType.delete(k);
      this.sorted.delete(k);
      this.localnets.delete(uuid);
    }
    this.keysOf(pb, touched);
    return pb;
  }

  /**
   * The row that owns a logical_port name. The SB index makes names unique; should a replica
   * briefly hold two, the smallest uuid wins, deterministically, and the other is reported.
   */
  byName(name: string): PortBinding | undefined {
    const set = this.names.get(name);
    if (set === undefined) return undefined;
    if (typeof set === "string") return this.ports.get(set);
    let best: string | undefined;
    for (const u of set) if (best === undefined || u < best) best = u;
    return best === undefined ? undefined : this.ports.get(best);
  }

  /** Whether `pb` owns its logical_port name (the common single-owner case is one lookup). */
  isCanonical(pb: PortBinding): boolean {
    if (this.duplicated.size === 0 || !this.duplicated.has(pb.logicalPort)) return true;
    const set = this.names.get(pb.logicalPort);
    if (typeof set === "string") return set === pb.uuid;
    return this.byName(pb.logicalPort)?.uuid === pb.uuid;
  }

  /** Every row currently using a logical_port name (usually one). */
  sameName(name: string): readonly string[] {
    const set = this.names.get(name);
    return set === undefined ? [] : typeof set === "string" ? [set] : [...set];
  }

  /** Rows of one indexed type (INDEXED_TYPES) on one datapath, sorted by logical_port then uuid. */
  portsOn(dp: string, type: string): readonly PortBinding[] {
    const k = keyDpType(dp, type);
    let s = this.sorted.get(k);
    if (!s) {
      s = [...(this.byDpType.get(k)?.values() ?? [])].sort(byPort);
      this.sorted.set(k, s);
    }
    return s;
  }

  /** Insert/replace/delete a Chassis row; true when the set of our chassis uuids changed. */
  putChassis(row: Row | undefined, uuid: string): boolean {
    if (row) this.chassis.set(uuid, chassisFromRow(row));
    else this.chassis.delete(uuid);
    return this.recomputeOurs();
  }

  /** Our chassis name changed (system-id edited): re-derive which Chassis rows are ours. */
  rename(chassisName: string): boolean {
    this.ourName = chassisName;
    return this.recomputeOurs();
  }

  private recomputeOurs(): boolean {
    const next = new Set<string>();
    for (const c of this.chassis.values()) if (c.name === this.ourName) next.add(c.uuid);
    const same = next.size === this.ours.size && [...next].every((u) => this.ours.has(u));
    this.ours = next;
    return !same;
  }

  /** Whether a chassis *name* (e.g. options:l3gateway-chassis) is ours. */
  isOurName(name: string | undefined): boolean {
    return name !== undefined && name === this.ourName;
  }

  isOurs(chassisUuid: string | undefined): boolean {
    return chassisUuid !== undefined && this.ours.has(chassisUuid);
  }

  chassisName(uuid: string | undefined): string | undefined {
    return uuid === undefined ? undefined : this.chassis.get(uuid)?.name;
  }
}
