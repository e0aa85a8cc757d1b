/**
 * Devices the agent creates: VLAN devices on provider bridges, and for the "vrf" layout the VRF
 * (`bgp_vrf`) and the dummy `bgp_nic` enslaved to it. A device named in the plan is ours; on
 * creation it also gets the alias `ovn-bgp` (the kernel ignores an alias given to `link add`, so a
 * separate `link set` line sets it), which is how prune recognises devices that a previous plan
 * created and the current one no longer wants. A device of the wanted name and kind that the
 * operator made is adopted: brought up (a dummy also enslaved to the VRF) and used, but never
 * recreated or deleted. A device of the wanted name but another kind, or the operator's with another
 * VLAN id or VRF table, is never deleted or changed: it is reported.
 */
import type { LinkSpec } from "../../plan/desired-state.ts";
import { isRecord, num, str } from "./ip-batch.ts";
import type { ObservedLink } from "./types.ts";
import { checkIfName, checkTable, checkVlanId } from "./validate.ts";

/** ifalias set on every device the agent creates. */
export const OWNER_ALIAS = "ovn-bgp";

/** Kinds the agent may create, hence the only kinds prune may delete (and only with our alias). */
export const OWNED_LINK_KINDS: ReadonlySet<string> = new Set(["vlan", "vrf", "dummy"]);

/** Parse `ip -N -j -d link show`. */
export function parseLinks(json: readonly unknown[]): ObservedLink[] {
  const out: ObservedLink[] = [];
  for (const o of json) {
    if (!isRecord(o)) continue;
    const name = str(o, "ifname");
    if (name === undefined) continue;
    const flags = Array.isArray(o.flags) ? o.flags : [];
    const info = isRecord(o.linkinfo) ? o.linkinfo : {};
    const data = isRecord(info.info_data) ? info.info_data : {};
    const kind = str(info, "info_kind");
    const alias = str(o, "ifalias");
    const master = str(o, "master");
    const parent = str(o, "link");
    const vlanId = kind === "vlan" ? num(data, "id") : undefined;
    const vrfTable = kind === "vrf" ? num(data, "table") : undefined;
    out.push({
      name,
      up: flags.includes("UP"),
      ...(kind !== undefined ? { kind } : {}),
      ...(alias !== undefined ? { alias } : {}),
      ...(master !== undefined ? { master } : {}),
      ...(parent !== undefined && kind === "vlan" ? { parent } : {}),
      ...(vlanId !== undefined ? { vlanId } : {}),
      ...(vrfTable !== undefined ? { vrfTable } : {}),
    });
  }
  return out;
}

export const linkKey = (l: { name: string }): string => l.name;

export function checkLink(l: LinkSpec): LinkSpec {
  switch (l.kind) {
    case "vlan":
      return {
        kind: "vlan",
        name: checkIfName(l.name),
        parent: checkIfName(l.parent),
        vlanId: checkVlanId(l.vlanId),
      };
    case "vrf":
      return { kind: "vrf", name: checkIfName(l.name), table: checkTable(l.table) };
    case "dummy":
      return l.master !== undefined
        ? { kind: "dummy", name: checkIfName(l.name), master: checkIfName(l.master) }
        : { kind: "dummy", name: checkIfName(l.name) };
    default:
      throw new Error(`unknown link kind ${JSON.stringify((l as { kind: unknown }).kind)}`);
  }
}

/** Order of creation: a VRF before the dummy enslaved to it. */
export function linkCreateRank(l: LinkSpec): number {
  return l.kind === "vrf" ? 0 : l.kind === "dummy" ? 1 : 2;
}

export type LinkVerdict =
  | { readonly action: "none" }
  | { readonly action: "create" }
  | { readonly action: "fix" } // same device, wrong master or down
  | { readonly action: "recreate"; readonly why: string } // ours, immutable attribute differs
  | { readonly action: "conflict"; readonly why: string };

export function judgeLink(want: LinkSpec, have: ObservedLink | undefined): LinkVerdict {
  if (!have) return { action: "create" };
  if (have.kind !== want.kind) {
    return {
      action: "conflict",
      why: `device ${want.name} exists as ${have.kind ?? "a plain device"}, not ${want.kind}; left untouched`,
    };
  }
  // An immutable attribute differs: a device we made is recreated; the operator's is never touched.
  const differs =
    want.kind === "vlan" && (have.parent !== want.parent || have.vlanId !== want.vlanId)
      ? `VLAN ${have.parent ?? "?"}.${have.vlanId ?? "?"} instead of ${want.parent}.${want.vlanId}`
      : want.kind === "vrf" && have.vrfTable !== want.table
        ? `VRF table ${have.vrfTable ?? "?"} instead of ${want.table}`
        : undefined;
  if (differs !== undefined)
    return have.alias === OWNER_ALIAS
      ? { action: "recreate", why: differs }
      : {
          action: "conflict",
          why: `device ${want.name} has ${differs} and was not created by ovn-bgp (no alias ${OWNER_ALIAS}); left untouched`,
        };
  if (want.kind === "dummy" && (have.master ?? "") !== (want.master ?? "")) return { action: "fix" };
  if (!have.up) return { action: "fix" };
  return { action: "none" };
}

export function linkCreateLines(l: LinkSpec): string[] {
  const create =
    l.kind === "vlan"
      ? `link add link ${l.parent} name ${l.name} type vlan id ${l.vlanId}`
      : l.kind === "vrf"
        ? `link add name ${l.name} type vrf table ${l.table}`
        : `link add name ${l.name} type dummy`;
  return [create, ...linkFixLines(l, true)];
}

export function linkFixLines(l: LinkSpec, withAlias = false): string[] {
  const alias = withAlias ? ` alias ${OWNER_ALIAS}` : "";
  const master = l.kind === "dummy" ? (l.master !== undefined ? ` master ${l.master}` : " nomaster") : "";
  return [`link set dev ${l.name}${alias}${master} up`];
}

export function linkDelLine(name: string): string {
  return `link del dev ${name}`;
}

/** True when a failed `link add` means the kernel lacks the device kind (module absent). */
export function isUnsupportedKindError(text: string): boolean {
  return /Unknown device type|Operation not supported|not supported/i.test(text);
}

/** Whether this op deletes a VRF device (removed, or recreated with another table). */
export const deletesVrfDevice = (o: { kind: string; linkKind?: string; lines: readonly string[] }): boolean =>
  o.kind === "link" && o.linkKind === "vrf" && o.lines.some((l) => l.startsWith("link del "));

/** Whether any of these ops deletes a VRF device. */
export const deletesVrf = (ops: readonly Parameters<typeof deletesVrfDevice>[0][]): boolean =>
  ops.some(deletesVrfDevice);
