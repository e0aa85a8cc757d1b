/**
 * The seed's OpenStack workloads, written to the Northbound DB as Neutron's OVN driver writes them
 * (names `neutron-<uuid>` / `lrp-<uuid>` / `provnet-<uuid>`, `neutron:*` external_ids, gateway ports
 * with Gateway_Chassis priorities, `requested-chassis`, a localnet port with `network_name`, a
 * distributed FIP as `dnat_and_snat` with `logical_port` and `external_mac`), and the VMs: one
 * namespace each, attached to br-int of its host through an OVS internal port moved into it.
 */
import { run, runOk } from "../host/exec.ts";
import type { LabNames } from "./names.ts";
import { nbctl, sbctl, vsctl } from "./ovn.ts";
import { poll } from "./proc.ts";
import { type HostName, ovnName, PROBE_PORT, type VmKey, WORKLOAD as W } from "./topology.ts";
import { ipBatch } from "./underlay.ts";

/** `external_ids:"neutron:key"="value"` arguments for ovn-nbctl `set`/`create`. */
function ext(ids: Record<string, string>, column = "external_ids"): string[] {
  return Object.entries(ids).map(([k, v]) => `${column}:"${k}"="${v}"`);
}

const NET_MTU = { provider: "1500", tenant: "1442" };

/** Every Northbound row of the seed except the FIP (walk 3 associates it). */
export function workloadCommands(providerVlan?: number): string[][] {
  const p = W.provider;
  const t = W.tenant;
  const r = W.router;
  const sw = ovnName.providerSwitch;
  const tsw = ovnName.tenantSwitch;
  const vmPort = (
    vm: typeof W.vm1 | typeof W.vm2 | typeof W.vm3 | typeof W.vmTenant,
    netSwitch: string,
    addrs: string,
    cidrs: string,
  ) => [
    ["lsp-add", netSwitch, vm.portId],
    ["lsp-set-addresses", vm.portId, `${vm.mac} ${addrs}`],
    ["lsp-set-port-security", vm.portId, `${vm.mac} ${addrs}`],
    [
      "set",
      "Logical_Switch_Port",
      vm.portId,
      ...ext({
        "neutron:cidrs": cidrs,
        "neutron:device_id": vm.deviceId,
        "neutron:device_owner": "compute:nova",
        "neutron:host_id": vm.host,
        "neutron:network_name": netSwitch,
        "neutron:port_name": vm.portName,
        "neutron:project_id": W.project,
        "neutron:revision_number": "4",
        "neutron:security_group_ids": "",
      }),
      `options:requested-chassis=${vm.host}`,
      "options:mcast_flood_reports=true",
    ],
  ];
  const cmds: string[][] = [
    // Provider network "public" with its localnet port (physnet "public" → br-ex by the bridge mappings).
    ["ls-add", sw],
    [
      "set",
      "Logical_Switch",
      sw,
      ...ext({
        "neutron:network_name": p.name,
        "neutron:mtu": NET_MTU.provider,
        "neutron:revision_number": "2",
        "neutron:availability_zone_hints": "",
      }),
      "other_config:mcast_snoop=false",
    ],
    ["lsp-add", sw, ovnName.localnet],
    ["lsp-set-type", ovnName.localnet, "localnet"],
    ["lsp-set-addresses", ovnName.localnet, "unknown"],
    [
      "lsp-set-options",
      ovnName.localnet,
      `network_name=${p.physnet}`,
      "mcast_flood=false",
      "mcast_flood_reports=true",
    ],
    // A VLAN provider network: OVN tags the localnet port's traffic (Neutron's segmentation id).
    ...(providerVlan !== undefined
      ? [["set", "Logical_Switch_Port", ovnName.localnet, `tag_request=${providerVlan}`]]
      : []),
    ...[W.vm1, W.vm2, W.vm3].flatMap((vm) =>
      vmPort(vm, sw, `${vm.ip4} ${vm.ip6}`, `${vm.ip4}/24 ${vm.ip6}/64`),
    ),
    // Tenant network "private-test".
    ["ls-add", tsw],
    [
      "set",
      "Logical_Switch",
      tsw,
      ...ext({
        "neutron:network_name": t.name,
        "neutron:mtu": NET_MTU.tenant,
        "neutron:revision_number": "2",
        "neutron:availability_zone_hints": "",
      }),
    ],
    ...vmPort(
      W.vmTenant,
      tsw,
      `${W.vmTenant.ip4} ${W.vmTenant.ip6}`,
      `${W.vmTenant.ip4}/26 ${W.vmTenant.ip6}/64`,
    ),
    [
      "set",
      "Logical_Switch_Port",
      W.vmTenant.portId,
      ...ext({ "neutron:subnet_pool_addr_scope6": t.addressScope6 }),
    ],
    // Router "router-test" with its external gateway on "public" and an interface on "private-test".
    ["lr-add", ovnName.router],
    [
      "set",
      "Logical_Router",
      ovnName.router,
      ...ext({
        "neutron:router_name": r.name,
        "neutron:gw_port_id": r.gwPortId,
        "neutron:revision_number": "4",
        "neutron:availability_zone_hints": "",
      }),
      "options:always_learn_from_arp_request=false",
      "options:dynamic_neigh_routers=true",
    ],
    ["lrp-add", ovnName.router, ovnName.gwLrp, r.gwMac, `${r.gwIp4}/24`, `${r.gwIp6}/64`],
    [
      "set",
      "Logical_Router_Port",
      ovnName.gwLrp,
      ...ext({
        "neutron:is_ext_gw": "True",
        "neutron:network_name": sw,
        "neutron:router_name": r.id,
        "neutron:subnet_ids": `${p.subnet4Id} ${p.subnet6Id}`,
        "neutron:revision_number": "4",
      }),
    ],
    ...r.gatewayChassis.flatMap((g, i) => [
      [
        `--id=@gc${i}`,
        "create",
        "Gateway_Chassis",
        `name=${ovnName.gwLrp}_${g.host}`,
        `chassis_name=${g.host}`,
        `priority=${g.priority}`,
      ],
      ["add", "Logical_Router_Port", ovnName.gwLrp, "gateway_chassis", `@gc${i}`],
    ]),
    ["lsp-add", sw, r.gwPortId],
    ["lsp-set-type", r.gwPortId, "router"],
    ["lsp-set-addresses", r.gwPortId, "router"],
    [
      "lsp-set-options",
      r.gwPortId,
      `router-port=${ovnName.gwLrp}`,
      "nat-addresses=router",
      "exclude-lb-vips-from-garp=true",
    ],
    [
      "set",
      "Logical_Switch_Port",
      r.gwPortId,
      ...ext({
        "neutron:cidrs": `${r.gwIp4}/24 ${r.gwIp6}/64`,
        "neutron:device_id": r.id,
        "neutron:device_owner": "network:router_gateway",
        "neutron:network_name": sw,
        "neutron:port_name": "",
        "neutron:project_id": "",
        "neutron:revision_number": "4",
      }),
    ],
    ["lrp-add", ovnName.router, ovnName.ifLrp, r.ifMac, `${r.ifIp4}/26`, `${r.ifIp6}/64`],
    [
      "set",
      "Logical_Router_Port",
      ovnName.ifLrp,
      ...ext({
        "neutron:is_ext_gw": "False",
        "neutron:network_name": tsw,
        "neutron:router_name": r.id,
        "neutron:subnet_ids": `${t.subnetId} ${t.subnet6Id}`,
        "neutron:revision_number": "3",
      }),
    ],
    ["lsp-add", tsw, r.ifPortId],
    ["lsp-set-type", r.ifPortId, "router"],
    ["lsp-set-addresses", r.ifPortId, "router"],
    ["lsp-set-options", r.ifPortId, `router-port=${ovnName.ifLrp}`],
    [
      "set",
      "Logical_Switch_Port",
      r.ifPortId,
      ...ext({
        "neutron:cidrs": `${r.ifIp4}/26 ${r.ifIp6}/64`,
        "neutron:subnet_pool_addr_scope6": t.addressScope6,
        "neutron:device_id": r.id,
        "neutron:device_owner": "network:router_interface",
        "neutron:network_name": tsw,
        "neutron:port_name": "",
        "neutron:project_id": W.project,
        "neutron:revision_number": "3",
      }),
    ],
    // Neutron's default routes towards the provider gateways, and the router's SNAT for the subnet.
    [
      "--id=@rt4",
      "create",
      "Logical_Router_Static_Route",
      `ip_prefix="0.0.0.0/0"`,
      `nexthop="${p.gw4}"`,
      ...ext({ "neutron:is_ext_gw": "true", "neutron:subnet_id": p.subnet4Id }),
    ],
    ["add", "Logical_Router", ovnName.router, "static_routes", "@rt4"],
    [
      "--id=@rt6",
      "create",
      "Logical_Router_Static_Route",
      `ip_prefix="::/0"`,
      `nexthop="${p.gw6}"`,
      ...ext({ "neutron:is_ext_gw": "true", "neutron:subnet_id": p.subnet6Id }),
    ],
    ["add", "Logical_Router", ovnName.router, "static_routes", "@rt6"],
    ["lr-nat-add", ovnName.router, "snat", r.gwIp4, t.cidr4],
  ];
  return cmds;
}

/** Join commands into one ovn-nbctl transaction. */
export function oneTransaction(cmds: readonly (readonly string[])[]): string[] {
  return cmds.flatMap((c, i) => (i === 0 ? [...c] : ["--", ...c]));
}

export async function createWorkloads(
  names: LabNames,
  providerVlan?: number,
  loadBalancer = false,
): Promise<void> {
  await nbctl(names, oneTransaction(workloadCommands(providerVlan)));
  if (loadBalancer) await nbctl(names, oneTransaction(loadBalancerCommands()));
}

/**
 * Whether the lab may put a load balancer on router-test with this Open vSwitch. Debian 12's
 * ovs-vswitchd 3.1.0 aborts in its userspace conntrack as soon as a load-balanced connection reaches
 * the member's host ("conntrack.c:1063: assertion conn->conn_type == CT_CONN_TYPE_DEFAULT failed in
 * conn_update_state()"), taking the host's datapath down with it; Debian 13's 3.5.0 carries it.
 */
export function ovsCarriesLoadBalancers(ovsVersion: string | undefined): boolean {
  const [a = 0, b = 0] = (ovsVersion ?? "").split(".").map(Number);
  return a > 3 || (a === 3 && b >= 5);
}

/**
 * The load balancer as ovn-octavia-provider writes it: named after the Octavia id, the VIP on the
 * provider network, the member on the tenant network, applied to the router and to both switches.
 */
export function loadBalancerCommands(): string[][] {
  const lb = W.lb;
  const name = lb.id;
  return [
    ["lb-add", name, `${lb.vip4}:${PROBE_PORT}`, `${W.vmTenant.ip4}:${lb.memberPort}`, "tcp"],
    [
      "set",
      "Load_Balancer",
      name,
      ...ext({
        "neutron:vip": lb.vip4,
        enabled: "True",
        "octavia:name": lb.name,
        lr_ref: ovnName.router,
        // JSON inside an OVSDB quoted string: its quotes escaped.
        ls_refs: `{\\"${ovnName.tenantSwitch}\\": 1, \\"${ovnName.providerSwitch}\\": 1}`,
      }),
    ],
    ["lr-lb-add", ovnName.router, name],
    ["ls-lb-add", ovnName.tenantSwitch, name],
    ["ls-lb-add", ovnName.providerSwitch, name],
  ];
}

export async function associateFip(names: LabNames): Promise<void> {
  const f = W.fip;
  await nbctl(
    names,
    oneTransaction([
      [
        "--id=@nat",
        "create",
        "NAT",
        "type=dnat_and_snat",
        `external_ip="${f.ip4}"`,
        `logical_ip="${W.vmTenant.ip4}"`,
        `logical_port=${W.vmTenant.portId}`,
        `external_mac="${f.mac}"`,
        "options:stateless=false",
        ...ext({
          "neutron:fip_id": f.id,
          "neutron:fip_port_id": W.vmTenant.portId,
          "neutron:fip_external_mac": f.mac,
          "neutron:fip_network_id": W.provider.netId,
          "neutron:router_name": ovnName.router,
          "neutron:revision_number": "1",
        }),
      ],
      ["add", "Logical_Router", ovnName.router, "nat", "@nat"],
    ]),
  );
}

export async function disassociateFip(names: LabNames): Promise<void> {
  await nbctl(names, ["--if-exists", "lr-nat-del", ovnName.router, "dnat_and_snat", W.fip.ip4]);
}

/** Give the gateway chassis `host` the highest priority (Neutron's failover: re-prioritised rows). */
export async function setGatewayHost(names: LabNames, host: HostName): Promise<void> {
  const others = W.router.gatewayChassis.filter((g) => g.host !== host);
  // lrp-set-gateway-chassis updates the priority of the existing row for that chassis.
  const cmds = [
    ["lrp-set-gateway-chassis", ovnName.gwLrp, host, String(others.length + 1)],
    ...others.map((g, i) => ["lrp-set-gateway-chassis", ovnName.gwLrp, g.host, String(others.length - i)]),
  ];
  await nbctl(names, oneTransaction(cmds));
}

/** The chassis a Southbound Port_Binding is bound to, or undefined. */
export async function boundChassis(names: LabNames, logicalPort: string): Promise<string | undefined> {
  const uuid = (
    await sbctl(names, ["--bare", "--columns=chassis", "find", "Port_Binding", `logical_port=${logicalPort}`])
  ).trim();
  if (!uuid) return undefined;
  const name = (await sbctl(names, ["--bare", "--columns=name", "list", "Chassis", uuid])).trim();
  return name || undefined;
}

export async function waitBound(
  names: LabNames,
  logicalPort: string,
  host: string,
  timeoutMs = 30_000,
): Promise<void> {
  await poll(
    async () => (await boundChassis(names, logicalPort)) === host,
    `${logicalPort} bound to ${host}`,
    timeoutMs,
    100,
  );
}

const vmSpec = (key: VmKey) => W[key];

/** Plug a VM's port into br-int of `host` and move it into the VM's namespace, with MAC, IPs and gateway. */
export async function plugVm(names: LabNames, key: VmKey, host: HostName): Promise<void> {
  const vm = vmSpec(key);
  const tap = ovnName.tap(vm.portId);
  const hostNs = names.ns(host);
  const vmNs = names.ns(vm.name);
  await vsctl(names, host, [
    "--may-exist",
    "add-port",
    "br-int",
    tap,
    "--",
    "set",
    "Interface",
    tap,
    "type=internal",
    `mac="${vm.mac}"`,
    `external_ids:iface-id=${vm.portId}`,
    `external_ids:attached-mac="${vm.mac}"`,
    "external_ids:iface-status=active",
    `external_ids:vm-uuid=${vm.deviceId}`,
  ]);
  await poll(
    async () => (await run({ argv: ["ip", "-n", hostNs, "link", "show", tap] })).code === 0,
    `${tap} on ${host}`,
    15_000,
    50,
  );
  await runOk({ argv: ["ip", "-n", hostNs, "link", "set", tap, "netns", vmNs] });
  const lines = [`link set ${tap} address ${vm.mac}`, `link set ${tap} up`];
  if (key !== "vmTenant") {
    const pv = W[key];
    lines.push(
      `address add ${pv.ip4}/24 dev ${tap}`,
      `address add ${pv.ip6}/64 dev ${tap}`,
      `route add default via ${W.provider.gw4} dev ${tap}`,
      `route add ::/0 via ${W.provider.gw6} dev ${tap}`,
    );
  } else {
    lines.push(
      `address add ${W.vmTenant.ip4}/26 dev ${tap}`,
      `address add ${W.vmTenant.ip6}/64 dev ${tap}`,
      `route add default via ${W.router.ifIp4} dev ${tap}`,
      `route add ::/0 via ${W.router.ifIp6} dev ${tap}`,
    );
  }
  await ipBatch(vmNs, lines);
}

/** Remove a VM's port from `host` (its device in the VM namespace goes with it). */
export async function unplugVm(names: LabNames, key: VmKey, host: HostName): Promise<void> {
  const vm = vmSpec(key);
  const tap = ovnName.tap(vm.portId);
  await vsctl(names, host, ["--if-exists", "del-port", "br-int", tap]);
  await poll(
    async () => (await run({ argv: ["ip", "-n", names.ns(vm.name), "link", "show", tap] })).code !== 0,
    `${tap} to leave ${vm.name}`,
    15_000,
    50,
  );
}

/** Live-migrate vm1-provider: unplug, re-point requested-chassis, plug on the new host. */
export async function moveVm1(names: LabNames, from: HostName, to: HostName): Promise<void> {
  await unplugVm(names, "vm1", from);
  await nbctl(names, [
    "set",
    "Logical_Switch_Port",
    W.vm1.portId,
    `options:requested-chassis=${to}`,
    `external_ids:"neutron:host_id"=${to}`,
  ]);
  await plugVm(names, "vm1", to);
  await waitBound(names, W.vm1.portId, to);
}
