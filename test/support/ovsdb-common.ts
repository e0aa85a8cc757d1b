/**
 * Pieces shared by the standalone (`ovsdb-server.ts`) and clustered (`ovsdb-cluster.ts`) test servers:
 * schema short names, the database name inside a schema or db file, the ovsdb-server command line, and
 * the readiness probe (unix socket accepts + every TCP port we asked for is held by *this* PID).
 */
import { readFileSync } from "node:fs";
import { runOk } from "../../src/host/exec.ts";
import { platformFile } from "../../src/lab/platform.ts";
import type { Certs } from "./certs.ts";
import type { Daemon } from "./daemon.ts";
import { PLATFORM } from "./netns.ts";
import { tcpPortsOwnedBy, unixSocketAccepts } from "./ports.ts";
import { AbortWait } from "./wait.ts";

/** "sb" | "nb" | "ovs", or a path to an .ovsschema file. */
export type SchemaRef = "sb" | "nb" | "ovs" | (string & {});

const SCHEMAS: Readonly<Record<string, string>> = {
  sb: "/usr/share/ovn/ovn-sb.ovsschema",
  nb: "/usr/share/ovn/ovn-nb.ovsschema",
  ovs: "/usr/share/openvswitch/vswitch.ovsschema",
};

export function schemaPath(schema: SchemaRef): string {
  return SCHEMAS[schema] ?? schema;
}

/** The database name a schema file declares (OVN_Southbound, OVN_Northbound, Open_vSwitch, …). */
export function schemaDbName(schema: SchemaRef): string {
  // The tools run inside the platform's root, where the path names the platform's own schema.
  const parsed = JSON.parse(readFileSync(platformFile(PLATFORM, schemaPath(schema)), "utf8")) as {
    name?: unknown;
  };
  if (typeof parsed.name !== "string") throw new Error(`${schemaPath(schema)}: no "name"`);
  return parsed.name;
}

/** The database name stored in a db file (standalone or clustered). */
export async function dbFileName(dbFile: string): Promise<string> {
  return (await runOk({ argv: ["ovsdb-tool", "db-name", dbFile] })).stdout.trim();
}

/** Environment for OVS/OVN daemons: default run/log/db dirs point into the test's own dir. */
export function ovsEnv(dir: string): Record<string, string> {
  return {
    OVS_RUNDIR: dir,
    OVS_LOGDIR: dir,
    OVS_DBDIR: dir,
    OVN_RUNDIR: dir,
    OVN_LOGDIR: dir,
    OVN_DBDIR: dir,
  };
}

export interface ServerArgs {
  readonly dbFile: string;
  readonly unixSocket: string;
  readonly tcpPort?: number;
  readonly sslPort?: number;
  readonly certs?: Certs;
  readonly extraArgs?: readonly string[];
}

/** ovsdb-server argv (without the --pidfile/--log-file/--unixctl the Daemon paths add). */
export function serverArgv(a: ServerArgs, d: Pick<Daemon, "pidFile" | "logFile" | "ctlSocket">): string[] {
  const argv = [
    "ovsdb-server",
    a.dbFile,
    `--remote=punix:${a.unixSocket}`,
    `--unixctl=${d.ctlSocket}`,
    `--pidfile=${d.pidFile}`,
    `--log-file=${d.logFile}`,
    "-vconsole:off",
  ];
  if (a.tcpPort !== undefined) argv.push(`--remote=ptcp:${a.tcpPort}:127.0.0.1`);
  if (a.sslPort !== undefined) {
    if (!a.certs) throw new Error("ssl port without certs");
    argv.push(
      `--remote=pssl:${a.sslPort}:127.0.0.1`,
      `--private-key=${a.certs.serverKey}`,
      `--certificate=${a.certs.serverCert}`,
      `--ca-cert=${a.certs.caCert}`,
    );
  }
  argv.push(...(a.extraArgs ?? []));
  return argv;
}

export class PortInUseError extends Error {
  readonly code = "PORT_IN_USE";
}

/**
 * Ready when the unix socket accepts and `ports` are all listened on by the daemon's own PID. A port
 * someone else took makes ovsdb-server log "Address already in use": fail fast with PortInUseError.
 */
export function serverReady(unixSocket: string, ports: readonly number[]): (d: Daemon) => Promise<boolean> {
  return async (d) => {
    if (/Address already in use/.test(d.logSinceStart()))
      throw new AbortWait(new PortInUseError("a port is in use"));
    if (!(await unixSocketAccepts(unixSocket))) return false;
    if (ports.length === 0) return true;
    const owned = await tcpPortsOwnedBy(d.pid, d.netns);
    return ports.every((p) => owned.has(p));
  };
}
