/**
 * `ovn-bgp sync --once`: one complete reconcile of this chassis (plan, then kernel, flows and FRR),
 * a report of what changed, and exit: 0 when everything was applied, 1 when some part could not be
 * (the rest is still applied; the message names what failed).
 */
import { parseArgs } from "node:util";
import { Agent } from "../../reconcile/agent.ts";
import { componentLogger } from "../../util/log.ts";
import { type CliContext, type CommandOptions, whenSignalled } from "../context.ts";
import { CliError, EXIT } from "../errors.ts";

export async function run(ctx: CliContext, opts: CommandOptions): Promise<number> {
  try {
    parseArgs({ args: [...opts.args], options: { once: { type: "boolean" } }, strict: true });
  } catch (err) {
    throw new CliError(`sync: ${(err as Error).message}`, EXIT.USAGE);
  }
  const { config } = ctx.loadConfig();
  const agent = new Agent(config, { log: componentLogger(ctx.rootLog, "agent"), watch: false });
  const stopped = whenSignalled(ctx.signal);
  const work = (async () => {
    await agent.start();
    await agent.idle();
  })();
  work.catch(() => {}); // rethrown below unless a signal came first
  try {
    await Promise.race([work, stopped]);
    if (ctx.signal.aborted) {
      ctx.stderr.write("ovn-bgp: sync interrupted; what was applied so far stays in place\n");
      return EXIT.INTERRUPTED;
    }
    const desired = agent.desired();
    const ips = desired?.entries.reduce((n, e) => n + e.advertised.length, 0) ?? 0;
    ctx.stdout.write(`chassis ${agent.chassisName}: ${desired?.entries.length ?? 0} exposures, ${ips} IPs\n`);
    let failed = 0;
    for (const [target, st] of agent.status) {
      ctx.stdout.write(
        `${target.padEnd(6)} ${st.ok ? "ok" : "FAILED"}  ${st.changes} change(s)${st.error ? `  ${st.error}` : ""}\n`,
      );
      for (const d of st.details ?? []) ctx.stdout.write(`         ${d}\n`);
      if (!st.ok) failed += 1;
    }
    for (const p of desired?.problems ?? [])
      ctx.stdout.write(`skipped ${p.table} ${p.object}: ${p.message}\n`);
    if (failed)
      throw new CliError(`sync: ${failed} part(s) could not be applied (see above); the rest was applied`);
    return EXIT.OK;
  } finally {
    await agent.stop();
  }
}
