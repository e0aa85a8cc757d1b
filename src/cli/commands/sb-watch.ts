/**
 * `ovn-bgp sb-watch [--once]`: connects as the agent would (identity from the local Open_vSwitch
 * DB, Southbound narrowed to this chassis) and prints one line per replicated row change, so an
 * operator can see exactly what the agent sees. `--once` prints the snapshot summary and exits.
 */
import { parseArgs } from "node:util";
import type { RowChange } from "../../ovsdb/wire/datum.ts";
import { openChassisSources } from "../../reconcile/chassis-sources.ts";
import { componentLogger } from "../../util/log.ts";
import type { CliContext, CommandOptions } from "../context.ts";
import { CliError, EXIT } from "../errors.ts";

function describe(c: RowChange): string {
  const row = c.kind === "delete" ? c.old : c.new;
  const name = row.logical_port ?? row.name ?? "";
  return `${c.kind.padEnd(6)} ${c.table.padEnd(16)} ${String(name).padEnd(36)} ${c.uuid}`;
}

export async function run(ctx: CliContext, opts: CommandOptions): Promise<number> {
  let flags: { once?: boolean; all?: boolean };
  try {
    flags = parseArgs({
      args: [...opts.args],
      options: { once: { type: "boolean" }, all: { type: "boolean" } },
      strict: true,
    }).values;
  } catch (err) {
    throw new CliError(`sb-watch: ${(err as Error).message}`, EXIT.USAGE);
  }
  const { config } = ctx.loadConfig();
  const log = componentLogger(ctx.rootLog, "ovsdb");
  const sources = await openChassisSources(config, { logger: log, fullPortBinding: flags.all === true });
  try {
    const counts = [...sources.sb.replica.snapshot()].map(([t, rows]) => `${t}=${rows.size}`).join(" ");
    ctx.stdout.write(
      `chassis ${sources.chassisName} (${sources.chassisUuid() ?? "no Chassis row yet"}) on ${sources.sbRemote} via ${sources.sb.stats.remote}\n` +
        `replicated: ${counts}\nbytes received: ${sources.sb.stats.bytesReceived}\n`,
    );
    if (flags.once) return EXIT.OK;
    sources.sb.on("changes", (changes: RowChange[]) => {
      for (const c of changes) ctx.stdout.write(`${describe(c)}\n`);
    });
    await new Promise<void>((resolve) =>
      ctx.signal.addEventListener("abort", () => resolve(), { once: true }),
    );
    return EXIT.OK;
  } finally {
    await sources.stop();
  }
}
