/** The planner's LocalFacts from the local Open_vSwitch facts (the one place the two meet). */
import type { OvsFacts } from "../ovs/ovs-facts.ts";
import { type HostNetwork, type LocalFacts, parseBridgeMappings } from "../plan/local-facts.ts";

export function toLocalFacts(
  chassisName: string,
  ovs: OvsFacts,
  hostNetworks?: readonly HostNetwork[],
): LocalFacts {
  const bridges = new Map<string, { mac?: string; patchPorts: readonly string[] }>();
  for (const [name, b] of ovs.bridges)
    bridges.set(name, { ...(b.mac ? { mac: b.mac } : {}), patchPorts: b.patchPorts });
  return {
    chassisName,
    bridgeMappings: parseBridgeMappings(ovs.bridgeMappings).mappings,
    bridges,
    ...(hostNetworks ? { hostNetworks } : {}),
  };
}
