/**
 * The options this agent implements: names, groups, defaults, and how a written value is judged (zod
 * schemas behind small coercers, so an INI string "True" and a YAML boolean true mean the same).
 *
 * Names and groups follow upstream openstack/ovn-bgp-agent (`ovn_bgp_agent/config.py`) where the concept
 * is the same, so an upstream `bgp-agent.conf` loads unchanged. Defaults differ from upstream only where
 * noted in a comment. Options this agent adds have no upstream counterpart; their defaults are justified
 * next to them.
 */
import { z } from "zod";
import { parseListenAddress } from "../util/listen-address.ts";
import { DEFAULT_GROUP } from "./sources.ts";

/**
 * Provider bridges get tables bridge_table_base + i; this bounds i so the range can be checked against
 * the reserved tables and the VRF table at load time. Hypervisors have a handful of provider bridges.
 */
export const MAX_PROVIDER_BRIDGES = 32;

/** Linux reserves table 0 (unspec) and 253 (default), 254 (main), 255 (local). */
export const RESERVED_TABLES: ReadonlyMap<number, string> = new Map([
  [0, "unspec"],
  [253, "default"],
  [254, "main"],
  [255, "local"],
]);

/**
 * Route protocol numbers nobody else must own: 0–4 are the kernel's (unspec, redirect, kernel, boot,
 * static), 186–198 are FRR's daemons (rt_protos.d/frr.conf). Zebra sweeps routes of its own protocol
 * numbers when it starts, so sharing one with FRR would make an FRR restart delete our routes.
 */
export function reservedRouteProtocol(n: number): string | undefined {
  if (n >= 0 && n <= 4) return "reserved by the kernel (0-4)";
  if (n >= 186 && n <= 198) return "used by FRR's daemons (186-198), whose zebra flushes them on start";
  return undefined;
}

/**
 * Paths of the SSL material upstream assumes when `[ovn] ovn_sb_connection` is `ssl:` and the paths are
 * not given. Exported so a connector that falls back to the chassis' `ovn-remote` can apply the same.
 */
export const UPSTREAM_SB_SSL_DEFAULTS = {
  ovn_sb_private_key: "/etc/pki/tls/private/ovn_bgp_agent.key",
  ovn_sb_certificate: "/etc/pki/tls/certs/ovn_bgp_agent.crt",
  ovn_sb_ca_cert: "/etc/ipa/ca.crt",
} as const;

const U32_MAX = 4_294_967_295;
/** Node timers overflow above 2^31-1 ms; a longer interval would silently fire at once. */
const MAX_TIMER_SECONDS = Math.floor(2_147_483_647 / 1000);

// ---------------------------------------------------------------------------------------------------
// Coercers: turn what a file may hold into the type the schema checks; anything else is left as is, so
// the schema rejects it and the error shows the value as written.

const TRUE_WORDS = new Set(["true", "yes", "on", "1"]);
const FALSE_WORDS = new Set(["false", "no", "off", "0"]);

/** oslo.config's BoolOpt words, case-insensitive; YAML booleans and 0/1 pass through. */
function toBool(v: unknown): unknown {
  if (typeof v === "boolean") return v;
  if (v === 0 || v === 1) return v === 1;
  if (typeof v === "string") {
    const w = v.trim().toLowerCase();
    if (TRUE_WORDS.has(w)) return true;
    if (FALSE_WORDS.has(w)) return false;
  }
  return v;
}

function toInt(v: unknown): unknown {
  if (typeof v === "string" && /^\s*[+-]?\d+\s*$/.test(v)) return Number(v);
  return v;
}

/** Integers, plus `0x…` hexadecimal as ovs-ofctl prints cookies. */
function toIntOrHex(v: unknown): unknown {
  if (typeof v === "string" && /^\s*0x[0-9a-f]+\s*$/i.test(v)) return Number.parseInt(v.trim(), 16);
  return toInt(v);
}

/** Strings; YAML may type `chassis_name: 1234` as a number. */
function toStr(v: unknown): unknown {
  if (typeof v === "string") return v.trim();
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  return v;
}

/** Optional strings: empty (upstream's `''` default) and null mean "not set". */
function toOptStr(v: unknown): unknown {
  const s = toStr(v);
  return s === "" || s === null ? undefined : s;
}

/** A command prefix: whitespace-separated words (no shell, no quoting); YAML lists pass through. */
function toWords(v: unknown): unknown {
  if (v === null || v === undefined) return [];
  if (typeof v === "string") return v.split(/\s+/).filter((s) => s !== "");
  if (Array.isArray(v)) return v.map(toStr);
  return v;
}

/** oslo.config ListOpt: comma-separated, items trimmed, empty items dropped; YAML lists pass through. */
function toList(v: unknown): unknown {
  if (v === null || v === undefined) return [];
  if (typeof v === "string")
    return v
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
  if (Array.isArray(v)) return v.map(toStr);
  return v;
}

// ---------------------------------------------------------------------------------------------------
// Predicates.

const OVSDB_REMOTE = /^(?:unix:\/\S+|(?:tcp|ssl):(?:\[[0-9A-Fa-f:.]+\]|[^\s:[\]]+):(\d{1,5}))$/;

/** One active OVSDB remote as ovsdb tools write it: unix:PATH, tcp:HOST:PORT, ssl:HOST:PORT. */
export function isOvsdbRemote(s: string): boolean {
  const m = OVSDB_REMOTE.exec(s);
  if (!m) return false;
  const port = m[1];
  return port === undefined || (Number(port) >= 1 && Number(port) <= 65535);
}

/** Clustered databases are reached through a comma-separated list of remotes. */
function isRemoteList(s: string): boolean {
  return s.split(",").every((r) => isOvsdbRemote(r.trim()));
}

/** IFNAMSIZ is 16 with the NUL, so 15 characters; '/', ':' and whitespace are refused by the kernel/iproute2. */
function isIfName(s: string): boolean {
  return /^[^\s/:]{1,15}$/.test(s) && s !== "." && s !== "..";
}

const intIn = (min: number, max: number) => z.preprocess(toInt, z.int().min(min).max(max));
const bool = z.preprocess(toBool, z.boolean());
const absPath = z.preprocess(toStr, z.string().startsWith("/"));
const optAbsPath = z.preprocess(toOptStr, z.string().startsWith("/").optional());

// ---------------------------------------------------------------------------------------------------
// The schema. Key order is the order errors are looked for and the order `ovn-bgp config` prints.

export const configSchema = z.object({
  // Upstream default 300 s.
  reconcile_interval: intIn(1, MAX_TIMER_SECONDS),
  expose_tenant_networks: bool,
  expose_ipv6_gua_tenant_networks: bool,
  // Upstream spells per-IP advertising "host"; we call it "ip" and accept both.
  advertisement_method_tenant_networks: z.preprocess(
    (v) => (toStr(v) === "host" ? "ip" : toStr(v)),
    z.enum(["ip", "subnet"]),
  ),
  address_scopes: z.preprocess(toList, z.array(z.string().min(1))),
  // Upstream keeps it a string option ('64999'); we check it is a valid 4-byte AS number.
  bgp_AS: intIn(1, U32_MAX),
  // A BGP router id is a 32-bit number written as an IPv4 address.
  bgp_router_id: z.preprocess(toOptStr, z.ipv4().optional()),
  bgp_nic: z.preprocess(toStr, z.string().refine(isIfName)),
  bgp_vrf: z.preprocess(toStr, z.string().refine(isIfName)),
  bgp_vrf_table_id: intIn(1, U32_MAX).refine((n) => !RESERVED_TABLES.has(n)),
  announce_via: z.preprocess(toStr, z.enum(["vrf", "table"])),
  ovsdb_connection: z.preprocess(toStr, z.string().refine(isOvsdbRemote)),
  // Below 32766 (main) so our rules are consulted before the main table; the seed shows 32000.
  ip_rule_priority: intIn(1, 32765),
  ip_rule_layout: z.preprocess(toStr, z.enum(["per-ip", "per-bridge"])),
  min_exposed_prefix_ipv4: intIn(0, 32),
  min_exposed_prefix_ipv6: intIn(0, 128),
  route_protocol: intIn(0, 255).refine((n) => reservedRouteProtocol(n) === undefined),
  bridge_table_base: intIn(1, U32_MAX - MAX_PROVIDER_BRIDGES),
  // iproute2 only reads `*.conf` from rt_tables.d.
  rt_tables_dropin: z.preprocess(toStr, z.string().startsWith("/").endsWith(".conf")),
  // 0 would match every flow without a cookie: pruning "our" flows would delete the bridge's own.
  flow_cookie: z.preprocess(toIntOrHex, z.int().min(1).max(Number.MAX_SAFE_INTEGER)),
  // Above the priority-0 NORMAL flow of a standalone bridge.
  flow_priority: intIn(1, 65535),
  frr_vty_socket_dir: absPath,
  // Words put before `vtysh` / before `ovs-ofctl` and `ovs-vsctl`: FRR or OVS in a container
  // (`podman exec frr`) or in another root (`platform-exec trixie`, docs/PLATFORMS.md).
  frr_command_prefix: z.preprocess(toWords, z.array(z.string().min(1))),
  ovs_command_prefix: z.preprocess(toWords, z.array(z.string().min(1))),
  drift_poll_ms: z.preprocess(
    toInt,
    z.int().refine((n) => n === 0 || (n >= 100 && n <= 60_000)),
  ),
  // oslo.log's switch: debug logging unless --log-level or OVN_BGP_LOG_LEVEL says otherwise.
  debug: bool,
  metrics_listen: z.preprocess(
    (v) => (v === null ? "" : toStr(v)),
    z.string().refine((s) => s === "" || parseListenAddress(s) !== undefined),
  ),
  adopt_upstream_state: bool,
  control_socket: z.preprocess(
    (v) => (v === null ? "" : toStr(v)),
    z.string().refine((s) => s === "" || (s.startsWith("/") && !s.endsWith("/"))),
  ),
  ovn: z.object({
    ovn_sb_connection: z.preprocess(toOptStr, z.string().refine(isRemoteList).optional()),
    ovn_sb_private_key: optAbsPath,
    ovn_sb_certificate: optAbsPath,
    ovn_sb_ca_cert: optAbsPath,
    chassis_name: z.preprocess(toOptStr, z.string().min(1).optional()),
    ovsdb_connection_timeout: intIn(1, MAX_TIMER_SECONDS),
  }),
});

export type ParsedConfig = z.output<typeof configSchema>;

/** Path of an option: `name` for [DEFAULT], `group.name` otherwise (the form ConfigError.option uses). */
export function optionPath(group: string, key: string): string {
  return group === DEFAULT_GROUP ? key : `${group}.${key}`;
}

/** What each option must be, in words, for error messages ("expected <this>, got 'abc'"). */
export const EXPECTED: Readonly<Record<string, string>> = {
  reconcile_interval: `an integer number of seconds 1..${MAX_TIMER_SECONDS}`,
  expose_tenant_networks: "a boolean (true/false, yes/no, on/off, 1/0)",
  expose_ipv6_gua_tenant_networks: "a boolean (true/false, yes/no, on/off, 1/0)",
  advertisement_method_tenant_networks: "one of ip, subnet (upstream's 'host' means ip)",
  address_scopes: "a comma-separated list of address scope ids",
  bgp_AS: `an integer 1..${U32_MAX}`,
  bgp_router_id: "an IPv4 address",
  bgp_nic: "an interface name of 1..15 characters without '/', ':' or spaces",
  bgp_vrf: "an interface name of 1..15 characters without '/', ':' or spaces",
  bgp_vrf_table_id: `a routing table id 1..${U32_MAX} other than 253 (default), 254 (main), 255 (local)`,
  announce_via: "one of vrf, table",
  ovsdb_connection: "an OVSDB remote: unix:PATH, tcp:HOST:PORT or ssl:HOST:PORT",
  ip_rule_priority: "an integer 1..32765 (rules must come before the main table's 32766)",
  min_exposed_prefix_ipv4: "an IPv4 prefix length 0..32 (tenant subnets wider than this are refused)",
  min_exposed_prefix_ipv6: "an IPv6 prefix length 0..128 (tenant subnets wider than this are refused)",
  ip_rule_layout:
    "one of per-ip (a rule per exposed IP or subnet, as the seed shows), per-bridge (one rule per bridge table and family)",
  route_protocol: "an integer 0..255 that is not reserved by the kernel (0-4) nor used by FRR (186-198)",
  bridge_table_base: `an integer 1..${U32_MAX - MAX_PROVIDER_BRIDGES}`,
  rt_tables_dropin: "an absolute path ending in .conf (iproute2 reads only *.conf in rt_tables.d)",
  flow_cookie: `an integer 1..${Number.MAX_SAFE_INTEGER} (decimal or 0x hexadecimal)`,
  flow_priority: "an integer 1..65535",
  frr_vty_socket_dir: "an absolute directory path",
  frr_command_prefix: "words put before vtysh (e.g. podman exec frr), or empty",
  ovs_command_prefix: "words put before ovs-ofctl and ovs-vsctl (e.g. podman exec openvswitch), or empty",
  drift_poll_ms:
    "milliseconds 100..60000 between looks at what sends no change notification, or 0 to look only at the periodic pass",
  debug: "a boolean (true/false, yes/no, on/off, 1/0)",
  metrics_listen: "HOST:PORT (IPv6 as [ADDR]:PORT), or empty to disable",
  control_socket: "an absolute path of a Unix socket, or empty to disable",
  adopt_upstream_state: "a boolean (true/false, yes/no, on/off, 1/0)",
  "ovn.ovn_sb_connection": "OVSDB remotes (unix:PATH, tcp:HOST:PORT, ssl:HOST:PORT), comma-separated",
  "ovn.ovn_sb_private_key": "an absolute file path",
  "ovn.ovn_sb_certificate": "an absolute file path",
  "ovn.ovn_sb_ca_cert": "an absolute file path",
  "ovn.chassis_name": "a non-empty chassis name",
  "ovn.ovsdb_connection_timeout": `an integer number of seconds 1..${MAX_TIMER_SECONDS}`,
};

/**
 * Built-in defaults, written as a file would hold them (they go through the same schema).
 */
export const DEFAULTS: Readonly<Record<string, unknown>> = {
  reconcile_interval: 300,
  expose_tenant_networks: false,
  expose_ipv6_gua_tenant_networks: false,
  advertisement_method_tenant_networks: "ip",
  address_scopes: [],
  bgp_AS: 64999,
  bgp_nic: "bgp-nic",
  bgp_vrf: "bgp-vrf",
  bgp_vrf_table_id: 10,
  announce_via: "vrf",
  // Upstream's default (/usr/local/var/run/…) is where a source build of OVS puts the socket; Debian,
  // Ubuntu and RHEL packages all use /var/run/openvswitch, which is what this agent is deployed next to.
  ovsdb_connection: "unix:/var/run/openvswitch/db.sock",
  ip_rule_priority: 32000,
  // The seed's layout. per-bridge keeps the rule list at one rule per bridge table and family, so
  // forwarding cost does not grow with the number of exposed IPs (docs/BENCHMARKS.md).
  ip_rule_layout: "per-ip",
  // A router port's network decides what the host steers into br-ex: a /0 (or any very wide
  // prefix) would take the host's own traffic, BGP sessions included. Neutron tenant subnets are
  // /16../30 (IPv4) and /64 (IPv6); wider is refused and reported.
  min_exposed_prefix_ipv4: 16,
  min_exposed_prefix_ipv6: 48,
  // 179 (BGP's TCP port, easy to recognise in `ip route show proto 179`) is outside the kernel's 0-4 and
  // FRR's 186-198 and is not registered in iproute2's rt_protos; `ip -d route` then shows which routes,
  // rules and neighbours are ours, and pruning touches nothing else.
  route_protocol: 179,
  // Tables 200..231: well clear of the VRF table (10) and of 253-255, one byte wide so every iproute2
  // version prints them, and the region upstream's own randomly chosen bridge tables were seen in.
  bridge_table_base: 200,
  rt_tables_dropin: "/etc/iproute2/rt_tables.d/ovn-bgp.conf",
  // 999 as upstream: taking over a host that ran the upstream agent then adopts (and prunes) its flows
  // instead of leaving a second, stale set with another cookie.
  flow_cookie: 999,
  flow_priority: 900,
  frr_vty_socket_dir: "/run/frr",
  // vtysh, ovs-ofctl and ovs-vsctl from the PATH, as installed next to the daemons.
  frr_command_prefix: [],
  ovs_command_prefix: [],
  // Sysctls, NDP proxy entries and FRR's configuration send no change notification: looked at this
  // often (each look costs well under a millisecond; docs/RELIABILITY.md).
  drift_poll_ms: 500,
  metrics_listen: "127.0.0.1:9797",
  // Where `ovn-bgp status` (or `ovs-appctl -t`) reaches the running agent; in the unit's RuntimeDirectory.
  control_socket: "/run/ovn-bgp/agent.ctl",
  // Taking over from the Python agent (docs/MIGRATION.md): off, since it takes unmarked objects.
  adopt_upstream_state: false,
  debug: false,
  // How long a start waits for the first complete copy of each database before it fails with the
  // last connection error (upstream's option, whose default is 180 s; a typo in a socket path
  // should not keep `sync --once` waiting three minutes).
  "ovn.ovsdb_connection_timeout": 30,
};

/** Every option path this agent implements (for unknown-option detection and suggestions). */
export const IMPLEMENTED_OPTIONS: ReadonlySet<string> = new Set(Object.keys(EXPECTED));

/**
 * Options upstream reads from [DEFAULT] for backwards compatibility (`deprecated_group='DEFAULT'`) but
 * documents under [ovn]. Accepted in [DEFAULT] with a warning; [ovn] wins when both are set.
 */
export const DEPRECATED_DEFAULT_LOCATION: ReadonlySet<string> = new Set([
  "ovn_sb_connection",
  "ovn_sb_private_key",
  "ovn_sb_certificate",
  "ovn_sb_ca_cert",
  "ovsdb_connection_timeout",
]);

/** Which schema (sub)object an option path belongs to. */
export function schemaLocation(path: string): { group: "DEFAULT" | "ovn"; key: string } {
  return path.startsWith("ovn.") ? { group: "ovn", key: path.slice(4) } : { group: DEFAULT_GROUP, key: path };
}

/** Used in messages to show a value as written: strings quoted, the rest as JSON. */
export function showValue(v: unknown): string {
  if (typeof v === "string") return `'${v}'`;
  if (v === undefined) return "nothing";
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}
