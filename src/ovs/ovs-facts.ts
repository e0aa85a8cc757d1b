/**
 * The local Open_vSwitch DB as the agent needs it: the chassis identity ovn-controller uses
 * (`external_ids:system-id`, `hostname`, `ovn-remote`, `ovn-bridge-mappings`) and, per bridge,
 * its MAC and its patch ports (where the provider network enters br-ex from br-int).
 */
import type { TableMonitor } from "../ovsdb/client.ts";
import type { Replica } from "../ovsdb/replica/replica.ts";
import type { Datum, Row } from "../ovsdb/wire/datum.ts";

export const OVS_DATABASE = "Open_vSwitch";

export const OVS_TABLES: Readonly<Record<string, TableMonitor>> = {
  Open_vSwitch: { columns: ["external_ids", "bridges"] },
  Bridge: { columns: ["name", "ports", "datapath_type", "external_ids"] },
  Port: { columns: ["name", "interfaces", "tag"] },
  Interface: { columns: ["name", "type", "options", "mac_in_use", "ofport", "external_ids"] },
};

export interface OvsBridgeFacts {
  readonly name: string;
  /** MAC of the bridge's own (internal) interface, if known. */
  readonly mac?: string;
  readonly datapathType: string;
  /** Names of patch ports on this bridge (e.g. `patch-provnet-…-to-br-int`). */
  readonly patchPorts: readonly string[];
}

export interface OvsFacts {
  readonly systemId?: string;
  readonly hostname?: string;
  readonly ovnRemote?: string;
  /** Raw `ovn-bridge-mappings`, e.g. "public:br-ex,ext2:br-ex2". */
  readonly bridgeMappings?: string;
  readonly bridges: ReadonlyMap<string, OvsBridgeFacts>;
}

export function mapGet(d: Datum | undefined, key: string): string | undefined {
  if (d instanceof Map) {
    const v = d.get(key);
    return typeof v === "string" ? v : undefined;
  }
  return undefined;
}

function uuids(d: Datum | undefined): string[] {
  if (Array.isArray(d)) return d.filter((x): x is string => typeof x === "string");
  return typeof d === "string" ? [d] : [];
}

function str(d: Datum | undefined): string {
  if (typeof d === "string") return d;
  if (Array.isArray(d) && typeof d[0] === "string") return d[0];
  return "";
}

/** Derive the facts from a replica of OVS_TABLES. Pure; tolerant of partial data. */
export function readOvsFacts(replica: Pick<Replica, "table" | "get">): OvsFacts {
  const root: Row | undefined = replica.table("Open_vSwitch").values().next().value;
  const ext = root?.external_ids;
  const bridges = new Map<string, OvsBridgeFacts>();
  for (const br of replica.table("Bridge").values()) {
    const name = str(br.name);
    let mac: string | undefined;
    const patchPorts: string[] = [];
    for (const portUuid of uuids(br.ports)) {
      const port = replica.get("Port", portUuid);
      if (!port) continue;
      for (const ifUuid of uuids(port.interfaces)) {
        const iface = replica.get("Interface", ifUuid);
        if (!iface) continue;
        const type = str(iface.type);
        if (type === "patch") patchPorts.push(str(iface.name));
        if (str(iface.name) === name && type === "internal") mac = str(iface.mac_in_use) || undefined;
      }
    }
    bridges.set(name, {
      name,
      ...(mac ? { mac } : {}),
      datapathType: str(br.datapath_type),
      patchPorts: patchPorts.sort(),
    });
  }
  const pick = (k: string) => mapGet(ext, k);
  const facts: OvsFacts = { bridges };
  return {
    ...facts,
    ...(pick("system-id") ? { systemId: pick("system-id") } : {}),
    ...(pick("hostname") ? { hostname: pick("hostname") } : {}),
    ...(pick("ovn-remote") ? { ovnRemote: pick("ovn-remote") } : {}),
    ...(pick("ovn-bridge-mappings") ? { bridgeMappings: pick("ovn-bridge-mappings") } : {}),
  };
}
