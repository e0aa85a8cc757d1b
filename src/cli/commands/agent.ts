/**
 * `ovn-bgp agent`: follow the Southbound and local OVS databases and keep this chassis' kernel
 * objects, br-ex flows and FRR configuration equal to the plan, until SIGTERM/SIGINT. On exit the
 * host keeps its state; the next start adopts it without withdrawing anything still wanted.
 */
import { Agent } from "../../reconcile/agent.ts";
import { componentLogger } from "../../util/log.ts";
import { createMetrics, startMetricsServer } from "../../util/metrics.ts";
import { type CliContext, type CommandOptions, whenSignalled } from "../context.ts";
import { CliError, EXIT } from "../errors.ts";

export async function run(ctx: CliContext, opts: CommandOptions): Promise<number> {
  if (opts.args.length) throw new CliError(`agent: unexpected arguments: ${opts.args.join(" ")}`, EXIT.USAGE);
  const { config } = ctx.loadConfig();
  const log = componentLogger(ctx.rootLog, "agent");
  const metrics = createMetrics();
  const agent = new Agent(config, { log, metrics });
  const server = config.metrics_listen
    ? await startMetricsServer(config.metrics_listen, metrics.registry, {
        livez: () => agent.livez(),
        readyz: () => agent.readyz(),
      })
    : undefined;
  const stopped = whenSignalled(ctx.signal);
  // A signal while connecting stops the agent, which makes start() reject: that is not an error.
  const starting = agent.start();
  starting.catch(() => {});
  try {
    await Promise.race([starting, stopped]);
    if (!ctx.signal.aborted) {
      log.info({ chassis: agent.chassisName, layout: config.announce_via }, "agent running");
      await stopped;
    }
    log.info("stopping; host state is left in place");
    return EXIT.OK;
  } finally {
    await agent.stop();
    await server?.close();
  }
}
