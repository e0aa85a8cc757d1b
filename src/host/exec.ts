/**
 * The single child-process seam. Every external program the agent runs (ip, ovs-ofctl, vtysh, sysctl
 * writers excepted) goes through `run`: argv only (never a shell), optional stdin, optional network
 * namespace (`ip netns exec NS …`). Tests wrap it to inject failures.
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, fstatSync, openSync, readSync } from "node:fs";

export interface ExecRequest {
  readonly argv: readonly string[];
  readonly stdin?: string;
  /** Read standard input from this file instead (the child reads it at its own pace). */
  readonly stdinFile?: string;
  /** Run inside this named network namespace (via `ip netns exec`). */
  readonly netns?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  /**
   * Append the child's stdout and stderr to this file instead of piping them (the result then
   * carries what it wrote there). For programs that daemonize without closing their standard
   * output (FRR 10's `-d`): a pipe they keep open would hold the call until the daemon exits.
   */
  readonly outputFile?: string;
}

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export type Exec = (req: ExecRequest) => Promise<ExecResult>;

export class ExecError extends Error {
  readonly code = "EXEC_FAILED";
  constructor(
    readonly argv: readonly string[],
    readonly result: ExecResult,
  ) {
    super(`${argv.join(" ")} exited ${result.code}: ${result.stderr.trim().slice(0, 2000)}`);
  }
}

export const run: Exec = (req) =>
  new Promise((resolve, reject) => {
    const argv = req.netns ? ["ip", "netns", "exec", req.netns, ...req.argv] : [...req.argv];
    const [cmd, ...args] = argv;
    if (!cmd) {
      reject(new Error("exec: empty argv"));
      return;
    }
    let fd: number | undefined;
    let outFd: number | undefined;
    let outStart = 0;
    try {
      fd = req.stdinFile !== undefined ? openSync(req.stdinFile, "r") : undefined;
      if (req.outputFile !== undefined) {
        outFd = openSync(req.outputFile, "a+");
        outStart = fstatSync(outFd).size;
      }
    } catch (e) {
      if (fd !== undefined) closeSync(fd);
      reject(e);
      return;
    }
    const child = spawn(cmd, args, {
      stdio: [fd ?? "pipe", outFd ?? "pipe", outFd ?? "pipe"],
      env: req.env ? { ...process.env, ...req.env } : process.env,
      timeout: req.timeoutMs ?? 30_000,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (b: Buffer) => out.push(b));
    child.stderr?.on("data", (b: Buffer) => err.push(b));
    if (fd !== undefined) closeSync(fd);
    child.on("error", (e) => {
      if (outFd !== undefined) closeSync(outFd);
      outFd = undefined;
      reject(e);
    });
    child.on("close", (code, signal) => {
      let written = "";
      if (outFd !== undefined) {
        const size = fstatSync(outFd).size;
        const from = Math.max(outStart, size - 4096);
        const buf = Buffer.alloc(size - from);
        readSync(outFd, buf, 0, buf.length, from);
        closeSync(outFd);
        written = buf.toString("utf8");
      }
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8") + written + (signal ? `\n(killed by ${signal})` : ""),
      });
    });
    child.stdin?.on("error", () => {}); // EPIPE when the program exits before reading stdin
    child.stdin?.end(req.stdin ?? "");
  });

/** `run`, but a non-zero exit is an ExecError. */
export async function runOk(req: ExecRequest, exec: Exec = run): Promise<ExecResult> {
  const res = await exec(req);
  if (res.code !== 0)
    throw new ExecError(req.netns ? ["ip", "netns", "exec", req.netns, ...req.argv] : req.argv, res);
  return res;
}

/** A long-lived child (e.g. `ip monitor`): its stdout as lines, its end, and a kill by PID. */
export interface StreamingChild {
  readonly pid: number | undefined;
  /** Ends the child (SIGTERM to its PID); safe to call twice. */
  kill(): void;
}

export interface StreamingRequest {
  readonly argv: readonly string[];
  readonly netns?: string;
  onLine(line: string): void;
  /** Each stderr line, as it comes (optional). */
  onErrLine?(line: string): void;
  /** Called once when the child has exited (or could not start). */
  onExit(code: number | null, signal: NodeJS.Signals | null, stderr: string): void;
}

export type SpawnStreaming = (req: StreamingRequest) => StreamingChild;

/** Feed text chunks, get whole lines. */
function lineSplitter(onLine: (line: string) => void): (chunk: string) => void {
  let buf = "";
  return (chunk) => {
    buf += chunk;
    let nl = buf.indexOf("\n");
    while (nl >= 0) {
      onLine(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      nl = buf.indexOf("\n");
    }
  };
}

/**
 * util-linux's setpriv, when present: `setpriv --pdeathsig KILL` makes a long-lived watcher die with
 * the agent. A monitor that reads nothing from us (`ovs-ofctl monitor`) would otherwise outlive a
 * `kill -9` of the agent until its next event hit the closed pipe.
 */
const SETPRIV = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p));

/**
 * Start a long-lived child with no timeout; `setpriv` and `ip netns exec` exec in place, so the PID
 * is the program's.
 */
export const spawnStreaming: SpawnStreaming = (req) => {
  const argv = [
    ...(SETPRIV ? [SETPRIV, "--pdeathsig", "KILL", "--"] : []),
    ...(req.netns ? ["ip", "netns", "exec", req.netns] : []),
    ...req.argv,
  ];
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error("exec: empty argv");
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  let exited = false;
  child.stdout.setEncoding("utf8");
  child.stdout.on(
    "data",
    lineSplitter((l) => req.onLine(l)),
  );
  child.stderr.setEncoding("utf8");
  const errLines = lineSplitter((l) => req.onErrLine?.(l));
  child.stderr.on("data", (chunk: string) => {
    err = (err + chunk).slice(-2000);
    if (req.onErrLine) errLines(chunk);
  });
  const finish = (code: number | null, signal: NodeJS.Signals | null) => {
    if (exited) return;
    exited = true;
    req.onExit(code, signal, err);
  };
  child.on("error", (e) => {
    err += String(e.message);
    finish(null, null);
  });
  child.on("close", finish);
  return {
    pid: child.pid,
    kill: () => {
      if (!exited && child.pid !== undefined) {
        try {
          process.kill(child.pid, "SIGTERM");
        } catch {
          /* already gone */
        }
      }
    },
  };
};
