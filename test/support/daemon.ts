/**
 * Generic process management for integration tests that run real daemons.
 *
 *   const d = await startDaemon({
 *     name: "ovsdb",                      // used in file names and errors
 *     argv: (p) => ["ovsdb-server", db, `--pidfile=${p.pidFile}`, `--log-file=${p.logFile}`,
 *                   `--unixctl=${p.ctlSocket}`, `--remote=punix:${p.dir}/db.sock`],
 *     ready: (d) => unixSocketAccepts(`${d.dir}/db.sock`),   // polled until true (deadline readyTimeoutMs)
 *     netns: "obt12ab-ns1",               // optional: runs as `ip netns exec NS argv…`
 *   });
 *   await d.kill("SIGKILL"); await d.restart(); await d.stop();
 *
 * - The process runs in the foreground (no --detach): we spawn it and keep its PID (`ip netns exec`
 *   execs in place, so the PID is the daemon's). For a program that must daemonize, set
 *   `daemonizes: true`: the launcher must exit 0 and the daemon's PID is read from `pidFile`.
 * - Files live in `dir` (a fresh `makeTempDir` unless given; removed at process exit): `<name>.pid`,
 *   `<name>.log`, `<name>.ctl` (a unixctl path for OVS-style daemons) and `<name>.out` (stdout+stderr).
 * - A failed start (exit before ready, or not ready by the deadline) throws `DaemonStartError` whose
 *   message holds the tail of the log and output files.
 * - Every running daemon is SIGKILLed at process exit (test failure, crash, SIGINT/SIGTERM) via `atExit`.
 *   Signals go to our PID only, never by name.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { atExit } from "./netns.ts";
import { makeTempDir, removeTempDir } from "./temp-dir.ts";
import { AbortWait, waitFor } from "./wait.ts";

export interface DaemonPaths {
  readonly dir: string;
  readonly pidFile: string;
  readonly logFile: string;
  /** A free path for a unixctl socket (`--unixctl=`), for daemons that have one. */
  readonly ctlSocket: string;
  /** Where the process's stdout and stderr go. */
  readonly outFile: string;
}

export interface DaemonOptions {
  /** Short tag: file names inside `dir` and error messages. Unique within `dir`. */
  readonly name: string;
  /** Program and arguments (no shell); a function receives the daemon's file paths. */
  readonly argv: readonly string[] | ((paths: DaemonPaths) => readonly string[]);
  /** Directory for the daemon's files; default a fresh temp dir owned (and removed) by this daemon. */
  readonly dir?: string;
  /** Run inside this network namespace (`ip netns exec NS …`). */
  readonly netns?: string;
  /** Extra environment variables (merged over process.env). */
  readonly env?: Readonly<Record<string, string>>;
  /** Polled after spawn until it returns true; default: "the process is alive". */
  readonly ready?: (d: Daemon) => Promise<boolean> | boolean;
  /** Deadline for `ready`, default 20 s. */
  readonly readyTimeoutMs?: number;
  /** SIGTERM → SIGKILL grace in `stop()`, default 5 s. */
  readonly stopGraceMs?: number;
  /** The program forks into the background: wait for the launcher to exit 0, then read `pidFile`. */
  readonly daemonizes?: boolean;
}

export class DaemonStartError extends Error {
  readonly code = "DAEMON_START_FAILED";
}

const TERMINATING = new Set<NodeJS.Signals>(["SIGKILL", "SIGTERM", "SIGINT", "SIGQUIT", "SIGABRT", "SIGHUP"]);

function tailOf(path: string, lines: number): string {
  if (!existsSync(path)) return `(no ${path})`;
  const text = readFileSync(path, "utf8").trimEnd();
  return text.split("\n").slice(-lines).join("\n");
}

/** True if `pid` exists and is not a zombie (a daemonized process is reaped by init, maybe late). */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** A started daemon. All paths are absolute. */
export class Daemon implements DaemonPaths {
  readonly name: string;
  readonly dir: string;
  readonly pidFile: string;
  readonly logFile: string;
  readonly ctlSocket: string;
  readonly outFile: string;
  readonly netns: string | undefined;
  private readonly opts: DaemonOptions;
  private readonly ownsDir: boolean;
  private child: ChildProcess | undefined;
  private currentPid = 0;
  private exitedFlag = true;
  private exitWaiters: Array<() => void> = [];
  private unregisterExitHook: (() => void) | undefined;
  /** Size of the log file when the current incarnation started (see `logSinceStart`). */
  private logStartOffset = 0;
  /** How the last foreground incarnation ended, e.g. "code 1" or "signal SIGKILL". */
  lastExit: string | undefined;

  constructor(opts: DaemonOptions) {
    this.opts = opts;
    this.name = opts.name;
    this.ownsDir = opts.dir === undefined;
    this.dir = opts.dir ?? makeTempDir(opts.name);
    this.pidFile = join(this.dir, `${opts.name}.pid`);
    this.logFile = join(this.dir, `${opts.name}.log`);
    this.ctlSocket = join(this.dir, `${opts.name}.ctl`);
    this.outFile = join(this.dir, `${opts.name}.out`);
    this.netns = opts.netns;
  }

  /** PID of the current (or last) incarnation. */
  get pid(): number {
    return this.currentPid;
  }

  /** The argv as executed (with the `ip netns exec` prefix when in a namespace). */
  get argv(): string[] {
    const argv = typeof this.opts.argv === "function" ? this.opts.argv(this) : this.opts.argv;
    return this.netns ? ["ip", "netns", "exec", this.netns, ...argv] : [...argv];
  }

  running(): boolean {
    if (this.currentPid === 0) return false;
    if (!this.opts.daemonizes) return !this.exitedFlag;
    return pidAlive(this.currentPid);
  }

  /** Last `lines` lines of the log file and of stdout/stderr, for error messages. */
  logTail(lines = 30): string {
    return `--- ${this.logFile} (tail)\n${tailOf(this.logFile, lines)}\n--- ${this.outFile} (tail)\n${tailOf(this.outFile, lines)}`;
  }

  /** What the current incarnation has written to the log file so far ("" if nothing). */
  logSinceStart(): string {
    try {
      return readFileSync(this.logFile).subarray(this.logStartOffset).toString("utf8");
    } catch {
      return "";
    }
  }

  /** Spawn and wait until ready. Throws DaemonStartError (with log tail) if it dies or is not ready in time. */
  async start(): Promise<void> {
    if (this.running()) throw new Error(`${this.name}: already running (pid ${this.currentPid})`);
    const argv = this.argv;
    const [cmd, ...args] = argv;
    if (!cmd) throw new Error(`${this.name}: empty argv`);
    this.logStartOffset = existsSync(this.logFile) ? statSync(this.logFile).size : 0;
    // A stale pidfile from the last incarnation would name a dead (or reused) PID.
    if (this.opts.daemonizes) rmSync(this.pidFile, { force: true });
    const out = openSync(this.outFile, "a");
    let spawnError: Error | undefined;
    const child = spawn(cmd, args, {
      stdio: ["ignore", out, out],
      env: this.opts.env ? { ...process.env, ...this.opts.env } : process.env,
    });
    closeSync(out);
    // A foreground daemon must not keep the test process alive (the exit hook kills it); a daemonizing
    // launcher stays referenced until it exits, or awaiting it would let the event loop drain.
    if (!this.opts.daemonizes) child.unref();
    this.child = child;
    this.exitedFlag = false;
    this.currentPid = 0;
    // Registered before the PID is known, so a test process that ends while a daemonizing launcher is
    // still starting up still kills the daemon (found through its pidfile).
    this.unregisterExitHook = atExit(() => {
      const pid = this.currentPid || (this.opts.daemonizes ? this.readPidFile() : child.pid);
      try {
        if (pid) process.kill(pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    });
    const launcherExit = new Promise<number | null>((resolve) => {
      child.once("error", (err) => {
        spawnError = err;
        resolve(null);
      });
      child.once("exit", (code) => resolve(code));
    });
    child.once("exit", (code, signal) => {
      if (this.child !== child) return;
      this.lastExit = signal ? `signal ${signal}` : `code ${code}`;
      if (!this.opts.daemonizes) this.markExited();
    });

    if (this.opts.daemonizes) {
      const code = await launcherExit;
      if (spawnError || code !== 0)
        throw this.startError(argv, spawnError?.message ?? `launcher exited ${code}`);
      const pid = await waitFor(() => this.readPidFile(), {
        what: `${this.name} pidfile`,
        timeoutMs: 10_000,
      }).catch((err: Error) => {
        throw this.startError(argv, err.message);
      });
      this.currentPid = pid;
    } else {
      if (child.pid === undefined) {
        await launcherExit;
        this.markExited();
        throw this.startError(argv, spawnError?.message ?? "spawn failed");
      }
      this.currentPid = child.pid;
    }

    try {
      await waitFor(
        async () => {
          if (!this.running())
            throw new AbortWait(new Error(`exited (${this.lastExit ?? "gone"}) before it was ready`));
          return this.opts.ready ? await this.opts.ready(this) : true;
        },
        { what: `${this.name} ready`, timeoutMs: this.opts.readyTimeoutMs ?? 20_000, intervalMs: 50 },
      );
    } catch (err) {
      await this.kill("SIGKILL").catch(() => {});
      throw this.startError(argv, (err as Error).message, err);
    }
  }

  private readPidFile(): number | undefined {
    try {
      const n = Number(readFileSync(this.pidFile, "utf8").trim());
      return Number.isInteger(n) && n > 0 ? n : undefined;
    } catch {
      return undefined;
    }
  }

  private startError(argv: readonly string[], why: string, cause?: unknown): DaemonStartError {
    return new DaemonStartError(
      `${this.name} failed to start (${why}): ${argv.join(" ")}\n${this.logTail()}`,
      { cause },
    );
  }

  private markExited(): void {
    this.exitedFlag = true;
    this.unregisterExitHook?.();
    this.unregisterExitHook = undefined;
    const waiters = this.exitWaiters;
    this.exitWaiters = [];
    for (const w of waiters) w();
  }

  /** Resolve true once the current incarnation has exited, false at the deadline. */
  async waitExit(timeoutMs = 10_000): Promise<boolean> {
    if (!this.running()) {
      if (this.opts.daemonizes) this.markExited();
      return true;
    }
    if (this.opts.daemonizes) {
      const gone = await waitFor(() => !this.running(), { timeoutMs, intervalMs: 50 }).catch(() => false);
      if (gone) this.markExited();
      return gone;
    }
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.exitWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /**
   * Send `signal` (default SIGKILL) to our PID. For terminating signals, wait until the process is gone,
   * so `restart()` can follow at once; SIGSTOP/SIGCONT and the like return immediately.
   */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    if (!this.running()) return;
    try {
      process.kill(this.currentPid, signal);
    } catch {
      /* raced with its exit */
    }
    if (!TERMINATING.has(signal)) return;
    if (!(await this.waitExit(10_000)))
      throw new Error(`${this.name} (pid ${this.currentPid}) still alive 10 s after ${signal}`);
  }

  /** SIGTERM, then SIGKILL after the grace period; waits until the process is gone. No-op if not running. */
  async stop(): Promise<void> {
    if (!this.running()) return;
    // A stopped (SIGSTOP) process would ignore SIGTERM until continued.
    try {
      process.kill(this.currentPid, "SIGCONT");
      process.kill(this.currentPid, "SIGTERM");
    } catch {
      /* raced with its exit */
    }
    if (await this.waitExit(this.opts.stopGraceMs ?? 5000)) return;
    await this.kill("SIGKILL");
  }

  /** Stop (if running) and start again with the same argv, directory and files. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Stop, and remove the directory if this daemon created it. */
  async dispose(): Promise<void> {
    await this.stop();
    if (this.ownsDir) removeTempDir(this.dir);
  }
}

/** Create and start a daemon; see the file comment. */
export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const d = new Daemon(opts);
  await d.start();
  return d;
}
