/**
 * Throwaway FRR instances for tests: zebra + bgpd (optionally bfdd) inside a test namespace, each
 * instance under its own pathspace `-N <RUN_PREFIX>-frrN`, so config lives in /etc/frr/NAME and
 * sockets in /var/run/frr/NAME. Pidfiles and the log go to a temp dir. Daemons are stopped by PID
 * and both directories are removed at `stop()` and at process exit (also on failure).
 */
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run, runOk } from "../../src/host/exec.ts";
import { frrDaemonArgv, frrHasMgmtd, platformFile } from "../../src/lab/platform.ts";
import { atExit, PLATFORM, RUN_PREFIX, uniqueName } from "./netns.ts";

export type FrrDaemon = "mgmtd" | "zebra" | "bgpd" | "bfdd";

export interface FrrInstance {
  /** The pathspace name (`-N`). */
  readonly name: string;
  readonly netns: string;
  /** /var/run/frr/NAME: what the agent's `frr_vty_socket_dir` would point at. */
  readonly socketDir: string;
  readonly confDir: string;
  readonly logFile: string;
  /** Run vtysh with one `-c` per command; throws on a non-zero exit. */
  vtysh(...commands: string[]): Promise<string>;
  /** Retry until every daemon answers vtysh. */
  waitReady(timeoutMs?: number): Promise<void>;
  /** PIDs of the running daemons, from their pidfiles. */
  pids(): Record<string, number>;
  /** Stop the daemons (by PID) and start them again from the original frr.conf. */
  restart(): Promise<void>;
  /** Stop the daemons (by PID), keeping the instance's files: FRR is down until `up()`. */
  down(): Promise<void>;
  /** Start the daemons again after `down()` and wait until they answer. */
  up(): Promise<void>;
  stop(): Promise<void>;
}

/** Why FRR tests cannot run here, or undefined. */
export function frrUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root (FRR in network namespaces)";
  for (const d of ["zebra", "bgpd"])
    if (!existsSync(platformFile(PLATFORM, `/usr/lib/frr/${d}`)))
      return `FRR not installed (${platformFile(PLATFORM, `/usr/lib/frr/${d}`)})`;
  try {
    execFileSync("id", ["-u", "frr"], { stdio: "ignore" });
  } catch {
    return "no 'frr' user";
  }
  return undefined;
}

function frrIds(): { uid: number; gid: number } {
  const uid = Number(execFileSync("id", ["-u", "frr"]).toString().trim());
  const gid = Number(execFileSync("id", ["-g", "frr"]).toString().trim());
  return { uid, gid };
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface StartFrrOptions {
  readonly netns: string;
  /** The operator's frr.conf body (after `frr defaults` and the log line). */
  readonly config?: string;
  readonly daemons?: readonly FrrDaemon[];
  readonly tag?: string;
}

export async function startFrr(opts: StartFrrOptions): Promise<FrrInstance> {
  const name = uniqueName(opts.tag ?? "frr");
  if (!name.startsWith(RUN_PREFIX)) throw new Error("FRR name without the run prefix");
  // FRR >= 9 runs mgmtd first, as watchfrr does on a real host; it owns part of the config.
  const daemons: FrrDaemon[] = [
    ...(frrHasMgmtd(PLATFORM) ? (["mgmtd"] as const) : []),
    ...(opts.daemons ?? ["zebra", "bgpd"]),
  ];
  const confDir = `/etc/frr/${name}`;
  const socketDir = `/var/run/frr/${name}`;
  const tmp = mkdtempSync(join(tmpdir(), `${name}-`));
  const logFile = join(tmp, "frr.log");
  const { uid, gid } = frrIds();
  let pids: Record<string, number> = {};

  const killAll = (signal: NodeJS.Signals) => {
    for (const pid of Object.values(pids)) {
      try {
        process.kill(pid, signal);
      } catch {
        /* gone */
      }
    }
  };
  const unregister = atExit(() => {
    killAll("SIGKILL");
    for (const p of [confDir, socketDir, tmp]) rmSync(p, { recursive: true, force: true });
  });

  mkdirSync(confDir, { recursive: true });
  mkdirSync(socketDir, { recursive: true });
  const frrConf = [
    "frr defaults datacenter",
    `hostname ${name}`,
    `log file ${logFile}`,
    "!",
    opts.config ?? "",
    "",
  ].join("\n");
  writeFileSync(join(confDir, "frr.conf"), frrConf, { mode: 0o640 });
  writeFileSync(join(confDir, "vtysh.conf"), "service integrated-vtysh-config\n", { mode: 0o640 });
  writeFileSync(join(confDir, "daemons"), `${daemons.map((d) => `${d}=yes`).join("\n")}\n`, { mode: 0o640 });
  for (const p of [
    confDir,
    socketDir,
    tmp,
    ...["frr.conf", "vtysh.conf", "daemons"].map((f) => join(confDir, f)),
  ])
    chownSync(p, uid, gid);

  const startDaemons = async () => {
    pids = {};
    for (const d of daemons) {
      const pidfile = join(tmp, `${d}.pid`);
      rmSync(pidfile, { force: true });
      // mgmtd takes no -f (it reads the config the vtysh way); it logs to the same file.
      const config = d === "mgmtd" ? ["--log", `file:${logFile}`] : ["-f", join(confDir, "frr.conf")];
      await runOk({
        argv: [...frrDaemonArgv(PLATFORM, d), "-N", name, "-d", "-F", "datacenter", ...config, "-i", pidfile],
        netns: opts.netns,
        // FRR 10's daemons keep stdout open after -d: a pipe would hold this call forever.
        outputFile: join(tmp, `${d}.out`),
      });
      pids[d] = Number(readFileSync(pidfile, "utf8").trim());
    }
  };

  const stopDaemons = async () => {
    killAll("SIGTERM");
    const deadline = Date.now() + 10_000;
    while (Object.values(pids).some(alive) && Date.now() < deadline) await sleep(50);
    killAll("SIGKILL");
    while (Object.values(pids).some(alive)) await sleep(20);
    pids = {};
  };

  const vtysh = async (...commands: string[]) =>
    (await runOk({ argv: ["vtysh", "--vty_socket", socketDir, ...commands.flatMap((c) => ["-c", c])] }))
      .stdout;

  const waitReady = async (timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    while (Date.now() < deadline) {
      const res = await run({ argv: ["vtysh", "--vty_socket", socketDir, "-c", "show running-config"] });
      const out = `${res.stdout}${res.stderr}`;
      if (res.code === 0 && !/is not running|failed to connect/.test(out) && out.includes("end")) return;
      last = out;
      await sleep(100);
    }
    throw new Error(`FRR ${name} not ready after ${timeoutMs} ms: ${last.slice(0, 500)}`);
  };

  await startDaemons();
  await waitReady();
  return {
    name,
    netns: opts.netns,
    socketDir,
    confDir,
    logFile,
    vtysh,
    waitReady,
    pids: () => ({ ...pids }),
    restart: async () => {
      await stopDaemons();
      await startDaemons();
    },
    down: () => stopDaemons(),
    up: async () => {
      await startDaemons();
      await waitReady();
    },
    stop: async () => {
      await stopDaemons();
      unregister();
      for (const p of [confDir, socketDir, tmp]) rmSync(p, { recursive: true, force: true });
    },
  };
}
