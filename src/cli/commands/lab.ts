/**
 * `ovn-bgp lab up [--manual] [--layout vrf|table] [--rule-layout per-ip|per-bridge] [--vlan TAG] [--platform bookworm|trixie] | check | status | down [--instance NAME]`: the seed's lab on this
 * machine (see src/lab/lab.ts). Operands and options arrive in `opts.args` (pass-through command).
 */
import { runLabCommand } from "../../lab/lab.ts";
import { isPlatform, PLATFORMS, type Platform } from "../../lab/platform.ts";
import type { CliContext, CommandOptions } from "../context.ts";
import { CliError, EXIT } from "../errors.ts";

export async function run(ctx: CliContext, opts: CommandOptions): Promise<number> {
  const args = [...opts.args];
  const command = args.shift() ?? "";
  let manual = false;
  let instance: string | undefined;
  let ruleLayout: "per-ip" | "per-bridge" | undefined;
  let announceVia: "vrf" | "table" | undefined;
  let vlan: number | undefined;
  let platform: Platform | undefined;
  while (args.length > 0) {
    const a = args.shift() as string;
    if (a === "--manual") manual = true;
    else if (a === "--rule-layout" && (args[0] === "per-ip" || args[0] === "per-bridge"))
      ruleLayout = args.shift() as "per-ip" | "per-bridge";
    else if (a === "--layout" && (args[0] === "vrf" || args[0] === "table"))
      announceVia = args.shift() as "vrf" | "table";
    else if (a === "--vlan" && /^\d+$/.test(args[0] ?? "")) vlan = Number(args.shift());
    else if (a === "--platform") {
      const p = args.shift() ?? "";
      if (!isPlatform(p))
        throw new CliError(
          `lab: --platform ${JSON.stringify(p)}: one of ${PLATFORMS.join(", ")}`,
          EXIT.USAGE,
        );
      platform = p;
    } else if (a === "--instance" && args.length > 0) instance = args.shift();
    else if (a.startsWith("--instance=")) instance = a.slice("--instance=".length);
    else throw new CliError(`lab: unknown argument ${JSON.stringify(a)}`, EXIT.USAGE);
  }
  return runLabCommand(
    command,
    {
      manual,
      ...(instance ? { instance } : {}),
      ...(ruleLayout ? { ruleLayout } : {}),
      ...(announceVia ? { announceVia } : {}),
      ...(vlan !== undefined ? { vlan } : {}),
      ...(platform ? { platform } : {}),
    },
    (line) => ctx.stdout.write(`${line}\n`),
  );
}
