/**
 * `ovn-bgp lab`: builds or tears down a local test topology.
 * Placeholder until its owner writes it: exits with status 3 (not implemented). Operands and any options
 * not declared in program.ts arrive in `opts.args`.
 */
import type { CliContext, CommandOptions } from "../context.ts";
import { notImplemented } from "../errors.ts";

export async function run(_ctx: CliContext, _opts: CommandOptions): Promise<number> {
  throw notImplemented("lab");
}
