/**
 * Parsing of the address strings OVN keeps in the Southbound: Port_Binding.mac entries
 * ("MAC IP IP…", router ports' "MAC CIDR CIDR…", or the keywords "unknown", "router",
 * "dynamic"), nat_addresses entries ("MAC IP [IP…] [is_chassis_resident(\"port\")]") and
 * Neutron's external_ids:neutron:cidrs ("10.0.0.95/26 2001:db8::5/64").
 *
 * Everything comes out canonical (lower-case MAC, RFC 5952 IPv6, dotted-quad IPv4 without
 * leading zeros) or as an error message; nothing is passed on unparsed.
 */
import ipaddr from "ipaddr.js";
import type { IpFamily } from "../plan/desired-state.ts";

export type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(error: string): Parsed<T> => ({ ok: false, error });

/** Quote an untrusted string for an error message: escaped, and cut to a readable length. */
export function quote(s: string, max = 60): string {
  const cut = s.length > max ? `${s.slice(0, max)}…` : s;
  return JSON.stringify(cut);
}

/** An IP address, optionally with the prefix length it was written with. */
export interface IpPrefix {
  /** Canonical address, no prefix. */
  readonly ip: string;
  readonly family: IpFamily;
  /** The written prefix length, or the full length (32/128) when none was written. */
  readonly prefix: number;
  readonly explicitPrefix: boolean;
  /** Canonical network in CIDR form ("10.0.0.64/26"; "172.24.4.92/32" for a host). */
  readonly network: string;
  readonly addr: ipaddr.IPv4 | ipaddr.IPv6;
}

const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

/** Canonical lower-case unicast MAC, or an error (multicast/broadcast/zero MACs are refused). */
export function parseMac(s: string): Parsed<string> {
  if (!MAC_RE.test(s)) return fail(`bad MAC ${quote(s)}`);
  const mac = s.toLowerCase();
  const first = Number.parseInt(mac.slice(0, 2), 16);
  if (first & 1) return fail(`multicast MAC ${quote(s)}`);
  if (mac === "00:00:00:00:00:00") return fail("all-zero MAC");
  return ok(mac);
}

function parseAddr(s: string): Parsed<ipaddr.IPv4 | ipaddr.IPv6> {
  if (s.includes(":")) {
    // Zone ids ("fe80::1%eth0") are valid for ipaddr.js but meaningless here.
    if (s.includes("%") || !ipaddr.IPv6.isValid(s)) return fail(`bad IP ${quote(s)}`);
    return ok(ipaddr.IPv6.parse(s));
  }
  // Only strict dotted quads: ipaddr.js would also accept "0x7f.1" and friends.
  if (!ipaddr.IPv4.isValidFourPartDecimal(s) || /(^|\.)0\d/.test(s)) return fail(`bad IP ${quote(s)}`);
  return ok(ipaddr.IPv4.parse(s));
}

function familyOf(a: ipaddr.IPv4 | ipaddr.IPv6): IpFamily {
  return a.kind() === "ipv4" ? 4 : 6;
}

function networkString(a: ipaddr.IPv4 | ipaddr.IPv6, prefix: number): string {
  const bytes = a.toByteArray();
  let bits = prefix;
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, bits));
    bytes[i] = (bytes[i] ?? 0) & ((0xff << (8 - keep)) & 0xff);
    bits -= 8;
  }
  return `${ipaddr.fromByteArray(bytes).toString()}/${prefix}`;
}

/** "10.0.0.65", "10.0.0.65/26", "2001:db8::20/64" → IpPrefix. */
export function parseIpPrefix(s: string): Parsed<IpPrefix> {
  const slash = s.indexOf("/");
  const addrText = slash < 0 ? s : s.slice(0, slash);
  const parsed = parseAddr(addrText);
  if (!parsed.ok) return parsed;
  const addr = parsed.value;
  const family = familyOf(addr);
  const full = family === 4 ? 32 : 128;
  let prefix = full;
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > full) return fail(`bad prefix length in ${quote(s)}`);
    prefix = Number(p);
  }
  return ok({
    ip: addr.toString(),
    family,
    prefix,
    explicitPrefix: slash >= 0,
    network: networkString(addr, prefix),
    addr,
  });
}

/** A bare IP (no prefix allowed). */
export function parseIp(s: string): Parsed<IpPrefix> {
  if (s.includes("/")) return fail(`unexpected prefix length in ${quote(s)}`);
  return parseIpPrefix(s);
}

/** Whether an address may be advertised: refuses unspecified, loopback, multicast, link-local. */
export function unexposableReason(p: IpPrefix): string | undefined {
  const range = p.addr.range();
  const bad =
    p.family === 4
      ? ["unspecified", "broadcast", "multicast", "loopback", "linkLocal"]
      : ["unspecified", "multicast", "loopback", "linkLocal"];
  return bad.includes(range) ? `${range} address ${p.ip} cannot be exposed` : undefined;
}

/**
 * IPv6 global unicast per RFC 4291 §2.4: inside 2000::/3. Unlike Python's `is_global`, the
 * documentation prefix 2001:db8::/32 counts (the lab and the seed use it); ULA and link-local
 * do not.
 */
export function isIpv6Gua(p: IpPrefix): boolean {
  if (p.family !== 6) return false;
  const first = p.addr.toByteArray()[0] ?? 0;
  return (first & 0xe0) === 0x20;
}

/** Whether `p` (an address) lies inside `net` (a network). */
export function contains(net: IpPrefix, p: IpPrefix): boolean {
  if (net.family !== p.family) return false;
  return (p.addr as ipaddr.IPv4).match(net.addr as ipaddr.IPv4, net.prefix);
}

/** "172.24.4.92/32" or "2001:db8::21c/128". */
export function hostCidr(ip: string, family: IpFamily): string {
  return `${ip}/${family === 4 ? 32 : 128}`;
}

export type MacEntry =
  | { readonly kind: "keyword"; readonly keyword: "unknown" | "router" | "dynamic" }
  | { readonly kind: "address"; readonly mac: string; readonly ips: readonly IpPrefix[] };

/** One Port_Binding.mac entry. IPs keep the prefix they were written with (router ports). */
export function parseMacEntry(s: string): Parsed<MacEntry> {
  const t = s.trim();
  if (t === "unknown" || t === "router" || t === "dynamic") return ok({ kind: "keyword", keyword: t });
  const words = t.split(/\s+/);
  const mac = parseMac(words[0] ?? "");
  if (!mac.ok) return mac;
  const ips: IpPrefix[] = [];
  for (const w of words.slice(1)) {
    const ip = parseIpPrefix(w);
    if (!ip.ok) return ip;
    ips.push(ip.value);
  }
  return ok({ kind: "address", mac: mac.value, ips });
}

/** A whole `mac` column: the first address entry's MAC, all IPs, and the keywords seen. */
export interface MacColumn {
  readonly mac?: string;
  readonly ips: readonly IpPrefix[];
  readonly unknown: boolean;
  readonly router: boolean;
}

export function parseMacColumn(entries: readonly string[]): Parsed<MacColumn> {
  let mac: string | undefined;
  const ips: IpPrefix[] = [];
  let unknown = false;
  let router = false;
  for (const e of entries) {
    const p = parseMacEntry(e);
    if (!p.ok) return p;
    const v = p.value;
    if (v.kind === "keyword") {
      if (v.keyword === "unknown") unknown = true;
      if (v.keyword === "router") router = true;
      continue;
    }
    mac ??= v.mac;
    ips.push(...v.ips);
  }
  return ok({ ...(mac ? { mac } : {}), ips, unknown, router });
}

export interface NatEntry {
  readonly mac: string;
  readonly ips: readonly IpPrefix[];
  /** The port named in is_chassis_resident("…"), when present. */
  readonly resident?: string;
}

const RESIDENT_RE = /^is_chassis_resident\("([^"\\\s]+)"\)$/;

/** One nat_addresses entry: "MAC IP [IP…] [is_chassis_resident(\"port\")]". */
export function parseNatEntry(s: string): Parsed<NatEntry> {
  const words = s.trim().split(/\s+/);
  const mac = parseMac(words[0] ?? "");
  if (!mac.ok) return fail(`nat_addresses ${quote(s)}: ${mac.error}`);
  let resident: string | undefined;
  const ips: IpPrefix[] = [];
  for (let i = 1; i < words.length; i++) {
    const w = words[i] ?? "";
    if (w.startsWith("is_chassis_resident")) {
      const m = RESIDENT_RE.exec(w);
      if (!m || i !== words.length - 1) return fail(`nat_addresses ${quote(s)}: bad is_chassis_resident`);
      resident = m[1];
      continue;
    }
    const ip = parseIp(w);
    if (!ip.ok) return fail(`nat_addresses ${quote(s)}: ${ip.error}`);
    ips.push(ip.value);
  }
  if (ips.length === 0) return fail(`nat_addresses ${quote(s)}: no IP`);
  return ok({ mac: mac.value, ips, ...(resident !== undefined ? { resident } : {}) });
}

/** external_ids:neutron:cidrs, space-separated CIDRs whose host part is the port's address. */
export function parseNeutronCidrs(s: string): Parsed<readonly IpPrefix[]> {
  const out: IpPrefix[] = [];
  for (const w of s.trim().split(/\s+/)) {
    if (!w) continue;
    const p = parseIpPrefix(w);
    if (!p.ok) return fail(`neutron:cidrs: ${p.error}`);
    out.push(p.value);
  }
  return ok(out);
}
