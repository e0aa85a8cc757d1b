/**
 * The seed's objects as the kernel applier's input (KernelState), for unit and integration tests:
 * provider VM 172.24.4.92 / 2001:db8::21c, cr-lrp 172.24.4.163 (MAC fa:16:3e:bf:93:93) with its
 * IPv6 2001:db8::20, tenant subnet 10.0.0.64/26 behind it, bridge br-ex with table 200 ("br-ex"),
 * priority 32000. `layout` adds the announce objects: "table" puts the advertised IPs as routes in
 * announce table 10; "vrf" creates bgp-vrf (table 10) and bgp-nic and puts them on bgp-nic.
 */
import type {
  AddressSpec,
  KernelState,
  LinkSpec,
  NdpProxySpec,
  NeighbourSpec,
  RouteSpec,
  RuleSpec,
} from "../../../src/plan/desired-state.ts";

export const BRIDGE = "br-ex";
export const TABLE = 200;
export const ANNOUNCE_TABLE = 10;
export const PRIORITY = 32000;
export const PROTO = 240;

export interface SeedParts {
  readonly providerVm?: boolean;
  readonly crLrp?: boolean;
  readonly tenantSubnet?: boolean;
  readonly layout?: "table" | "vrf";
  readonly bridge?: string;
}

export function seedState(parts: SeedParts = {}): KernelState {
  const { providerVm = true, crLrp = true, tenantSubnet = true, layout = "table", bridge = BRIDGE } = parts;
  const links: LinkSpec[] = [];
  const addresses: AddressSpec[] = [
    { dev: bridge, cidr: "169.254.1.1/32", family: 4 },
    { dev: bridge, cidr: "fd53:d91e:400:7f17::1:1/128", family: 6 },
  ];
  const rules: RuleSpec[] = [];
  const routes: RouteSpec[] = [
    { family: 4, table: TABLE, dst: "default", dev: bridge, scope: "link" },
    { family: 6, table: TABLE, dst: "default", dev: bridge, scope: "link" },
  ];
  const neighbours: NeighbourSpec[] = [];
  const ndpProxies: NdpProxySpec[] = [];
  const advertised: string[] = [];
  if (providerVm) {
    rules.push({ family: 4, priority: PRIORITY, to: "172.24.4.92/32", table: TABLE });
    rules.push({ family: 6, priority: PRIORITY, to: "2001:db8::21c/128", table: TABLE });
    advertised.push("172.24.4.92/32", "2001:db8::21c/128");
  }
  if (crLrp) {
    rules.push({ family: 4, priority: PRIORITY, to: "172.24.4.163/32", table: TABLE });
    rules.push({ family: 6, priority: PRIORITY, to: "2001:db8::20/128", table: TABLE });
    routes.push({ family: 4, table: TABLE, dst: "172.24.4.163/32", dev: bridge, scope: "link" });
    neighbours.push({ family: 4, dev: bridge, ip: "172.24.4.163", mac: "fa:16:3e:bf:93:93" });
    ndpProxies.push({ dev: bridge, ip: "2001:db8::20" });
    advertised.push("172.24.4.163/32", "2001:db8::20/128");
  }
  if (crLrp && tenantSubnet) {
    rules.push({ family: 4, priority: PRIORITY, to: "10.0.0.64/26", table: TABLE });
    routes.push({
      family: 4,
      table: TABLE,
      dst: "10.0.0.64/26",
      dev: bridge,
      via: "172.24.4.163",
      scope: "global",
    });
  }
  if (layout === "table") {
    for (const cidr of advertised) {
      const family = cidr.includes(":") ? 6 : 4;
      routes.push({ family, table: ANNOUNCE_TABLE, dst: cidr, dev: bridge, scope: "link" });
    }
  } else {
    links.push({ kind: "vrf", name: "bgp-vrf", table: ANNOUNCE_TABLE });
    links.push({ kind: "dummy", name: "bgp-nic", master: "bgp-vrf" });
    for (const cidr of advertised)
      addresses.push({ dev: "bgp-nic", cidr, family: cidr.includes(":") ? 6 : 4 });
  }
  return {
    links,
    addresses,
    rules,
    routes,
    neighbours,
    ndpProxies,
    sysctls: [
      { key: `net.ipv4.conf.${bridge}.proxy_arp`, value: "1" },
      { key: `net.ipv6.conf.${bridge}.proxy_ndp`, value: "1" },
    ],
    routingTables: [
      { id: TABLE, name: bridge },
      { id: ANNOUNCE_TABLE, name: "ovn-bgp-announce" },
    ],
  };
}

/** An ObservedKernel-shaped empty kernel with br-ex present, for pure diff tests. */
export function emptyObserved(devices: readonly string[] = [BRIDGE]) {
  return {
    links: devices.map((name) => ({ name, kind: "bridge", up: true })),
    addresses: [],
    rules: [],
    routes: [],
    neighbours: [],
    ndpProxies: [],
    sysctls: new Map<string, string | undefined>(),
    files: new Map<string, string | undefined>(),
    unsupportedLinkKinds: new Set<string>(),
  };
}
