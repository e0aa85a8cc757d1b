/**
 * `ovn-bgp config`: loads the configuration exactly as the agent would and prints the resolved values
 * (YAML, or JSON with --format json) on stdout, and each warning as one line on stderr. An invalid
 * configuration exits 2 with the one-line ConfigError (option, file, what is wrong), which makes this
 * command the pre-flight check for a config change.
 */
import { renderConfigYaml } from "../../config/render.ts";
import type { CliContext, CommandOptions } from "../context.ts";

export async function run(ctx: CliContext, opts: CommandOptions): Promise<number> {
  const loaded = ctx.loadConfig({ logWarnings: false });
  for (const w of loaded.warnings) ctx.stderr.write(`ovn-bgp: warning: ${w.message}\n`);
  if (opts.format === "json") {
    ctx.stdout.write(`${JSON.stringify(loaded.config, null, 2)}\n`);
  } else {
    ctx.stdout.write(renderConfigYaml(loaded, { sources: opts.sources === true }));
  }
  return 0;
}
