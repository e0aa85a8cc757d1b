/**
 * A long-lived `ip -force -batch -` writer: the hot path (one Southbound change → a few kernel
 * lines) must not pay a process start per change. One process per family channel stays up for the
 * agent's lifetime; each batch is the lines followed by a marker line, an unknown object name that
 * iproute2 answers on stderr with "Object … is unknown" and "Command failed -:N". stderr is
 * unbuffered and written in line order, so when the marker's "Command failed" arrives every line
 * before it has run and its error (if any) has been read: that is how a batch knows it is done and
 * which of its lines failed, without timers.
 *
 * `ip neigh` and `ip link` lines can end the process despite -force (see `mayAbortBatch`); each
 * is followed by a marker too, so after an exit the last marker seen says which line stopped it:
 * that line gets the exit's message, and the rest of the batch is resent to a new process.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import type { BatchResult } from "./ip-batch.ts";
import { mayAbortBatch } from "./ip-batch.ts";

/** Writes batches of iproute2 lines; `family` 6 selects the `ip -6` channel (IPv6 rules). */
export interface IpWriter {
  write(lines: readonly string[], family?: 4 | 6): Promise<BatchResult>;
  close(): Promise<void>;
  /** Processes started so far (a steady state adds none). */
  readonly processesStarted: number;
}

/** The marker word: no iproute2 object starts with it. */
export const SESSION_MARKER = "ovnbgp-batch-marker";

const FAILED = /^Command failed -:(\d+)\s*$/;

/** A batch that has not finished by then is given up: the process is killed, its lines are "unknown". */
export const BATCH_TIMEOUT_MS = 60_000;

interface Pending {
  readonly lines: readonly string[];
  resolve(r: BatchResult): void;
}

/** One `ip [-6] -force -batch -` process, restarted when it exits. */
class BatchChannel {
  private child: ChildProcessWithoutNullStreams | undefined;
  /** Lines written to the current process (iproute2's cmdlineno). */
  private written = 0;
  private stderrBuf = "";
  private errText: string[] = [];
  private queue: Array<{ pending: Pending; from: number }> = [];
  private busy = false;
  /** Current batch state. */
  private cur:
    | {
        pending: Pending;
        /** physical line number (1-based, in this process) → logical index, or marker → undefined */
        lineOf: Map<number, number | undefined>;
        finalMarker: number;
        lastMarkerSeen: number;
        lineErrors: Map<number, string>;
        unknown: Set<number>;
        from: number;
        /** logical index after the last marker seen (everything before it has run) */
        doneUpTo: number;
        markers: Map<number, number>;
        child: ChildProcessWithoutNullStreams;
        timer: NodeJS.Timeout;
      }
    | undefined;

  constructor(
    private readonly argv: readonly string[],
    private readonly onSpawn: () => void,
  ) {}

  write(lines: readonly string[]): Promise<BatchResult> {
    return new Promise((resolve) => {
      this.queue.push({ pending: { lines, resolve }, from: 0 });
      this.pump();
    });
  }

  async close(): Promise<void> {
    const c = this.child;
    this.child = undefined;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      const guard = setTimeout(() => {
        try {
          c.kill("SIGKILL");
        } catch {}
        resolve();
      }, 2_000);
      c.once("close", () => {
        clearTimeout(guard);
        resolve();
      });
      c.stdin.end(); // EOF: iproute2 exits after the lines it has
    });
  }

  private ensureChild(): ChildProcessWithoutNullStreams {
    if (this.child && this.child.exitCode === null) return this.child;
    const [cmd, ...args] = this.argv;
    const child = spawn(cmd as string, args, { stdio: ["pipe", "pipe", "pipe"] });
    this.onSpawn();
    this.child = child;
    this.written = 0;
    this.stderrBuf = "";
    this.errText = [];
    child.stdout.resume(); // nothing useful is printed; keep the pipe drained
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      if (this.child === child) this.onStderr(chunk);
    });
    child.stdin.on("error", () => {});
    child.on("error", (e) => this.onExit(child, null, e.message));
    child.on("close", (code) => this.onExit(child, code, undefined));
    return child;
  }

  /**
   * An idle session must not keep the process alive (a command or test that forgets close() still
   * exits, and iproute2 exits on the EOF), but a batch in flight must.
   */
  private hold(on: boolean): void {
    const c = this.child;
    if (!c) return;
    for (const h of [c, c.stdin, c.stdout, c.stderr] as Array<{ ref(): void; unref(): void }>)
      on ? h.ref() : h.unref();
  }

  private pump(): void {
    if (this.busy) return;
    const next = this.queue.shift();
    if (!next) {
      this.hold(false);
      return;
    }
    this.busy = true;
    this.send(next.pending, next.from, new Map(), new Set());
  }

  private send(pending: Pending, from: number, lineErrors: Map<number, string>, unknown: Set<number>): void {
    const child = this.ensureChild();
    const lineOf = new Map<number, number | undefined>();
    const markers = new Map<number, number>();
    const out: string[] = [];
    for (let i = from; i < pending.lines.length; i++) {
      out.push(pending.lines[i] as string);
      lineOf.set(++this.written, i);
      if (mayAbortBatch(pending.lines[i] as string)) {
        out.push(`${SESSION_MARKER} ${i}`);
        lineOf.set(++this.written, undefined);
        markers.set(this.written, i + 1);
      }
    }
    out.push(SESSION_MARKER);
    lineOf.set(++this.written, undefined);
    const finalMarker = this.written;
    markers.set(finalMarker, pending.lines.length);
    this.cur = {
      pending,
      lineOf,
      finalMarker,
      lastMarkerSeen: 0,
      lineErrors,
      unknown,
      from,
      doneUpTo: from,
      markers,
      child,
      // A wedged ip (it never answers) must not stall every later pass: kill it; onExit reports.
      timer: setTimeout(() => child.kill("SIGKILL"), BATCH_TIMEOUT_MS),
    };
    this.hold(true);
    child.stdin.write(`${out.join("\n")}\n`);
  }

  private onStderr(chunk: string): void {
    this.stderrBuf += chunk;
    let nl = this.stderrBuf.indexOf("\n");
    while (nl >= 0) {
      const line = this.stderrBuf.slice(0, nl).trim();
      this.stderrBuf = this.stderrBuf.slice(nl + 1);
      this.onStderrLine(line);
      nl = this.stderrBuf.indexOf("\n");
    }
  }

  private onStderrLine(line: string): void {
    const cur = this.cur;
    const m = FAILED.exec(line);
    if (!m) {
      if (line !== "") this.errText.push(line);
      return;
    }
    const n = Number(m[1]);
    const text = this.errText;
    this.errText = [];
    if (!cur?.lineOf.has(n)) return;
    const logical = cur.lineOf.get(n);
    if (logical !== undefined) {
      cur.lineErrors.set(logical + 1, text.join("; ") || "failed (iproute2 printed no reason)");
      return;
    }
    const upTo = cur.markers.get(n);
    if (upTo !== undefined) cur.doneUpTo = Math.max(cur.doneUpTo, upTo);
    if (n === cur.finalMarker) this.finish();
  }

  private finish(): void {
    const cur = this.cur;
    if (!cur) return;
    clearTimeout(cur.timer);
    this.cur = undefined;
    this.busy = false;
    cur.pending.resolve({ lineErrors: cur.lineErrors, unknown: cur.unknown, processes: 0 });
    this.pump();
  }

  private onExit(child: ChildProcessWithoutNullStreams, code: number | null, err: string | undefined): void {
    if (this.child === child) this.child = undefined;
    const cur = this.cur;
    if (!cur || cur.child !== child) return;
    clearTimeout(cur.timer);
    this.cur = undefined;
    // Flush what stderr still held (the reason of the exit).
    if (this.stderrBuf.trim() !== "") this.errText.push(this.stderrBuf.trim());
    this.stderrBuf = "";
    const reason = (err ?? this.errText.join("; ")).slice(0, 300) || `ip exited ${code}`;
    this.errText = [];
    const lines = cur.pending.lines;
    // Only a line that may abort can have stopped the process: the first such line after the last
    // marker seen and after the last line blamed (a line blamed later ran, so the abort came after it).
    const lastBlamed = Math.max(cur.from - 1, ...[...cur.lineErrors.keys()].map((k) => k - 1));
    let stopped = Math.max(cur.doneUpTo, lastBlamed + 1);
    while (stopped < lines.length && !mayAbortBatch(lines[stopped] as string)) stopped++;
    if (stopped < lines.length) {
      cur.lineErrors.set(stopped + 1, reason);
      if (stopped + 1 < lines.length) {
        this.send(cur.pending, stopped + 1, cur.lineErrors, cur.unknown);
        return;
      }
    } else {
      const why = `outcome unknown: ip stopped at or before this line (exit ${code}): ${reason}`;
      for (let i = Math.max(cur.doneUpTo, lastBlamed + 1); i < lines.length; i++) {
        if (!cur.lineErrors.has(i + 1)) cur.lineErrors.set(i + 1, why);
        cur.unknown.add(i + 1);
      }
    }
    this.busy = false;
    cur.pending.resolve({ lineErrors: cur.lineErrors, unknown: cur.unknown, processes: 0 });
    this.pump();
  }
}

/**
 * The agent's kernel writer: two long-lived channels (`ip` and `ip -6`), inside `netns` when given.
 */
export class IpBatchSession implements IpWriter {
  private readonly channels: Record<4 | 6, BatchChannel>;
  private spawned = 0;

  constructor(opts: { netns?: string } = {}) {
    const prefix = opts.netns ? ["ip", "netns", "exec", opts.netns] : [];
    const mk = (fam: string[]) =>
      new BatchChannel([...prefix, "ip", ...fam, "-force", "-batch", "-"], () => this.spawned++);
    this.channels = { 4: mk([]), 6: mk(["-6"]) };
  }

  get processesStarted(): number {
    return this.spawned;
  }

  async write(lines: readonly string[], family: 4 | 6 = 4): Promise<BatchResult> {
    if (lines.length === 0) return { lineErrors: new Map(), unknown: new Set(), processes: 0 };
    const before = this.spawned;
    const res = await this.channels[family].write(lines);
    return { ...res, processes: this.spawned - before };
  }

  async close(): Promise<void> {
    await Promise.all([this.channels[4].close(), this.channels[6].close()]);
  }
}
