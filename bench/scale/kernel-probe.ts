/**
 * Watching the benchmark namespace's kernel from outside the agent: rule counts (polled with
 * `ip -j rule`) and an `ip monitor rule` stream that timestamps each rule's add and delete the
 * moment the kernel announces it, so a change's latency is not rounded up to a polling interval.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { runOk } from "../../src/host/exec.ts";
import { atExit } from "../../test/support/netns.ts";

/**
 * Remove everything the agent made (rules at its priority, with or without a destination, and every
 * route of its protocol in every table, both families), so the next cold start installs everything.
 */
export async function flushAgentState(netns: string, priority: number, protocol: number): Promise<void> {
  for (const family of ["-4", "-6"]) {
    const out = (await runOk({ argv: ["ip", "-j", family, "rule", "show"], netns })).stdout;
    const lines: string[] = [];
    for (const r of JSON.parse(out || "[]") as Array<{
      priority?: number;
      dst?: string;
      dstlen?: number;
      table?: string;
      suppress_prefixlen?: number;
      protocol?: string;
    }>) {
      if (r.priority !== priority) continue;
      const to = r.dst ? ` to ${r.dstlen !== undefined ? `${r.dst}/${r.dstlen}` : r.dst}` : "";
      const sp = r.suppress_prefixlen !== undefined ? ` suppress_prefixlength ${r.suppress_prefixlen}` : "";
      lines.push(`rule del priority ${priority}${to}${r.table ? ` table ${r.table}` : ""}${sp}`);
    }
    // `ip -batch` does not accept a family per line, hence one batch per family.
    if (lines.length)
      await runOk({ argv: ["ip", family, "-force", "-batch", "-"], netns, stdin: `${lines.join("\n")}\n` });
    await runOk({ argv: ["ip", family, "route", "flush", "table", "all", "proto", String(protocol)], netns });
  }
}

/** Rules and routes of the agent's protocol in the namespace (both families), from one dump each. */
export async function countAgentObjects(netns: string, protocol: number): Promise<number> {
  let n = 0;
  for (const family of ["-4", "-6"]) {
    const rules = JSON.parse(
      (await runOk({ argv: ["ip", "-j", "-N", family, "rule", "show"], netns })).stdout || "[]",
    );
    n += (rules as Array<{ protocol?: string }>).filter((r) => r.protocol === String(protocol)).length;
    const out = (
      await runOk({ argv: ["ip", family, "route", "show", "table", "all", "proto", String(protocol)], netns })
    ).stdout;
    n += out.split("\n").filter((l) => l.trim() !== "").length;
  }
  return n;
}

/** The IPs that have the probed object: a rule `to IP` (per-ip) or a host route in `table` (per-bridge). */
export async function presentIps(netns: string, probe: Probe, table: number): Promise<Set<string>> {
  const argv =
    probe === "rule" ? ["ip", "-j", "rule", "show"] : ["ip", "-j", "route", "show", "table", String(table)];
  const rows = JSON.parse((await runOk({ argv, netns })).stdout || "[]") as Array<{ dst?: string }>;
  return new Set(rows.map((r) => r.dst ?? "").filter((d) => d !== ""));
}

/** Route lookups per second in the namespace: `count` `route get` of addresses that no exposure covers. */
export async function lookupRate(netns: string, count = 20_000): Promise<number> {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) lines.push(`route get 203.0.113.${1 + (i % 250)}`);
  const t0 = performance.now();
  await runOk({
    argv: ["ip", "-force", "-batch", "-"],
    netns,
    stdin: `${lines.join("\n")}\n`,
    timeoutMs: 600_000,
  });
  return count / ((performance.now() - t0) / 1000);
}

interface Waiter {
  readonly ips: Set<string>;
  readonly kind: "add" | "del";
  readonly probe: Probe;
  readonly resolve: (at: number) => void;
}

/** Objects a waiter counts: rules (`to X`) or routes (their destination), of the agent's protocol. */
export type Probe = "rule" | "route";

/**
 * `ip -o monitor rule route` in the namespace (streamed, so a change's latency is not rounded up to a
 * polling interval and nothing polls the machine being measured); resolves waiters when every IP
 * they wait for was seen, or when a count of adds was reached (cold start).
 */
export class KernelMonitor {
  private child: ChildProcess | undefined;
  private waiters: Waiter[] = [];

  private adds = 0;
  private readonly ours: RegExp;
  private lastLineAt = 0;
  private countWaiter: { n: number; resolve: (at: number) => void } | undefined;

  constructor(
    private readonly netns: string,
    protocol: number,
  ) {
    this.ours = new RegExp(`\\bproto ${protocol}\\b`);
  }

  /**
   * Resolves when `n` rule and route adds of the agent's protocol were seen since `resetCount`, with
   * the time of the last one. The kernel drops notifications when thousands arrive at once (the
   * monitor's socket buffer overflows): then, once the stream has been quiet for 200 ms, one dump
   * (`count`) says whether everything is there, and the time is that of the last line seen.
   */
  waitForCount(n: number, count: () => Promise<number>, timeoutMs = 300_000): Promise<number> {
    return new Promise((resolve, reject) => {
      let verifying = false;
      const check = setInterval(() => {
        if (verifying || performance.now() - this.lastLineAt < 200 || this.adds === 0) return;
        verifying = true;
        const at = this.lastLineAt;
        count()
          .then((c) => {
            if (c >= n) this.countWaiter?.resolve(at);
          })
          .catch(() => {})
          .finally(() => {
            verifying = false;
          });
      }, 200);
      const timer = setTimeout(() => {
        clearInterval(check);
        reject(new Error(`timed out: ${this.adds} of ${n} rule/route adds seen`));
      }, timeoutMs);
      this.countWaiter = {
        n,
        resolve: (at) => {
          clearTimeout(timer);
          clearInterval(check);
          this.countWaiter = undefined;
          resolve(at);
        },
      };
      if (this.adds >= n) this.countWaiter.resolve(performance.now());
    });
  }

  resetCount(): void {
    this.adds = 0;
  }

  async start(): Promise<void> {
    const child = spawn("ip", ["netns", "exec", this.netns, "ip", "-N", "-o", "monitor", "rule", "route"], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    this.child = child;
    const unregister = atExit(() => {
      if (child.exitCode === null) child.kill("SIGKILL");
    });
    child.once("exit", unregister);
    const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    rl.on("line", (line) => this.onLine(line, performance.now()));
    // The stream has no "ready" line; give `ip` a moment to subscribe before changes are made.
    await new Promise((r) => setTimeout(r, 300));
  }

  /** Resolves with the performance.now() at which the last of `ips` was added (or deleted). */
  /**
   * Resolves when every IP in `ips` had its rule or route added (or deleted), with the time of the
   * last one. With `present` (bursts: the kernel may drop notifications, see `waitForCount`), a quiet
   * stream is checked against a dump of the IPs that have the object.
   */
  waitFor(
    ips: Iterable<string>,
    kind: "add" | "del",
    probe: Probe,
    timeoutMs = 60_000,
    present?: () => Promise<ReadonlySet<string>>,
  ): Promise<number> {
    const set = new Set(ips);
    const all = [...set];
    return new Promise((resolve, reject) => {
      let verifying = false;
      const started = performance.now();
      const check = present
        ? setInterval(() => {
            const quietSince = Math.max(this.lastLineAt, started);
            if (verifying || performance.now() - quietSince < 200) return;
            verifying = true;
            const at = this.lastLineAt;
            present()
              .then((have) => {
                if (all.every((ip) => have.has(ip) === (kind === "add"))) {
                  this.waiters = this.waiters.filter((w) => w !== waiter);
                  waiter.resolve(at);
                }
              })
              .catch(() => {})
              .finally(() => {
                verifying = false;
              });
          }, 200)
        : undefined;
      const timer = setTimeout(() => {
        clearInterval(check);
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out waiting for ${set.size} ${probe} ${kind}(s), e.g. ${[...set][0]}`));
      }, timeoutMs);
      const waiter: Waiter = {
        ips: set,
        kind,
        probe,
        resolve: (at) => {
          clearTimeout(timer);
          clearInterval(check);
          resolve(at);
        },
      };
      this.waiters.push(waiter);
    });
  }

  private onLine(line: string, at: number): void {
    if (!this.ours.test(line)) return;
    this.lastLineAt = at;
    const deleted = line.startsWith("Deleted ");
    const body = deleted ? line.slice(8) : line;
    const probe: Probe = /^\d+:\s/.test(body) ? "rule" : "route";
    if (!deleted) {
      this.adds++;
      if (this.countWaiter && this.adds >= this.countWaiter.n) this.countWaiter.resolve(at);
    }
    if (this.waiters.length === 0) return;
    const m =
      probe === "rule" ? /\bto (\S+?)(?:\/\d+)?\s/.exec(`${body} `) : /^(\S+?)(?:\/\d+)?\s/.exec(body);
    if (!m?.[1]) return;
    const kind = deleted ? "del" : "add";
    const ip = m[1];
    for (const w of [...this.waiters]) {
      if (w.kind !== kind || w.probe !== probe || !w.ips.delete(ip) || w.ips.size > 0) continue;
      this.waiters = this.waiters.filter((x) => x !== w);
      w.resolve(at);
    }
  }

  stop(): void {
    if (this.child?.pid && this.child.exitCode === null) this.child.kill("SIGTERM");
  }
}
