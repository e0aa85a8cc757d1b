/**
 * The lab figure: Southbound change → route at the spine.
 *
 *   node --import tsx bench/lab-latency.ts [--changes 50] [--rule-layout per-ip|per-bridge]
 *
 * Brings up a private lab instance (agents on every host), then sets and unsets the seed's floating
 * IP (172.24.4.79 on vm-tenant) `--changes` times each. t0 is the moment a Southbound client sees the
 * FIP appear in (or leave) a Port_Binding's nat_addresses — what the agent on the VM's chassis reacts
 * to; t1 is the moment the spine's kernel installs (or deletes) the BGP route for it (`ip monitor
 * route` in the spine namespace: zebra installs what bgpd chose). The difference is the agent, its
 * FRR, one eBGP hop through a leaf, and the spine's zebra. Northd's own time (NB → SB) is outside.
 * The split is measured too: when the VM's host's kernel gets the agent's route for the FIP (the
 * agent's part) and the rest (FRR on the host, the leaf and the spine).
 * Prints p50/p99 and `BENCH` lines; the lab is removed at exit.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import type { RuleLayout } from "../src/lab/agent.ts";
import { labNames, removeLab, up } from "../src/lab/lab.ts";
import { centralPaths } from "../src/lab/ovn.ts";
import { SPINE, WORKLOAD as W } from "../src/lab/topology.ts";
import { associateFip, disassociateFip } from "../src/lab/workloads.ts";
import { OvsdbClient } from "../src/ovsdb/client.ts";
import type { RowChange } from "../src/ovsdb/wire/datum.ts";
import { atExit } from "../test/support/netns.ts";
import { printBenchLines, printTable, quantileFigure } from "./scale/report.ts";

const argv = process.argv.slice(2);
const get = (f: string) => (argv.includes(f) ? argv[argv.indexOf(f) + 1] : undefined);
const CHANGES = Number(get("--changes") ?? 50);
const LAYOUT = (get("--rule-layout") ?? "per-ip") as RuleLayout;
const TARGET_P99_MS = 150;
const FIP = W.fip.ip4;

/** Resolves with the time the next matching event is seen (registered before the change is made). */
class Stamps {
  private waiters: Array<{ kind: "add" | "del"; resolve: (t: number) => void }> = [];
  next(kind: "add" | "del", timeoutMs = 30_000): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no ${kind} of ${FIP} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.push({
        kind,
        resolve: (t) => {
          clearTimeout(timer);
          resolve(t);
        },
      });
    });
  }
  see(kind: "add" | "del", t: number): void {
    const i = this.waiters.findIndex((w) => w.kind === kind);
    if (i < 0) return;
    const [w] = this.waiters.splice(i, 1);
    w?.resolve(t);
  }
}

async function main(): Promise<void> {
  const names = labNames(`lat${randomBytes(2).toString("hex")}`);
  const say = (l: string) => console.log(`# ${l}`);
  let monitor: ChildProcess | undefined;
  let hostMonitor: ChildProcess | undefined;
  let sb: OvsdbClient | undefined;
  const unregister = atExit(() => {
    monitor?.kill("SIGKILL");
    hostMonitor?.kill("SIGKILL");
  });
  try {
    const res = await up(names, say, { ruleLayout: LAYOUT });
    if (res.mode !== "agent") throw new Error(`lab came up in ${res.mode} mode`);
    // t0: the Southbound change, as a client of the Southbound sees it.
    const sbStamps = new Stamps();
    let present = false;
    sb = new OvsdbClient({
      remotes: `unix:${centralPaths(names).sbSock}`,
      database: "OVN_Southbound",
      tables: { Port_Binding: { columns: ["logical_port", "nat_addresses"] } },
    }).start();
    await sb.whenSynced();
    const hasFip = () =>
      [...(sb?.replica.snapshot().get("Port_Binding")?.values() ?? [])].some((r) =>
        JSON.stringify(r.nat_addresses ?? "").includes(`${FIP} `),
      );
    present = hasFip();
    sb.on("changes", (_c: RowChange[]) => {
      const now = hasFip();
      if (now !== present) sbStamps.see(now ? "add" : "del", performance.now());
      present = now;
    });
    // t1: the spine's kernel gets (or loses) the BGP route.
    const spineStamps = new Stamps();
    monitor = spawn("ip", ["netns", "exec", names.ns(SPINE), "ip", "-o", "monitor", "route"], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    createInterface({ input: monitor.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      const t = performance.now();
      const del = line.startsWith("Deleted ");
      const body = del ? line.slice(8) : line;
      if (body.startsWith(`${FIP} `) || body.startsWith(`${FIP}/32 `))
        spineStamps.see(del ? "del" : "add", t);
    });
    // The agent's part: its route for the FIP on the VM's host (any table; only the agent's protocol).
    const hostStamps = new Stamps();
    hostMonitor = spawn(
      "ip",
      ["netns", "exec", names.ns(W.vmTenant.host), "ip", "-N", "-o", "monitor", "route"],
      {
        stdio: ["ignore", "pipe", "ignore"],
      },
    );
    createInterface({ input: hostMonitor.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      const t = performance.now();
      const del = line.startsWith("Deleted ");
      const body = del ? line.slice(8) : line;
      if (/\bproto 179\b/.test(body) && (body.startsWith(`${FIP} `) || body.startsWith(`${FIP}/32 `)))
        hostStamps.see(del ? "del" : "add", t);
    });
    await new Promise((r) => setTimeout(r, 300));
    if (present) {
      await disassociateFip(names);
      await new Promise((r) => setTimeout(r, 2_000));
    }
    const sets: number[] = [];
    const unsets: number[] = [];
    const agentPart: number[] = [];
    for (let i = 0; i < CHANGES; i++) {
      for (const [kind, act, out] of [
        ["add", associateFip, sets],
        ["del", disassociateFip, unsets],
      ] as const) {
        const s0 = sbStamps.next(kind);
        const s1 = spineStamps.next(kind);
        const sh = hostStamps.next(kind);
        await act(names);
        const [t0, t1, th] = await Promise.all([s0, s1, sh]);
        out.push(t1 - t0);
        agentPart.push(th - t0);
        // Let BGP settle (the withdrawal's and the re-advertisement's updates are separate events).
        await new Promise((r) => setTimeout(r, 300));
      }
      if ((i + 1) % 10 === 0) console.log(`# ${i + 1}/${CHANGES} set/unset pairs`);
    }
    const label = LAYOUT === "per-ip" ? "perip" : "perbridge";
    const figures = [
      quantileFigure(`lab_fip_set_to_spine_p50_${label}_ms`, "ms", sets, 0.5),
      quantileFigure(`lab_fip_set_to_spine_p99_${label}_ms`, "ms", sets, 0.99, TARGET_P99_MS),
      quantileFigure(`lab_fip_unset_to_spine_p50_${label}_ms`, "ms", unsets, 0.5),
      quantileFigure(`lab_fip_unset_to_spine_p99_${label}_ms`, "ms", unsets, 0.99, TARGET_P99_MS),
      quantileFigure(`lab_fip_change_to_host_kernel_p50_${label}_ms`, "ms", agentPart, 0.5),
      quantileFigure(`lab_fip_change_to_host_kernel_p99_${label}_ms`, "ms", agentPart, 0.99),
    ];
    printTable(`lab: Southbound change → route at the spine (ip_rule_layout ${LAYOUT})`, figures);
    printBenchLines(figures);
  } finally {
    monitor?.kill("SIGTERM");
    hostMonitor?.kill("SIGTERM");
    unregister();
    await sb?.stop();
    await removeLab(names, say);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`lab-latency failed: ${(err as Error).stack ?? err}`);
    process.exit(1);
  },
);
