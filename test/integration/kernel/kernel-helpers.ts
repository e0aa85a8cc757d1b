/**
 * Helpers for the kernel applier's integration tests: a throwaway namespace holding a Linux bridge
 * named br-ex (as a provider bridge), an applier bound to it with drop-ins in a temp dir, and
 * readers that list what the kernel holds with `ip -N -j` inside the namespace.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { KernelApplier } from "../../../src/host/kernel/kernel-applier.ts";
import { createNetns, type Netns, uniqueName } from "../../support/netns.ts";
import { makeTempDir } from "../../support/temp-dir.ts";
import { BRIDGE, PROTO } from "../../unit/kernel/seed-state.ts";

export interface KernelLab {
  readonly ns: Netns;
  readonly applier: KernelApplier;
  readonly dir: string;
  readonly rtTables: string;
  readonly rtProtos: string;
  ip(args: string): Promise<string>;
  json(args: string): Promise<Array<Record<string, unknown>>>;
}

export async function kernelLab(tag = "k"): Promise<KernelLab> {
  const ns = await createNetns(tag);
  await ns.exec(["ip", "link", "add", BRIDGE, "type", "bridge"]);
  await ns.exec(["ip", "link", "set", BRIDGE, "up"]);
  const dir = makeTempDir("kernel");
  const rtTables = join(dir, "rt_tables.d", "ovn-bgp.conf");
  const rtProtos = join(dir, "rt_protos.d", "ovn-bgp.conf");
  const applier = new KernelApplier({
    netns: ns.name,
    routeProtocol: PROTO,
    rtTablesDropin: rtTables,
    rtProtosDropin: rtProtos,
    ownedDevices: ["bgp-nic"],
  });
  const ip = (args: string) => ns.exec(["ip", ...args.split(" ")]);
  const json = async (args: string) => JSON.parse((await ip(`-N -j -d ${args}`)) || "[]");
  return { ns, applier, dir, rtTables, rtProtos, ip, json };
}

/** Rule lines of one family as "PRIO to DST/LEN table T proto P", sorted. */
export async function ruleList(lab: KernelLab, family: 4 | 6): Promise<string[]> {
  const rows = await lab.json(`-${family} rule show`);
  return rows
    .filter((r) => r.dst !== undefined)
    .map(
      (r) =>
        `${r.priority} to ${r.dst}/${r.dstlen ?? (family === 4 ? 32 : 128)} table ${r.table} proto ${r.protocol ?? 0}`,
    )
    .sort();
}

/** `ip route show table T` lines (text form, as the seed lists them), sorted. */
export async function routeLines(lab: KernelLab, family: 4 | 6, table: number): Promise<string[]> {
  let out: string;
  try {
    out = await lab.ip(`-${family} route show table ${table}`);
  } catch (e) {
    // A table that never held a route does not exist yet: it is empty.
    if (/FIB table does not exist/.test(String(e))) return [];
    throw e;
  }
  return out
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .sort();
}

export async function neighLines(lab: KernelLab): Promise<string[]> {
  const out = await lab.ip("-N neigh show nud permanent");
  return out
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .sort();
}

export async function proxyLines(lab: KernelLab): Promise<string[]> {
  const out = await lab.ip("-N -6 neigh show proxy");
  return out
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .sort();
}

export async function addressList(lab: KernelLab, dev: string): Promise<string[]> {
  const rows = await lab.json(`address show dev ${dev}`);
  const infos = (rows[0]?.addr_info ?? []) as Array<{ local: string; prefixlen: number; scope: string }>;
  return infos
    .filter((a) => !a.local.startsWith("fe80:"))
    .map((a) => `${a.local}/${a.prefixlen}`)
    .sort();
}

export async function sysctlValue(lab: KernelLab, path: string): Promise<string> {
  return (await lab.ns.exec(["cat", `/proc/sys/${path}`])).trim();
}

/**
 * Whether this kernel can create `kind` devices: tried in a throwaway namespace, so the probe can
 * leave nothing behind. Returns the reason when it cannot.
 */
export function linkKindUnsupported(kind: "vrf" | "dummy" | "vlan"): string | undefined {
  const ns = uniqueName("probe");
  try {
    execFileSync("ip", ["netns", "add", ns], { stdio: "ignore" });
    const script =
      kind === "vrf"
        ? "link add p0 type vrf table 99\n"
        : kind === "dummy"
          ? "link add p0 type dummy\n"
          : "link add b0 type bridge\nlink add link b0 name p0 type vlan id 5\n";
    execFileSync("ip", ["netns", "exec", ns, "ip", "-batch", "-"], { input: script, stdio: "pipe" });
    return undefined;
  } catch (e) {
    const stderr = String((e as { stderr?: Buffer }).stderr ?? "")
      .split("\n")[0]
      ?.trim();
    return `this kernel cannot create ${kind} devices (${stderr || (e as Error).message})`;
  } finally {
    try {
      execFileSync("ip", ["netns", "del", ns], { stdio: "ignore" });
    } catch {
      /* never created */
    }
  }
}
