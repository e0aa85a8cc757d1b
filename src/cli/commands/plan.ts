/**
 * `ovn-bgp plan [--json] [--diff]`: connect as the agent would, compute this chassis' desired state
 * and print it grouped by cause (which Southbound row, under which of the seed's events, wants which
 * kernel objects). With `--diff`, also read the host and print what a sync would change. Changes
 * nothing.
 */
import { parseArgs } from "node:util";
import { KernelApplier } from "../../host/kernel/kernel-applier.ts";
import { readOvsFacts } from "../../ovs/ovs-facts.ts";
import { flattenPlan } from "../../plan/desired-state.ts";
import { Planner } from "../../plan/planner.ts";
import { planToJson, renderPlanText } from "../../plan/render-plan.ts";
import { openChassisSources } from "../../reconcile/chassis-sources.ts";
import { toLocalFacts } from "../../reconcile/local-facts-from-ovs.ts";
import { componentLogger } from "../../util/log.ts";
import type { CliContext, CommandOptions } from "../context.ts";
import { CliError, EXIT } from "../errors.ts";

export async function run(ctx: CliContext, opts: CommandOptions): Promise<number> {
  let flags: { json?: boolean; diff?: boolean };
  try {
    flags = parseArgs({
      args: [...opts.args],
      options: { json: { type: "boolean" }, diff: { type: "boolean" } },
      strict: true,
    }).values;
  } catch (err) {
    throw new CliError(`plan: ${(err as Error).message}`, EXIT.USAGE);
  }
  const { config } = ctx.loadConfig();
  const sources = await openChassisSources(config, { logger: componentLogger(ctx.rootLog, "ovsdb") });
  try {
    const planner = new Planner(config, toLocalFacts(sources.chassisName, readOvsFacts(sources.ovs.replica)));
    planner.load(sources.sb.replica.snapshot());
    // Tenant VM ports live on datapaths that are only replicated once asked for.
    await sources.setInterestingDatapaths(planner.tenantDatapaths());
    await sources.sb.barrier();
    planner.load(sources.sb.replica.snapshot());
    const state = planner.state();
    ctx.stdout.write(flags.json ? `${planToJson(state)}\n` : renderPlanText(state));
    if (flags.diff) {
      const kernel = new KernelApplier({
        routeProtocol: config.route_protocol,
        rtTablesDropin: config.rt_tables_dropin,
        ownedDevices: config.announce_via === "vrf" ? [config.bgp_nic] : [],
      });
      const desired = flattenPlan(state);
      const ops = kernel.diff(desired, await kernel.observe(desired));
      ctx.stdout.write(`\n# what a sync would change in the kernel (${ops.ops.length} op(s))\n`);
      for (const op of ops.ops) ctx.stdout.write(`${op.op} ${op.kind} ${op.key}\n`);
      for (const b of ops.blocked) ctx.stdout.write(`blocked ${b.kind} ${b.key}: ${b.error}\n`);
      for (const p of ops.problems) ctx.stdout.write(`problem: ${p}\n`);
    }
    return EXIT.OK;
  } finally {
    await sources.stop();
  }
}
