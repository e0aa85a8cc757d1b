/**
 * `ovn-bgp status [--json] [--set-log-level LEVEL] [--reload] [--control-socket PATH]`: ask the
 * running agent over its control socket (as `ovs-appctl` asks OVS daemons): connections, last
 * passes, exposures by kind, rows it could not use and its recent events. The socket is
 * `--control-socket`, else `control_socket` of the configuration, else its default.
 */
import { parseArgs } from "node:util";
import { DEFAULTS } from "../../config/options.ts";
import { ControlError, callControl } from "../../control/control-client.ts";
import type { CliContext, CommandOptions } from "../context.ts";
import { CliError, EXIT } from "../errors.ts";

export async function run(ctx: CliContext, opts: CommandOptions): Promise<number> {
  let flags: { json?: boolean; "set-log-level"?: string; reload?: boolean; "control-socket"?: string };
  try {
    flags = parseArgs({
      args: [...opts.args],
      options: {
        json: { type: "boolean" },
        "set-log-level": { type: "string" },
        reload: { type: "boolean" },
        "control-socket": { type: "string" },
      },
      strict: true,
    }).values;
  } catch (err) {
    throw new CliError(`status: ${(err as Error).message}`, EXIT.USAGE);
  }
  const socket = flags["control-socket"] ?? controlSocketOf(ctx);
  if (!socket) throw new CliError("status: control_socket is empty in the configuration", EXIT.USAGE);
  try {
    if (flags["set-log-level"] !== undefined) {
      ctx.stdout.write(await callControl(socket, "set-log-level", [flags["set-log-level"]]));
      return EXIT.OK;
    }
    if (flags.reload) {
      ctx.stdout.write(await callControl(socket, "reload"));
      return EXIT.OK;
    }
    const text = await callControl(socket, "status", flags.json ? ["--json"] : []);
    ctx.stdout.write(flags.json ? `${JSON.stringify(JSON.parse(text), null, 2)}\n` : text);
    return EXIT.OK;
  } catch (err) {
    if (err instanceof ControlError) throw new CliError(`status: ${err.message}`, EXIT.FAILURE);
    throw err;
  }
}

/** The configured socket; a configuration that does not load still leaves the default to try. */
function controlSocketOf(ctx: CliContext): string {
  try {
    return ctx.loadConfig({ logWarnings: false }).config.control_socket;
  } catch {
    return String(DEFAULTS.control_socket);
  }
}
