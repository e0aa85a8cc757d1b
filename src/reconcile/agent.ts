/**
 * The agent: the imperative shell around the pure planner.
 *
 *   Southbound + local OVS replicas ──changes──▶ Planner (incremental, pure) ──▶ DesiredState
 *   triggers (SB/OVS change, kernel drift, FRR restart, periodic) ──▶ ReconcileLoop ──▶ pass:
 *     kernel: observe → diff → apply (ip -json / ip -batch)
 *     flows:  ovs-ofctl by cookie
 *     frr:    running-config diff → one vtysh batch
 *
 * Each target fails alone: a dead FRR never stops kernel routes, a bad row never withdraws a
 * good one (the planner reports it as a problem and keeps everything else). On SIGTERM the agent
 * simply stops: the host keeps its state, and the next start adopts it (the appliers diff against
 * what is there, so nothing still wanted is withdrawn).
 */
import type { AgentConfig } from "../config/agent-config.ts";
import type { Exec } from "../host/exec.ts";
import { FrrApplier } from "../host/frr/frr-applier.ts";
import { FrrWatcher } from "../host/frr/frr-watcher.ts";
import { KernelApplier } from "../host/kernel/kernel-applier.ts";
import { KernelWatcher } from "../host/kernel/kernel-watcher.ts";
import type { ApplyReport } from "../host/kernel/types.ts";
import { FlowApplier } from "../host/openflow/flow-applier.ts";
import { readOvsFacts } from "../ovs/ovs-facts.ts";
import type { RowChange } from "../ovsdb/wire/datum.ts";
import { type DesiredState, flattenPlan } from "../plan/desired-state.ts";
import { type PlanDelta, Planner } from "../plan/planner.ts";
import { withdrawEvent } from "../plan/render-plan.ts";
import type { Logger } from "../util/log.ts";
import type { AgentMetrics } from "../util/metrics.ts";
import { type ChassisSources, openChassisSources } from "./chassis-sources.ts";
import { toLocalFacts } from "./local-facts-from-ovs.ts";
import {
  ALL_TARGETS,
  type PassRequest,
  type PassResult,
  ReconcileLoop,
  type Target,
} from "./reconcile-loop.ts";

export interface AgentOptions {
  readonly log: Logger;
  readonly metrics?: AgentMetrics;
  /** Program the host objects inside this network namespace (tests); default: our own. */
  readonly netns?: string;
  readonly exec?: Exec;
  /** Where the route protocol's name is registered; default next to rt_tables_dropin. */
  readonly rtProtosDropin?: string;
  /** Watch the kernel and FRR for drift and restarts (default true; off for `sync --once`). */
  readonly watch?: boolean;
}

/** What one target did in the last pass, for status and `sync --once`. */
export interface TargetStatus {
  readonly ok: boolean;
  readonly at: string;
  readonly changes: number;
  readonly error?: string;
  readonly details?: readonly string[];
}

export class Agent {
  private sources: ChassisSources | undefined;
  private planner: Planner | undefined;
  private loop: ReconcileLoop | undefined;
  private kernel: KernelApplier;
  private flows: FlowApplier;
  private frr: FrrApplier;
  private kernelWatcher: KernelWatcher | undefined;
  private frrWatcher: FrrWatcher | undefined;
  readonly status = new Map<Target, TargetStatus>();
  private readonly log: Logger;

  constructor(
    private readonly config: AgentConfig,
    private readonly opts: AgentOptions,
  ) {
    this.log = opts.log;
    const common = {
      ...(opts.netns ? { netns: opts.netns } : {}),
      ...(opts.exec ? { exec: opts.exec } : {}),
    };
    const protos = opts.rtProtosDropin ?? defaultProtosDropin(config.rt_tables_dropin);
    this.kernel = new KernelApplier({
      ...common,
      routeProtocol: config.route_protocol,
      rtTablesDropin: config.rt_tables_dropin,
      ...(protos ? { rtProtosDropin: protos } : {}),
      ownedDevices: config.announce_via === "vrf" ? [config.bgp_nic] : [],
    });
    this.flows = new FlowApplier({
      ...common,
      ownedCookies: [config.flow_cookie],
      db: config.ovsdb_connection,
    });
    this.frr = new FrrApplier({ ...common, socketDir: config.frr_vty_socket_dir });
  }

  get chassisName(): string | undefined {
    return this.sources?.chassisName;
  }

  /** The current desired state (after start). */
  desired(): DesiredState | undefined {
    return this.planner?.state();
  }

  /** Connect, load, and (unless `once`) keep reconciling until stop(). */
  async start(): Promise<void> {
    const sources = await openChassisSources(this.config, {
      logger: this.opts.log.child({ component: "ovsdb" }),
    });
    this.sources = sources;
    const planner = new Planner(
      this.config,
      toLocalFacts(sources.chassisName, readOvsFacts(sources.ovs.replica)),
    );
    this.planner = planner;
    planner.load(sources.sb.replica.snapshot());
    this.logLoaded(planner.state());
    this.loop = new ReconcileLoop((req) => this.pass(req));
    sources.sb.on("changes", (changes: RowChange[]) => this.onSbChanges(changes));
    sources.ovs.on("changes", () => this.onOvsChanges());
    await this.narrowMonitor();
    await sources.sb.barrier(); // the tenant ports the narrower condition brings are planned before the first pass
    this.watchConnections(sources);
    if (this.opts.watch !== false) {
      this.kernelWatcher = new KernelWatcher({
        ...(this.opts.netns ? { netns: this.opts.netns } : {}),
        routeProtocol: this.config.route_protocol,
        onChange: (c) =>
          this.loop?.trigger(["kernel"], c.restarted ? "kernel monitor restart" : "kernel drift", true),
      });
      this.kernelWatcher.start();
      this.frrWatcher = new FrrWatcher({
        socketDir: this.config.frr_vty_socket_dir,
        onRestart: (d) => this.loop?.trigger(["frr"], `frr (re)started: ${d.join(",")}`, true),
      });
      this.frrWatcher.start();
      this.loop.every(this.config.reconcile_interval * 1000);
    }
    this.loop.trigger(ALL_TARGETS, "start", true);
  }

  /** Resolves when every triggered pass has run. */
  async idle(): Promise<void> {
    await this.loop?.idle();
  }

  async stop(): Promise<void> {
    this.loop?.stop();
    this.frrWatcher?.stop();
    await this.kernelWatcher?.stop();
    await this.sources?.stop();
  }

  // ------------------------------------------------------------------ events

  private onSbChanges(changes: RowChange[]): void {
    const planner = this.planner;
    if (!planner) return;
    const started = performance.now();
    const delta = planner.apply(changes);
    this.logDelta(delta);
    if (delta.added.length || delta.removed.length || delta.hostChanged) {
      this.log.debug({ rows: changes.length, planMs: +(performance.now() - started).toFixed(3) }, "planned");
      this.loop?.trigger(delta.hostChanged ? ALL_TARGETS : ["kernel"], "southbound change");
      void this.narrowMonitor();
    }
  }

  private onOvsChanges(): void {
    const sources = this.sources;
    const planner = this.planner;
    if (!sources || !planner) return;
    const delta = planner.setFacts(toLocalFacts(sources.chassisName, readOvsFacts(sources.ovs.replica)));
    this.logDelta(delta);
    // A patch port or bridge MAC may have appeared: flows depend on OVS state the plan cannot see.
    this.loop?.trigger(ALL_TARGETS, "local ovs change");
  }

  private watchConnections(sources: ChassisSources): void {
    const m = this.opts.metrics;
    for (const [client, db] of [
      [sources.sb, "OVN_Southbound"],
      [sources.ovs, "Open_vSwitch"],
    ] as const) {
      m?.ovsdbConnected.set({ db }, client.state === "active" ? 1 : 0);
      let lastBytes = client.stats.bytesReceived;
      m?.ovsdbBytesReceivedTotal.inc({ db }, lastBytes);
      const countBytes = () => {
        m?.ovsdbBytesReceivedTotal.inc({ db }, client.stats.bytesReceived - lastBytes);
        lastBytes = client.stats.bytesReceived;
      };
      client.on("changes", countBytes);
      client.on("state", (_from: string, to: string, why: string) => {
        m?.ovsdbConnected.set({ db }, to === "active" ? 1 : 0);
        if (to === "backoff") {
          m?.ovsdbReconnectsTotal.inc({ db });
          this.log.warn({ db, why }, `${db} connection lost; keeping the replica and the host state`);
        }
        if (to === "active") {
          this.log.info({ db, remote: why, sync: client.stats.lastSync }, `${db} connected`);
          this.loop?.trigger(ALL_TARGETS, `${db} reconnected`, true);
        }
        countBytes();
      });
    }
  }

  /** Keep the Southbound monitor to topology, ports bound here and the tenant datapaths we expose. */
  private async narrowMonitor(): Promise<void> {
    const planner = this.planner;
    const sources = this.sources;
    if (!planner || !sources) return;
    try {
      await sources.setInterestingDatapaths(planner.tenantDatapaths());
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, "could not change the Southbound monitor condition");
    }
  }

  /** At start, one summary line (per-exposure lines at debug): thousands of info lines cost seconds. */
  private logLoaded(state: DesiredState): void {
    const byEvent = new Map<string, number>();
    for (const e of state.entries) {
      byEvent.set(e.cause.event, (byEvent.get(e.cause.event) ?? 0) + 1);
      this.opts.metrics?.eventsTotal.inc({ event: e.cause.event });
      this.log.debug(
        { event: e.cause.event, kind: e.cause.kind, logical_port: e.cause.logicalPort, ips: e.advertised },
        e.cause.event,
      );
    }
    const ips = state.entries.reduce((n, e) => n + e.advertised.length, 0);
    this.log.info(
      { chassis: state.chassis, exposures: state.entries.length, ips, events: Object.fromEntries(byEvent) },
      "plan loaded",
    );
    for (const p of state.problems)
      this.log.error({ table: p.table, object: p.object }, `skipped ${p.table} ${p.object}: ${p.message}`);
  }

  private logDelta(delta: PlanDelta): void {
    const addedIds = new Set(delta.added.map((e) => e.id));
    const removedIds = new Set(delta.removed.map((e) => e.id));
    for (const e of delta.removed) {
      if (addedIds.has(e.id)) continue;
      const event = withdrawEvent(e.cause.event);
      this.opts.metrics?.eventsTotal.inc({ event });
      this.log.info(
        { event, kind: e.cause.kind, logical_port: e.cause.logicalPort, ips: e.advertised },
        event,
      );
    }
    for (const e of delta.added) {
      const event = e.cause.event;
      this.opts.metrics?.eventsTotal.inc({ event });
      const change = removedIds.has(e.id) ? "updated" : "exposed";
      this.log.info(
        { event, kind: e.cause.kind, logical_port: e.cause.logicalPort, ips: e.advertised, change },
        event,
      );
    }
    for (const p of delta.problems) {
      this.log.error({ table: p.table, object: p.object }, `skipped ${p.table} ${p.object}: ${p.message}`);
    }
  }

  // ------------------------------------------------------------------ the pass

  private async pass(req: PassRequest): Promise<PassResult> {
    const planner = this.planner;
    if (!planner) return { failed: new Set() };
    const started = performance.now();
    const desired = planner.state();
    const failed = new Set<Target>();
    const run = async (target: Target, fn: () => Promise<TargetStatus>) => {
      if (!req.targets.has(target)) return;
      let st: TargetStatus;
      try {
        st = await fn();
      } catch (err) {
        st = { ok: false, at: new Date().toISOString(), changes: 0, error: (err as Error).message };
      }
      this.status.set(target, st);
      if (!st.ok) {
        failed.add(target);
        this.opts.metrics?.reconcileErrorsTotal.inc({ component: target });
        this.log.error({ target, pass: req.id, details: st.details }, `${target}: ${st.error ?? "failed"}`);
      }
    };
    await run("kernel", () => this.syncKernel(desired));
    await run("flows", () => this.syncFlows(desired));
    await run("frr", () => this.syncFrr(desired));
    const ms = performance.now() - started;
    this.opts.metrics?.reconcileDuration.observe(ms / 1000);
    this.updateExposedGauge(desired);
    this.log.debug(
      { pass: req.id, reasons: req.reasons, targets: [...req.targets], ms: +ms.toFixed(1) },
      "pass done",
    );
    return { failed };
  }

  private async syncKernel(desired: DesiredState): Promise<TargetStatus> {
    const report: ApplyReport = await this.kernel.sync(flattenPlan(desired));
    const c = report.counts;
    const m = this.opts.metrics;
    if (c.add) m?.applyOpsTotal.inc({ component: "kernel", op: "add" }, c.add);
    if (c.del) m?.applyOpsTotal.inc({ component: "kernel", op: "delete" }, c.del);
    if (c.replace) m?.applyOpsTotal.inc({ component: "kernel", op: "replace" }, c.replace);
    if (c.ops)
      this.log.info({ add: c.add, del: c.del, replace: c.replace, failed: c.failed }, "kernel synced");
    const errors = report.items
      .filter((i) => !i.ok)
      .map((i) => `${i.op} ${i.kind} ${i.key}: ${i.error ?? "failed"}`);
    for (const p of report.problems) this.log.warn({ target: "kernel" }, p);
    return {
      ok: errors.length === 0,
      at: new Date().toISOString(),
      changes: c.ok,
      ...(errors.length ? { error: `${errors.length} kernel object(s) not applied`, details: errors } : {}),
    };
  }

  private async syncFlows(desired: DesiredState): Promise<TargetStatus> {
    const bridges = desired.routingTables.map((t) => t.name);
    const res = await this.flows.sync(desired.flows, bridges);
    let changes = 0;
    const errors: string[] = [];
    for (const b of res.bridges) {
      changes += b.added.length + b.removed.length;
      if (b.error) errors.push(`${b.bridge}: ${b.error}`);
      for (const p of b.pending)
        this.log.debug({ bridge: b.bridge, match: p.flow.match }, `flow pending: ${p.reason}`);
    }
    for (const i of res.invalid) errors.push(`invalid flow ${i.flow.match}: ${i.reason}`);
    if (changes) this.log.info({ changes }, "flows synced");
    this.opts.metrics?.applyOpsTotal.inc({ component: "openflow", op: "apply" }, changes);
    return {
      ok: errors.length === 0,
      at: new Date().toISOString(),
      changes,
      ...(errors.length ? { error: errors.join("; "), details: errors } : {}),
    };
  }

  private async syncFrr(desired: DesiredState): Promise<TargetStatus> {
    const res = await this.frr.sync(desired.frr);
    if (res.changed) {
      this.log.info({ script: res.script.trim().split("\n") }, "frr configured");
      this.opts.metrics?.applyOpsTotal.inc({ component: "frr", op: "apply" });
    }
    return { ok: true, at: new Date().toISOString(), changes: res.changed ? 1 : 0 };
  }

  private updateExposedGauge(desired: DesiredState): void {
    const g = this.opts.metrics?.exposedIps;
    if (!g) return;
    const counts = new Map<string, number>();
    for (const e of desired.entries)
      counts.set(e.cause.kind, (counts.get(e.cause.kind) ?? 0) + e.advertised.length);
    g.reset();
    for (const [kind, n] of counts) g.set({ kind }, n);
  }
}

/** `/etc/iproute2/rt_tables.d/x.conf` → `/etc/iproute2/rt_protos.d/ovn-bgp.conf`. */
function defaultProtosDropin(rtTablesDropin: string): string | undefined {
  const i = rtTablesDropin.lastIndexOf("/rt_tables.d/");
  return i < 0 ? undefined : `${rtTablesDropin.slice(0, i)}/rt_protos.d/ovn-bgp.conf`;
}
