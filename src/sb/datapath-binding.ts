/**
 * Typed view of a Southbound Datapath_Binding row. northd stores the NB object in external_ids
 * (`logical-switch` or `logical-router` = NB uuid, `name` = NB name); used for human output.
 */
import type { Row } from "../ovsdb/wire/datum.ts";
import { Oddities, readOptionalInt, readStringMap } from "./datum-read.ts";

export interface DatapathBinding {
  readonly uuid: string;
  readonly tunnelKey?: number;
  readonly externalIds: ReadonlyMap<string, string>;
  /** "switch", "router", or undefined when northd's keys are absent. */
  readonly kind?: "switch" | "router";
  readonly name?: string;
  readonly oddities: readonly string[];
}

export function datapathBindingFromRow(row: Row): DatapathBinding {
  const odd = new Oddities();
  const externalIds = readStringMap(row.external_ids, "external_ids", odd);
  const kind = externalIds.has("logical-router")
    ? "router"
    : externalIds.has("logical-switch")
      ? "switch"
      : undefined;
  const name = externalIds.get("name");
  return {
    uuid: row._uuid,
    tunnelKey: readOptionalInt(row.tunnel_key, "tunnel_key", odd),
    externalIds,
    ...(kind ? { kind } : {}),
    ...(name !== undefined ? { name } : {}),
    oddities: odd.take(),
  };
}
