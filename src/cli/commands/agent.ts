/**
 * `ovn-bgp agent`: follow the Southbound and local OVS databases and keep this chassis' kernel
 * objects, br-ex flows and FRR configuration equal to the plan, until SIGTERM/SIGINT. On exit the
 * host keeps its state; the next start adopts it without withdrawing anything still wanted.
 *
 * Around the Agent: the metrics/health server, the control socket (`ovn-bgp status`, `ovs-appctl
 * -t`), systemd's readiness protocol (READY=1 once every target has applied, STATUS= while not),
 * and SIGHUP: the configuration is read again; an invalid one is refused with an error line and the
 * running agent goes on; a changed one restarts the Agent in-process with it (state stays in place,
 * as across a restart: nothing still wanted is withdrawn).
 */
import type { AgentConfig } from "../../config/agent-config.ts";
import {
  type ControlCommand,
  ControlSocketBusyError,
  startControlServer,
} from "../../control/control-server.ts";
import { Agent } from "../../reconcile/agent.ts";
import { componentLogger, isLogLevel, LOG_LEVELS, type LogLevel, setLoggerLevel } from "../../util/log.ts";
import { createMetrics, type MetricsServer, startMetricsServer } from "../../util/metrics.ts";
import { type CliContext, type CommandOptions, whenSignalled } from "../context.ts";
import { CliError, EXIT } from "../errors.ts";
import { packageVersion } from "../package-version.ts";
import { SdNotifier } from "../sd-notify.ts";
import { renderStatusText } from "../status-text.ts";

/** How often readiness is looked at for systemd's STATUS= (a boolean check; a message only on change). */
const READINESS_LOOK_MS = 1_000;

export async function run(ctx: CliContext, opts: CommandOptions): Promise<number> {
  if (opts.args.length) throw new CliError(`agent: unexpected arguments: ${opts.args.join(" ")}`, EXIT.USAGE);
  let config = ctx.loadConfig().config;
  const log = componentLogger(ctx.rootLog, "agent");
  const metrics = createMetrics({ version: packageVersion() });
  const notifier = new SdNotifier();
  let agent = new Agent(config, { log, metrics });
  let fatal: (err: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    fatal = reject;
  });
  failed.catch(() => {});
  const begin = (a: Agent) => {
    const starting = a.start();
    starting.then(
      () => log.info({ chassis: a.chassisName, layout: config.announce_via }, "agent running"),
      (err: Error) => {
        // A stop while connecting makes start() reject: that is not an error.
        if (!ctx.signal.aborted && a === agent) fatal(err);
      },
    );
  };

  const commands = new Map<string, ControlCommand>([
    [
      "status",
      {
        usage: "[--json]",
        handler: (args) => {
          const r = agent.report();
          return args.includes("--json")
            ? JSON.stringify({ ...r, log_level: ctx.rootLog.level, version: packageVersion() })
            : renderStatusText(r, ctx.rootLog.level);
        },
      },
    ],
    [
      "set-log-level",
      {
        usage: `${LOG_LEVELS.join("|")}`,
        handler: ([level]) => {
          const l = level?.toLowerCase() ?? "";
          if (!isLogLevel(l))
            throw new Error(`unknown log level '${level ?? ""}' (one of ${LOG_LEVELS.join(", ")})`);
          const was = ctx.rootLog.level;
          setLoggerLevel(ctx.rootLog, l as LogLevel);
          log.info({ from: was, to: l }, "log level changed over the control socket");
          return `log level ${l} (was ${was})\n`;
        },
      },
    ],
    ["reload", { usage: "", handler: () => reload("control socket") }],
    ["version", { usage: "", handler: () => `ovn-bgp ${packageVersion()}\n` }],
  ]);

  let server: MetricsServer | undefined;
  let control: Awaited<ReturnType<typeof startControlServer>> | undefined;
  const openMetrics = async (c: AgentConfig) =>
    c.metrics_listen
      ? startMetricsServer(c.metrics_listen, metrics.registry, {
          livez: () => agent.livez(),
          readyz: () => agent.readyz(),
        })
      : undefined;
  const openControl = async (c: AgentConfig) => {
    if (!c.control_socket) return undefined;
    try {
      return await startControlServer(c.control_socket, commands);
    } catch (err) {
      if (err instanceof ControlSocketBusyError) throw new CliError(`agent: ${err.message}`, EXIT.FAILURE);
      log.error(
        { err: (err as Error).message, path: c.control_socket },
        "control socket not available; `ovn-bgp status` cannot reach this agent",
      );
      return undefined;
    }
  };

  let reloading = false;
  async function reload(from: string): Promise<string> {
    if (reloading) return "a reload is already running\n";
    reloading = true;
    try {
      let next: AgentConfig;
      try {
        next = ctx.loadConfig().config;
      } catch (err) {
        const msg = (err as Error).message;
        log.error(
          { err: msg, from },
          "reload refused: the configuration is not valid; the running one stays",
        );
        throw new Error(`reload refused, the running configuration stays: ${msg}`);
      }
      if (!ctx.globals.logLevelExplicit)
        setLoggerLevel(ctx.rootLog, next.debug ? "debug" : ctx.globals.logLevel);
      const changed = changedOptions(config, next);
      if (changed.length === 0) {
        log.info({ from }, "reload: the configuration is unchanged");
        return "configuration unchanged\n";
      }
      log.info(
        { from, changed },
        "reload: restarting the agent with the new configuration; host state stays",
      );
      await notifier.notify({ RELOADING: "1", STATUS: `reloading (${changed.join(", ")})` });
      readySent = false;
      const old = config;
      await agent.stop();
      metrics.exposedIps.reset();
      config = next;
      agent = new Agent(config, { log, metrics });
      if (old.metrics_listen !== next.metrics_listen) {
        await server?.close();
        server = await openMetrics(next).catch((err: Error) => {
          log.error({ err: err.message }, "metrics server not available");
          return undefined;
        });
      }
      if (old.control_socket !== next.control_socket && from !== "control socket") {
        await control?.close();
        control = await openControl(next).catch((err: Error) => {
          log.error({ err: err.message }, "control socket not available");
          return undefined;
        });
      }
      begin(agent);
      return `reloaded; changed: ${changed.join(", ")}\n`;
    } finally {
      reloading = false;
    }
  }

  let readySent = false;
  const lookAtReadiness = () => {
    if (!notifier.enabled) return;
    const r = agent.readyz();
    const problems = (r.problems as string[] | undefined) ?? [];
    if (r.ok) {
      const ips = Object.values(agent.report().exposed_ips).reduce((n, x) => n + x, 0);
      void notifier.notify({ ...(readySent ? {} : { READY: "1" }), STATUS: `ready: exposing ${ips} IP(s)` });
      readySent = true;
    } else void notifier.notify({ STATUS: `not ready: ${problems[0] ?? "starting"}` });
  };
  const onHangup = () => {
    reload("SIGHUP").catch(() => {});
  };

  const stopped = whenSignalled(ctx.signal);
  let timer: NodeJS.Timeout | undefined;
  try {
    // The control socket first: it is also the check that no other agent runs here.
    control = await openControl(config);
    server = await openMetrics(config);
    process.on("SIGHUP", onHangup);
    begin(agent);
    timer = setInterval(lookAtReadiness, READINESS_LOOK_MS);
    await Promise.race([stopped, failed]);
    log.info("stopping; host state is left in place");
    void notifier.notify({ STOPPING: "1" });
    return EXIT.OK;
  } finally {
    process.off("SIGHUP", onHangup);
    if (timer) clearInterval(timer);
    await agent.stop();
    await control?.close();
    await server?.close();
  }
}

/** The option paths whose values differ (for the reload log line). */
function changedOptions(a: AgentConfig, b: AgentConfig): string[] {
  const flat = (c: AgentConfig) => {
    const out = new Map<string, string>();
    for (const [k, v] of Object.entries(c)) {
      if (v && typeof v === "object" && !Array.isArray(v))
        for (const [k2, v2] of Object.entries(v)) out.set(`${k}.${k2}`, JSON.stringify(v2));
      else out.set(k, JSON.stringify(v));
    }
    return out;
  };
  const fa = flat(a);
  const fb = flat(b);
  return [...new Set([...fa.keys(), ...fb.keys()])].filter((k) => fa.get(k) !== fb.get(k)).sort();
}
