/**
 * A long-lived `ip -j -force -batch -` reader for the checks that run every second (NDP proxy
 * entries send no netlink notification when they go): a process start per check would cost more
 * than the check. Each query is one show command followed by `link show dev lo`; iproute2 prints
 * one JSON line per command and flushes it, so the line that names `lo` says the answer is
 * complete, with no timer. The process is started on first use and again after it exits.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";

const TERMINATOR = "link show dev lo";
const IS_TERMINATOR = /^\[\{"ifindex":\d+,"ifname":"lo"/;
export const QUERY_TIMEOUT_MS = 10_000;

export class IpQuery {
  private child: ChildProcessWithoutNullStreams | undefined;
  private lines: string[] = [];
  private partial = "";
  private waiter: { resolve(lines: string[]): void; reject(e: Error): void } | undefined;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: { readonly netns?: string; readonly family?: 4 | 6 } = {}) {}

  /** The parsed JSON array `ip [-6] -j <command>` prints. */
  query(command: string): Promise<unknown[]> {
    const next = this.chain.then(() => this.queryNow(command));
    this.chain = next.catch(() => undefined);
    return next;
  }

  close(): void {
    const w = this.waiter;
    this.waiter = undefined;
    this.child?.kill();
    this.child = undefined;
    w?.reject(new Error("ip query closed"));
  }

  private queryNow(command: string): Promise<unknown[]> {
    const child = this.ensureChild();
    return new Promise<unknown[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.close();
        reject(new Error(`ip ${command}: no answer in ${QUERY_TIMEOUT_MS} ms`));
      }, QUERY_TIMEOUT_MS);
      this.hold(true);
      this.waiter = {
        resolve: (lines) => {
          clearTimeout(timer);
          this.hold(false);
          // A command that failed prints nothing on stdout (its error went to stderr).
          const json = lines.find((l) => l.startsWith("["));
          if (json === undefined) {
            reject(new Error(`ip ${command}: no answer (the command failed)`));
            return;
          }
          try {
            resolve(JSON.parse(json) as unknown[]);
          } catch (e) {
            reject(new Error(`ip ${command}: unreadable answer: ${(e as Error).message}`));
          }
        },
        reject: (e) => {
          clearTimeout(timer);
          this.hold(false);
          reject(e);
        },
      };
      child.stdin.write(`${command}\n${TERMINATOR}\n`);
    });
  }

  private ensureChild(): ChildProcessWithoutNullStreams {
    if (this.child && this.child.exitCode === null) return this.child;
    const prefix = this.opts.netns ? ["ip", "netns", "exec", this.opts.netns] : [];
    const argv = [...prefix, "ip", ...(this.opts.family === 6 ? ["-6"] : []), "-j", "-force", "-batch", "-"];
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
    this.child = child;
    this.lines = [];
    this.partial = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => this.onStdout(chunk));
    child.stderr.resume();
    child.stdin.on("error", () => {});
    const gone = (why: string) => {
      if (this.child !== child) return; // an old process, already replaced or closed
      this.child = undefined;
      const w = this.waiter;
      this.waiter = undefined;
      w?.reject(new Error(`ip query process ended: ${why}`));
    };
    child.on("error", (e) => gone(e.message));
    child.on("close", (code) => gone(`exit ${code}`));
    this.hold(false);
    return child;
  }

  private onStdout(chunk: string): void {
    const parts = (this.partial + chunk).split("\n");
    this.partial = parts.pop() ?? "";
    for (const line of parts) {
      if (!IS_TERMINATOR.test(line)) {
        this.lines.push(line);
        continue;
      }
      const got = this.lines;
      this.lines = [];
      const w = this.waiter;
      this.waiter = undefined;
      w?.resolve(got);
    }
  }

  /** An idle reader must not keep the process alive; a query in flight must. */
  private hold(on: boolean): void {
    const c = this.child;
    if (!c) return;
    for (const h of [c, c.stdin, c.stdout, c.stderr] as Array<{ ref(): void; unref(): void }>)
      on ? h.ref() : h.unref();
  }
}
