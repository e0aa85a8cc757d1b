/**
 * A real RAFT ovsdb-server cluster for integration tests (failover, leader changes, reading followers).
 *
 *   const c = await startOvsdbCluster({ schema: "sb", members: 3 });   // resolves once a leader exists
 *   await sbctl(c.remotes, "chassis-add", "ch1", "geneve", "127.0.0.1"); // "tcp:…,tcp:…,tcp:…"
 *   const i = await c.leader();          // 0-based index of the member whose cluster/status says leader
 *   await c.members[i].kill();           // SIGKILL the leader…
 *   const j = await c.waitForLeader({ exclude: i });   // …a new one is elected
 *   await c.members[i].restart();        // rejoins from its own db file, same ports
 *   await c.stopAll();                   // also done automatically at process exit
 *
 * `clusterFromFile(dbFile)` builds the cluster from an existing standalone db file (or backup):
 * `ovsdb-tool create-cluster` takes it as contents, so any snapshot becomes a 3-member cluster.
 *
 * Each member: its own client TCP port (`tcpRemote`), unix socket (`unixRemote`), RAFT port, unixctl
 * socket (`ctlSocket`), db file and log, all in one RUN_PREFIX temp dir; 127.0.0.1 only. `netns` runs
 * every member inside that namespace.
 */
import { join } from "node:path";
import { runOk } from "../../src/host/exec.ts";
import { Daemon, DaemonStartError } from "./daemon.ts";
import { appctl } from "./db-ctl.ts";
import {
  dbFileName,
  ovsEnv,
  PortInUseError,
  type SchemaRef,
  schemaDbName,
  schemaPath,
  serverArgv,
  serverReady,
} from "./ovsdb-common.ts";
import { pickPorts } from "./ports.ts";
import { makeTempDir, removeTempDir } from "./temp-dir.ts";
import { waitFor } from "./wait.ts";

export interface OvsdbClusterOptions {
  /** "sb" | "nb" | "ovs" or a schema path; not needed when `contents` is given. */
  readonly schema?: SchemaRef;
  /** A standalone db file whose data (and schema) seeds the cluster. */
  readonly contents?: string;
  /** Default 3. */
  readonly members?: number;
  readonly netns?: string;
  /** Tag in file names; default "raft-<schema>". */
  readonly name?: string;
  /** More ovsdb-server arguments for every member. */
  readonly extraArgs?: readonly string[];
}

export interface OvsdbClusterMember {
  /** 0-based position in `members`. */
  readonly index: number;
  readonly tcpRemote: string;
  readonly unixRemote: string;
  readonly tcpPort: number;
  /** "tcp:127.0.0.1:RAFTPORT", the member's address inside the cluster. */
  readonly raftAddress: string;
  readonly dbFile: string;
  readonly ctlSocket: string;
  readonly logFile: string;
  readonly pid: number;
  readonly daemon: Daemon;
  running(): boolean;
  stop(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  /**
   * Stop if running and start again from its own db file on the same ports; by default also waits until
   * it is connected to the cluster again (knows a leader), which needs a majority of members running.
   */
  restart(opts?: { waitConnected?: boolean }): Promise<void>;
  /** Poll until `cluster/status` says it is a member that knows the current leader. */
  waitConnected(timeoutMs?: number): Promise<void>;
  /** `ovs-appctl -t <ctlSocket> …args`. */
  ctl(...args: string[]): Promise<string>;
  /** Text of `cluster/status DBNAME`. */
  status(): Promise<string>;
  /** "leader" | "follower" | "candidate", from `cluster/status`. */
  role(): Promise<string | undefined>;
}

export interface OvsdbCluster {
  readonly dbName: string;
  readonly dir: string;
  readonly members: readonly OvsdbClusterMember[];
  /** All client TCP remotes, comma-separated (what ovn-sbctl/ovn-controller/the agent take). */
  readonly remotes: string;
  /** All unix remotes, comma-separated. */
  readonly unixRemotes: string;
  /** Index of the member that currently says "Role: leader"; throws if none does. */
  leader(): Promise<number>;
  /** Poll until a running member (not `exclude`) is leader; returns its index. */
  waitForLeader(opts?: { exclude?: number; timeoutMs?: number }): Promise<number>;
  stopAll(): Promise<void>;
}

const START_ATTEMPTS = 3;

/** Member of the cluster and knows a leader: what clients need before they can use this member. */
function connected(status: string): boolean {
  return /^Status: cluster member/m.test(status) && /^Leader: (?!unknown)\S+/m.test(status);
}

function parseRole(status: string): { role?: string; term: number } {
  const role = /^Role: (\S+)/m.exec(status)?.[1];
  const term = Number(/^Term: (\d+)/m.exec(status)?.[1] ?? 0);
  return { ...(role ? { role } : {}), term };
}

export async function startOvsdbCluster(opts: OvsdbClusterOptions): Promise<OvsdbCluster> {
  if (!opts.schema && !opts.contents) throw new Error("startOvsdbCluster: give schema or contents");
  const n = opts.members ?? 3;
  const dbName = opts.contents ? await dbFileName(opts.contents) : schemaDbName(opts.schema as SchemaRef);
  const source = opts.contents ?? schemaPath(opts.schema as SchemaRef);
  const tag =
    opts.name ?? `raft-${opts.schema && !opts.schema.includes("/") ? opts.schema : dbName.toLowerCase()}`;
  for (let attempt = 1; ; attempt++) {
    try {
      return await tryStart(opts, n, dbName, source, tag);
    } catch (err) {
      if (attempt < START_ATTEMPTS && err instanceof DaemonStartError && err.cause instanceof PortInUseError)
        continue;
      throw err;
    }
  }
}

/** A 3-member (or `opts.members`) cluster seeded with the contents of a standalone db file. */
export function clusterFromFile(
  dbFile: string,
  opts: Omit<OvsdbClusterOptions, "contents" | "schema"> = {},
): Promise<OvsdbCluster> {
  return startOvsdbCluster({ ...opts, contents: dbFile });
}

async function tryStart(
  opts: OvsdbClusterOptions,
  n: number,
  dbName: string,
  source: string,
  tag: string,
): Promise<OvsdbCluster> {
  const dir = makeTempDir(tag);
  const raftPorts = await pickPorts(n);
  const tcpPorts = await pickPorts(n);
  const raft = raftPorts.map((p) => `tcp:127.0.0.1:${p}`);
  const members: OvsdbClusterMember[] = [];
  for (let i = 0; i < n; i++) {
    const dbFile = join(dir, `m${i + 1}.db`);
    const raftAddress = raft[i] as string;
    const tcpPort = tcpPorts[i] as number;
    const raftPort = raftPorts[i] as number;
    if (i === 0) await runOk({ argv: ["ovsdb-tool", "create-cluster", dbFile, source, raftAddress] });
    else
      await runOk({ argv: ["ovsdb-tool", "join-cluster", dbFile, dbName, raftAddress, raft[0] as string] });
    const unixSocket = join(dir, `m${i + 1}.sock`);
    const daemon = new Daemon({
      name: `m${i + 1}`,
      dir,
      ...(opts.netns ? { netns: opts.netns } : {}),
      env: ovsEnv(dir),
      argv: (p) =>
        serverArgv(
          { dbFile, unixSocket, tcpPort, ...(opts.extraArgs ? { extraArgs: opts.extraArgs } : {}) },
          p,
        ),
      ready: serverReady(unixSocket, [tcpPort, raftPort]),
    });
    const status = () => appctl(daemon.ctlSocket, "cluster/status", dbName);
    const waitConnected = async (timeoutMs = 30_000) => {
      await waitFor(async () => connected(await status()), {
        what: `member m${i + 1} connected to the ${dbName} cluster`,
        timeoutMs,
        intervalMs: 100,
      });
    };
    members.push({
      index: i,
      tcpRemote: `tcp:127.0.0.1:${tcpPort}`,
      unixRemote: `unix:${unixSocket}`,
      tcpPort,
      raftAddress,
      dbFile,
      ctlSocket: daemon.ctlSocket,
      logFile: daemon.logFile,
      get pid() {
        return daemon.pid;
      },
      daemon,
      running: () => daemon.running(),
      stop: () => daemon.stop(),
      kill: (signal) => daemon.kill(signal),
      restart: async (o = {}) => {
        await daemon.restart();
        if (o.waitConnected ?? true) await waitConnected();
      },
      waitConnected,
      ctl: (...args) => appctl(daemon.ctlSocket, ...args),
      status,
      role: async () => parseRole(await status()).role,
    });
  }

  const stopAll = async () => {
    await Promise.all(members.map((m) => m.stop()));
  };
  const leader = async (exclude?: number): Promise<number> => {
    let best: { index: number; term: number } | undefined;
    for (const m of members) {
      if (m.index === exclude || !m.running()) continue;
      const st = parseRole(await m.status().catch(() => ""));
      if (st.role === "leader" && (!best || st.term > best.term)) best = { index: m.index, term: st.term };
    }
    if (!best) throw new Error(`no ${dbName} cluster member is leader`);
    return best.index;
  };
  const cluster: OvsdbCluster = {
    dbName,
    dir,
    members,
    remotes: members.map((m) => m.tcpRemote).join(","),
    unixRemotes: members.map((m) => m.unixRemote).join(","),
    leader: () => leader(),
    waitForLeader: (o = {}) =>
      waitFor(() => leader(o.exclude), {
        what: `${dbName} cluster leader${o.exclude !== undefined ? ` other than member ${o.exclude}` : ""}`,
        timeoutMs: o.timeoutMs ?? 30_000,
        intervalMs: 200,
      }),
    stopAll,
  };

  try {
    await Promise.all(members.map((m) => m.daemon.start()));
    await cluster.waitForLeader();
    await Promise.all(members.map((m) => m.waitConnected()));
  } catch (err) {
    const tails = members.map((m) => m.daemon.logTail(15)).join("\n");
    await stopAll().catch(() => {});
    removeTempDir(dir);
    if (err instanceof DaemonStartError) throw err;
    throw new Error(`${(err as Error).message}\n${tails}`, { cause: err });
  }
  return cluster;
}
