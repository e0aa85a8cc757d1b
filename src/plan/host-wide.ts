/**
 * Host-wide objects: what each provider bridge needs regardless of which ports are exposed
 * (routing table named after the bridge, default routes, proxy ARP/NDP, helper addresses, VLAN
 * devices, MAC-rewrite flows), the bgp_nic/VRF devices of the "vrf" layout, and the FRR intent.
 */
import type { AgentConfig } from "../config/agent-config.ts";
import { parseIp, parseMac } from "../sb/addresses.ts";
import type { PortBinding } from "../sb/port-binding.ts";
import type {
  AddressSpec,
  DesiredState,
  FlowSpec,
  FrrIntent,
  LinkSpec,
  PlanProblem,
  RouteSpec,
  RoutingTableSpec,
  RuleSpec,
  SysctlSpec,
} from "./desired-state.ts";
import { keyRule, TABLE_LAYOUT_IPV6_METRIC } from "./desired-state.ts";
import type { LocalFacts } from "./local-facts.ts";
import { deviceNameError, ovsPortNameError } from "./names.ts";

/** A provider bridge with its position in the mappings (1-based) and its routing table. */
export interface BridgeSlot {
  readonly bridge: string;
  readonly index: number;
  readonly table: number;
}

export interface BridgeSlots {
  readonly byBridge: ReadonlyMap<string, BridgeSlot>;
  /** Provider network name → slot, for networks whose bridge is usable. */
  readonly byNetwork: ReadonlyMap<string, BridgeSlot>;
  readonly problems: readonly PlanProblem[];
}

/** Ids the kernel reserves (unspec, default, main, local) cannot hold a bridge table. */
const RESERVED_TABLES = new Set([0, 253, 254, 255]);

/**
 * Slots in mapping order: bridge i (0-based among distinct bridges) gets table
 * `bridge_table_base + i`, so ids are stable while the mappings do not change.
 */
export function bridgeSlots(config: AgentConfig, facts: LocalFacts): BridgeSlots {
  const byBridge = new Map<string, BridgeSlot>();
  const byNetwork = new Map<string, BridgeSlot>();
  const problems: PlanProblem[] = [];
  const refused = new Set<string>();
  let next = 0;
  for (const { network, bridge } of facts.bridgeMappings) {
    let slot = byBridge.get(bridge);
    if (!slot && !refused.has(bridge)) {
      const i = next++;
      const table = facts.bridgeTables?.get(bridge) ?? config.bridge_table_base + i;
      const err = deviceNameError(bridge);
      if (err) problems.push({ table: "Open_vSwitch", object: "ovn-bridge-mappings", message: err });
      else if (!Number.isInteger(table) || table < 1 || table > 0x7fffffff || RESERVED_TABLES.has(table))
        problems.push({
          table: "Open_vSwitch",
          object: bridge,
          message: `routing table id ${table} is reserved or out of range`,
        });
      else if ([...byBridge.values()].some((o) => o.table === table))
        problems.push({
          table: "Open_vSwitch",
          object: bridge,
          message: `routing table id ${table} is already another bridge's`,
        });
      else if (table === config.bgp_vrf_table_id)
        problems.push({
          table: "Open_vSwitch",
          object: bridge,
          message: `routing table id ${table} collides with bgp_vrf_table_id`,
        });
      else {
        slot = { bridge, index: i + 1, table };
        byBridge.set(bridge, slot);
      }
      if (!slot) refused.add(bridge);
    }
    if (slot) byNetwork.set(network, slot);
  }
  return { byBridge, byNetwork, problems };
}

/** VLAN device name of a tagged provider network, or an error. */
export function vlanDevice(bridge: string, tag: number): { dev?: string; error?: string } {
  if (!Number.isInteger(tag) || tag < 1 || tag > 4094) return { error: `VLAN tag ${tag} out of range` };
  const dev = `${bridge}.${tag}`;
  const err = deviceNameError(dev);
  return err ? { error: err } : { dev };
}

/** The host-wide part of the desired state: everything but the per-port entries. */
export type HostWide = Omit<DesiredState, "chassis" | "entries">;

function proxySysctls(dev: string): SysctlSpec[] {
  // Dotted, with the device name whole (br-ex.100): the applier takes everything between the
  // fourth component and the leaf as the device (validate.ts sysctlPath).
  return [
    { key: `net.ipv4.conf.${dev}.proxy_arp`, value: "1" },
    { key: `net.ipv6.conf.${dev}.proxy_ndp`, value: "1" },
  ];
}

/**
 * The IPv6 twin of proxy ARP on the bridge, in its flows: a neighbour solicitation that OVN sends
 * out of the provider network (a VM or a router resolving an address OVN does not know, such as
 * the provider subnet's gateway) is answered from the bridge with its own MAC, so the VM's IPv6
 * traffic reaches the host's kernel and is routed. The kernel's proxy NDP answers only listed
 * addresses, and the subnet's gateway is in no OVN database, so the kernel cannot do it.
 *
 * The answer is built in place (OVS fields, no controller), in two steps because OVS writes the
 * link-layer option that matches the ICMPv6 type the flow has when the packet leaves: table 0
 * swaps the Ethernet and IPv6 addresses (the source becomes the target), makes it type 136 with the
 * router, solicited and override flags and the option a target link-layer option, and resubmits;
 * ND_RESPONDER_TABLE, now matching an advertisement, writes the bridge's MAC into that option and
 * sends it back out of the port it came from. Only solicitations with a source link-layer option
 * (every multicast one; DAD has none) for a non-link-local target: link-local targets keep going
 * to the kernel as before (it answers for the bridge's own), with the usual MAC rewrite.
 */
export const ND_RESPONDER_PRIORITY_OFFSET = 10;
export const ND_RESPONDER_TABLE = 10;

export function ndResponderFlows(bridge: string, port: string, mac: string, config: AgentConfig): FlowSpec[] {
  // As ovs-ofctl prints a load's value back: no leading zeros (0e:07:… is 0xe07…). With them, a
  // bridge MAC whose first byte is below 0x10 never compared equal and was rewritten every pass.
  const hex = `0x${BigInt(`0x${mac.replace(/:/g, "")}`).toString(16)}`;
  const ns = `icmp6,in_port=${port},icmp_type=135,icmp_code=0`;
  const priority = config.flow_priority + ND_RESPONDER_PRIORITY_OFFSET;
  return [
    {
      bridge,
      cookie: config.flow_cookie,
      priority: config.flow_priority + 2 * ND_RESPONDER_PRIORITY_OFFSET,
      match: `${ns},nd_target=fe80::/10`,
      actions: `mod_dl_dst:${mac},NORMAL`,
    },
    {
      bridge,
      cookie: config.flow_cookie,
      priority,
      match: `${ns},nd_options_type=1`,
      // Written as ovs-ofctl prints it back, so a dump compares equal to the wish.
      actions: [
        "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]",
        `mod_dl_src:${mac}`,
        "move:NXM_NX_IPV6_SRC[]->NXM_NX_IPV6_DST[]",
        "move:NXM_NX_ND_TARGET[]->NXM_NX_IPV6_SRC[]",
        "load:0x88->NXM_NX_ICMPV6_TYPE[]",
        "load:0xe0000000->ERICOXM_OF_ICMPV6_ND_RESERVED[]",
        "load:0x2->ERICOXM_OF_ICMPV6_ND_OPTIONS_TYPE[]",
        `resubmit(,${ND_RESPONDER_TABLE})`,
      ].join(","),
    },
    {
      bridge,
      cookie: config.flow_cookie,
      table: ND_RESPONDER_TABLE,
      priority,
      match: `icmp6,in_port=${port},icmp_type=136,icmp_code=0,nd_options_type=2`,
      actions: `load:${hex}->NXM_NX_ND_TLL[],IN_PORT`,
    },
  ];
}

/** Helper addresses so the kernel answers ARP/NDP on the bridge: 169.254.i.i, fd53:d91e:400:7f17::i:i. */
function helperAddresses(dev: string, index: number): AddressSpec[] {
  const v6 = parseIp(`fd53:d91e:400:7f17::${index}:${index}`);
  const out: AddressSpec[] = [{ dev, cidr: `169.254.${index}.${index}/32`, family: 4 }];
  if (v6.ok) out.push({ dev, cidr: `${v6.value.ip}/128`, family: 6 });
  return out;
}

const byString =
  <T>(key: (t: T) => string) =>
  (a: T, b: T) => {
    const x = key(a);
    const y = key(b);
    return x < y ? -1 : x > y ? 1 : 0;
  };

export function computeHostWide(
  config: AgentConfig,
  facts: LocalFacts,
  slots: BridgeSlots,
  localnets: Iterable<PortBinding>,
): HostWide {
  const links: LinkSpec[] = [];
  const addresses: AddressSpec[] = [];
  const routes: RouteSpec[] = [];
  const rules: RuleSpec[] = [];
  const sysctls: SysctlSpec[] = [
    { key: "net.ipv4.ip_forward", value: "1" },
    { key: "net.ipv6.conf.all.forwarding", value: "1" },
  ];
  const routingTables: RoutingTableSpec[] = [];
  const flows: FlowSpec[] = [];
  const problems: PlanProblem[] = [...slots.problems];

  for (const slot of slots.byBridge.values()) {
    const { bridge, index, table } = slot;
    routingTables.push({ id: table, name: bridge });
    routes.push({ family: 4, table, dst: "default", dev: bridge, scope: "link" });
    routes.push({ family: 6, table, dst: "default", dev: bridge, scope: "link" });
    if (config.ip_rule_layout === "per-bridge")
      for (const family of [4, 6] as const)
        rules.push({ family, priority: config.ip_rule_priority, table, suppressPrefixlength: 0 });
    sysctls.push(...proxySysctls(bridge));
    if (index <= 255) addresses.push(...helperAddresses(bridge, index));
    else problems.push({ table: "Open_vSwitch", object: bridge, message: "more than 255 provider bridges" });

    const local = facts.bridges.get(bridge);
    if (!local) continue;
    if (local.mac === undefined) continue;
    const mac = parseMac(local.mac);
    if (!mac.ok) {
      problems.push({ table: "Open_vSwitch", object: bridge, message: `bridge ${mac.error}` });
      continue;
    }
    for (const port of [...local.patchPorts].sort()) {
      const err = ovsPortNameError(port);
      if (err) {
        problems.push({ table: "Open_vSwitch", object: bridge, message: err });
        continue;
      }
      for (const proto of ["ip", "ipv6"]) {
        flows.push({
          bridge,
          cookie: config.flow_cookie,
          priority: config.flow_priority,
          match: `${proto},in_port=${port}`,
          actions: `mod_dl_dst:${mac.value},NORMAL`,
        });
      }
      flows.push(...ndResponderFlows(bridge, port, mac.value, config));
    }
  }

  // VLAN provider networks: a br-ex.<tag> device per tagged localnet mapped to a local bridge.
  const vlans = new Map<string, { parent: string; tag: number; index: number }>();
  for (const ln of localnets) {
    const network = ln.options.get("network_name");
    const slot = network === undefined ? undefined : slots.byNetwork.get(network);
    if (!slot || ln.tag === undefined) continue;
    const v = vlanDevice(slot.bridge, ln.tag);
    if (v.dev) vlans.set(v.dev, { parent: slot.bridge, tag: ln.tag, index: slot.index });
    else problems.push({ table: "Port_Binding", object: ln.uuid, message: `localnet: ${v.error}` });
  }
  for (const [dev, v] of vlans) {
    links.push({ kind: "vlan", name: dev, parent: v.parent, vlanId: v.tag });
    sysctls.push(...proxySysctls(dev));
    if (v.index <= 255) addresses.push(...helperAddresses(dev, v.index));
  }

  let frr: FrrIntent;
  if (config.announce_via === "vrf") {
    let valid = true;
    for (const name of [config.bgp_vrf, config.bgp_nic]) {
      const err = deviceNameError(name);
      if (err) problems.push({ table: "config", object: "bgp_nic/bgp_vrf", message: err });
      if (err) valid = false;
    }
    if (valid) {
      links.push({ kind: "vrf", name: config.bgp_vrf, table: config.bgp_vrf_table_id });
      links.push({ kind: "dummy", name: config.bgp_nic, master: config.bgp_vrf });
    }
    frr = {
      asn: config.bgp_AS,
      ...(config.bgp_router_id ? { routerId: config.bgp_router_id } : {}),
      layout: "vrf",
      vrf: { name: config.bgp_vrf, table: config.bgp_vrf_table_id },
    };
  } else {
    frr = {
      asn: config.bgp_AS,
      ...(config.bgp_router_id ? { routerId: config.bgp_router_id } : {}),
      layout: "table",
      importTable: config.bgp_vrf_table_id,
      ipv6KernelMetric: TABLE_LAYOUT_IPV6_METRIC,
    };
  }
  if (config.bgp_router_id !== undefined) {
    const id = parseIp(config.bgp_router_id);
    if (!id.ok || id.value.family !== 4)
      problems.push({
        table: "config",
        object: "bgp_router_id",
        message: "bgp_router_id is not an IPv4 address",
      });
  }

  return {
    links: links.sort(byString((l) => `${l.kind}|${l.name}`)),
    addresses: addresses.sort(byString((a) => `${a.dev}|${a.cidr}`)),
    routes: routes.sort(byString((r) => `${r.family}|${r.table}|${r.dst}`)),
    rules: rules.sort(byString(keyRule)),
    sysctls: sysctls.sort(byString((s) => s.key)),
    routingTables: routingTables.sort((a, b) => a.id - b.id),
    flows: flows.sort(byString((f) => `${f.bridge}|${f.table ?? 0}|${f.priority}|${f.match}`)),
    frr,
    problems,
  };
}
