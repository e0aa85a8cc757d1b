/**
 * What the planner knows about this hypervisor, from its local Open_vSwitch DB: the chassis
 * name (external_ids:system-id, which is the SB Chassis.name), the bridge mappings in their
 * written order (the order fixes each bridge's routing table id and helper addresses), and per
 * bridge its MAC and patch ports (for the MAC-rewrite flows).
 */
import type { PlanProblem } from "./desired-state.ts";

export interface BridgeMapping {
  /** Provider network name (the localnet port's options:network_name). */
  readonly network: string;
  readonly bridge: string;
}

export interface LocalBridge {
  readonly mac?: string;
  /** OVS port names of type patch on that bridge, e.g. patch-provnet-…-to-br-int. */
  readonly patchPorts: readonly string[];
}

/** One of the host's own addresses (on a device the agent does not manage), with its network. */
export interface HostNetwork {
  /** "10.255.1.1/30" as the kernel lists it. */
  readonly cidr: string;
  readonly dev: string;
}

export interface LocalFacts {
  readonly chassisName: string;
  /**
   * The host's own addresses and connected networks (underlay, loopback, management), read from
   * the kernel: nothing that overlaps them is exposed (it would steer the host's own traffic, its
   * BGP sessions included, into a provider bridge). Absent: not known (tests, `plan` off-host).
   */
  readonly hostNetworks?: readonly HostNetwork[];
  /** In mapping order, from external_ids:ovn-bridge-mappings "public:br-ex,ext2:br-ex2". */
  readonly bridgeMappings: readonly BridgeMapping[];
  readonly bridges: ReadonlyMap<string, LocalBridge>;
  /**
   * Routing table ids to use for these bridges instead of `bridge_table_base + i` (taken over from
   * the Python agent's rt_tables entries with adopt_upstream_state). Absent: the base numbering.
   */
  readonly bridgeTables?: ReadonlyMap<string, number>;
}

export interface ParsedMappings {
  readonly mappings: readonly BridgeMapping[];
  readonly problems: readonly PlanProblem[];
}

/**
 * Parse ovn-bridge-mappings as ovn-controller does: comma-separated "network:bridge" pairs,
 * surrounding whitespace ignored. A network mapped twice keeps its first bridge (ovn-controller
 * refuses the duplicate); malformed pairs are reported and skipped.
 */
export function parseBridgeMappings(text: string | undefined): ParsedMappings {
  const mappings: BridgeMapping[] = [];
  const problems: PlanProblem[] = [];
  const seen = new Set<string>();
  for (const raw of (text ?? "").split(",")) {
    const item = raw.trim();
    if (!item) continue;
    const parts = item.split(":");
    const network = parts[0]?.trim() ?? "";
    const bridge = parts[1]?.trim() ?? "";
    if (parts.length !== 2 || !network || !bridge) {
      problems.push({
        table: "Open_vSwitch",
        object: "ovn-bridge-mappings",
        message: `malformed mapping ${JSON.stringify(item.slice(0, 60))}`,
      });
      continue;
    }
    if (seen.has(network)) {
      problems.push({
        table: "Open_vSwitch",
        object: "ovn-bridge-mappings",
        message: `network ${JSON.stringify(network)} mapped twice; keeping the first bridge`,
      });
      continue;
    }
    seen.add(network);
    mappings.push({ network, bridge });
  }
  return { mappings, problems };
}
