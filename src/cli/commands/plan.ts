/**
 * `ovn-bgp plan [--json] [--diff]`: connect as the agent would, compute this chassis' desired state
 * and print it grouped by cause (which Southbound row, under which of the seed's events, wants which
 * kernel objects). With `--diff`, also read the host and print what a sync would change. Changes
 * nothing.
 */
import { parseArgs } from "node:util";
import { planToJson, renderPlanText } from "../../plan/render-plan.ts";
import { Agent, type DryRun } from "../../reconcile/agent.ts";
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
  // The agent's own pipeline, stopped before the appliers write anything.
  const agent = new Agent(config, { log: componentLogger(ctx.rootLog, "agent"), watch: false });
  try {
    await agent.open();
    const state = agent.desired();
    if (!state) throw new CliError("plan: no desired state");
    ctx.stdout.write(flags.json ? `${planToJson(state)}\n` : renderPlanText(state));
    if (flags.diff) ctx.stdout.write(renderDryRun(await agent.dryRun()));
    return EXIT.OK;
  } finally {
    await agent.stop();
  }
}

/** What a sync would change, per applier. */
export function renderDryRun(d: DryRun): string {
  const out: string[] = [];
  const k = d.kernel;
  out.push(`\n# what a sync would change in the kernel (${k.ops.length} op(s))`);
  for (const op of k.ops) out.push(`${op.op} ${op.kind} ${op.key}`);
  for (const b of k.blocked) out.push(`blocked ${b.kind} ${b.key}: ${b.error}`);
  for (const p of k.problems) out.push(`problem: ${p}`);
  if ("error" in d.flows) out.push("\n# flows: cannot read the bridges", `error: ${d.flows.error}`);
  else {
    const f = d.flows;
    const n = f.bridges.reduce((x, b) => x + b.added.length + b.removed.length, 0);
    out.push(`\n# what a sync would change in the provider bridges' flows (${n} flow(s))`);
    for (const b of f.bridges) {
      for (const a of b.added)
        out.push(
          `add flow ${b.bridge} cookie=${a.cookie},priority=${a.priority},${a.match} actions=${a.actions}`,
        );
      for (const r of b.removed)
        out.push(`del flow ${b.bridge} cookie=0x${r.cookie.toString(16)},priority=${r.priority},${r.match}`);
      for (const p of b.pending) out.push(`pending flow ${b.bridge} ${p.flow.match}: ${p.reason}`);
      if (b.error) out.push(`error ${b.bridge}: ${b.error}`);
    }
    for (const i of f.invalid) out.push(`invalid flow ${i.flow.match}: ${i.reason}`);
  }
  if ("error" in d.frr) out.push("\n# frr: cannot read the running configuration", `error: ${d.frr.error}`);
  else {
    const lines = d.frr.script.trim() === "" ? [] : d.frr.script.trim().split("\n");
    out.push(`\n# what a sync would send to FRR (${lines.length} line(s))`, ...lines);
  }
  return `${out.join("\n")}\n`;
}
