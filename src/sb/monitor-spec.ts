/**
 * What the agent replicates of the OVN Southbound DB: the tables and columns it reads, and the
 * Port_Binding monitor condition that keeps a hypervisor from pulling the whole table.
 *
 * Port_Binding rows the planner needs on one chassis:
 *  - every localnet, patch, l3gateway and chassisredirect port (the topology: few rows per router
 *    or provider network, not per VM),
 *  - ports bound to this chassis (provider VMs and distributed-FIP VMs here),
 *  - ports on datapaths whose tenant VMs this chassis exposes (tenant networks behind a local
 *    cr-lrp), added as those datapaths become known.
 * Virtual ports are matched through their type; everything else is left on the server.
 */
import type { TableMonitor } from "../ovsdb/client.ts";

export const SB_DATABASE = "OVN_Southbound";

export const SB_TABLES: Readonly<Record<string, TableMonitor>> = {
  Port_Binding: {
    columns: [
      "logical_port",
      "type",
      "gateway_chassis",
      "ha_chassis_group",
      "options",
      "datapath",
      "tunnel_key",
      "parent_port",
      "tag",
      "virtual_parent",
      "chassis",
      "additional_chassis",
      "mac",
      "nat_addresses",
      "up",
      "external_ids",
      "requested_chassis",
      "requested_additional_chassis",
    ],
  },
  Chassis: { columns: ["name", "hostname", "encaps", "external_ids", "other_config"] },
  Chassis_Private: { columns: ["name", "chassis", "external_ids"] },
  Datapath_Binding: { columns: ["tunnel_key", "load_balancers", "external_ids"] },
  Gateway_Chassis: { columns: ["name", "chassis", "priority", "external_ids", "options"] },
  HA_Chassis_Group: { columns: ["name", "ha_chassis", "ref_chassis", "external_ids"] },
  HA_Chassis: { columns: ["chassis", "priority", "external_ids"] },
  Load_Balancer: {
    // ls_/lr_datapath_group: OVN >= 23.09 (a column the server lacks is dropped with a warning).
    columns: [
      "name",
      "vips",
      "protocol",
      "datapaths",
      "datapath_group",
      "ls_datapath_group",
      "lr_datapath_group",
      "options",
      "external_ids",
    ],
  },
  Logical_DP_Group: { columns: ["datapaths"] },
};

/** Port types that describe topology and are always replicated. */
export const TOPOLOGY_PORT_TYPES = ["localnet", "patch", "l3gateway", "chassisredirect", "virtual"] as const;

/**
 * The Port_Binding `where` clauses (OR-ed) for one chassis. `chassisUuid` is the local Chassis
 * row's uuid (unknown before the Chassis table is read: then only topology is requested);
 * `datapathUuids` are the tenant datapaths whose VM ports this chassis exposes.
 */
export function portBindingCondition(
  chassisUuid: string | undefined,
  datapathUuids: Iterable<string> = [],
): unknown[] {
  const where: unknown[] = TOPOLOGY_PORT_TYPES.map((t) => ["type", "==", t]);
  if (chassisUuid) {
    where.push(["chassis", "==", ["uuid", chassisUuid]]);
    where.push(["additional_chassis", "includes", ["uuid", chassisUuid]]);
  }
  for (const dp of [...new Set(datapathUuids)].sort()) where.push(["datapath", "==", ["uuid", dp]]);
  return where;
}
