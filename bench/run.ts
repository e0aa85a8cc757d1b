/**
 * The scale benchmark: the agent on a realistic Southbound at 1k, 10k and 100k Port_Bindings.
 *
 *   npm run bench -- --scale 1k|10k|100k|all [--layout per-ip|per-bridge|both] [--runs N]
 *                    [--local-share 0.1] [--changes N] [--burst N] [--idle-seconds S]
 *                    [--cpu-prof DIR] [--keep-log DIR] [--drift-poll-ms N] [--tsx]
 *   npm run bench -- --quick        (1k, 2 runs, fewer changes: under two minutes)
 *
 * Per scale: a real ovsdb-server with the OVN Southbound schema, filled through big insert
 * transactions (bench/scale/fill.ts); a namespace with its own OVS (netdev br-ex, bridge mappings
 * public:br-ex); the agent run as a process inside the namespace (`ip netns exec NS node … agent`)
 * with announce_via = table and FRR's socket dir pointing at an empty directory (the FRR target fails
 * and retries every pass; kernel figures do not wait for it: the kernel target runs first).
 *
 * Figures, per scale and rule layout: cold start (spawn → `ip monitor` has announced every desired
 * rule and route; nothing polls the machine being measured, and every run starts from a kernel
 * without any of the agent's rules and routes), one bind and one unbind (Southbound transaction →
 * the monitor announces the exposure's rule, layout per-ip, or bridge-table route, per-bridge), a
 * burst bound in one transaction, steady-state RSS and V8 heap in use, idle CPU, route lookups per
 * second with every exposure in place against the same namespace with none (the per-packet cost of
 * the rule list), the Southbound bytes the agent received against an unconditioned monitor of the
 * same tables, and ovsdb-server's CPU during the agent's start. Each prints one `BENCH name=value
 * unit` line. Needs root; everything it starts is removed at exit.
 */
import { type ChildProcess, spawn } from "node:child_process";
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../src/config/load.ts";
import { run, runOk } from "../src/host/exec.ts";
import { OVS_DATABASE, OVS_TABLES, readOvsFacts } from "../src/ovs/ovs-facts.ts";
import { OvsdbClient } from "../src/ovsdb/client.ts";
import { flattenPlan } from "../src/plan/desired-state.ts";
import { Planner } from "../src/plan/planner.ts";
import { toLocalFacts } from "../src/reconcile/local-facts-from-ovs.ts";
import { SB_DATABASE, SB_TABLES } from "../src/sb/monitor-spec.ts";
import { atExit, createNetns, netnsUnavailable } from "../test/support/netns.ts";
import { ovsUnavailable, startOvs } from "../test/support/ovs-switch.ts";
import { startOvsdbServer } from "../test/support/ovsdb-server.ts";
import { makeTempDir } from "../test/support/temp-dir.ts";
import { bindPorts, type FillResult, fillSouthbound } from "./scale/fill.ts";
import {
  countAgentObjects,
  flushAgentState,
  KernelMonitor,
  lookupRate,
  type Probe,
  presentIps,
} from "./scale/kernel-probe.ts";
import {
  type Figure,
  printBenchLines,
  printTable,
  quantileFigure,
  runsFigure,
  single,
} from "./scale/report.ts";

const REPO = join(import.meta.dirname, "..");
const CHASSIS = "bench-me";
const SCALES: Record<string, number> = { "1k": 1_000, "10k": 10_000, "100k": 100_000 };
const TARGETS = { coldStartMs: 2_000, changeP99Ms: 10, burstMs: 200, rssMb: 200, idleCpu: 0.05 };
const METRICS_PORT = 9797;
/** br-ex's table: bridge_table_base (200) + 0. */
const BRIDGE_TABLE = 200;

type Layout = "per-ip" | "per-bridge";

interface Options {
  scales: string[];
  layouts: Layout[];
  runs: number;
  localShare: number;
  changes: number;
  burst: number;
  idleSeconds: number;
  /** Pass --cpu-prof to the agent's node, profiles written here at each (graceful) stop. */
  cpuProf: string | undefined;
  /** The agent's drift_poll_ms (its default when not given). */
  driftPollMs: string | undefined;
  /** Copy the agent's log (all runs of a scale) here as agent-<scale>.log before clean-up. */
  keepLog: string | undefined;
  /**
   * Run the agent from a tsc build (what `bin/ovn-bgp.js` runs in production; default) rather than
   * through tsx (`--tsx`: no build step, but about 0.7 s more per start spent transpiling).
   */
  compiled: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const quick = argv.includes("--quick");
  const scale = get("--scale") ?? (quick ? "1k" : "all");
  const scales = scale === "all" ? Object.keys(SCALES) : [scale];
  for (const s of scales)
    if (!(s in SCALES)) throw new Error(`--scale: expected 1k, 10k, 100k or all, got ${s}`);
  const layout = get("--layout") ?? "both";
  if (!["per-ip", "per-bridge", "both"].includes(layout))
    throw new Error(`--layout: expected per-ip, per-bridge or both, got ${layout}`);
  return {
    scales,
    layouts: layout === "both" ? ["per-ip", "per-bridge"] : [layout as Layout],
    runs: Number(get("--runs") ?? (quick ? 2 : 3)),
    localShare: Number(get("--local-share") ?? 0.1),
    changes: Number(get("--changes") ?? (quick ? 30 : 200)),
    burst: Number(get("--burst") ?? (quick ? 100 : 1_000)),
    idleSeconds: Number(get("--idle-seconds") ?? (quick ? 5 : 30)),
    cpuProf: get("--cpu-prof"),
    keepLog: get("--keep-log"),
    driftPollMs: get("--drift-poll-ms"),
    compiled: !argv.includes("--tsx"),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** utime+stime of a process, in seconds (clock ticks are 100 Hz on Linux). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function statusKb(pid: number, key: "VmRSS" | "VmHWM"): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? Number.NaN);
}

async function runScale(
  scale: string,
  layout: Layout,
  opts: Options,
  entry: readonly string[],
): Promise<Figure[]> {
  const ports = SCALES[scale] as number;
  const label = `${scale}_${layout === "per-ip" ? "perip" : "perbridge"}`;
  const probe: Probe = layout === "per-ip" ? "rule" : "route";
  const figures: Figure[] = [];
  const dir = makeTempDir(`bench-${label}`);
  const agentLog = join(dir, "agent.log");
  let agent: ChildProcess | undefined;
  const sb = await startOvsdbServer({ schema: "sb", name: `bench-sb-${label}` });
  const writer = new OvsdbClient({
    remotes: sb.unixRemote,
    database: SB_DATABASE,
    tables: { Chassis: { columns: ["name"] } },
  }).start();
  const ns = await createNetns("bench");
  const ovs = await startOvs(ns.name);
  const PROTOCOL = 179;
  const monitor = new KernelMonitor(ns.name, PROTOCOL);
  const killAgent = async () => {
    const a = agent;
    agent = undefined;
    if (!a || a.exitCode !== null) return;
    const exited = new Promise((r) => a.once("exit", r));
    // SIGTERM lets node write a --cpu-prof profile; SIGKILL if the agent does not stop in time.
    a.kill("SIGTERM");
    const timer = setTimeout(() => a.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await writer.whenSynced();
    const fill: FillResult = await fillSouthbound(writer, {
      ports,
      localShare: opts.localShare,
      chassisName: CHASSIS,
      changePool: Math.min(opts.changes, Math.floor(ports / 10)),
      burstPool: Math.min(opts.burst, Math.floor(ports / 10)),
    });
    console.log(
      `[${label}] filled ${fill.portCount} Port_Bindings (${fill.localBound} bound here, ${fill.routers} routers, ${fill.chassis} chassis) in ${fill.seconds.toFixed(1)} s`,
    );

    await ovs.addBridge("br-ex");
    await ovs.vsctl(
      "set",
      "Open_vSwitch",
      ".",
      `external_ids:system-id=${CHASSIS}`,
      `external_ids:ovn-remote=${sb.unixRemote}`,
      "external_ids:ovn-bridge-mappings=public:br-ex",
    );
    await ns.exec(["ip", "link", "set", "br-ex", "up"]);
    // Inside the benchmark namespace only: a main-table route for the lookup-rate probe's addresses.
    await ns.exec(["ip", "route", "add", "203.0.113.0/24", "dev", "br-ex"]);

    const frrDir = makeTempDir("bench-frr");
    const confFile = join(dir, "bgp-agent.conf");
    const conf = [
      "[DEFAULT]",
      "bgp_AS = 64999",
      "bgp_router_id = 10.255.1.1",
      "expose_tenant_networks = True",
      "announce_via = table",
      `ip_rule_layout = ${layout}`,
      `route_protocol = ${PROTOCOL}`,
      "bgp_vrf_table_id = 199",
      `ovsdb_connection = ${ovs.db}`,
      `frr_vty_socket_dir = ${frrDir}`,
      `rt_tables_dropin = ${join(dir, "rt_tables.d", "ovn-bgp.conf")}`,
      `metrics_listen = 127.0.0.1:${METRICS_PORT}`,
      `control_socket = ${join(dir, "agent.ctl")}`,
      "reconcile_interval = 300",
      ...(opts.driftPollMs !== undefined ? [`drift_poll_ms = ${opts.driftPollMs}`] : []),
      "",
    ].join("\n");
    writeFileSync(confFile, conf);
    const config = loadConfig({ configFiles: [confFile] }).config;

    // What the agent must reach: the planner's rules over the whole database, and what an
    // unconditioned monitor of the same tables and columns costs.
    const full = new OvsdbClient({
      remotes: sb.unixRemote,
      database: SB_DATABASE,
      tables: SB_TABLES,
    }).start();
    const local = new OvsdbClient({ remotes: ovs.db, database: OVS_DATABASE, tables: OVS_TABLES }).start();
    await Promise.all([full.whenSynced(120_000), local.whenSynced()]);
    const fullBytes = full.stats.bytesReceived;
    const planner = new Planner(config, toLocalFacts(CHASSIS, readOvsFacts(local.replica)));
    planner.load(full.replica.snapshot());
    const kernel = flattenPlan(planner.state());
    const expected = kernel.rules.length + kernel.routes.length;
    const priority = config.ip_rule_priority;
    await Promise.all([full.stop(), local.stop()]);
    console.log(`[${label}] desired: ${kernel.rules.length} rules, ${kernel.routes.length} routes`);
    await monitor.start();

    const spawnAgent = () => {
      const fd = openSync(agentLog, "a");
      const child = spawn(
        "ip",
        [
          "netns",
          "exec",
          ns.name,
          "node",
          ...(opts.cpuProf ? ["--cpu-prof", "--cpu-prof-dir", opts.cpuProf] : []),
        ]
          .concat(entry)
          .concat(["agent"])
          .concat(["--config-file", confFile, "--log-level", process.env.BENCH_LOG_LEVEL ?? "info"]),
        { env: { ...process.env, ...ovs.env }, stdio: ["ignore", fd, fd], cwd: REPO },
      );
      closeSync(fd);
      // Killed by PID at exit too (SIGTERM to the harness alone would leave it running).
      const unregister = atExit(() => {
        if (child.exitCode === null) child.kill("SIGKILL");
      });
      child.once("exit", unregister);
      return child;
    };

    // Cold start: every run starts from a kernel without the agent's rules and bridge-table routes.
    const cold: number[] = [];
    const serverCpu: number[] = [];
    for (let i = 0; i < opts.runs; i++) {
      await killAgent();
      await flushAgentState(ns.name, priority, PROTOCOL);
      await sleep(200); // let the monitor's echo of the flush pass before counting
      monitor.resetCount();
      const cpu0 = cpuSeconds(sb.pid);
      const t0 = performance.now();
      agent = spawnAgent();
      const child = agent;
      const exited = new Promise<never>((_, reject) =>
        child.once("exit", (code) => reject(new Error(`agent exited ${code}; log ${agentLog}`))),
      );
      exited.catch(() => {});
      const done = await Promise.race([
        monitor.waitForCount(expected, () => countAgentObjects(ns.name, PROTOCOL)),
        exited,
      ]);
      cold.push(done - t0);
      serverCpu.push(cpuSeconds(sb.pid) - cpu0);
      console.log(`[${label}] cold start run ${i + 1}: ${cold.at(-1)?.toFixed(0)} ms`);
    }
    figures.push(
      runsFigure(`cold_start_${label}_ms`, "ms", cold, ports >= 10_000 ? TARGETS.coldStartMs : undefined),
    );
    figures.push(runsFigure(`sb_server_cpu_at_start_${label}_s`, "s", serverCpu));

    const pid = agent?.pid as number;
    await sleep(1_000); // let the first passes and the FRR failure settle
    const metrics = await run({
      argv: ["curl", "-s", `http://127.0.0.1:${METRICS_PORT}/metrics`],
      netns: ns.name,
      timeoutMs: 10_000,
    });
    const m = /ovn_bgp_ovsdb_bytes_received_total\{db="OVN_Southbound"\} (\d+(?:\.\d+)?(?:e\+\d+)?)/.exec(
      metrics.stdout,
    );
    const agentBytes = Number(m?.[1] ?? Number.NaN);
    figures.push(
      single(`sb_bytes_agent_${label}`, "bytes", agentBytes, "agent's Southbound client at start"),
    );
    figures.push(single(`sb_bytes_full_monitor_${label}`, "bytes", fullBytes, "unconditioned, same tables"));

    // Single changes: bind one port here, then (after all binds) unbind them one by one.
    const binds: number[] = [];
    const unbinds: number[] = [];
    for (const p of fill.changePorts) {
      const t0 = performance.now();
      const seen = monitor.waitFor([p.ip], "add", probe, 30_000);
      await bindPorts(writer, [p], fill.meUuid);
      binds.push((await seen) - t0);
    }
    for (const p of fill.changePorts) {
      const t0 = performance.now();
      const seen = monitor.waitFor([p.ip], "del", probe, 30_000);
      await bindPorts(writer, [p], fill.otherUuid);
      unbinds.push((await seen) - t0);
    }
    if (binds.length) {
      figures.push(quantileFigure(`bind_p50_${label}_ms`, "ms", binds, 0.5));
      figures.push(quantileFigure(`bind_p99_${label}_ms`, "ms", binds, 0.99, TARGETS.changeP99Ms));
      figures.push(quantileFigure(`unbind_p50_${label}_ms`, "ms", unbinds, 0.5));
      figures.push(quantileFigure(`unbind_p99_${label}_ms`, "ms", unbinds, 0.99, TARGETS.changeP99Ms));
    }

    // Burst: the whole pool bound in one transaction, then unbound in one.
    if (fill.burstPorts.length) {
      const ips = fill.burstPorts.map((p) => p.ip);
      const burstIn: number[] = [];
      const burstOut: number[] = [];
      for (let i = 0; i < opts.runs; i++) {
        let t0 = performance.now();
        const present = () => presentIps(ns.name, probe, BRIDGE_TABLE);
        let seen = monitor.waitFor(ips, "add", probe, 120_000, present);
        await bindPorts(writer, fill.burstPorts, fill.meUuid);
        burstIn.push((await seen) - t0);
        t0 = performance.now();
        seen = monitor.waitFor(ips, "del", probe, 120_000, present);
        await bindPorts(writer, fill.burstPorts, fill.otherUuid);
        burstOut.push((await seen) - t0);
      }
      const n = fill.burstPorts.length;
      figures.push(
        runsFigure(`burst_bind_${n}_${label}_ms`, "ms", burstIn, n >= 1_000 ? TARGETS.burstMs : undefined),
      );
      figures.push(runsFigure(`burst_unbind_${n}_${label}_ms`, "ms", burstOut));
    }

    // Steady state: memory after all of the above, CPU while nothing changes.
    await sleep(10_000); // let V8 finish the collection and compilation the changes left behind
    const cpu0 = cpuSeconds(pid);
    await sleep(opts.idleSeconds * 1000);
    const idleCpu = ((cpuSeconds(pid) - cpu0) / opts.idleSeconds) * 60;
    figures.push(
      single(
        `rss_${label}_mb`,
        "MB",
        statusKb(pid, "VmRSS") / 1024,
        `peak ${Math.round(statusKb(pid, "VmHWM") / 1024)} MB`,
        TARGETS.rssMb,
      ),
    );
    figures.push(
      single(`idle_cpu_${label}_s_per_min`, "s/min", idleCpu, `over ${opts.idleSeconds} s`, TARGETS.idleCpu),
    );
    const after = await run({
      argv: ["curl", "-s", `http://127.0.0.1:${METRICS_PORT}/metrics`],
      netns: ns.name,
      timeoutMs: 10_000,
    });
    const heap = /^nodejs_heap_size_used_bytes (\S+)$/m.exec(after.stdout);
    figures.push(
      single(`heap_used_${label}_mb`, "MB", Number(heap?.[1] ?? Number.NaN) / 2 ** 20, "V8 heap in use"),
    );
    const passes = [
      ...after.stdout.matchAll(/^ovn_bgp_passes_total\{target="kernel",mode="(\w+)"\} (\S+)$/gm),
    ]
      .map((m) => `${m[1]} ${m[2]}`)
      .join(", ");
    const echo =
      /^ovn_bgp_kernel_monitor_lines_total\{verdict="echo"\} (\S+)$/m.exec(after.stdout)?.[1] ?? "0";
    const change =
      /^ovn_bgp_kernel_monitor_lines_total\{verdict="change"\} (\S+)$/m.exec(after.stdout)?.[1] ?? "0";
    console.log(`[${label}] kernel passes: ${passes}; monitor lines: ${echo} echo, ${change} change`);

    // The per-packet cost of the rule list: lookups that match no exposure, with every exposure in
    // place, against the same namespace once the agent's state is gone.
    const withExposures = await lookupRate(ns.name);
    await killAgent();
    await flushAgentState(ns.name, priority, PROTOCOL);
    const without = await lookupRate(ns.name);
    figures.push(
      single(
        `lookups_${label}_per_s`,
        "lookups/s",
        withExposures,
        `${((withExposures / without) * 100).toFixed(0)} % of ${Math.round(without)}/s with none`,
      ),
    );
    return figures;
  } catch (err) {
    const tail = (() => {
      try {
        return readFileSync(agentLog, "utf8").split("\n").slice(-20).join("\n");
      } catch {
        return "(no agent log)";
      }
    })();
    throw new Error(`[${label}] ${(err as Error).message}\nagent log tail:\n${tail}`);
  } finally {
    monitor.stop();
    await killAgent();
    if (opts.keepLog && existsSync(agentLog))
      copyFileSync(agentLog, join(opts.keepLog, `agent-${label}.log`));
    await writer.stop();
    await Promise.allSettled([ovs.stop()]);
    await ns.remove();
    await sb.stop();
  }
}

/**
 * Compile src/ with the build config into a private directory under node_modules/.cache (inside
 * the repository so the dependencies resolve; removed at exit) and return the node arguments.
 */
async function buildAgent(): Promise<string[]> {
  const cache = join(REPO, "node_modules", ".cache");
  mkdirSync(cache, { recursive: true });
  const out = mkdtempSync(join(cache, "ovn-bgp-bench-"));
  atExit(() => rmSync(out, { recursive: true, force: true }));
  const started = performance.now();
  await runOk({
    argv: [join(REPO, "node_modules/.bin/tsc"), "-p", join(REPO, "tsconfig.build.json"), "--outDir", out],
    timeoutMs: 600_000,
  });
  console.log(`compiled the agent in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return [join(out, "cli", "main.js")];
}

async function main(): Promise<void> {
  const why = netnsUnavailable() ?? ovsUnavailable();
  if (why) {
    console.error(`bench: cannot run: ${why}`);
    process.exit(2);
  }
  const opts = parseArgs(process.argv.slice(2));
  await runOk({ argv: ["ovsdb-server", "--version"] });
  const entry = opts.compiled ? await buildAgent() : ["--import", "tsx", join(REPO, "src/cli/main.ts")];
  const all: Figure[] = [];
  for (const scale of opts.scales)
    for (const layout of opts.layouts) {
      const figures = await runScale(scale, layout, opts, entry);
      printTable(`scale ${scale}, ip_rule_layout ${layout}`, figures);
      all.push(...figures);
    }
  console.log(
    `\ntargets: cold start ≤ ${TARGETS.coldStartMs} ms (10k, 100k), one change p99 ≤ ${TARGETS.changeP99Ms} ms, burst of 1,000 ≤ ${TARGETS.burstMs} ms, RSS ≤ ${TARGETS.rssMb} MB, idle CPU ≈ 0`,
  );
  printBenchLines(all);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench failed: ${(err as Error).stack ?? err}`);
    process.exit(1);
  },
);
