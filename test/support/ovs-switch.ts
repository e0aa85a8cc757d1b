/**
 * A throwaway Open vSwitch for tests: its own `ovsdb-server` (vswitch schema) and `ovs-vswitchd`
 * running inside a test namespace, with every file (db, sockets, pidfiles, logs, `<bridge>.mgmt`)
 * in a temp dir named with the run prefix, reached through OVS_RUNDIR/OVS_DBDIR/OVS_LOGDIR. Bridges
 * use the userspace datapath (`datapath_type=netdev`): the kernel module is absent here. Daemons are
 * stopped by PID and the dir removed at `stop()` and at process exit.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runOk } from "../../src/host/exec.ts";
import { atExit, RUN_PREFIX } from "./netns.ts";

export interface OvsSwitch {
  readonly dir: string;
  readonly netns: string;
  /** OVS_RUNDIR/OVS_DBDIR/OVS_LOGDIR for tools talking to this switch. */
  readonly env: Readonly<Record<string, string>>;
  /** `unix:<dir>/db.sock` */
  readonly db: string;
  vsctl(...args: string[]): Promise<string>;
  /** ovs-ofctl with the bridge argument as given (use `target(br)` for the mgmt socket). */
  ofctl(...args: string[]): Promise<string>;
  /** `unix:<dir>/<bridge>.mgmt` */
  target(bridge: string): string;
  /** Add a netdev bridge. */
  addBridge(name: string): Promise<void>;
  stop(): Promise<void>;
}

const SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema";

/** Why an OVS test cannot run here, or undefined. */
export function ovsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root (OVS in a network namespace)";
  for (const tool of ["ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovs-ofctl", "ovsdb-tool"]) {
    try {
      execFileSync("which", [tool], { stdio: "ignore" });
    } catch {
      return `Open vSwitch not installed (${tool} missing)`;
    }
  }
  return undefined;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

export async function startOvs(netns: string): Promise<OvsSwitch> {
  const dir = mkdtempSync(join(tmpdir(), `${RUN_PREFIX}-ovs-`));
  const env = { OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir };
  const db = `unix:${join(dir, "db.sock")}`;
  const pidfiles = ["ovs-vswitchd", "ovsdb-server"].map((d) => join(dir, `${d}.pid`));
  const pids = (): number[] => {
    const out: number[] = [];
    for (const f of pidfiles) {
      try {
        out.push(Number(readFileSync(f, "utf8").trim()));
      } catch {
        /* not started */
      }
    }
    return out;
  };
  const unregister = atExit(() => {
    for (const pid of pids()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* gone */
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  await runOk({ argv: ["ovsdb-tool", "create", join(dir, "conf.db"), SCHEMA] });
  const daemon = (name: string, args: string[]) =>
    runOk({
      argv: [
        name,
        ...args,
        `--pidfile=${join(dir, `${name}.pid`)}`,
        `--log-file=${join(dir, `${name}.log`)}`,
        `--unixctl=${join(dir, `${name}.ctl`)}`,
        "--detach",
      ],
      netns,
      env,
    });
  await daemon("ovsdb-server", [join(dir, "conf.db"), `--remote=punix:${join(dir, "db.sock")}`]);
  const vsctl = async (...args: string[]) =>
    (await runOk({ argv: ["ovs-vsctl", `--db=${db}`, "--timeout=30", ...args], env })).stdout;
  await vsctl("--no-wait", "init");
  await daemon("ovs-vswitchd", [db]);

  return {
    dir,
    netns,
    env,
    db,
    vsctl,
    ofctl: async (...args) => (await runOk({ argv: ["ovs-ofctl", ...args], env })).stdout,
    target: (bridge) => `unix:${join(dir, `${bridge}.mgmt`)}`,
    addBridge: async (name) => {
      await vsctl("add-br", name, "--", "set", "bridge", name, "datapath_type=netdev");
    },
    stop: async () => {
      const running = pids();
      for (const pid of running) {
        try {
          process.kill(pid, "SIGTERM");
        } catch {
          /* gone */
        }
      }
      const deadline = Date.now() + 10_000;
      while (running.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      for (const pid of running.filter(alive)) process.kill(pid, "SIGKILL");
      unregister();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
