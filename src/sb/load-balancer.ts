/**
 * Typed view of a Southbound Load_Balancer row (what ovn-northd copies from the Northbound one that
 * ovn-octavia-provider or an operator made): its VIPs and the datapaths it is applied to, directly
 * (`datapaths`, OVN < 22.09) or through Logical_DP_Groups (`datapath_group`; from OVN 23.09
 * `ls_datapath_group` and `lr_datapath_group`). Before 23.09 only switches are listed.
 */
import type { Row } from "../ovsdb/wire/datum.ts";
import { Oddities, readOptionalString, readString, readStringMap, readStringSet } from "./datum-read.ts";

export interface LoadBalancer {
  readonly uuid: string;
  readonly name: string;
  /** VIP keys as OVN writes them: "172.24.4.50:80", "172.24.4.50", "[2001:db8::50]:80". */
  readonly vips: readonly string[];
  readonly datapaths: readonly string[];
  /** datapath_group (OVN < 23.09), ls_datapath_group and lr_datapath_group (later). */
  readonly datapathGroups: readonly string[];
  readonly oddities: readonly string[];
}

export function loadBalancerFromRow(row: Row): LoadBalancer {
  const odd = new Oddities();
  const groups = ["datapath_group", "ls_datapath_group", "lr_datapath_group"].flatMap((c) => {
    const g = readOptionalString(row[c], c, odd);
    return g === undefined ? [] : [g];
  });
  return {
    uuid: row._uuid,
    name: readString(row.name, "name", odd),
    vips: [...readStringMap(row.vips, "vips", odd).keys()],
    datapaths: readStringSet(row.datapaths, "datapaths", odd),
    datapathGroups: groups,
    oddities: odd.take(),
  };
}

/** The address of a VIP key, without port or brackets; undefined when it is not an address. */
export function vipAddress(key: string): string | undefined {
  const k = key.trim();
  const bracket = /^\[([0-9a-fA-F:.]+)\](?::\d+)?$/.exec(k);
  if (bracket) return bracket[1];
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::\d+)?$/.exec(k);
  if (v4) return v4[1];
  if (/^[0-9a-fA-F:]+$/.test(k) && k.includes(":")) return k; // a bare IPv6 VIP
  return undefined;
}

/** A Logical_DP_Group row: its datapaths. */
export function dpGroupFromRow(row: Row): readonly string[] {
  return readStringSet(row.datapaths, "datapaths", new Oddities());
}
