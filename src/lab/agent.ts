/**
 * The agent on every lab host: an upstream-style INI config per host (upstream option names; the
 * seed's `vrf` announce layout where the kernel has VRF and dummy devices, else `table`), started
 * inside the host's namespace with its PID recorded. While `ovn-bgp agent` is still a placeholder (exit 3, "not implemented"), `up` falls back
 * to the manual exposure and says so.
 */

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { run } from "../host/exec.ts";
import type { LabNames } from "./names.ts";
import { centralPaths, hostDbSock, hostEnv } from "./ovn.ts";
import { agentPlatformConfig, hostPath, type Platform } from "./platform.ts";
import { alive, spawnBackground, stopPids } from "./proc.ts";
import type { StateRecorder } from "./state.ts";
import { ANNOUNCE_TABLE, BREX_TABLE, fabricNode, HOSTS, RULE_PRIORITY } from "./topology.ts";

export const AGENT_NOT_IMPLEMENTED_EXIT = 3;

const here = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(here, "..", "..");

/**
 * How to run `ovn-bgp`: from source (tsx) when the lab itself runs from source, so the agent is the
 * same revision as the lab; from the built launcher otherwise.
 */
export function agentCommand(): string[] | undefined {
  const fromSource = import.meta.url.endsWith(".ts");
  const src = join(REPO_ROOT, "src", "cli", "main.ts");
  if (fromSource && existsSync(src)) return [process.execPath, "--import", "tsx", src];
  const bin = join(REPO_ROOT, "bin", "ovn-bgp.js");
  if (existsSync(join(REPO_ROOT, "dist", "cli", "main.js"))) return [process.execPath, bin];
  return undefined;
}

export const agentConfigPath = (names: LabNames, host: string) => join(names.dir(host), "ovn-bgp-agent.ini");
export const agentLogPath = (names: LabNames, host: string) => join(names.dir(host), "ovn-bgp-agent.log");

export type RuleLayout = "per-ip" | "per-bridge";
/** `announce_via`: the seed's dummy in a VRF, or host routes in a table FRR imports. */
export type AnnounceLayout = "vrf" | "table";

export function renderAgentConfig(
  names: LabNames,
  host: string,
  ruleLayout: RuleLayout = "per-ip",
  announce: AnnounceLayout = "table",
  platform: Platform = "bookworm",
): string {
  const n = fabricNode(host);
  return [
    "# Written by `ovn-bgp lab up`; upstream ovn-bgp-agent option names.",
    "[DEFAULT]",
    `bgp_AS = ${n.asn}`,
    `bgp_router_id = ${n.lo4}`,
    "expose_tenant_networks = True",
    `announce_via = ${announce}`,
    // The table layout's announce table, or the VRF's table (bgp_nic/bgp_vrf keep upstream's names).
    `bgp_vrf_table_id = ${ANNOUNCE_TABLE}`,
    `bridge_table_base = ${BREX_TABLE}`,
    `ip_rule_priority = ${RULE_PRIORITY}`,
    `ip_rule_layout = ${ruleLayout}`,
    `ovsdb_connection = unix:${hostDbSock(names, host)}`,
    `frr_vty_socket_dir = ${names.frrSockDir(host)}`,
    // The namespaces share /etc: keep each agent's table names in its own run dir.
    `rt_tables_dropin = ${join(names.dir(host), "rt_tables.conf")}`,
    // `ovn-bgp status --control-socket <this>` reaches this host's agent.
    `control_socket = ${join(names.dir(host), "agent.ctl")}`,
    // The platform's vtysh / ovs-ofctl (docs/PLATFORMS.md); none on the host's own packages.
    ...agentPlatformConfig(platform),
    "",
    "[ovn]",
    `ovn_sb_connection = unix:${centralPaths(names).sbSock}`,
    "",
  ].join("\n");
}

export type AgentStart =
  | { readonly ok: true; readonly pids: Record<string, number> }
  | { readonly ok: false; readonly notImplemented: boolean; readonly reason: string };

function tail(path: string, lines = 15): string {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/**
 * Start the agent on every host and watch them for `settleMs`: an agent that exits in that time is a
 * failed start (exit 3 + "not implemented" means the command is still a placeholder).
 */
export async function startAgents(
  names: LabNames,
  rec: StateRecorder,
  ruleLayout: RuleLayout = "per-ip",
  announce: AnnounceLayout = "table",
  settleMs = 3000,
): Promise<AgentStart> {
  const cmd = agentCommand();
  if (!cmd)
    return {
      ok: false,
      notImplemented: true,
      reason: "no ovn-bgp CLI (src/cli/main.ts or dist/) in this checkout",
    };
  const pids: Record<string, number> = {};
  const exits = new Map<string, number | null>();
  for (const host of HOSTS) {
    writeFileSync(
      agentConfigPath(names, host),
      renderAgentConfig(names, host, ruleLayout, announce, rec.state.platform),
    );
    const pid = spawnBackground(rec, {
      name: `${host}/ovn-bgp-agent`,
      argv: [...cmd, "agent", "--config-file", agentConfigPath(names, host)],
      logFile: agentLogPath(names, host),
      netns: names.ns(host),
      // The agent finds the platform's tools through its config, not through our PATH.
      env: { ...hostEnv(names, host), PATH: hostPath() },
      cwd: REPO_ROOT,
    });
    pids[host] = pid;
  }
  const deadline = Date.now() + settleMs;
  while (Date.now() < deadline) {
    for (const [host, pid] of Object.entries(pids))
      if (!alive(pid) && !exits.has(host)) exits.set(host, null);
    if (exits.size > 0) break;
    await delay(100);
  }
  if (exits.size === 0) return { ok: true, pids };
  await stopPids(Object.values(pids));
  const [host] = [...exits.keys()];
  const log = tail(agentLogPath(names, host ?? HOSTS[0]));
  const notImplemented = /not implemented/i.test(log);
  return {
    ok: false,
    notImplemented,
    reason: `the agent on ${host} exited within ${settleMs / 1000} s:\n${log}`,
  };
}

/** A setting the lab's agents were started with, read back from a host's config. */
function configured<T extends string>(
  names: LabNames,
  host: string,
  option: string,
  values: readonly T[],
  dflt: T,
): T {
  try {
    const text = readFileSync(agentConfigPath(names, host), "utf8");
    const m = new RegExp(`^${option} = (\\S+)$`, "m").exec(text);
    return values.find((v) => v === m?.[1]) ?? dflt;
  } catch {
    return dflt;
  }
}

export const labRuleLayout = (names: LabNames, host: string): RuleLayout =>
  configured(names, host, "ip_rule_layout", ["per-ip", "per-bridge"], "per-ip");

export const labAnnounceLayout = (names: LabNames, host: string): AnnounceLayout =>
  configured(names, host, "announce_via", ["vrf", "table"], "table");

/** Whether this kernel can create VRF and dummy devices (tried in the given namespace, then removed). */
export async function kernelHasVrf(netns: string): Promise<boolean> {
  const probe = "obvrfprobe";
  for (const kind of [["vrf", "table", "4000000"], ["dummy"]]) {
    const res = await run({ argv: ["ip", "-n", netns, "link", "add", probe, "type", ...kind] });
    if (res.code !== 0) return false;
    await run({ argv: ["ip", "-n", netns, "link", "del", probe] });
  }
  return true;
}
