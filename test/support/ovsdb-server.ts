/**
 * A real standalone ovsdb-server for integration tests.
 *
 *   const sb = await startOvsdbServer({ schema: "sb", tcp: true });   // "sb" | "nb" | "ovs" | schema path
 *   await sbctl(sb.unixRemote, "chassis-add", "ch1", "geneve", "127.0.0.1");
 *   sb.tcpRemote;                 // "tcp:127.0.0.1:PORT" (only with tcp: true)
 *   await sb.kill("SIGKILL"); await sb.restart();  // same db file, same ports, same unix socket
 *   await sb.ctl("ovsdb-server/list-remotes");     // ovs-appctl -t <its unixctl socket> …
 *   await sb.stop();              // also done automatically at process exit
 *
 * Options: `ssl: true` makes certificates (`makeCerts`) and adds `sslRemote` ("ssl:127.0.0.1:PORT") and
 * `certs` (use `{ remote: sb.sslRemote, certs: sb.certs }` as the db-ctl target); `netns` runs the server
 * inside a namespace (its TCP ports are then on that namespace's loopback; the unix socket works from
 * anywhere); `contents` serves a copy of an existing standalone db file instead of an empty database.
 * Everything listens on 127.0.0.1 or unix sockets only, with files in a RUN_PREFIX temp dir.
 *
 * RAFT clusters (`startOvsdbCluster`, `clusterFromFile`) live in `ovsdb-cluster.ts` and the CLI
 * helpers (`sbctl`, `nbctl`, `vsctl`, `ovsdbClient`, `appctl`) in `db-ctl.ts`; both are re-exported here.
 */
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { runOk } from "../../src/host/exec.ts";
import { type Certs, makeCerts } from "./certs.ts";
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
import { pickPort } from "./ports.ts";
import { makeTempDir } from "./temp-dir.ts";

export { type Certs, makeCerts } from "./certs.ts";
export { appctl, type DbTarget, nbctl, ovsdbClient, sbctl, vsctl } from "./db-ctl.ts";
export {
  clusterFromFile,
  type OvsdbCluster,
  type OvsdbClusterMember,
  type OvsdbClusterOptions,
  startOvsdbCluster,
} from "./ovsdb-cluster.ts";
export type { SchemaRef } from "./ovsdb-common.ts";

export interface OvsdbServerOptions {
  /** "sb" | "nb" | "ovs" or a path to an .ovsschema; ignored for the contents when `contents` is given. */
  readonly schema: SchemaRef;
  /** Also listen on tcp:127.0.0.1:PORT (a free port picked for this server). */
  readonly tcp?: boolean;
  /** Also listen on ssl:127.0.0.1:PORT, with fresh certificates. */
  readonly ssl?: boolean;
  /** Run inside this network namespace. */
  readonly netns?: string;
  /** Serve a copy of this standalone db file instead of a new empty database. */
  readonly contents?: string;
  /** Tag in file names and errors; default "ovsdb-<schema>". */
  readonly name?: string;
  /** More ovsdb-server arguments. */
  readonly extraArgs?: readonly string[];
}

export interface OvsdbServer {
  /** "unix:/tmp/…/db.sock" */
  readonly unixRemote: string;
  readonly tcpRemote?: string;
  readonly sslRemote?: string;
  readonly tcpPort?: number;
  readonly sslPort?: number;
  readonly certs?: Certs;
  readonly dbFile: string;
  /** OVN_Southbound, OVN_Northbound, Open_vSwitch, … */
  readonly dbName: string;
  readonly dir: string;
  readonly ctlSocket: string;
  readonly logFile: string;
  /** PID of the current incarnation (changes on restart). */
  readonly pid: number;
  readonly daemon: Daemon;
  running(): boolean;
  stop(): Promise<void>;
  /** Send a signal (default SIGKILL); terminating signals wait for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Stop if running, start again on the same db file, socket and ports. */
  restart(): Promise<void>;
  /** `ovs-appctl -t <ctlSocket> …args` → stdout. */
  ctl(...args: string[]): Promise<string>;
  logTail(lines?: number): string;
}

const START_ATTEMPTS = 3;

export async function startOvsdbServer(opts: OvsdbServerOptions): Promise<OvsdbServer> {
  const tag = opts.name ?? `ovsdb-${opts.schema.includes("/") ? "db" : opts.schema}`;
  const dir = makeTempDir(tag);
  const dbFile = join(dir, "db");
  if (opts.contents) copyFileSync(opts.contents, dbFile);
  else await runOk({ argv: ["ovsdb-tool", "create", dbFile, schemaPath(opts.schema)] });
  const dbName = opts.contents ? await dbFileName(dbFile) : schemaDbName(opts.schema);
  const certs = opts.ssl ? await makeCerts(dir) : undefined;
  const unixSocket = join(dir, "db.sock");

  // Ports are picked up front so a restart reuses them; a collision with a parallel test is retried.
  for (let attempt = 1; ; attempt++) {
    const tcpPort = opts.tcp ? await pickPort() : undefined;
    const sslPort = opts.ssl ? await pickPort() : undefined;
    const ports = [tcpPort, sslPort].filter((p): p is number => p !== undefined);
    const daemon = new Daemon({
      name: attempt === 1 ? tag : `${tag}-try${attempt}`,
      dir,
      ...(opts.netns ? { netns: opts.netns } : {}),
      env: ovsEnv(dir),
      argv: (p) =>
        serverArgv(
          {
            dbFile,
            unixSocket,
            ...(tcpPort !== undefined ? { tcpPort } : {}),
            ...(sslPort !== undefined ? { sslPort } : {}),
            ...(certs ? { certs } : {}),
            ...(opts.extraArgs ? { extraArgs: opts.extraArgs } : {}),
          },
          p,
        ),
      ready: serverReady(unixSocket, ports),
    });
    try {
      await daemon.start();
    } catch (err) {
      if (attempt < START_ATTEMPTS && err instanceof DaemonStartError && err.cause instanceof PortInUseError)
        continue;
      throw err;
    }
    return {
      unixRemote: `unix:${unixSocket}`,
      ...(tcpPort !== undefined ? { tcpRemote: `tcp:127.0.0.1:${tcpPort}`, tcpPort } : {}),
      ...(sslPort !== undefined ? { sslRemote: `ssl:127.0.0.1:${sslPort}`, sslPort } : {}),
      ...(certs ? { certs } : {}),
      dbFile,
      dbName,
      dir,
      ctlSocket: daemon.ctlSocket,
      logFile: daemon.logFile,
      get pid() {
        return daemon.pid;
      },
      daemon,
      running: () => daemon.running(),
      stop: () => daemon.stop(),
      kill: (signal) => daemon.kill(signal),
      restart: () => daemon.restart(),
      ctl: (...args) => appctl(daemon.ctlSocket, ...args),
      logTail: (lines) => daemon.logTail(lines),
    };
  }
}
