/**
 * Defense in depth for the kernel applier. The planner validates every value already, but the
 * applier writes them into an `ip -batch` script whose lines iproute2 splits on whitespace and in
 * which `#` starts a comment and quotes group words: one hostile string could otherwise add a
 * second command. Each check accepts only the plain characters its kind of value can contain, so
 * a value that passes can never span two tokens or two lines. A failing check names the value;
 * the caller turns it into a per-item error and applies everything else.
 */
import ipaddr from "ipaddr.js";

export class InvalidValueError extends Error {
  readonly code = "KERNEL_INVALID_VALUE";
}

/** Linux interface names: 1-15 chars; we also forbid anything iproute2 could read as syntax. */
const IFNAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;
const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
const IPV4_CHARS = /^[0-9.]{7,15}$/;
const IPV6_CHARS = /^[0-9a-fA-F:.]{2,45}$/;
const TABLE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
const SYSCTL_LEAF = /^[a-z0-9_]{1,64}$/;
const SYSCTL_SEGMENT = /^[A-Za-z0-9_-]{1,64}$/;
const SYSCTL_VALUE = /^[A-Za-z0-9_.:-]{1,64}$/;

function fail(what: string, value: unknown): never {
  throw new InvalidValueError(`invalid ${what}: ${JSON.stringify(value)}`);
}

export function checkIfName(name: string, what = "device name"): string {
  if (typeof name !== "string" || !IFNAME.test(name)) fail(what, name);
  return name;
}

export function checkMac(mac: string): string {
  if (typeof mac !== "string" || !MAC.test(mac)) fail("MAC address", mac);
  return mac.toLowerCase();
}

/** A plain IPv4 or IPv6 address (no prefix, no zone), returned in canonical form. */
export function checkIp(ip: string, family?: 4 | 6): string {
  const out = canonicalIp(ip);
  if (out === undefined) fail("IP address", ip);
  if (family !== undefined && familyOf(out) !== family) fail(`IPv${family} address`, ip);
  return out;
}

/** An address with a prefix length ("10.0.0.64/26"), canonical; host bits are kept as given. */
export function checkCidr(cidr: string, family?: 4 | 6): string {
  if (typeof cidr !== "string") fail("CIDR", cidr);
  const slash = cidr.indexOf("/");
  if (slash < 0) fail("CIDR (missing /len)", cidr);
  const ip = canonicalIp(cidr.slice(0, slash));
  const lenText = cidr.slice(slash + 1);
  if (ip === undefined || !/^[0-9]{1,3}$/.test(lenText)) fail("CIDR", cidr);
  const len = Number(lenText);
  const fam = familyOf(ip);
  if (len > (fam === 4 ? 32 : 128)) fail("CIDR (prefix length)", cidr);
  if (family !== undefined && fam !== family) fail(`IPv${family} CIDR`, cidr);
  return `${ip}/${len}`;
}

/** A route destination: a CIDR or "default". */
export function checkDst(dst: string, family: 4 | 6): string {
  if (dst === "default") return dst;
  return checkCidr(dst, family);
}

export function checkTable(table: number): number {
  // 0 is "unspec" and 255 is the kernel's local table: the agent never writes there.
  if (!Number.isInteger(table) || table < 1 || table > 0xffffffff || table === 255) fail("table id", table);
  return table;
}

export function checkPriority(priority: number): number {
  if (!Number.isInteger(priority) || priority < 1 || priority > 0xffffffff) fail("rule priority", priority);
  return priority;
}

export function checkVlanId(id: number): number {
  if (!Number.isInteger(id) || id < 1 || id > 4094) fail("VLAN id", id);
  return id;
}

export function checkTableName(name: string): string {
  if (typeof name !== "string" || !TABLE_NAME.test(name)) fail("routing table name", name);
  return name;
}

export function checkProtocol(proto: number): number {
  // 0-4 are the kernel's own (unspec, redirect, kernel, boot, static): never an agent's mark.
  if (!Number.isInteger(proto) || proto < 5 || proto > 255) fail("route protocol", proto);
  return proto;
}

export function checkSysctlValue(value: string): string {
  if (typeof value !== "string" || !SYSCTL_VALUE.test(value)) fail("sysctl value", value);
  return value;
}

/**
 * A sysctl key, dotted ("net.ipv4.conf.br-ex.proxy_arp", also sysctl(8)'s "net.ipv4.conf.br-ex/100.proxy_arp")
 * or slashed ("net/ipv4/conf/br-ex.100/proxy_arp"), as a path relative to /proc/sys. The dotted form is ambiguous for device names that contain a dot
 * (VLAN devices "br-ex.100"), so for `net.ipv{4,6}.{conf,neigh}.<dev>.<leaf>` everything between the
 * fourth component and the last one is the device name.
 */
export function sysctlPath(key: string): { path: string; dev?: string } {
  if (typeof key !== "string" || key.length > 200) fail("sysctl key", key);
  let parts: string[];
  let dev: string | undefined;
  if (key.includes("/") && !/^net\.ipv[46]\.(conf|neigh)\./.test(key)) {
    parts = key.split("/");
    if (parts.length >= 5 && /^ipv[46]$/.test(parts[1] ?? "") && /^(conf|neigh)$/.test(parts[2] ?? ""))
      dev = parts[3];
  } else {
    const m = /^net\.(ipv[46])\.(conf|neigh)\.(.+)\.([^.]+)$/.exec(key);
    if (m) {
      // sysctl(8) writes a dot inside a device name as "/" in the dotted form (br-ex/100).
      dev = (m[3] ?? "").replaceAll("/", ".");
      parts = ["net", m[1] ?? "", m[2] ?? "", dev, m[4] ?? ""];
    } else parts = key.split(".");
  }
  if (parts.length < 2) fail("sysctl key", key);
  const leaf = parts[parts.length - 1] ?? "";
  if (!SYSCTL_LEAF.test(leaf)) fail("sysctl key", key);
  for (const [i, p] of parts.entries()) {
    if (p === dev && i === 3) {
      // "all" and "default" are valid entries there, and so is any device name.
      if (!IFNAME.test(p)) fail("sysctl key (device)", key);
    } else if (!SYSCTL_SEGMENT.test(p)) fail("sysctl key", key);
  }
  const isDevice = dev !== undefined && dev !== "all" && dev !== "default";
  return isDevice ? { path: parts.join("/"), dev } : { path: parts.join("/") };
}

/** Canonical text of a plain IP address (RFC 5952 for IPv6), or undefined if it is not one. */
/**
 * Canonical form of an IP, or undefined. Pure, and called for every address `ip -json` prints
 * (tens of thousands per full pass at scale), so canonical dotted quads skip ipaddr.js and other
 * answers are memoised (bounded).
 */
export function canonicalIp(ip: string): string | undefined {
  if (typeof ip !== "string") return undefined;
  if (isCanonicalDottedQuad(ip)) return ip;
  const hit = ipCache.get(ip);
  if (hit !== undefined || ipCache.has(ip)) return hit;
  const out = parseCanonicalIp(ip);
  if (ipCache.size >= IP_CACHE_MAX) ipCache.clear();
  ipCache.set(ip, out);
  return out;
}

const IP_CACHE_MAX = 200_000;
const ipCache = new Map<string, string | undefined>();

/** "a.b.c.d" with four decimal octets 0..255 and no leading zeros (already canonical). */
function isCanonicalDottedQuad(ip: string): boolean {
  let parts = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= ip.length; i++) {
    const c = i < ip.length ? ip.charCodeAt(i) : 46; // a virtual "." closes the last octet
    if (c === 46) {
      if (digits === 0 || value > 255) return false;
      parts += 1;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && value === 0) return false; // leading zero
      value = value * 10 + (c - 48);
      digits += 1;
      if (digits > 3) return false;
    } else return false;
  }
  return parts === 4;
}

function parseCanonicalIp(ip: string): string | undefined {
  if (IPV4_CHARS.test(ip))
    return ipaddr.IPv4.isValidFourPartDecimal(ip) ? ipaddr.IPv4.parse(ip).toString() : undefined;
  if (ip.includes(":") && IPV6_CHARS.test(ip) && ipaddr.IPv6.isValid(ip)) {
    return ipaddr.IPv6.parse(ip).toRFC5952String();
  }
  return undefined;
}

export function familyOf(ip: string): 4 | 6 {
  return ip.includes(":") ? 6 : 4;
}

/** Run a check; return its error message instead of throwing. */
export function validationError(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (e instanceof InvalidValueError) return e.message;
    throw e;
  }
}
