/**
 * Typed, read-only view of a Southbound Port_Binding row. Built from a decoded Row without
 * throwing: odd column shapes become `oddities` and odd values (bad MACs, IPs, names) are left
 * as strings for the planner to parse, so it can report them against the logical port.
 */
import type { Row } from "../ovsdb/wire/datum.ts";
import {
  Oddities,
  readOptionalBool,
  readOptionalInt,
  readOptionalString,
  readString,
  readStringMap,
  readStringSet,
} from "./datum-read.ts";

/** Port types OVN's Southbound knows (ovn-sb(5), Port_Binding.type). Others are reported. */
export const KNOWN_PORT_TYPES: ReadonlySet<string> = new Set([
  "",
  "patch",
  "l3gateway",
  "localnet",
  "localport",
  "l2gateway",
  "vtep",
  "external",
  "chassisredirect",
  "virtual",
  "remote",
]);

export interface PortBinding {
  readonly uuid: string;
  readonly logicalPort: string;
  readonly type: string;
  /** Datapath_Binding uuid. */
  readonly datapath: string;
  /** Raw `mac` entries ("MAC IP…", "MAC CIDR…" for router ports, "unknown", "router", "dynamic"). */
  readonly mac: readonly string[];
  /** Chassis uuid the port is bound to now. */
  readonly chassis?: string;
  /** Chassis uuids also bound during a live migration (multi-chassis binding). */
  readonly additionalChassis: readonly string[];
  readonly requestedChassis?: string;
  readonly requestedAdditionalChassis: readonly string[];
  /** Set by ovn-controller once the port is wired; absent on older OVN. */
  readonly up?: boolean;
  readonly options: ReadonlyMap<string, string>;
  readonly externalIds: ReadonlyMap<string, string>;
  /** Raw nat_addresses entries ("MAC IP [IP…] [is_chassis_resident(\"port\")]"). */
  readonly natAddresses: readonly string[];
  readonly tunnelKey?: number;
  /** VLAN tag (localnet ports: the provider network's VLAN). */
  readonly tag?: number;
  readonly virtualParent?: string;
  readonly parentPort?: string;
  readonly gatewayChassis: readonly string[];
  readonly haChassisGroup?: string;
  /** Column-shape oddities found while reading the row (empty for well-formed rows). */
  readonly oddities: readonly string[];
}

/** Reused across calls (single-threaded, and `take()` empties it): no allocation per row. */
const odd = new Oddities();

/** The lazily read part of the view: every field but the core ones read at construction. */
type Rest = Omit<
  PortBinding,
  "uuid" | "logicalPort" | "type" | "datapath" | "mac" | "chassis" | "up" | "natAddresses"
>;

/**
 * The view reads the columns every row needs at once and the rest (maps, migration columns,
 * tags) on first use: a hypervisor's planner builds 100,000 of these and most are never
 * looked at beyond their type, datapath and chassis.
 */
class SbPortBinding implements PortBinding {
  readonly uuid: string;
  readonly logicalPort: string;
  readonly type: string;
  readonly datapath: string;
  readonly mac: readonly string[];
  readonly chassis?: string;
  readonly up?: boolean;
  readonly natAddresses: readonly string[];
  private readonly coreOddities: readonly string[];
  private rest: Rest | undefined;

  constructor(private readonly row: Row) {
    this.uuid = row._uuid;
    this.logicalPort = readString(row.logical_port, "logical_port", odd);
    this.type = readString(row.type, "type", odd);
    this.datapath = readString(row.datapath, "datapath", odd);
    this.mac = readStringSet(row.mac, "mac", odd);
    this.chassis = readOptionalString(row.chassis, "chassis", odd);
    this.up = readOptionalBool(row.up, "up", odd);
    this.natAddresses = readStringSet(row.nat_addresses, "nat_addresses", odd);
    this.coreOddities = odd.take();
  }

  private get r(): Rest {
    if (this.rest) return this.rest;
    const row = this.row;
    const rest: Rest = {
      additionalChassis: readStringSet(row.additional_chassis, "additional_chassis", odd),
      requestedChassis: readOptionalString(row.requested_chassis, "requested_chassis", odd),
      requestedAdditionalChassis: readStringSet(
        row.requested_additional_chassis,
        "requested_additional_chassis",
        odd,
      ),
      options: readStringMap(row.options, "options", odd),
      externalIds: readStringMap(row.external_ids, "external_ids", odd),
      tunnelKey: readOptionalInt(row.tunnel_key, "tunnel_key", odd),
      tag: readOptionalInt(row.tag, "tag", odd),
      virtualParent: readOptionalString(row.virtual_parent, "virtual_parent", odd),
      parentPort: readOptionalString(row.parent_port, "parent_port", odd),
      gatewayChassis: readStringSet(row.gateway_chassis, "gateway_chassis", odd),
      haChassisGroup: readOptionalString(row.ha_chassis_group, "ha_chassis_group", odd),
      oddities: [...this.coreOddities, ...odd.take()],
    };
    this.rest = rest;
    return rest;
  }

  get additionalChassis() {
    return this.r.additionalChassis;
  }
  get requestedChassis() {
    return this.r.requestedChassis;
  }
  get requestedAdditionalChassis() {
    return this.r.requestedAdditionalChassis;
  }
  get options() {
    return this.r.options;
  }
  get externalIds() {
    return this.r.externalIds;
  }
  get tunnelKey() {
    return this.r.tunnelKey;
  }
  get tag() {
    return this.r.tag;
  }
  get virtualParent() {
    return this.r.virtualParent;
  }
  get parentPort() {
    return this.r.parentPort;
  }
  get gatewayChassis() {
    return this.r.gatewayChassis;
  }
  get haChassisGroup() {
    return this.r.haChassisGroup;
  }
  get oddities() {
    return this.r.oddities;
  }
}

export function portBindingFromRow(row: Row): PortBinding {
  return new SbPortBinding(row);
}
