/**
 * The agent: the imperative shell around the pure planner. One pipeline, used by `agent`,
 * `sync --once` and `plan`:
 *
 *   sources: Southbound + local OVS replicas ──row changes──▶ Planner (incremental, pure)
 *        ──PlanDelta──▶ DesiredKernel (incremental index; names the touched keys)
 *   ReconcileLoop (never two passes at once) ──▶ appliers, each observe → diff → apply:
 *     kernel: delta (touched keys against its model, one long-lived `ip -batch`) or full pass
 *     flows:  ovs-ofctl by cookie          frr: running-config diff → one vtysh batch
 *
 * A Southbound change costs what it changes: the planner recomputes the affected rows, the index
 * names the affected keys, and the kernel applier decides and writes only those. Full passes
 * (observe and diff everything) run at start, on drift, after an apply error, on reconnect and
 * every `reconcile_interval`, which also re-levels the planner from the replica, so a missed or
 * mishandled update is healed. The kernel watcher ignores the echo of the agent's own writes.
 *
 * Each target fails alone: a dead FRR never stops kernel routes, a bad row never withdraws a
 * good one (the planner reports it as a problem and keeps everything else). On SIGTERM the agent
 * simply stops: the host keeps its state, and the next start adopts it (the appliers diff against
 * what is there, so nothing still wanted is withdrawn).
 */
import { readFileSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";
import type { AgentConfig } from "../config/agent-config.ts";
import { countResults, flowResults, frrResults, kernelResults, type ObjectResult } from "../host/applier.ts";
import type { Exec } from "../host/exec.ts";
import { FrrApplier, type FrrPlan, type FrrSyncResult } from "../host/frr/frr-applier.ts";
import { FrrConfigWatcher } from "../host/frr/frr-config-watcher.ts";
import { parseBgpVrfAllSummary } from "../host/frr/frr-show.ts";
import { FrrWatcher } from "../host/frr/frr-watcher.ts";
import { VtyClient } from "../host/frr/vty-client.ts";
import {
  type AdoptionPlan,
  mainRtTablesOf,
  parseRtTables,
  planAdoption,
} from "../host/kernel/adopt-upstream.ts";
import { DEVICE_SETTLE_MS } from "../host/kernel/apply.ts";
import { IpQuery } from "../host/kernel/ip-query.ts";
import { KernelApplier, NEEDS_FULL_PASS } from "../host/kernel/kernel-applier.ts";
import { KernelWatcher } from "../host/kernel/kernel-watcher.ts";
import { deletesVrf } from "../host/kernel/link.ts";
import { parseMonitorLine } from "../host/kernel/monitor-event.ts";
import { NdpProxyWatcher } from "../host/kernel/ndp-proxy-watcher.ts";
import { normaliseSysctl } from "../host/kernel/sysctl.ts";
import { SysctlWatcher } from "../host/kernel/sysctl-watcher.ts";
import type { ApplyReport, KernelOps } from "../host/kernel/types.ts";
import { sysctlPath } from "../host/kernel/validate.ts";
import { FlowApplier, type FlowSyncResult } from "../host/openflow/flow-applier.ts";
import { FlowWatcher } from "../host/openflow/flow-watcher.ts";
import { readOvsFacts } from "../ovs/ovs-facts.ts";
import type { RowChange } from "../ovsdb/wire/datum.ts";
import {
  DesiredKernel,
  mergeTouched,
  newTouched,
  type TouchedKeys,
  touchedCount,
} from "../plan/desired-kernel.ts";
import type { DesiredState, KernelState, PlanEntry } from "../plan/desired-state.ts";
import type { HostNetwork, LocalFacts } from "../plan/local-facts.ts";
import { type PlanDelta, Planner } from "../plan/planner.ts";
import { withdrawEvent } from "../plan/render-plan.ts";
import type { Logger } from "../util/log.ts";
import type { AgentMetrics, HealthStatus } from "../util/metrics.ts";
import { type ChassisSources, openChassisSources, SourcesAborted } from "./chassis-sources.ts";
import {
  describeBgpPrefix,
  type Explanation,
  explain,
  parseQuery,
  type SbPortFact,
  southboundFactsFrom,
} from "./explain.ts";
import { readHostNetworks } from "./host-networks.ts";
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
  /** `delta` (only the touched objects) or `full` (everything observed and diffed). */
  readonly mode?: "delta" | "full";
  readonly error?: string;
  readonly details?: readonly string[];
}

/** What every applier would change, without changing anything (`plan --diff`). */
export interface DryRun {
  readonly kernel: KernelOps;
  readonly flows: FlowSyncResult | { readonly error: string };
  readonly frr: FrrPlan | { readonly error: string };
}

/**
 * A pass running longer than this means the loop no longer turns: every step of a pass has its own
 * time-out well below it (an `ip` batch 60 s, vtysh 30 s, ovs-ofctl 30 s).
 */
export const WEDGED_PASS_MS = 5 * 60_000;

/** How many of the seed's events `status` shows. */
const RECENT_EVENTS = 50;

/** One exposure that appeared or went away, as `status` lists it. */
export interface RecentEvent {
  readonly at: string;
  readonly event: string;
  readonly kind: string;
  readonly logical_port: string;
  readonly ips: readonly string[];
  readonly change?: string;
}

/** What `ovn-bgp status` shows of a running agent. */
export interface AgentReport {
  readonly chassis: string | undefined;
  readonly pid: number;
  readonly started_at: string;
  readonly uptime_s: number;
  readonly ready: HealthStatus;
  readonly connections: ReadonlyArray<{
    readonly db: string;
    readonly state: string;
    readonly remote: string | undefined;
    readonly reconnects: number;
    readonly last_sync: string;
    readonly last_error?: string;
  }>;
  readonly targets: Readonly<
    Record<string, { readonly last_pass?: TargetStatus; readonly last_success?: string }>
  >;
  readonly exposed_ips: Readonly<Record<string, number>>;
  readonly exposures: number;
  readonly problems: ReadonlyArray<{
    readonly table: string;
    readonly object: string;
    readonly message: string;
  }>;
  readonly recent_events: readonly RecentEvent[];
}

/** Above this many exposures changed in one batch, per-exposure lines go to debug and one summary goes to info. */
const BURST_LOG_THRESHOLD = 20;

export class Agent {
  private sources: ChassisSources | undefined;
  private planner: Planner | undefined;
  private desiredKernel: DesiredKernel | undefined;
  /** Kernel keys Southbound changes touched since the last kernel pass. */
  private pendingKeys: TouchedKeys = newTouched();
  /** Exposed IPs by kind, kept from the deltas (the gauge). */
  private readonly exposed = new Map<string, number>();
  private loop: ReconcileLoop | undefined;
  private readonly kernel: KernelApplier;
  private readonly flows: FlowApplier;
  private readonly frr: FrrApplier;
  private kernelWatchers: KernelWatcher[] = [];
  /**
   * Provider bridges whose flows this process manages: every bridge mapped since start, so the
   * flows of a bridge whose mapping was removed are withdrawn too (never other bridges: br-int's
   * flows carry OVN's own cookies, one of which could equal ours).
   */
  private readonly flowBridges = new Set<string>();
  private sysctlWatcher: SysctlWatcher | undefined;
  private ndpProxyWatcher: NdpProxyWatcher | undefined;
  private frrConfigWatcher: FrrConfigWatcher | undefined;
  /** Counts kernel passes begun and ended: a drift look that overlapped one is not trusted. */
  private kernelGeneration = 0;
  private flowWatcher: FlowWatcher | undefined;
  /** adopt_upstream_state: upstream's bridge table ids (rt_tables); the first full pass takes over its objects. */
  private upstreamTables: Map<string, number> | undefined;
  private adoptPending: boolean;
  /** The host's own networks, read at open (see host-networks.ts). */
  private hostNetworks: readonly HostNetwork[] | undefined;
  /** Fired by stop(): a connect in progress gives up at once. */
  private readonly stopping = new AbortController();
  private frrWatcher: FrrWatcher | undefined;
  /** bgpd's vty, read at metrics scrape time for FRR's view of the sessions. */
  private bgpVty: VtyClient | undefined;
  readonly status = new Map<Target, TargetStatus>();
  /** When each target last had a fully successful pass (ISO time). */
  private readonly lastSuccess = new Map<Target, string>();
  /** The oldest Southbound change per target that no pass has applied yet (performance.now()). */
  private readonly changedSince = new Map<Target, number>();
  private readonly recent: RecentEvent[] = [];
  private readonly startedAt = Date.now();
  private readonly log: Logger;

  constructor(
    private readonly config: AgentConfig,
    private readonly opts: AgentOptions,
  ) {
    this.log = opts.log;
    this.adoptPending = config.adopt_upstream_state;
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
      commandPrefix: config.ovs_command_prefix,
    });
    this.frr = new FrrApplier({
      ...common,
      socketDir: config.frr_vty_socket_dir,
      commandPrefix: config.frr_command_prefix,
    });
  }

  get chassisName(): string | undefined {
    return this.sources?.chassisName;
  }

  /** The current desired state (after open). O(exposures): for commands and tests, not the hot path. */
  desired(): DesiredState | undefined {
    return this.planner?.state();
  }

  /** Connect to both databases and plan: the first half of the pipeline (what `plan` needs). */
  async open(): Promise<void> {
    const sources = await openChassisSources(this.config, {
      logger: this.opts.log.child({ component: "ovsdb" }),
      signal: this.stopping.signal,
    });
    this.sources = sources;
    if (this.stopping.signal.aborted) {
      await sources.stop();
      throw new SourcesAborted();
    }
    this.upstreamTables = this.config.adopt_upstream_state ? this.readUpstreamTables() : undefined;
    this.hostNetworks = await this.readHostNetworks(this.localFacts());
    const planner = new Planner(this.config, this.localFacts());
    this.planner = planner;
    planner.load(sources.sb.replica.snapshot());
    this.desiredKernel = DesiredKernel.of(planner.state());
    sources.sb.on("changes", (changes: RowChange[]) => this.onSbChanges(changes));
    sources.ovs.on("changes", () => this.onOvsChanges());
    await this.narrowMonitor();
    await sources.sb.barrier(); // the tenant ports the narrower condition brings are planned before the first pass
    this.logLoaded(planner.state());
  }

  /** What the planner knows of this host: OVS's facts, the host's networks, adopted table ids. */
  private localFacts(): LocalFacts {
    const sources = this.sources as ChassisSources;
    const facts = toLocalFacts(sources.chassisName, readOvsFacts(sources.ovs.replica), this.hostNetworks);
    return this.upstreamTables ? { ...facts, bridgeTables: this.upstreamTables } : facts;
  }

  /** adopt_upstream_state: the Python agent's bridge table numbers from the main rt_tables file. */
  private readUpstreamTables(): Map<string, number> | undefined {
    const path = mainRtTablesOf(this.config.rt_tables_dropin);
    if (!path) return undefined;
    try {
      const tables = parseRtTables(readFileSync(path, "utf8"));
      this.log.info(
        { path, tables: Object.fromEntries(tables) },
        "adopt_upstream_state: upstream's table names read",
      );
      return tables;
    } catch (err) {
      this.log.warn({ path, err: (err as Error).message }, "adopt_upstream_state: rt_tables not readable");
      return undefined;
    }
  }

  private async readHostNetworks(facts: LocalFacts): Promise<readonly HostNetwork[] | undefined> {
    try {
      const nets = await readHostNetworks(this.config, facts, {
        ...(this.opts.exec ? { exec: this.opts.exec } : {}),
        ...(this.opts.netns ? { netns: this.opts.netns } : {}),
      });
      this.opts.log.debug({ hostNetworks: nets.map((n) => `${n.cidr} ${n.dev}`) }, "host networks");
      return nets;
    } catch (err) {
      this.opts.log.warn(
        { err: (err as Error).message },
        "could not read the host's own addresses: exposures are not checked against them",
      );
      return undefined;
    }
  }

  /** The sysctls the plan wants, as /proc/sys paths (invalid keys are the kernel pass's to report). */
  private wantedSysctls(): Array<{ path: string; value: string }> {
    const out: Array<{ path: string; value: string }> = [];
    for (const s of this.planner?.hostWide().sysctls ?? []) {
      try {
        out.push({ path: sysctlPath(s.key).path, value: normaliseSysctl(s.value) });
      } catch {
        /* reported by the kernel pass */
      }
    }
    return out;
  }

  /** The periodic pass re-reads the host's networks; a change re-plans like a local OVS change. */
  private async refreshHostNetworks(): Promise<void> {
    const sources = this.sources;
    if (!sources) return;
    const nets = await this.readHostNetworks(this.localFacts());
    if (nets === undefined || JSON.stringify(nets) === JSON.stringify(this.hostNetworks)) return;
    this.opts.log.info(
      { hostNetworks: nets.map((n) => `${n.cidr} ${n.dev}`) },
      "the host's own networks changed",
    );
    this.hostNetworks = nets;
    this.onOvsChanges();
  }

  /** Open, then keep reconciling until stop() (or, with `watch: false`, one full pass). */
  async start(): Promise<void> {
    await this.open();
    const sources = this.sources as ChassisSources;
    this.loop = new ReconcileLoop((req) => this.pass(req));
    this.watchConnections(sources);
    this.plugMetricReaders();
    if (this.opts.watch !== false) {
      for (const family of [4, 6] as const) {
        const w = new KernelWatcher({
          family,
          ...(this.opts.netns ? { netns: this.opts.netns } : {}),
          routeProtocol: this.config.route_protocol,
          explains: (line, fam) => this.explainsKernelLine(line, fam ?? family),
          onLine: (verdict) => this.opts.metrics?.kernelMonitorLinesTotal.inc({ verdict }),
          onChange: (c) =>
            this.loop?.trigger(["kernel"], c.restarted ? "kernel monitor restart" : "kernel drift", true),
        });
        w.start();
        this.kernelWatchers.push(w);
      }
      this.frrWatcher = new FrrWatcher({
        socketDir: this.config.frr_vty_socket_dir,
        onRestart: (d) => this.loop?.trigger(["frr"], `frr (re)started: ${d.join(",")}`, true),
      });
      this.frrWatcher.start();
      this.startPollingWatchers();
      this.flowWatcher = new FlowWatcher({
        cookies: [this.config.flow_cookie],
        commandPrefix: this.config.ovs_command_prefix,
        ...(this.opts.netns ? { netns: this.opts.netns } : {}),
        onDrift: (bridge, line) => {
          this.log.info({ bridge, line }, "flow drift");
          this.loop?.trigger(["flows"], "flow drift", true);
        },
        onMonitorExit: (bridge, why) => this.log.debug({ bridge, why }, "flow monitor exited; restarting"),
      });
      this.loop.every(this.config.reconcile_interval * 1000);
    }
    this.loop.trigger(ALL_TARGETS, "start", true);
  }

  /**
   * The owned state that sends no change notification is looked at every `drift_poll_ms`: sysctls
   * (/proc reads), NDP proxy entries (one long-lived `ip -6 -j -batch` reader) and FRR's running
   * config (its daemons' vty sockets). What changed gets a full pass of its target.
   */
  private startPollingWatchers(): void {
    const intervalMs = this.config.drift_poll_ms;
    this.sysctlWatcher = new SysctlWatcher({
      io: this.kernel.sysctlIo,
      intervalMs,
      wanted: () => this.wantedSysctls(),
      onDrift: (paths) => {
        this.log.info({ paths }, "sysctl drift");
        this.loop?.trigger(["kernel"], "sysctl drift", true);
      },
    });
    this.ndpProxyWatcher = new NdpProxyWatcher({
      query: new IpQuery({ family: 6, ...(this.opts.netns ? { netns: this.opts.netns } : {}) }),
      intervalMs,
      expected: () => (this.desiredKernel ? this.kernel.inPlace("ndp-proxy", this.desiredKernel) : []),
      generation: () => this.kernelGeneration,
      onDrift: (missing) => {
        this.log.info({ missing }, "ndp proxy drift");
        this.loop?.trigger(["kernel"], "ndp proxy drift", true);
      },
    });
    this.frrConfigWatcher = new FrrConfigWatcher({
      socketDir: this.config.frr_vty_socket_dir,
      intervalMs,
      onDrift: (daemons) => {
        this.log.info({ daemons }, "frr config drift");
        this.loop?.trigger(["frr"], "frr config drift", true);
      },
    });
    for (const w of [this.sysctlWatcher, this.ndpProxyWatcher, this.frrConfigWatcher]) w.start();
  }

  /** Gauges read at scrape time: the planner's problems by table, FRR's BGP sessions. */
  private plugMetricReaders(): void {
    const readers = this.opts.metrics?.readers;
    if (!readers) return;
    readers.planProblems = () => {
      const byTable = new Map<string, number>();
      for (const p of this.planner?.problems() ?? []) byTable.set(p.table, (byTable.get(p.table) ?? 0) + 1);
      return byTable;
    };
    this.bgpVty = new VtyClient(`${this.config.frr_vty_socket_dir}/bgpd.vty`);
    const vty = this.bgpVty;
    readers.bgp = async () =>
      parseBgpVrfAllSummary(JSON.parse(await vty.run("show bgp vrf all summary json")));
  }

  /** Liveness (`/livez`): the process answers and its reconcile loop is not stuck in one pass. */
  livez(): HealthStatus {
    const runningForMs = Math.round(this.loop?.runningForMs() ?? 0);
    if (runningForMs < WEDGED_PASS_MS) return { ok: true, passRunningForMs: runningForMs };
    return {
      ok: false,
      passRunningForMs: runningForMs,
      problems: [`one reconcile pass has been running for ${Math.round(runningForMs / 1000)} s`],
    };
  }

  /**
   * Readiness (`/readyz`): both databases connected and every target's last pass succeeded, the
   * first one included. A dead FRR or a failing kernel object makes the agent not ready (it keeps
   * serving everything else), never not alive. `problems` names what is wrong.
   */
  readyz(): HealthStatus {
    const problems: string[] = [];
    const sources = this.sources;
    if (!sources) problems.push("connecting to the databases");
    else
      for (const [db, client] of [
        ["Open_vSwitch", sources.ovs],
        ["OVN_Southbound", sources.sb],
      ] as const)
        if (client.state !== "active") problems.push(`${db}: not connected (${client.state})`);
    const targets: Record<string, object> = {};
    for (const t of ALL_TARGETS) {
      const st = this.status.get(t);
      if (!st) {
        problems.push(`${t}: no pass has succeeded yet`);
        continue;
      }
      targets[t] = { ok: st.ok, at: st.at, ...(st.error ? { error: st.error } : {}) };
      if (!st.ok)
        problems.push(`${t}: ${[st.error ?? "failed", ...(st.details ?? []).slice(0, 3)].join("; ")}`);
    }
    return { ok: problems.length === 0, chassis: this.chassisName, problems, targets };
  }

  /** What `ovn-bgp status` shows: connections, passes, exposures, problems, recent events. */
  report(): AgentReport {
    const sources = this.sources;
    const connections = sources
      ? (
          [
            ["OVN_Southbound", sources.sb],
            ["Open_vSwitch", sources.ovs],
          ] as const
        ).map(([db, c]) => ({
          db,
          state: c.state,
          remote: c.stats.remote,
          reconnects: c.stats.reconnects,
          last_sync: c.stats.lastSync,
          ...(c.lastConnectionError ? { last_error: c.lastConnectionError } : {}),
        }))
      : [];
    const targets: Record<string, { last_pass?: TargetStatus; last_success?: string }> = {};
    for (const t of ALL_TARGETS) {
      const last = this.status.get(t);
      const ok = this.lastSuccess.get(t);
      targets[t] = { ...(last ? { last_pass: last } : {}), ...(ok ? { last_success: ok } : {}) };
    }
    return {
      chassis: this.chassisName,
      pid: process.pid,
      started_at: new Date(this.startedAt).toISOString(),
      uptime_s: Math.round((Date.now() - this.startedAt) / 1000),
      ready: this.readyz(),
      connections,
      targets,
      exposed_ips: Object.fromEntries([...this.exposed.entries()].filter(([, n]) => n > 0).sort()),
      exposures: this.planner?.entryCount() ?? 0,
      problems: this.planner?.problems() ?? [],
      recent_events: [...this.recent].reverse(),
    };
  }

  /** Resolves when every triggered pass has run. */
  async idle(): Promise<void> {
    await this.loop?.idle();
  }

  /** What each applier would change now (after open), changing nothing. */
  async dryRun(): Promise<DryRun> {
    const planner = this.planner;
    const dk = this.desiredKernel;
    if (!planner || !dk) throw new Error("dryRun before open");
    const desired = dk.toKernelState();
    const host = planner.hostWide();
    const kernel = await this.kernel.plan(desired);
    const err = (e: unknown) => ({ error: (e as Error).message });
    const flows = await this.flows.plan(host.flows, this.bridgesForFlows()).catch(err);
    const frr = await this.frr.plan(host.frr).catch(err);
    return { kernel, flows, frr };
  }

  /** `ovn-bgp explain`: one IP, logical port or CIDR, from the plan, a fresh read of the host, FRR and the Southbound. */
  async explain(query: string): Promise<Explanation> {
    const state = this.desired();
    const sources = this.sources;
    if (!state || !sources) throw new Error("explain before open");
    const q = parseQuery(query);
    const [dryRun, southbound] = await Promise.all([this.dryRun(), this.southboundFacts(q)]);
    const vty = new VtyClient(`${this.config.frr_vty_socket_dir}/bgpd.vty`);
    try {
      return await explain(query, {
        state,
        dryRun,
        southbound,
        config: this.config,
        bgpLookup: async (prefix, family) => {
          const raw = await vty.run(`show bgp ${family === 4 ? "ipv4" : "ipv6"} unicast ${prefix} json`);
          return describeBgpPrefix(raw);
        },
      });
    } finally {
      vty.close();
    }
  }

  /** The Port_Bindings a query names, read from the Southbound directly (any chassis). */
  private async southboundFacts(q: ReturnType<typeof parseQuery>): Promise<SbPortFact[]> {
    const sb = (this.sources as ChassisSources).sb;
    const where = q.kind === "port" ? [["logical_port", "==", q.name]] : [];
    const [pbs, chassis] = (await sb.transact([
      {
        op: "select",
        table: "Port_Binding",
        where,
        columns: ["logical_port", "type", "chassis", "mac", "nat_addresses", "up"],
      },
      { op: "select", table: "Chassis", where: [], columns: ["_uuid", "name"] },
    ])) as Array<{ rows: Array<Record<string, unknown>> }>;
    return southboundFactsFrom(pbs?.rows ?? [], chassis?.rows ?? [], q);
  }

  /** Stop at any point, also while `open`/`start` are still connecting (they then reject). */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.loop?.stop();
    this.sysctlWatcher?.stop();
    this.ndpProxyWatcher?.stop();
    this.frrConfigWatcher?.stop();
    this.flowWatcher?.stop();
    this.frrWatcher?.stop();
    this.bgpVty?.close();
    await Promise.all(this.kernelWatchers.map((w) => w.stop()));
    await this.kernel.close();
    await this.sources?.stop();
  }

  // ------------------------------------------------------------------ events

  private onSbChanges(changes: RowChange[]): void {
    const planner = this.planner;
    const dk = this.desiredKernel;
    if (!planner || !dk) return;
    const started = performance.now();
    const delta = planner.apply(changes);
    this.logDelta(delta);
    if (delta.added.length || delta.removed.length || delta.hostChanged) {
      mergeTouched(
        this.pendingKeys,
        dk.apply(delta, () => planner.hostWide()),
      );
      this.countExposed(delta.removed, -1);
      this.countExposed(delta.added, 1);
      this.log.debug({ rows: changes.length, planMs: +(performance.now() - started).toFixed(3) }, "planned");
      // Host-wide changes (bridges, VLAN devices, flows, FRR intent) are rare: a full pass of each.
      const targets = delta.hostChanged ? ALL_TARGETS : (["kernel"] as const);
      for (const t of targets) if (!this.changedSince.has(t)) this.changedSince.set(t, started);
      if (delta.hostChanged) this.loop?.trigger(ALL_TARGETS, "southbound change (host-wide)", true);
      else this.loop?.trigger(["kernel"], "southbound change");
      void this.narrowMonitor();
    }
  }

  private onOvsChanges(): void {
    const sources = this.sources;
    const planner = this.planner;
    const dk = this.desiredKernel;
    if (!sources || !planner || !dk) return;
    const delta = planner.setFacts(this.localFacts());
    this.logDelta(delta);
    mergeTouched(
      this.pendingKeys,
      dk.apply(delta, () => planner.hostWide()),
    );
    this.countExposed(delta.removed, -1);
    this.countExposed(delta.added, 1);
    // A patch port or bridge MAC may have appeared: flows depend on OVS state the plan cannot see.
    this.loop?.trigger(ALL_TARGETS, "local ovs change", true);
  }

  /** A kernel monitor line the model accounts for (our own write's echo) starts no pass. */
  private explainsKernelLine(line: string, family: 4 | 6): boolean {
    const dk = this.desiredKernel;
    const e = parseMonitorLine(line, family);
    return dk !== undefined && e !== undefined && this.kernel.explains(e, dk);
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
    this.exposed.clear();
    this.countExposed(state.entries, 1);
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

  /**
   * The seed's event per exposure that appeared or went away. A burst (more than
   * BURST_LOG_THRESHOLD) logs its exposures at debug and one summary at info.
   */
  private logDelta(delta: PlanDelta): void {
    const addedIds = new Set(delta.added.map((e) => e.id));
    const removedIds = new Set(delta.removed.map((e) => e.id));
    const burst = delta.added.length + delta.removed.length > BURST_LOG_THRESHOLD;
    const line = burst ? this.log.debug.bind(this.log) : this.log.info.bind(this.log);
    const byEvent = new Map<string, number>();
    const at = new Date().toISOString();
    const count = (event: string, e: PlanEntry, change?: string) => {
      byEvent.set(event, (byEvent.get(event) ?? 0) + 1);
      this.opts.metrics?.eventsTotal.inc({ event });
      this.recent.push({
        at,
        event,
        kind: e.cause.kind,
        logical_port: e.cause.logicalPort,
        ips: e.advertised,
        ...(change ? { change } : {}),
      });
      if (this.recent.length > RECENT_EVENTS) this.recent.splice(0, this.recent.length - RECENT_EVENTS);
    };
    for (const e of delta.removed) {
      if (addedIds.has(e.id)) continue;
      const event = withdrawEvent(e.cause.event);
      count(event, e);
      line({ event, kind: e.cause.kind, logical_port: e.cause.logicalPort, ips: e.advertised }, event);
    }
    for (const e of delta.added) {
      const event = e.cause.event;
      const change = removedIds.has(e.id) ? "updated" : "exposed";
      count(event, e, change);
      line(
        { event, kind: e.cause.kind, logical_port: e.cause.logicalPort, ips: e.advertised, change },
        event,
      );
    }
    if (burst)
      this.log.info(
        { added: delta.added.length, removed: delta.removed.length, events: Object.fromEntries(byEvent) },
        "southbound burst planned",
      );
    for (const p of delta.problems) {
      this.log.error({ table: p.table, object: p.object }, `skipped ${p.table} ${p.object}: ${p.message}`);
    }
  }

  private countExposed(entries: readonly PlanEntry[], sign: 1 | -1): void {
    const g = this.opts.metrics?.exposedIps;
    for (const e of entries) {
      const n = (this.exposed.get(e.cause.kind) ?? 0) + sign * e.advertised.length;
      this.exposed.set(e.cause.kind, n);
      g?.set({ kind: e.cause.kind }, n);
    }
  }

  /**
   * The periodic re-level: plan again from the replica and make the incremental state equal to it.
   * A difference means an update was missed or mishandled; it is said, and healed by this pass.
   */
  private relevel(): void {
    const planner = this.planner;
    const sources = this.sources;
    if (!planner || !sources) return;
    const before = new Map(planner.state().entries.map((e) => [e.id, JSON.stringify(e)]));
    planner.load(sources.sb.replica.snapshot());
    const state = planner.state();
    let differ = before.size !== state.entries.length ? 1 : 0;
    for (const e of state.entries) if (before.get(e.id) !== JSON.stringify(e)) differ++;
    this.desiredKernel = DesiredKernel.of(state);
    this.pendingKeys = newTouched();
    this.exposed.clear();
    this.opts.metrics?.exposedIps.reset();
    this.countExposed(state.entries, 1);
    if (differ > 0)
      this.log.warn(
        { exposures: state.entries.length, differing: differ },
        "periodic re-level: the incremental plan differed from a plan of the replica; healed",
      );
  }

  // ------------------------------------------------------------------ the pass

  private async pass(req: PassRequest): Promise<PassResult> {
    if (!this.planner || !this.desiredKernel) return { failed: new Set() };
    if (req.reasons.includes("periodic")) {
      await this.refreshHostNetworks();
      this.relevel();
    }
    const started = performance.now();
    const failed = new Set<Target>();
    const run = async (target: Target, fn: () => Promise<TargetStatus | undefined>) => {
      if (!req.targets.has(target)) return;
      const since = this.changedSince.get(target);
      this.changedSince.delete(target);
      let st: TargetStatus | undefined;
      try {
        st = await fn();
      } catch (err) {
        st = {
          ok: false,
          at: new Date().toISOString(),
          changes: 0,
          mode: "full",
          error: (err as Error).message,
        };
      }
      if (!st || st.ok) {
        if (since !== undefined)
          this.opts.metrics?.changeAppliedSeconds.observe({ target }, (performance.now() - since) / 1000);
      } else if (since !== undefined && !this.changedSince.has(target)) this.changedSince.set(target, since);
      if (!st) return; // a delta with nothing to do: the last status stands
      this.status.set(target, st);
      if (st.ok) {
        this.lastSuccess.set(target, st.at);
        this.opts.metrics?.lastSuccessTimestamp.set({ target }, Date.parse(st.at) / 1000);
      }
      this.opts.metrics?.passesTotal.inc({ target, mode: st.mode ?? "full" });
      if (!st.ok) {
        failed.add(target);
        this.opts.metrics?.reconcileErrorsTotal.inc({ target });
        this.log.error({ target, pass: req.id, details: st.details }, `${target}: ${st.error ?? "failed"}`);
      }
    };
    await run("kernel", async () => {
      this.kernelGeneration++;
      try {
        return await this.syncKernel(req.full.has("kernel"));
      } finally {
        this.kernelGeneration++;
      }
    });
    await run("flows", () => this.syncFlows());
    await run("frr", () => this.syncFrr());
    const ms = performance.now() - started;
    this.opts.metrics?.reconcileDuration.observe(ms / 1000);
    this.log.debug(
      {
        pass: req.id,
        reasons: req.reasons,
        targets: [...req.targets],
        full: [...req.full],
        ms: +ms.toFixed(1),
      },
      "pass done",
    );
    return { failed };
  }

  /** The delta of the touched keys, or a full pass when asked for (or when the delta cannot run). */
  private async syncKernel(full: boolean): Promise<TargetStatus | undefined> {
    const dk = this.desiredKernel as DesiredKernel;
    let report: ApplyReport | undefined;
    let mode: "delta" | "full" = "full";
    if (!full) {
      const keys = this.pendingKeys;
      this.pendingKeys = newTouched();
      if (touchedCount(keys) === 0) return undefined;
      const r = await this.kernel.applyDelta(dk, keys);
      if (r !== NEEDS_FULL_PASS) {
        report = r;
        mode = "delta";
      }
    }
    if (!report) {
      this.pendingKeys = newTouched(); // the full diff covers them
      const desired = dk.toKernelState();
      const adoption = this.adoptPending ? await this.adoptBefore(desired) : undefined;
      report = await this.kernel.sync(desired, {
        beforeApply: (ops) => this.frrBeforeVrfGoes(ops),
      });
      if (adoption) await this.adoptAfter(adoption, report);
    }
    const c = report.counts;
    const m = this.opts.metrics;
    if (c.add) m?.applyOpsTotal.inc({ target: "kernel", op: "add" }, c.add);
    if (c.del) m?.applyOpsTotal.inc({ target: "kernel", op: "delete" }, c.del);
    if (c.replace) m?.applyOpsTotal.inc({ target: "kernel", op: "replace" }, c.replace);
    for (const p of report.problems) this.log.warn({ target: "kernel" }, p);
    // Pending (a missing device) counts against the target here: it is retried until the device is there.
    return this.statusOf("kernel", mode, kernelResults(report), true, report.phases);
  }

  /** adopt_upstream_state, first half: re-mark what the plan wants, withdraw what it does not. */
  private async adoptBefore(desired: KernelState): Promise<AdoptionPlan> {
    const host = (this.planner as Planner).hostWide();
    // The bridge tables only: the announce table (layout table) is the agent's alone.
    const bridgeTables = host.routingTables.filter((t) => t.id !== this.config.bgp_vrf_table_id);
    const tables = bridgeTables.map((t) => t.id);
    const devices = new Set([
      ...bridgeTables.map((t) => t.name),
      ...host.links.filter((l) => l.kind === "vlan").map((l) => l.name),
    ]);
    const foreign = await this.kernel.readForeign(tables);
    const plan = planAdoption(desired, foreign, {
      priority: this.config.ip_rule_priority,
      protocol: this.config.route_protocol,
      tables: new Set(tables),
      devices,
    });
    if (plan.before.length) {
      const r = await this.kernel.apply({ ops: plan.before, blocked: [], problems: [] });
      this.log.info(
        {
          adopted: plan.before.map((o) => `${o.op} ${o.kind} ${o.key}`),
          failed: r.items.filter((i) => !i.ok).length,
        },
        "adopt_upstream_state: took over the Python agent's routes and neighbours, withdrew its stale objects",
      );
    }
    return plan;
  }

  /** adopt_upstream_state, second half (ours are in place): remove upstream's twins of our rules. */
  private async adoptAfter(plan: AdoptionPlan, report: ApplyReport): Promise<void> {
    const failed = report.items.some((i) => !i.ok);
    if (failed) return; // ours may be missing: keep upstream's rules until a pass succeeds
    if (plan.after.length) {
      const r = await this.kernel.apply({ ops: plan.after, blocked: [], problems: [] });
      this.log.info(
        { removed: plan.after.map((o) => o.key), failed: r.items.filter((i) => !i.ok).length },
        "adopt_upstream_state: removed the Python agent's rules that ours replace",
      );
      if (r.items.some((i) => !i.ok)) return;
    }
    this.adoptPending = false;
    this.log.info("adopt_upstream_state: done; nothing of the Python agent's is left in the agent's tables");
  }

  /**
   * A VRF device the kernel pass is about to delete (announce_via or bgp_vrf changed) is first
   * dropped from FRR: zebra 8.4 crashed (SIGSEGV in rib_process_dplane_results) when the VRF went
   * while bgpd still had its instance and the leaked routes. FRR is applied with the new intent, then
   * the device change waits DEVICE_SETTLE_MS. An FRR failure here is logged; the kernel goes on.
   */
  private async frrBeforeVrfGoes(ops: KernelOps): Promise<void> {
    if (!deletesVrf(ops.ops)) return;
    this.log.info({ target: "frr" }, "a VRF is being removed: FRR drops its instance first");
    try {
      this.status.set("frr", await this.syncFrr());
    } catch (err) {
      this.log.warn(
        { target: "frr", err: (err as Error).message },
        "FRR could not be applied before the VRF change",
      );
    }
    await delay(DEVICE_SETTLE_MS);
  }

  private async syncFlows(): Promise<TargetStatus> {
    const host = (this.planner as Planner).hostWide();
    const bridges = this.bridgesForFlows();
    this.flowWatcher?.writingFlows();
    let res: FlowSyncResult;
    try {
      res = await this.flows.sync(host.flows, bridges);
    } finally {
      this.flowWatcher?.wrote();
      this.flowWatcher?.watch(bridges);
    }
    return this.statusOf("flows", "full", flowResults(res), false);
  }

  private async syncFrr(): Promise<TargetStatus> {
    this.frrConfigWatcher?.writing();
    let changed = false;
    let res: FrrSyncResult;
    try {
      res = await this.frr.sync((this.planner as Planner).hostWide().frr);
      changed = res.changed;
    } finally {
      await this.frrConfigWatcher?.wrote(changed);
    }
    if (res.changed) this.log.info({ script: res.script.trim().split("\n") }, "frr configured");
    for (const k of res.diff.kept ?? [])
      this.log.info({ target: "frr" }, `left the operator's setting in place: ${k}`);
    return this.statusOf("frr", "full", frrResults(res), false);
  }

  /**
   * One applier's per-object results → its status, metrics and logs (every change at debug with its
   * object; a summary at info for full passes and bursts).
   */
  private statusOf(
    target: Target,
    mode: "delta" | "full",
    results: readonly ObjectResult[],
    failOnPending: boolean,
    phases?: object,
  ): TargetStatus {
    const c = countResults(results);
    if (target !== "kernel" && c.applied)
      this.opts.metrics?.applyOpsTotal.inc({ target, op: "apply" }, c.applied);
    if (this.log.isLevelEnabled("debug"))
      for (const r of results)
        this.log.debug(
          { target, op: r.op, object: r.object, status: r.status, reason: r.reason },
          `${target} change`,
        );
    if (results.length > 0) {
      const summary = { target, mode, ...c, ...(phases ? { phases } : {}) };
      if (mode === "full" || results.length > BURST_LOG_THRESHOLD) this.log.info(summary, `${target} synced`);
      else this.log.debug(summary, `${target} synced`);
    }
    for (const r of results)
      if (r.status === "pending") this.log.debug({ target, object: r.object }, `pending: ${r.reason ?? ""}`);
    const bad = results.filter((r) => r.status === "failed" || (failOnPending && r.status === "pending"));
    const details = bad.map((r) => `${r.op} ${r.object}: ${r.reason ?? "failed"}`);
    return {
      ok: bad.length === 0,
      at: new Date().toISOString(),
      changes: c.applied,
      mode,
      ...(bad.length ? { error: `${bad.length} ${target} object(s) not applied`, details } : {}),
    };
  }

  private bridgesForFlows(): string[] {
    for (const t of (this.planner as Planner).hostWide().routingTables) this.flowBridges.add(t.name);
    return [...this.flowBridges].sort();
  }
}

/** `/etc/iproute2/rt_tables.d/x.conf` → `/etc/iproute2/rt_protos.d/ovn-bgp.conf`. */
function defaultProtosDropin(rtTablesDropin: string): string | undefined {
  const i = rtTablesDropin.lastIndexOf("/rt_tables.d/");
  return i < 0 ? undefined : `${rtTablesDropin.slice(0, i)}/rt_protos.d/ovn-bgp.conf`;
}
