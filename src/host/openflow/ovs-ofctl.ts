/**
 * `ovs-ofctl` and `ovs-vsctl` through the exec seam. A non-default OVS run directory is reached with
 * the bridge's management socket (`unix:<rundir>/<bridge>.mgmt`) and `OVS_RUNDIR` in the
 * environment; `netns` is passed through for completeness.
 *
 * Port names: OpenFlow carries at most 15 characters of a port name, so ovs-ofctl cannot resolve
 * OVN's long patch port names (`patch-provnet-<uuid>-to-br-int`: "invalid or unknown port for
 * in_port"). Names are resolved to OpenFlow port numbers from OVSDB (`Interface.ofport`, as upstream
 * does), and checked against the bridge's own port list.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type Exec, type ExecResult, run } from "../exec.ts";
import { cookieText, type ObservedFlow, type OfPort, parseDumpFlows, parsePortsDesc } from "./flow-text.ts";

export interface OvsOptions {
  readonly exec?: Exec;
  readonly netns?: string;
  /** OVS run directory holding `<bridge>.mgmt` and `db.sock`; default: ovs-ofctl's own (/var/run/openvswitch). */
  readonly rundir?: string;
  /** OVSDB for port lookups (`ovs-vsctl --db`); default `unix:<rundir>/db.sock` when rundir is set. */
  readonly db?: string;
  readonly timeoutMs?: number;
  /** Words before `ovs-ofctl` / `ovs-vsctl` (config `ovs_command_prefix`). */
  readonly commandPrefix?: readonly string[];
}

/** An ovs-ofctl/ovs-vsctl failure; `code` is stable for callers and tests. */
export class OvsCommandError extends Error {
  readonly code: "OVS_BRIDGE_MISSING" | "OVS_COMMAND";
  constructor(code: "OVS_BRIDGE_MISSING" | "OVS_COMMAND", message: string) {
    super(message);
    this.code = code;
  }
}

const MISSING = /is not a bridge or a socket|No such file or directory|Connection refused/;

export class OvsOfctl {
  private readonly exec: Exec;

  constructor(private readonly opts: OvsOptions = {}) {
    this.exec = opts.exec ?? run;
  }

  /** What ovs-ofctl is told to talk to for `bridge`. */
  target(bridge: string): string {
    return this.opts.rundir ? `unix:${join(this.opts.rundir, `${bridge}.mgmt`)}` : bridge;
  }

  private async call(
    bridge: string | undefined,
    argv: readonly string[],
    stdin?: string,
  ): Promise<ExecResult> {
    if (bridge !== undefined && this.opts.rundir && !existsSync(join(this.opts.rundir, `${bridge}.mgmt`)))
      throw new OvsCommandError(
        "OVS_BRIDGE_MISSING",
        `bridge ${bridge} not found (no ${bridge}.mgmt in ${this.opts.rundir})`,
      );
    const res = await this.exec({
      argv: [...(this.opts.commandPrefix ?? []), ...argv],
      ...(stdin !== undefined ? { stdin } : {}),
      ...(this.opts.netns !== undefined ? { netns: this.opts.netns } : {}),
      ...(this.opts.rundir ? { env: { OVS_RUNDIR: this.opts.rundir } } : {}),
      timeoutMs: this.opts.timeoutMs ?? 30_000,
    });
    if (res.code !== 0) {
      const msg = `${argv.join(" ")} exited ${res.code}: ${res.stderr.trim().slice(0, 1000)}`;
      throw new OvsCommandError(
        bridge !== undefined && MISSING.test(res.stderr) ? "OVS_BRIDGE_MISSING" : "OVS_COMMAND",
        msg,
      );
    }
    return res;
  }

  /** The bridge's flows with exactly this cookie (port numbers, no statistics). */
  async dumpFlows(bridge: string, cookie: number): Promise<ObservedFlow[]> {
    const res = await this.call(bridge, [
      "ovs-ofctl",
      "--no-stats",
      "--no-names",
      "dump-flows",
      this.target(bridge),
      `cookie=${cookieText(cookie)}/-1`,
    ]);
    return parseDumpFlows(res.stdout).filter((f) => f.cookie === BigInt(cookie));
  }

  async portsDesc(bridge: string): Promise<OfPort[]> {
    const res = await this.call(bridge, ["ovs-ofctl", "--no-names", "dump-ports-desc", this.target(bridge)]);
    return parsePortsDesc(res.stdout);
  }

  /**
   * Apply flow_mod lines (`add …` / `delete_strict …`) in one ovs-ofctl process, as one OpenFlow
   * bundle (atomic: a half-applied batch never forwards traffic). A bridge that does not allow
   * OpenFlow 1.4 gets the same lines without the bundle, still one process.
   */
  async applyBatch(bridge: string, lines: readonly string[]): Promise<void> {
    const stdin = `${lines.join("\n")}\n`;
    try {
      await this.call(bridge, ["ovs-ofctl", "--bundle", "add-flows", this.target(bridge), "-"], stdin);
    } catch (e) {
      if (!(e instanceof OvsCommandError) || !/version negotiation|bundle|OpenFlow ?1[.]?4/i.test(e.message))
        throw e;
      await this.call(bridge, ["ovs-ofctl", "add-flows", this.target(bridge), "-"], stdin);
    }
  }

  /** OVSDB `Interface.ofport` by interface name (interfaces without a port number yet are left out). */
  async interfaceOfports(): Promise<Map<string, number>> {
    const db = this.opts.db ?? (this.opts.rundir ? `unix:${join(this.opts.rundir, "db.sock")}` : undefined);
    const res = await this.call(undefined, [
      "ovs-vsctl",
      ...(db ? [`--db=${db}`] : []),
      "--format=json",
      "--columns=name,ofport",
      "list",
      "Interface",
    ]);
    return parseInterfaceOfports(res.stdout);
  }
}

/** `ovs-vsctl --format=json --columns=name,ofport list Interface`; ofport is `["set",[]]` until assigned. */
export function parseInterfaceOfports(json: string): Map<string, number> {
  const out = new Map<string, number>();
  const doc = JSON.parse(json) as { headings?: unknown; data?: unknown };
  if (!Array.isArray(doc.headings) || !Array.isArray(doc.data)) return out;
  const iName = doc.headings.indexOf("name");
  const iPort = doc.headings.indexOf("ofport");
  for (const row of doc.data) {
    if (!Array.isArray(row)) continue;
    const name = row[iName];
    const ofport = row[iPort];
    if (typeof name === "string" && typeof ofport === "number" && ofport > 0) out.set(name, ofport);
  }
  return out;
}
