/** Typed view of a Southbound Chassis row: the planner only needs uuid → name. */
import type { Row } from "../ovsdb/wire/datum.ts";
import { Oddities, readString, readStringMap } from "./datum-read.ts";

export interface Chassis {
  readonly uuid: string;
  /** The chassis' system-id, as in the local Open_vSwitch external_ids:system-id. */
  readonly name: string;
  readonly hostname: string;
  readonly externalIds: ReadonlyMap<string, string>;
  readonly oddities: readonly string[];
}

export function chassisFromRow(row: Row): Chassis {
  const odd = new Oddities();
  return {
    uuid: row._uuid,
    name: readString(row.name, "name", odd),
    hostname: readString(row.hostname, "hostname", odd),
    externalIds: readStringMap(row.external_ids, "external_ids", odd),
    oddities: odd.take(),
  };
}
