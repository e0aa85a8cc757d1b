/**
 * The seed's lab as data: every node, link, AS number, address and workload the builder creates.
 * Names and addresses follow the seed (spine-1, leaf-1/2, rack-1-host-1 … 172.24.4.92, 10.0.0.95,
 * 172.24.4.79); everything the seed leaves open (AS numbers, loopbacks, the tunnel segment, UUIDs) is
 * chosen here once, so the builder, the manual exposure, `check` and `status` all read one source.
 */

export type NodeRole = "spine" | "leaf" | "host";

/** A node of the BGP fabric: one network namespace with zebra and bgpd. */
export interface FabricNode {
  readonly name: string;
  readonly role: NodeRole;
  readonly asn: number;
  /** Loopback address: router-id, and (spine) the source of the probes. */
  readonly lo4: string;
  readonly lo6: string;
}

/** A point-to-point underlay link (a veth pair); BGP runs unnumbered over its IPv6 link-locals. */
export interface FabricLink {
  readonly a: string;
  readonly aIf: string;
  readonly b: string;
  readonly bIf: string;
}

/** A hypervisor: fabric node plus its OVS/OVN chassis. */
export interface HostSpec {
  readonly name: string;
  /** Tunnel (Geneve) address on br-phy, on the separate tunnel segment. */
  readonly tunnelIp: string;
}

export const SPINE = "spine-1";
export const LEAVES = ["leaf-1", "leaf-2"] as const;
export const HOSTS = ["rack-1-host-1", "rack-1-host-2", "rack-2-host-1"] as const;
export type HostName = (typeof HOSTS)[number];

export const NODES: readonly FabricNode[] = [
  { name: SPINE, role: "spine", asn: 65000, lo4: "172.30.0.1", lo6: "fd00:30::1" },
  { name: "leaf-1", role: "leaf", asn: 65011, lo4: "172.30.0.11", lo6: "fd00:30::11" },
  { name: "leaf-2", role: "leaf", asn: 65012, lo4: "172.30.0.12", lo6: "fd00:30::12" },
  { name: "rack-1-host-1", role: "host", asn: 64101, lo4: "172.30.0.101", lo6: "fd00:30::101" },
  { name: "rack-1-host-2", role: "host", asn: 64102, lo4: "172.30.0.102", lo6: "fd00:30::102" },
  { name: "rack-2-host-1", role: "host", asn: 64103, lo4: "172.30.0.103", lo6: "fd00:30::103" },
];

/** spine swp1/swp2 as in the seed's `show ip route`; every host is dual-homed (eth1 → leaf-1, eth2 → leaf-2). */
export const LINKS: readonly FabricLink[] = [
  { a: SPINE, aIf: "swp1", b: "leaf-1", bIf: "swp-spine" },
  { a: SPINE, aIf: "swp2", b: "leaf-2", bIf: "swp-spine" },
  ...HOSTS.flatMap((h, i) => [
    { a: "leaf-1", aIf: `swp-h${i + 1}`, b: h, bIf: "eth1" },
    { a: "leaf-2", aIf: `swp-h${i + 1}`, b: h, bIf: "eth2" },
  ]),
];

export const HOST_SPECS: readonly HostSpec[] = HOSTS.map((name, i) => ({
  name,
  tunnelIp: `172.31.0.${i + 1}`,
}));
export const TUNNEL_PREFIX_LEN = 24;

/** Kernel tables of the `table` layout: FRR imports ANNOUNCE_TABLE; the br-ex table holds the redirect routes. */
export const ANNOUNCE_TABLE = 200;
export const BREX_TABLE = 201;
export const RULE_PRIORITY = 32000;
/** IPv6 host routes of the manual mode sit in main with this metric and are redistributed by it (FRR 8.4 has no `ipv6 import-table`). */
export const IPV6_KERNEL_METRIC = 179;

export function fabricNode(name: string): FabricNode {
  const n = NODES.find((x) => x.name === name);
  if (!n) throw new Error(`no fabric node ${name}`);
  return n;
}

/** The seed's OpenStack objects, shaped as Neutron's OVN driver writes them (ids are fixed for readability). */
export const WORKLOAD = {
  project: "a1b2c3d4e5f60718293a4b5c6d7e8f90",
  provider: {
    netId: "7c3e1d52-4b0a-4c4e-9c1f-2f0a5e6b7d81",
    segmentId: "0d9f2b7a-3c51-4e6f-8a2d-6b1c4e9f0a37",
    name: "public",
    physnet: "public",
    cidr4: "172.24.4.0/24",
    gw4: "172.24.4.1",
    cidr6: "2001:db8::/64",
    gw6: "2001:db8::1",
    subnet4Id: "ef0ebaa1-f64f-4e1a-845e-a2d832d3468e",
    subnet6Id: "838ed0ad-3ba2-4242-8a7c-f4a6b250443e",
  },
  tenant: {
    netId: "5f1a7e39-8d24-4b6c-a0e3-91c2d7f4b568",
    name: "private-test",
    cidr4: "10.0.0.64/26",
    subnetId: "8584f8db-c7f7-46b4-b829-eef795354ea4",
    /** A GUA subnet from a subnet pool in the provider's address scope: routed, never NATed. */
    cidr6: "2001:db8:100::/64",
    subnet6Id: "3b7e2c91-5d4a-4f18-9c6e-0a8b7d2e4f53",
    addressScope6: "c9e1f4a7-2b3d-4e5f-8a6b-7c8d9e0f1a2b",
  },
  router: {
    id: "2e6c9a41-7f3d-4b58-8e0a-c1d5f6a7b293",
    name: "router-test",
    gwPortId: "b6329de2-f2a7-44ba-8f19-d238acd6df11",
    gwMac: "fa:16:3e:bf:93:93",
    gwIp4: "172.24.4.163",
    gwIp6: "2001:db8::20",
    ifPortId: "41389d96-6a70-4147-954c-a15a7678367b",
    ifMac: "fa:16:3e:34:30:23",
    ifIp4: "10.0.0.65",
    ifIp6: "2001:db8:100::1",
    /** Gateway_Chassis priorities (highest wins): the seed's cr-lrp lands on rack-1-host-1. */
    gatewayChassis: [
      { host: "rack-1-host-1", priority: 2 },
      { host: "rack-1-host-2", priority: 1 },
    ] as const,
  },
  vm1: {
    name: "vm1-provider",
    portName: "vm1-port",
    portId: "9a4f3c2e-1b7d-4e8a-b6c5-0d2e3f4a5b6c",
    deviceId: "b5895d69-c4ed-46f9-91ae-e34297fc67ab",
    mac: "fa:16:3e:5a:21:c0",
    ip4: "172.24.4.92",
    ip6: "2001:db8::21c",
    host: "rack-1-host-2" as HostName,
  },
  /** The seed's cross-host provider walk: a VM on another host than vm1 (kernel, leaf, BGP, back in). */
  vm2: {
    name: "vm2-provider",
    portName: "vm2-port",
    portId: "5c1e7a93-2d48-4f6b-9e05-a8b3c7d2e146",
    deviceId: "e2a4c6b8-1d3f-4a5b-8c7d-9e0f1a2b3c4d",
    mac: "fa:16:3e:5a:21:c1",
    ip4: "172.24.4.93",
    ip6: "2001:db8::21d",
    host: "rack-2-host-1" as HostName,
  },
  /** The seed's same-host provider walk: a VM next to vm1 (straight over br-int, no kernel). */
  vm3: {
    name: "vm3-provider",
    portName: "vm3-port",
    portId: "7f3b9d15-4e6a-4c28-b1f0-d5e7a9c3b284",
    deviceId: "a1c3e5f7-2b4d-4c6e-9f8a-0b1c2d3e4f5a",
    mac: "fa:16:3e:5a:21:c2",
    ip4: "172.24.4.94",
    ip6: "2001:db8::21e",
    host: "rack-1-host-2" as HostName,
  },
  vmTenant: {
    name: "vm-tenant",
    portName: "vm-tenant-port",
    portId: "c46f95fa-6070-4364-bad7-d7ef8e95dd06",
    deviceId: "46ed9470-82bd-4c7f-b42f-e783c3daf231",
    mac: "fa:16:3e:0b:99:2b",
    ip4: "10.0.0.95",
    ip6: "2001:db8:100::5f",
    host: "rack-2-host-1" as HostName,
  },
  /** An Octavia-OVN load balancer on router-test: a provider VIP in front of vm-tenant's listener. */
  lb: {
    id: "8e2d4f6a-1b3c-4d5e-9f70-a1b2c3d4e5f6",
    name: "lb-web",
    vip4: "172.24.4.50",
    /**
     * The member's port behind VIP:8080. Not the FIP walk's 8080: with a load balancer on a router
     * with a distributed gateway port, OVN sends every reply from a backend ip:port to the gateway
     * chassis to be un-DNATed, which breaks the same VM's distributed-FIP connections to that port.
     */
    memberPort: 8081,
  },
  fip: {
    id: "3d7b9e1f-6a2c-4f85-b0d4-e8c1a5f2b697",
    ip4: "172.24.4.79",
    /** Neutron's FIP port (device_owner network:floatingip): its MAC is the NAT's external_mac. */
    portId: "e5a1c7d3-9b2f-4d68-a4e0-7c3b1f9d5e82",
    mac: "fa:16:3e:79:4f:1b",
  },
} as const;

export type VmKey = "vm1" | "vm2" | "vm3" | "vmTenant";
/** The VMs on the provider network (same subnet, same gateway). */
export const PROVIDER_VMS = ["vm1", "vm2", "vm3"] as const;

/** TCP port of the probe listener inside each VM namespace. */
export const PROBE_PORT = 8080;

/** OVN names as Neutron's driver derives them. */
export const ovnName = {
  providerSwitch: `neutron-${WORKLOAD.provider.netId}`,
  tenantSwitch: `neutron-${WORKLOAD.tenant.netId}`,
  router: `neutron-${WORKLOAD.router.id}`,
  localnet: `provnet-${WORKLOAD.provider.segmentId}`,
  gwLrp: `lrp-${WORKLOAD.router.gwPortId}`,
  ifLrp: `lrp-${WORKLOAD.router.ifPortId}`,
  crLrp: `cr-lrp-${WORKLOAD.router.gwPortId}`,
  /** Neutron names a VM's tap `tap` + the first 11 characters of the port id. */
  tap: (portId: string) => `tap${portId.slice(0, 11)}`,
};
