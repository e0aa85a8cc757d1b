/**
 * Watching the benchmark namespace's kernel from outside the agent: rule counts (polled with
 * `ip -j rule`) and an `ip monitor rule` stream that timestamps each rule's add and delete the
 * moment the kernel announces it, so a change's latency is not rounded up to a polling interval.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { runOk } from "../../src/host/exec.ts";
import { atExit } from "../../test/support/netns.ts";

/** All policy rules (both families) in the namespace. */
export async function countRules(netns: string): Promise<number> {
  let n = 0;
  for (const family of ["-4", "-6"]) {
    const out = (await runOk({ argv: ["ip", "-j", family, "rule", "show"], netns })).stdout;
    n += (JSON.parse(out || "[]") as unknown[]).length;
  }
  return n;
}

/** Delete every rule with this priority (the agent's), in one `ip -batch`. */
export async function deleteRules(netns: string, priority: number): Promise<void> {
  const lines: string[] = [];
  for (const family of ["-4", "-6"]) {
    const out = (await runOk({ argv: ["ip", "-j", family, "rule", "show"], netns })).stdout;
    for (const r of JSON.parse(out || "[]") as Array<{
      priority?: number;
      dst?: string;
      dstlen?: number;
      table?: string;
    }>) {
      if (r.priority !== priority || !r.dst) continue;
      const dst = r.dstlen !== undefined ? `${r.dst}/${r.dstlen}` : r.dst;
      lines.push(`${family} rule del priority ${priority} to ${dst}${r.table ? ` table ${r.table}` : ""}`);
    }
  }
  // `-force` goes on after an error; `ip -batch` does not accept a family per line, hence the split.
  for (const family of ["-4", "-6"]) {
    const mine = lines.filter((l) => l.startsWith(family)).map((l) => l.slice(3));
    if (mine.length)
      await runOk({ argv: ["ip", family, "-force", "-batch", "-"], netns, stdin: `${mine.join("\n")}\n` });
  }
}

interface Waiter {
  readonly ips: Set<string>;
  readonly kind: "add" | "del";
  readonly resolve: (at: number) => void;
}

/** `ip -o monitor rule` in the namespace; resolves waiters when every IP they wait for was seen. */
export class RuleMonitor {
  private child: ChildProcess | undefined;
  private waiters: Waiter[] = [];

  constructor(private readonly netns: string) {}

  async start(): Promise<void> {
    const child = spawn("ip", ["netns", "exec", this.netns, "ip", "-o", "monitor", "rule"], {
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
  waitFor(ips: Iterable<string>, kind: "add" | "del", timeoutMs = 60_000): Promise<number> {
    const set = new Set(ips);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out waiting for ${set.size} rule ${kind}(s), e.g. ${[...set][0]}`));
      }, timeoutMs);
      const waiter: Waiter = {
        ips: set,
        kind,
        resolve: (at) => {
          clearTimeout(timer);
          resolve(at);
        },
      };
      this.waiters.push(waiter);
    });
  }

  private onLine(line: string, at: number): void {
    const m = /\bto (\S+?)(?:\/\d+)?\s/.exec(`${line} `);
    if (!m?.[1] || this.waiters.length === 0) return;
    const kind = line.startsWith("Deleted") ? "del" : "add";
    const ip = m[1];
    for (const w of [...this.waiters]) {
      if (w.kind !== kind || !w.ips.delete(ip) || w.ips.size > 0) continue;
      this.waiters = this.waiters.filter((x) => x !== w);
      w.resolve(at);
    }
  }

  stop(): void {
    if (this.child?.pid && this.child.exitCode === null) this.child.kill("SIGTERM");
  }
}
