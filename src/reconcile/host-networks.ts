/**
 * The host's own addresses and connected networks (LocalFacts.hostNetworks): what no exposure may
 * overlap. Read with one `ip -j -d address show`, leaving out the devices the agent manages (the
 * provider bridges and their VLAN devices, bgp_nic, bgp_vrf and what is enslaved to it, and every
 * device carrying the agent's alias, such as the dummy of a bgp_nic that was just renamed) and
 * link-scoped addresses. If the read fails, nothing is known and nothing is refused on that ground
 * (the prefix floor still applies); the failure is logged by the caller.
 */
import type { AgentConfig } from "../config/agent-config.ts";
import { type Exec, run } from "../host/exec.ts";
import { parseAddresses } from "../host/kernel/address.ts";
import { OWNER_ALIAS } from "../host/kernel/link.ts";
import type { HostNetwork, LocalFacts } from "../plan/local-facts.ts";

export async function readHostNetworks(
  config: AgentConfig,
  facts: Pick<LocalFacts, "bridgeMappings">,
  opts: { exec?: Exec; netns?: string } = {},
): Promise<HostNetwork[]> {
  const exec = opts.exec ?? run;
  const res = await exec({
    argv: ["ip", "-j", "-d", "address", "show"],
    ...(opts.netns ? { netns: opts.netns } : {}),
  });
  if (res.code !== 0) throw new Error(`ip -j address show: ${res.stderr.trim() || `exit ${res.code}`}`);
  const links = JSON.parse(res.stdout || "[]") as Array<{
    ifname?: string;
    master?: string;
    ifalias?: string;
  }>;
  const ours = new Set(links.filter((l) => l.ifalias === OWNER_ALIAS).map((l) => l.ifname ?? ""));
  const bridges = facts.bridgeMappings.map((m) => m.bridge);
  const managed = (dev: string, master: string | undefined) =>
    ours.has(dev) ||
    (master !== undefined && ours.has(master)) ||
    bridges.some((b) => dev === b || dev.startsWith(`${b}.`)) ||
    dev === config.bgp_nic ||
    dev === config.bgp_vrf ||
    master === config.bgp_vrf;
  const masters = new Map(links.map((l) => [l.ifname ?? "", l.master]));
  return parseAddresses(links)
    .filter((a) => a.scope !== "link" && !managed(a.dev, masters.get(a.dev)))
    .map((a) => ({ cidr: a.cidr, dev: a.dev }));
}
