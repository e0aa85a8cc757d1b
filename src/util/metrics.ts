/**
 * Prometheus metrics of the agent, on a registry of its own (never prom-client's global one) so every
 * test and every in-process agent gets fresh counters, and a tiny `node:http` server for `/metrics` and
 * `/healthz`. Operators asked for exactly these views: what the agent reacted to, how long and how often
 * reconciling fails, how much it exposes, and whether its database sessions are up.
 *
 * Label values stay bounded: event class names, target names (kernel, flows, frr), database names, object kinds and op
 * verbs — never an IP or a port name (those belong in logs).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { formatListenAddress, type ListenAddress, parseListenAddress } from "./listen-address.ts";

/**
 * The upstream SB driver's event class names (the `event` label and log field); counted from zero so a
 * `rate()` works before the first occurrence.
 */
export const SEED_EVENTS = [
  "PortBindingChassisCreatedEvent",
  "PortBindingChassisDeletedEvent",
  "FIPSetEvent",
  "FIPUnsetEvent",
  "SubnetRouterAttachedEvent",
  "SubnetRouterDetachedEvent",
  "TenantPortCreatedEvent",
  "TenantPortDeletedEvent",
  "OVNLBCreateEvent",
  "OVNLBDeleteEvent",
] as const;
export type SeedEvent = (typeof SEED_EVENTS)[number];

/** Reconciles range from milliseconds (one port) to a minute (first sync of thousands). */
const RECONCILE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export interface AgentMetrics {
  readonly registry: Registry;
  /** Southbound changes the agent reacted to, by event class name. */
  readonly eventsTotal: Counter<"event">;
  /** Wall time of one reconcile pass (snapshot → plan → observe → diff → apply). */
  readonly reconcileDuration: Histogram<never>;
  /** Failed passes, by target (kernel, flows, frr). */
  readonly reconcileErrorsTotal: Counter<"target">;
  /** IPs currently exposed, by kind (e.g. provider, fip, cr_lrp, tenant, lb). */
  readonly exposedIps: Gauge<"kind">;
  /** 1 while the session to the database is up (db: Open_vSwitch, OVN_Southbound). */
  readonly ovsdbConnected: Gauge<"db">;
  readonly ovsdbReconnectsTotal: Counter<"db">;
  readonly ovsdbBytesReceivedTotal: Counter<"db">;
  /** Changes made on the host, by target (kernel, flows, frr) and op (add, delete, replace for the kernel; apply otherwise). */
  readonly applyOpsTotal: Counter<"target" | "op">;
  /** Passes by target and mode: `delta` (only what a Southbound change touched) or `full` (observe and diff everything). */
  readonly passesTotal: Counter<"target" | "mode">;
  /** Kernel monitor lines about objects the agent cares about: `echo` (its own write) or `change` (someone else's: healed). */
  readonly kernelMonitorLinesTotal: Counter<"verdict">;
  /** From a Southbound change to the pass of one target that applied it, by target (kernel, flows, frr). */
  readonly changeAppliedSeconds: Histogram<"target">;
  /** Unix time of each target's last pass that applied everything (kernel, flows, frr). */
  readonly lastSuccessTimestamp: Gauge<"target">;
  /**
   * What gauges read at scrape time: the planner's problems by Southbound table and FRR's BGP view.
   * The agent fills them in; unset, those gauges are empty.
   */
  readonly readers: MetricReaders;
}

/** Scrape-time readers the agent plugs in (cheap: O(rows) for problems, one vty command for BGP). */
export interface MetricReaders {
  planProblems?: () => ReadonlyMap<string, number>;
  bgp?: () => Promise<readonly BgpPeerState[]>;
}

/** One BGP peer as FRR's bgpd reports it (`show bgp vrf all summary json`). */
export interface BgpPeerState {
  readonly vrf: string;
  readonly afi: string;
  readonly peer: string;
  readonly established: boolean;
  /** Prefixes sent to the peer (`pfxSnt`). */
  readonly prefixesSent: number;
}

/** The targets (appliers): the one name each has in metrics, logs (`target`), status and health. */
export const TARGET_NAMES = ["kernel", "flows", "frr"] as const;

/** Southbound change → applied: a delta pass is milliseconds, a full pass or a retry seconds. */
const APPLIED_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export interface CreateMetricsOptions {
  /** Node process metrics (CPU, memory, event loop lag, GC); on by default. */
  readonly defaultMetrics?: boolean;
  /** ovn-bgp's version, for `ovn_bgp_build_info`. */
  readonly version?: string;
}

export function createMetrics(opts: CreateMetricsOptions = {}): AgentMetrics {
  const registry = new Registry();
  const readers: MetricReaders = {};
  // The event-loop-lag monitor samples every 10 ms by default: 100 wake-ups a second on an idle host.
  if (opts.defaultMetrics !== false)
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 1_000 });
  const registers = [registry];
  const eventsTotal = new Counter({
    name: "ovn_bgp_events_total",
    help: "Southbound changes the agent reacted to, by upstream event class name",
    labelNames: ["event"],
    registers,
  });
  for (const event of SEED_EVENTS) eventsTotal.inc({ event }, 0);
  new Gauge({
    name: "ovn_bgp_build_info",
    help: "Always 1; the labels say which ovn-bgp and Node.js run",
    labelNames: ["version", "node_version"],
    registers,
  }).set({ version: opts.version ?? "unknown", node_version: process.versions.node }, 1);
  new Gauge({
    name: "ovn_bgp_plan_problems",
    help: "Southbound rows the planner could not use (each named in the logs and by `ovn-bgp status`), by table",
    labelNames: ["table"],
    registers,
    collect() {
      this.reset();
      for (const [table, n] of readers.planProblems?.() ?? []) this.set({ table }, n);
    },
  });
  const bgpLabels = ["vrf", "afi", "peer"] as const;
  // One read of bgpd per scrape: the first gauge (collected first, in registration order) reads,
  // the second uses what it read.
  let peers: readonly BgpPeerState[] = [];
  new Gauge({
    name: "ovn_bgp_bgp_peer_up",
    help: "1 while FRR's BGP session with the peer is Established, else 0 (read from bgpd at scrape time)",
    labelNames: bgpLabels,
    registers,
    async collect() {
      peers = (await readers.bgp?.().catch(() => undefined)) ?? [];
      this.reset();
      for (const p of peers) this.set({ vrf: p.vrf, afi: p.afi, peer: p.peer }, p.established ? 1 : 0);
    },
  });
  new Gauge({
    name: "ovn_bgp_bgp_peer_prefixes_sent",
    help: "Prefixes FRR advertises to the peer (read from bgpd at scrape time)",
    labelNames: bgpLabels,
    registers,
    collect() {
      this.reset();
      for (const p of peers) this.set({ vrf: p.vrf, afi: p.afi, peer: p.peer }, p.prefixesSent);
    },
  });
  return {
    registry,
    readers,
    eventsTotal,
    reconcileDuration: new Histogram({
      name: "ovn_bgp_reconcile_duration_seconds",
      help: "Duration of one reconcile pass",
      buckets: RECONCILE_BUCKETS,
      registers,
    }),
    reconcileErrorsTotal: new Counter({
      name: "ovn_bgp_reconcile_errors_total",
      help: "Failed passes, by target (kernel, flows, frr)",
      labelNames: ["target"],
      registers,
    }),
    exposedIps: new Gauge({
      name: "ovn_bgp_exposed_ips",
      help: "IP addresses currently exposed by this chassis, by kind",
      labelNames: ["kind"],
      registers,
    }),
    ovsdbConnected: new Gauge({
      name: "ovn_bgp_ovsdb_connected",
      help: "1 while the OVSDB session is established, else 0",
      labelNames: ["db"],
      registers,
    }),
    ovsdbReconnectsTotal: new Counter({
      name: "ovn_bgp_ovsdb_reconnects_total",
      help: "OVSDB sessions re-established after a loss",
      labelNames: ["db"],
      registers,
    }),
    ovsdbBytesReceivedTotal: new Counter({
      name: "ovn_bgp_ovsdb_bytes_received_total",
      help: "Bytes received from the OVSDB server",
      labelNames: ["db"],
      registers,
    }),
    applyOpsTotal: new Counter({
      name: "ovn_bgp_apply_ops_total",
      help: "Changes applied to the host, by target (kernel, flows, frr) and operation",
      labelNames: ["target", "op"],
      registers,
    }),
    passesTotal: new Counter({
      name: "ovn_bgp_passes_total",
      help: "Passes by target (kernel, flows, frr) and mode (delta: only what a change touched; full: observe and diff everything)",
      labelNames: ["target", "mode"],
      registers,
    }),
    kernelMonitorLinesTotal: new Counter({
      name: "ovn_bgp_kernel_monitor_lines_total",
      help: "Kernel monitor lines about the agent's objects: echo (its own write) or change (someone else's, healed)",
      labelNames: ["verdict"],
      registers,
    }),
    changeAppliedSeconds: new Histogram({
      name: "ovn_bgp_sb_change_applied_seconds",
      help: "From a Southbound change to the pass that applied it, by target (kernel, flows, frr)",
      labelNames: ["target"],
      buckets: APPLIED_BUCKETS,
      registers,
    }),
    lastSuccessTimestamp: new Gauge({
      name: "ovn_bgp_last_successful_sync_timestamp_seconds",
      help: "Unix time of each target's last pass that applied everything it wanted (kernel, flows, frr)",
      labelNames: ["target"],
      registers,
    }),
  };
}

/** What a health endpoint reports; `ok: false` answers 503 so a probe can act on it. */
export interface HealthStatus {
  readonly ok: boolean;
  readonly [detail: string]: unknown;
}

type Probe = () => HealthStatus | Promise<HealthStatus>;

/**
 * `/livez`: the process is alive and its loop turns (a failing liveness probe restarts the agent).
 * `/readyz`: it is doing its job (databases connected, every target synced); a dead FRR makes it not
 * ready, never not alive. `/healthz` is kept as an alias of `/readyz`.
 */
export interface HealthProbes {
  readonly livez?: Probe;
  readonly readyz?: Probe;
}

const ALWAYS_OK: Probe = () => ({ ok: true });

export interface MetricsServer {
  /** The bound address (the real port when 0 was asked for). */
  readonly address: ListenAddress;
  /** `http://host:port`, for logs and tests. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` (Prometheus text format), `GET /livez` and `GET /readyz` (JSON from the
 * probes, `{ok:true}` when not given) and `GET /healthz` (= `/readyz`).
 * Resolves once listening; rejects if the address is invalid or cannot be bound.
 */
export function startMetricsServer(
  listen: string,
  registry: Registry,
  probes: HealthProbes = {},
): Promise<MetricsServer> {
  const health = new Map<string, Probe>([
    ["/livez", probes.livez ?? ALWAYS_OK],
    ["/readyz", probes.readyz ?? ALWAYS_OK],
    ["/healthz", probes.readyz ?? ALWAYS_OK],
  ]);
  const addr = parseListenAddress(listen);
  if (!addr)
    return Promise.reject(new Error(`metrics: invalid listen address '${listen}' (expected HOST:PORT)`));
  const server = createServer((req, res) => {
    handle(req, res, registry, health).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, "text/plain; charset=utf-8", `${errorMessage(err)}\n`);
      else res.destroy();
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(addr.port, addr.host, () => {
      server.off("error", reject);
      const bound = server.address() as AddressInfo;
      const address = { host: addr.host, port: bound.port };
      resolve({
        address,
        url: `http://${formatListenAddress(address)}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            // Scrapers keep connections alive; do not let them hold the agent's shutdown.
            server.closeAllConnections();
          }),
      });
    });
  });
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  registry: Registry,
  health: ReadonlyMap<string, Probe>,
): Promise<void> {
  const path = (req.url ?? "/").split("?")[0];
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("Allow", "GET, HEAD");
    send(res, 405, "text/plain; charset=utf-8", "method not allowed\n");
    return;
  }
  if (path === "/metrics") {
    send(res, 200, registry.contentType, await registry.metrics());
  } else if (path !== undefined && health.has(path)) {
    let status: HealthStatus;
    try {
      status = await (health.get(path) as Probe)();
    } catch (err) {
      status = { ok: false, error: errorMessage(err) };
    }
    send(res, status.ok ? 200 : 503, "application/json", `${JSON.stringify(status)}\n`);
  } else {
    send(res, 404, "text/plain; charset=utf-8", "not found; try /metrics, /livez, /readyz or /healthz\n");
  }
}

function send(res: ServerResponse, code: number, type: string, body: string): void {
  res.writeHead(code, { "Content-Type": type, "Content-Length": Buffer.byteLength(body) });
  res.end(res.req.method === "HEAD" ? undefined : body);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
