/**
 * Processes of the lab. The lab's daemons must outlive the `ovn-bgp lab up` that started them, so
 * they either daemonize themselves (OVS/OVN `--detach`, FRR `-d`, PID from their pidfile) or are
 * spawned detached with their output in a log file. Every PID is recorded in the state file at once;
 * signals only ever go to recorded PIDs or to PIDs inside the lab's own namespaces.
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";
import { runOk } from "../host/exec.ts";
import type { StateRecorder } from "./state.ts";

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Poll `probe` until it returns a truthy value; throw with `what` and the last error at the deadline. */
export async function poll<T>(
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  what: string,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== null && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline)
      throw new Error(
        `timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${last instanceof Error ? ` (last error: ${last.message.slice(0, 400)})` : ""}`,
      );
    await delay(intervalMs);
  }
}

function readPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const n = Number(readFileSync(pidFile, "utf8").trim());
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

export interface DaemonizeOptions {
  readonly name: string;
  readonly argv: readonly string[];
  readonly pidFile: string;
  readonly netns?: string;
  readonly env?: Readonly<Record<string, string>>;
}

/** Run a self-daemonizing program (it must exit 0 once the daemon is up) and record the daemon's PID. */
export async function daemonize(rec: StateRecorder, o: DaemonizeOptions): Promise<number> {
  await runOk({
    argv: o.argv,
    ...(o.netns ? { netns: o.netns } : {}),
    ...(o.env ? { env: o.env } : {}),
    timeoutMs: 60_000,
    // Some daemons (FRR 10 with -d) keep stdout open once detached: never hand them our pipes.
    outputFile: `${o.pidFile}.out`,
  });
  const pid = await poll(() => readPid(o.pidFile), `${o.name} pidfile ${o.pidFile}`, 10_000, 50);
  rec.process({ name: o.name, pid, ...(o.netns ? { netns: o.netns } : {}) });
  return pid;
}

export interface BackgroundOptions {
  readonly name: string;
  readonly argv: readonly string[];
  readonly logFile: string;
  readonly netns?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
}

/**
 * Spawn a foreground program detached from us (own session, output to `logFile`) and record its PID.
 * `ip netns exec` execs in place, so the PID is the program's own.
 */
export function spawnBackground(rec: StateRecorder, o: BackgroundOptions): number {
  const argv = o.netns ? ["ip", "netns", "exec", o.netns, ...o.argv] : [...o.argv];
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error(`${o.name}: empty argv`);
  const fd = openSync(o.logFile, "a");
  const child = spawn(cmd, args, {
    detached: true,
    stdio: ["ignore", fd, fd],
    env: o.env ? { ...process.env, ...o.env } : process.env,
    ...(o.cwd ? { cwd: o.cwd } : {}),
  });
  closeSync(fd);
  child.unref();
  if (child.pid === undefined) throw new Error(`${o.name}: spawn failed (${argv.join(" ")})`);
  rec.process({ name: o.name, pid: child.pid, ...(o.netns ? { netns: o.netns } : {}) });
  return child.pid;
}

/** SIGTERM the PIDs, wait up to `graceMs`, SIGKILL what is left, wait until all are gone. */
export async function stopPids(pids: readonly number[], graceMs = 3000): Promise<number[]> {
  const live = pids.filter(alive);
  for (const pid of live) {
    try {
      process.kill(pid, "SIGCONT");
      process.kill(pid, "SIGTERM");
    } catch {
      /* already gone */
    }
  }
  const deadline = Date.now() + graceMs;
  while (live.some(alive) && Date.now() < deadline) await delay(50);
  for (const pid of live.filter(alive)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
  const hard = Date.now() + 5000;
  while (live.some(alive) && Date.now() < hard) await delay(50);
  return live.filter(alive);
}
