/**
 * The OVN/OVS command-line clients, pointed at a test database:
 *
 *   await sbctl(sb.unixRemote, "chassis-add", "ch1", "geneve", "127.0.0.1");
 *   await nbctl(central.nbRemote, "ls-add", "sw0", "--", "lsp-add", "sw0", "p1");
 *   await vsctl(ovs.unixRemote, "add-br", "br-int");                       // --no-wait
 *   await sbctl({ remote: sb.sslRemote!, certs: sb.certs }, "show");       // SSL
 *   await ovsdbClient(sb.unixRemote, "list-dbs");
 *   await appctl(sb.ctlSocket, "ovsdb-server/list-remotes");
 *
 * Each returns stdout and throws `ExecError` (whose message holds stderr) on a non-zero exit. A target is
 * a remote string ("unix:…", "tcp:127.0.0.1:P", or several joined by commas) or `{ remote, certs?, netns? }`
 * (`netns`: run the client inside that namespace, for tcp remotes of a server in a namespace).
 * Clients give up after 20 s (`--timeout=20`) rather than hang a test on an unreachable database.
 */
import { runOk } from "../../src/host/exec.ts";
import type { Certs } from "./certs.ts";

export type DbTarget = string | { readonly remote: string; readonly certs?: Certs; readonly netns?: string };

const CLIENT_TIMEOUT_S = 20;

function parts(target: DbTarget): { remote: string; ssl: string[]; netns?: string } {
  if (typeof target === "string") return { remote: target, ssl: [] };
  const ssl = target.certs
    ? [
        `--private-key=${target.certs.clientKey}`,
        `--certificate=${target.certs.clientCert}`,
        `--ca-cert=${target.certs.caCert}`,
      ]
    : [];
  return { remote: target.remote, ssl, ...(target.netns ? { netns: target.netns } : {}) };
}

async function dbTool(tool: string, extra: string[], target: DbTarget, args: string[]): Promise<string> {
  const { remote, ssl, netns } = parts(target);
  const argv = [tool, `--db=${remote}`, `--timeout=${CLIENT_TIMEOUT_S}`, ...extra, ...ssl, ...args];
  const res = await runOk({ argv, ...(netns ? { netns } : {}), timeoutMs: (CLIENT_TIMEOUT_S + 10) * 1000 });
  return res.stdout;
}

/** `ovn-sbctl --db=REMOTE …args` → stdout. */
export function sbctl(target: DbTarget, ...args: string[]): Promise<string> {
  return dbTool("ovn-sbctl", [], target, args);
}

/** `ovn-nbctl --db=REMOTE …args` → stdout. */
export function nbctl(target: DbTarget, ...args: string[]): Promise<string> {
  return dbTool("ovn-nbctl", [], target, args);
}

/** `ovs-vsctl --db=REMOTE --no-wait …args` → stdout (no ovs-vswitchd needed). */
export function vsctl(target: DbTarget, ...args: string[]): Promise<string> {
  return dbTool("ovs-vsctl", ["--no-wait"], target, args);
}

/**
 * `ovsdb-client [ssl options] COMMAND REMOTE …rest` → stdout, e.g. `ovsdbClient(t, "list-dbs")` or
 * `ovsdbClient(t, "dump", "OVN_Southbound", "Chassis")`.
 */
export async function ovsdbClient(target: DbTarget, command: string, ...rest: string[]): Promise<string> {
  const { remote, ssl, netns } = parts(target);
  const argv = ["ovsdb-client", `--timeout=${CLIENT_TIMEOUT_S}`, ...ssl, command, remote, ...rest];
  const res = await runOk({ argv, ...(netns ? { netns } : {}), timeoutMs: (CLIENT_TIMEOUT_S + 10) * 1000 });
  return res.stdout;
}

/** `ovs-appctl -t CTL_SOCKET …args` → stdout (unixctl sockets work across namespaces). */
export async function appctl(ctlSocket: string, ...args: string[]): Promise<string> {
  const res = await runOk({
    argv: ["ovs-appctl", `--timeout=${CLIENT_TIMEOUT_S}`, "-t", ctlSocket, ...args],
    timeoutMs: (CLIENT_TIMEOUT_S + 10) * 1000,
  });
  return res.stdout;
}
