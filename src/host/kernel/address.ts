/**
 * Addresses. iproute2 6.1 cannot mark an address with a protocol, so ownership is by place and
 * value: every address on an owned device (the `bgp_nic` dummy) except link-local ones is ours,
 * and on other devices (provider bridges) only the helper addresses whose exact values the agent
 * hands out are ours (by default the upstream scheme: 169.254.i.i/32 and
 * fd53:d91e:400:7f17::i:i/128). Any other address there is foreign and survives every prune.
 */
import { type AddressSpec, keyAddress } from "../../plan/desired-state.ts";
import { isRecord, str } from "./ip-batch.ts";
import { ipOp, type KeyedKind, label, missingDev } from "./keyed-kind.ts";
import type { ObservedAddress } from "./types.ts";
import { canonicalIp, checkCidr, checkIfName } from "./validate.ts";

/** Parse `ip -N -j address show`: one object per link with `addr_info`. */
export function parseAddresses(json: readonly unknown[]): ObservedAddress[] {
  const out: ObservedAddress[] = [];
  for (const link of json) {
    if (!isRecord(link)) continue;
    const dev = str(link, "ifname");
    const infos = link.addr_info;
    if (dev === undefined || !Array.isArray(infos)) continue;
    for (const a of infos) {
      if (!isRecord(a)) continue;
      const fam = str(a, "family");
      const ip = canonicalIp(str(a, "local") ?? "");
      const len = a.prefixlen;
      if ((fam !== "inet" && fam !== "inet6") || ip === undefined || typeof len !== "number") continue;
      out.push({
        dev,
        cidr: `${ip}/${len}`,
        family: fam === "inet" ? 4 : 6,
        scope: str(a, "scope") ?? "global",
      });
    }
  }
  return out;
}

export const desiredAddressKey = keyAddress;
export const observedAddressKey = (a: ObservedAddress): string => `${a.dev}|${a.cidr}`;

export function checkAddress(a: AddressSpec): AddressSpec {
  return { dev: checkIfName(a.dev), cidr: checkCidr(a.cidr, a.family), family: a.family };
}

export function isLinkLocal(a: ObservedAddress): boolean {
  return (
    a.scope === "link" ||
    a.scope === "253" ||
    a.scope === "host" ||
    a.scope === "254" ||
    a.cidr.startsWith("fe80:")
  );
}

/** The upstream helper-address scheme: 169.254.i.i/32 and fd53:d91e:400:7f17::i:i/128. */
export function isUpstreamHelperAddress(cidr: string): boolean {
  const v4 = /^169\.254\.(\d{1,3})\.(\d{1,3})\/32$/.exec(cidr);
  if (v4) return v4[1] === v4[2];
  const v6 = /^fd53:d91e:400:7f17::([0-9a-f]{1,4}):([0-9a-f]{1,4})\/128$/.exec(cidr);
  return v6 !== null && v6[1] === v6[2];
}

/** IPv6 addresses skip duplicate address detection: a /128 the agent owns must be usable at once. */
export function addressAddLine(a: AddressSpec): string {
  return `address add ${a.cidr} dev ${a.dev}${a.family === 6 ? " nodad" : ""}`;
}

export function addressDelLine(a: { cidr: string; dev: string }): string {
  return `address del ${a.cidr} dev ${a.dev}`;
}

/** Addresses as a keyed kind: one address per device and CIDR. */
export const addressKind: KeyedKind<AddressSpec, ObservedAddress> = {
  kind: "address",
  desired: (s) => s.addresses,
  observed: (o) => o.addresses,
  label: (raw) => `${label(raw.dev)}|${label(raw.cidr)}`,
  check: checkAddress,
  key: keyAddress,
  observedKey: observedAddressKey,
  observedDev: (a) => a.dev,
  decide(want, have, ctx, out) {
    const key = want ? keyAddress(want) : observedAddressKey(have[0] as ObservedAddress);
    if (want) {
      if (have.length > 0) return;
      if (!ctx.present(want.dev)) out.block({ kind: "address", key, op: "add", error: missingDev(want.dev) });
      else out.add("address", ipOp("address", key, "add", [addressAddLine(want)]));
      return;
    }
    for (const a of have) if (ctx.ownsAddress(a)) out.del(ipOp("address", key, "del", [addressDelLine(a)]));
  },
  after(want, have, ctx) {
    if (want) return have.length > 0 ? [...have] : [{ ...want, scope: "global" }];
    return have.filter((a) => !ctx.ownsAddress(a));
  },
};
