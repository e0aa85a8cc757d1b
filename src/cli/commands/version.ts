/**
 * `ovn-bgp version` (also `ovn-bgp --version`): this agent's version and the platform it finds, the
 * first thing a bug report needs: Node, and the versions of the FRR, Open vSwitch, OVN and iproute2
 * tools on the PATH (each asked with its own `--version`; "not found" when missing). `--json` for
 * machines. Reads nothing else and changes nothing.
 */
import { type ExecResult, run as exec } from "../../host/exec.ts";
import type { CliContext, CommandOptions } from "../context.ts";
import { packageVersion } from "../package-version.ts";

interface Tool {
  readonly name: string;
  readonly argv: readonly string[];
  /** The version in the tool's first output line. */
  readonly pattern: RegExp;
}

/** What each tool prints, e.g. "Integrated shell for FRR (version 8.4.4)", "ovs-vsctl (Open vSwitch) 3.1.0", "ovn-sbctl 23.03.1", "ip utility, iproute2-6.1.0". */
const TOOLS: readonly Tool[] = [
  // vtysh has no --version; its help names the FRR it belongs to.
  { name: "frr", argv: ["vtysh", "--help"], pattern: /Integrated shell for FRR \(version (\S+?)\)/ },
  { name: "openvswitch", argv: ["ovs-vsctl", "--version"], pattern: /\(Open vSwitch\) (\S+)/ },
  { name: "ovn", argv: ["ovn-sbctl", "--version"], pattern: /^ovn-sbctl (\S+)/m },
  { name: "iproute2", argv: ["ip", "-V"], pattern: /iproute2-(\S+?),?(\s|$)/ },
];

async function toolVersion(t: Tool): Promise<string> {
  let res: ExecResult;
  try {
    res = await exec({ argv: t.argv, timeoutMs: 5_000 });
  } catch {
    return "not found";
  }
  const m = t.pattern.exec(`${res.stdout}\n${res.stderr}`);
  if (m?.[1]) return m[1];
  return res.code === 0 ? "unknown" : "not found";
}

export async function run(ctx: CliContext, opts: CommandOptions): Promise<number> {
  const facts: Record<string, string> = {
    "ovn-bgp": packageVersion(),
    node: process.version.replace(/^v/, ""),
  };
  const found = await Promise.all(TOOLS.map(toolVersion));
  TOOLS.forEach((t, i) => {
    facts[t.name] = found[i] as string;
  });
  if (opts.json === true) ctx.stdout.write(`${JSON.stringify(facts)}\n`);
  else for (const [k, v] of Object.entries(facts)) ctx.stdout.write(`${k.padEnd(12)}${v}\n`);
  return 0;
}
