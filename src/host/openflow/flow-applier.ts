/**
 * Reconcile the agent's OpenFlow flows on provider bridges. Per bridge and sync: read the flows with
 * the agent's cookies, diff with the desired `FlowSpec`s, and write the difference with ONE
 * `ovs-ofctl --bundle add-flows <bridge> -` (adds and strict deletes together); nothing is written
 * when nothing differs. Flows with any other cookie (OVN's, the NORMAL default, an operator's) are
 * never read for deletion and never deleted.
 *
 * A desired flow that cannot be placed yet (its patch port or bridge does not exist) is `pending`:
 * reported, not retried in a loop, and applied by the next sync once the port appears (the caller
 * syncs on bridge/port changes). An invalid FlowSpec is `invalid` (terminal) and skipped alone.
 */
import type { FlowSpec } from "../../plan/desired-state.ts";
import { diffFlows, flowModLines, type ResolvedFlow } from "./diff-flows.ts";
import {
  checkFlowSpec,
  isBridgeName,
  type ObservedFlow,
  OF_PORT_NAME_MAX,
  type OfPort,
} from "./flow-text.ts";
import { OvsCommandError, OvsOfctl, type OvsOptions } from "./ovs-ofctl.ts";

export interface FlowApplierOptions extends OvsOptions {
  /** Cookies the agent owns (config `flow_cookie`); flows with these cookies that are not desired are removed. */
  readonly ownedCookies: readonly number[];
}

export interface FlowIssue {
  readonly flow: FlowSpec;
  readonly reason: string;
}

export interface BridgeFlowResult {
  readonly bridge: string;
  /** Flows added or replaced (new actions/cookie). */
  readonly added: readonly FlowSpec[];
  /** The agent's flows removed, as they were observed. */
  readonly removed: readonly ObservedFlow[];
  readonly unchanged: number;
  /** Waiting for a port or the bridge to exist. */
  readonly pending: readonly FlowIssue[];
  /** Whether an ovs-ofctl write ran for this bridge. */
  readonly wrote: boolean;
  /** The flow-mod lines that bring the bridge to the wish (what `apply` writes). */
  readonly lines?: readonly string[];
  /** A failure of this bridge's read or write (the other bridges still ran). */
  readonly error?: string;
}

export interface FlowSyncResult {
  readonly bridges: readonly BridgeFlowResult[];
  /** FlowSpecs rejected by validation (terminal). */
  readonly invalid: readonly FlowIssue[];
}

export class FlowApplier {
  readonly ofctl: OvsOfctl;

  constructor(private readonly opts: FlowApplierOptions) {
    this.ofctl = new OvsOfctl(opts);
    for (const c of opts.ownedCookies)
      if (!Number.isSafeInteger(c) || c <= 0)
        throw new Error(`flow cookie must be a non-zero integer, got ${c}`);
  }

  /**
   * Sync `desired` onto its bridges, plus `bridges` (provider bridges that may hold flows of the
   * agent that are no longer desired).
   */
  async sync(desired: readonly FlowSpec[], bridges: readonly string[] = []): Promise<FlowSyncResult> {
    return this.apply(await this.plan(desired, bridges));
  }

  /** Write what `plan` found, one `--bundle` per bridge; a bridge that fails fails alone. */
  async apply(plan: FlowSyncResult): Promise<FlowSyncResult> {
    const bridges: BridgeFlowResult[] = [];
    for (const b of plan.bridges) {
      if (b.error || !b.lines?.length) {
        bridges.push(b);
        continue;
      }
      try {
        await this.ofctl.applyBatch(b.bridge, b.lines);
        bridges.push({ ...b, wrote: true });
      } catch (e) {
        bridges.push({ ...b, error: e instanceof Error ? e.message : String(e) });
      }
    }
    return { bridges, invalid: plan.invalid };
  }

  /** Observe and diff (the dry run): what `apply` would add and remove, without writing. */
  async plan(desired: readonly FlowSpec[], bridges: readonly string[] = []): Promise<FlowSyncResult> {
    const invalid: FlowIssue[] = [];
    const byBridge = new Map<string, FlowSpec[]>();
    for (const b of bridges) byBridge.set(b, []);
    for (const f of desired) {
      const why = checkFlowSpec(f);
      if (why) {
        invalid.push({ flow: f, reason: why });
        continue;
      }
      const list = byBridge.get(f.bridge) ?? [];
      list.push(f);
      byBridge.set(f.bridge, list);
    }
    let ofports: Map<string, number> | undefined;
    const needsPorts = [...byBridge.values()].some((fs) =>
      fs.some((f) => namedInPort(f.match) !== undefined),
    );
    const results: BridgeFlowResult[] = [];
    for (const [bridge, flows] of [...byBridge.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (!isBridgeName(bridge)) {
        results.push(empty(bridge, [], `invalid bridge name ${JSON.stringify(bridge)}`));
        continue;
      }
      try {
        if (needsPorts && !ofports) ofports = await this.ofctl.interfaceOfports();
        results.push(await this.planBridge(bridge, flows, ofports ?? new Map()));
      } catch (e) {
        if (e instanceof OvsCommandError && e.code === "OVS_BRIDGE_MISSING")
          results.push(
            empty(
              bridge,
              flows.map((flow) => ({ flow, reason: `bridge ${bridge} does not exist` })),
            ),
          );
        else results.push(empty(bridge, [], e instanceof Error ? e.message : String(e)));
      }
    }
    return { bridges: results, invalid };
  }

  private async planBridge(
    bridge: string,
    flows: readonly FlowSpec[],
    ofports: ReadonlyMap<string, number>,
  ): Promise<BridgeFlowResult> {
    const ports = flows.some((f) => namedInPort(f.match) !== undefined)
      ? await this.ofctl.portsDesc(bridge)
      : [];
    const resolved: ResolvedFlow[] = [];
    const pending: FlowIssue[] = [];
    for (const flow of flows) {
      const r = resolvePorts(flow, bridge, ofports, ports);
      if (typeof r === "string") pending.push({ flow, reason: r });
      else resolved.push(r);
    }
    const cookies = new Set([...this.opts.ownedCookies, ...flows.map((f) => f.cookie)]);
    const observed: ObservedFlow[] = [];
    for (const c of cookies) observed.push(...(await this.ofctl.dumpFlows(bridge, c)));
    const diff = diffFlows(resolved, observed);
    const lines = flowModLines(diff);
    return {
      bridge,
      added: diff.add.map((d) => d.spec),
      removed: diff.remove,
      unchanged: diff.unchanged,
      pending,
      wrote: false,
      lines,
    };
  }
}

function empty(bridge: string, pending: readonly FlowIssue[], error?: string): BridgeFlowResult {
  return { bridge, added: [], removed: [], unchanged: 0, pending, wrote: false, ...(error ? { error } : {}) };
}

/** The `in_port=<name>` of a match when it names a port (not a number). */
function namedInPort(match: string): string | undefined {
  const m = /(?:^|,)in_port=([^,]+)/.exec(match);
  return m && !/^\d+$/.test(m[1] as string) ? (m[1] as string) : undefined;
}

/**
 * Replace `in_port=<name>` with the OpenFlow port number: from OVSDB, confirmed by the bridge's
 * own port list (number present, name equal up to OpenFlow's 15 characters), so a port of another
 * bridge is never used. Returns the pending reason when the port is not there yet.
 */
function resolvePorts(
  flow: FlowSpec,
  bridge: string,
  ofports: ReadonlyMap<string, number>,
  ports: readonly OfPort[],
): ResolvedFlow | string {
  const name = namedInPort(flow.match);
  if (name === undefined) return { spec: flow, match: flow.match };
  const ofport = ofports.get(name);
  if (ofport === undefined) return `port ${name} does not exist (yet)`;
  const onBridge = ports.find((p) => p.ofport === ofport);
  if (!onBridge || onBridge.name !== name.slice(0, OF_PORT_NAME_MAX))
    return `port ${name} is not on bridge ${bridge}`;
  return { spec: flow, match: flow.match.replace(/(^|,)in_port=[^,]+/, `$1in_port=${ofport}`) };
}
