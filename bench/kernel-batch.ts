/**
 * Kernel applier throughput: 10,000 objects (5,000 /32 routes in a bridge table + 5,000 `ip rule`s)
 * installed by one sync through `ip -batch` in a throwaway namespace, then withdrawn by one sync.
 * Prints `BENCH kernel_batch_ops_per_s=N` (ops per second of the install sync, observe and diff
 * included) and the other timings as extra BENCH lines. Needs root; the namespace is removed at exit.
 *
 *   node --import tsx bench/kernel-batch.ts [count]
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KernelApplier } from "../src/host/kernel/kernel-applier.ts";
import type { KernelState } from "../src/plan/desired-state.ts";

const total = Number(process.argv[2] ?? 10_000);
const ns = `obtbench-${randomBytes(3).toString("hex")}`;
const dir = mkdtempSync(join(tmpdir(), `${ns}-`));
const cleanup = () => {
  try {
    execFileSync("ip", ["netns", "del", ns], { stdio: "ignore" });
  } catch {
    /* gone */
  }
  rmSync(dir, { recursive: true, force: true });
};
process.on("exit", cleanup);
for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => process.exit(130));

execFileSync("ip", ["netns", "add", ns]);
execFileSync("ip", ["netns", "exec", ns, "ip", "-batch", "-"], {
  input: "link set lo up\nlink add br-ex type bridge\nlink set br-ex up\n",
});

function state(n: number): KernelState {
  const half = Math.floor(n / 2);
  const ip = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  return {
    links: [],
    addresses: [],
    rules: Array.from({ length: n - half }, (_, i) => ({
      family: 4 as const,
      priority: 32000,
      to: `${ip(i + 1)}/32`,
      table: 200,
    })),
    routes: Array.from({ length: half }, (_, i) => ({
      family: 4 as const,
      table: 200,
      dst: `${ip(i + 1)}/32`,
      dev: "br-ex",
      scope: "link" as const,
    })),
    neighbours: [],
    ndpProxies: [],
    sysctls: [],
  };
}

const applier = new KernelApplier({ netns: ns, routeProtocol: 240, rtTablesDropin: join(dir, "rt.conf") });
const timed = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
  const t = process.hrtime.bigint();
  const r = await fn();
  return [r, Number(process.hrtime.bigint() - t) / 1e9];
};

const desired = state(total);
const [install, tInstall] = await timed(() => applier.sync(desired));
if (install.counts.failed > 0)
  throw new Error(`install failed: ${JSON.stringify(install.items.find((i) => !i.ok))}`);
const [again, tAgain] = await timed(() => applier.sync(desired));
if (again.counts.ops !== 0) throw new Error(`second sync was not empty: ${again.counts.ops} ops`);
const [withdraw, tWithdraw] = await timed(() => applier.sync(state(0)));
if (withdraw.counts.failed > 0 || withdraw.counts.del !== total) throw new Error("withdrawal incomplete");

console.log(
  `objects=${total} install=${tInstall.toFixed(3)}s idle_resync=${tAgain.toFixed(3)}s withdraw=${tWithdraw.toFixed(3)}s`,
);
console.log(`BENCH kernel_batch_ops_per_s=${Math.round(total / tInstall)}`);
console.log(`BENCH kernel_withdraw_ops_per_s=${Math.round(total / tWithdraw)}`);
console.log(`BENCH kernel_idle_resync_ms=${Math.round(tAgain * 1000)}`);
