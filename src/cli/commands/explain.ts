/**
 * `ovn-bgp explain <ip|logical port|cidr> [--json]`: for this chassis, whether the IP (port,
 * subnet) is exposed and why, the host objects that carry it and whether each is in place, or why
 * it is not exposed here. Connects as `plan` does and reads the host; changes nothing.
 */
import { parseArgs } from "node:util";
import { Agent } from "../../reconcile/agent.ts";
import { renderExplanation } from "../../reconcile/explain.ts";
import { componentLogger } from "../../util/log.ts";
import type { CliContext, CommandOptions } from "../context.ts";
import { CliError, EXIT } from "../errors.ts";

export async function run(ctx: CliContext, opts: CommandOptions): Promise<number> {
  let parsed: { values: { json?: boolean }; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...opts.args],
      options: { json: { type: "boolean" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new CliError(`explain: ${(err as Error).message}`, EXIT.USAGE);
  }
  const [query, ...extra] = parsed.positionals;
  if (!query || extra.length)
    throw new CliError("explain: give exactly one IP, logical port name or CIDR", EXIT.USAGE);
  const { config } = ctx.loadConfig();
  const agent = new Agent(config, { log: componentLogger(ctx.rootLog, "agent"), watch: false });
  try {
    await agent.open();
    const x = await agent.explain(query);
    ctx.stdout.write(parsed.values.json ? `${JSON.stringify(x, null, 2)}\n` : renderExplanation(x));
    return EXIT.OK;
  } finally {
    await agent.stop();
  }
}
