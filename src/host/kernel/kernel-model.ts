/**
 * What the kernel applier believes the kernel holds: the last full observation, updated by every
 * write the applier makes (optimistically, before the write: the write's own monitor echo must
 * already agree with it; a failed write puts the old value back and asks for a full pass).
 * Objects are grouped by the same keys the kinds decide on, so the delta path reads exactly the
 * keys a change touched, and a monitor line is judged against exactly its key.
 */
import type { KeyedKindName } from "../../plan/desired-kernel.ts";
import { keyRule } from "../../plan/desired-state.ts";
import { groupBy, KEYED_KINDS } from "./diff.ts";
import type { MonitorEvent } from "./monitor-event.ts";
import type {
  ObservedAddress,
  ObservedKernel,
  ObservedLink,
  ObservedNeighbour,
  ObservedRoute,
  ObservedRule,
} from "./types.ts";

export interface ModelJudgeContext {
  readonly proto: number;
  /** Whether the agent wants an object at this key (desired side of the question "is this ours?"). */
  wants(kind: KeyedKindName, key: string): boolean;
  ownsAddress(a: ObservedAddress): boolean;
  /** Devices whose changes matter (bridges, VLAN devices, bgp_nic, the VRF). */
  watchesDevice(name: string): boolean;
}

export class KernelModel {
  readonly links: Map<string, ObservedLink>;
  private readonly objects = new Map<KeyedKindName, Map<string, unknown[]>>();

  constructor(observed: ObservedKernel) {
    this.links = new Map(observed.links.map((l) => [l.name, l]));
    for (const kind of KEYED_KINDS)
      this.objects.set(kind.kind as KeyedKindName, groupBy(kind.observed(observed), kind.observedKey));
  }

  get<O>(kind: KeyedKindName, key: string): readonly O[] {
    return (this.objects.get(kind)?.get(key) ?? []) as O[];
  }

  /** Every key the model holds objects at, for one kind. */
  keys(kind: KeyedKindName): string[] {
    return [...(this.objects.get(kind)?.keys() ?? [])];
  }

  set(kind: KeyedKindName, key: string, items: readonly unknown[]): void {
    const m = this.objects.get(kind);
    if (!m) return;
    if (items.length === 0) m.delete(key);
    else m.set(key, [...items]);
  }

  /**
   * Whether a monitor event is explained by this model — the echo of the agent's own write, or a
   * change to something the agent neither owns nor wants. False means someone changed what the
   * agent owns or needs: heal with a full pass.
   */
  explains(e: MonitorEvent, ctx: ModelJudgeContext): boolean {
    switch (e.kind) {
      case "rule": {
        if (e.protocol !== ctx.proto) return true;
        if (!e.plain) return false;
        const key = keyRule(e);
        const has = this.get<ObservedRule>("rule", key).some((r) => r.protocol === ctx.proto);
        return e.deleted ? !has : has;
      }
      case "route": {
        if (e.protocol !== ctx.proto || !e.unicast) return true;
        const key = `${e.family}|${e.table}|${e.dst}`;
        const same = this.get<ObservedRoute>("route", key).some(
          (r) =>
            (r.dev ?? "") === (e.dev ?? "") &&
            (r.via ?? "") === (e.via ?? "") &&
            (r.metric === undefined || e.metric === undefined || r.metric === e.metric),
        );
        return e.deleted ? !same : same;
      }
      case "neigh": {
        if (e.proxy) return true;
        const key = `${e.dev}|${e.ip}`;
        const [m] = this.get<ObservedNeighbour>("neighbour", key);
        if (!m && !ctx.wants("neighbour", key)) return true;
        const present = !e.deleted && e.permanent;
        if (!present) return m === undefined;
        return m !== undefined && m.protocol === e.protocol && m.mac === e.mac;
      }
      case "address": {
        const key = `${e.dev}|${e.cidr}`;
        const has = this.get<ObservedAddress>("address", key).length > 0;
        const relevant =
          has ||
          ctx.wants("address", key) ||
          ctx.ownsAddress({ dev: e.dev, cidr: e.cidr, family: e.family, scope: "global" });
        if (!relevant) return true;
        return e.deleted ? !has : has;
      }
      case "link":
        return !ctx.watchesDevice(e.name);
    }
  }
}
