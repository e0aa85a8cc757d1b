/**
 * Turns "expose these IPs through this bridge" into kernel objects, per the configured layout:
 * `vrf` puts /32 and /128 on the dummy bgp_nic (enslaved to bgp_vrf; FRR redistributes connected
 * routes), `table` puts host routes `IP dev <bridge> scope link` in table bgp_vrf_table_id (FRR
 * imports it with `ip import-table` and redistributes it).
 */
import type { AgentConfig } from "../config/agent-config.ts";
import { hostCidr, type IpPrefix } from "../sb/addresses.ts";
import {
  type AddressSpec,
  type Cause,
  keyAddress,
  keyNdpProxy,
  keyNeighbour,
  keyRoute,
  keyRule,
  MAIN_TABLE,
  type NdpProxySpec,
  type NeighbourSpec,
  type PlanEntry,
  type RouteSpec,
  type RuleSpec,
  TABLE_LAYOUT_IPV6_METRIC,
} from "./desired-state.ts";

/** Where an exposure enters OVN: the bridge's routing table and the device (bridge or VLAN). */
export interface ExposeVia {
  readonly table: number;
  readonly dev: string;
}

export class EntryDraft {
  readonly advertised = new Set<string>();
  readonly addresses: AddressSpec[] = [];
  readonly rules: RuleSpec[] = [];
  readonly routes: RouteSpec[] = [];
  readonly neighbours: NeighbourSpec[] = [];
  readonly ndpProxies: NdpProxySpec[] = [];

  constructor(
    private readonly config: AgentConfig,
    readonly id: string,
    readonly cause: Cause,
  ) {}

  /** Announce an address over BGP (layout-specific object). */
  advertise(p: IpPrefix, dev: string): void {
    this.advertised.add(p.ip);
    const cidr = hostCidr(p.ip, p.family);
    if (this.config.announce_via === "vrf") {
      this.addresses.push({ dev: this.config.bgp_nic, cidr, family: p.family });
    } else {
      this.routes.push({
        family: p.family,
        table: this.config.bgp_vrf_table_id,
        dst: cidr,
        dev,
        scope: "link",
      });
      if (p.family === 6)
        this.routes.push({
          family: 6,
          table: MAIN_TABLE,
          dst: cidr,
          dev,
          scope: "link",
          metric: TABLE_LAYOUT_IPV6_METRIC,
        });
    }
  }

  /** Announce a whole subnet (advertisement_method_tenant_networks = "subnet"). */
  advertiseSubnet(cidr: string, family: 4 | 6, via: string, dev: string): void {
    this.advertised.add(cidr);
    const table = this.config.bgp_vrf_table_id;
    if (this.config.announce_via === "vrf")
      this.routes.push({ family, table, dst: cidr, dev: this.config.bgp_nic, scope: "link" });
    else this.routes.push({ family, table, dst: cidr, dev, via, scope: "global" });
  }

  /** `ip rule to <cidr> lookup <bridge table>`. */
  rule(to: string, family: 4 | 6, via: ExposeVia): void {
    if (this.config.ip_rule_layout === "per-bridge") return; // the bridge's one rule and this entry's routes do it
    this.rules.push({ family, priority: this.config.ip_rule_priority, to, table: via.table });
  }

  /** Everything a provider-side host address needs: advertisement, rule, `IP dev <dev> scope link`. */
  exposeHost(p: IpPrefix, via: ExposeVia): void {
    const cidr = hostCidr(p.ip, p.family);
    this.advertise(p, via.dev);
    this.rule(cidr, p.family, via);
    this.routes.push({ family: p.family, table: via.table, dst: cidr, dev: via.dev, scope: "link" });
  }

  isEmpty(): boolean {
    return (
      this.advertised.size === 0 &&
      this.rules.length === 0 &&
      this.routes.length === 0 &&
      this.neighbours.length === 0 &&
      this.ndpProxies.length === 0 &&
      this.addresses.length === 0
    );
  }

  finish(): PlanEntry {
    return {
      id: this.id,
      cause: this.cause,
      advertised: [...this.advertised].sort(),
      addresses: uniqueSorted(this.addresses, keyAddress),
      rules: uniqueSorted(this.rules, keyRule),
      routes: uniqueSorted(this.routes, keyRoute),
      neighbours: uniqueSorted(this.neighbours, keyNeighbour),
      ndpProxies: uniqueSorted(this.ndpProxies, keyNdpProxy),
    };
  }
}

function uniqueSorted<T>(items: readonly T[], key: (t: T) => string): T[] {
  const m = new Map<string, T>();
  for (const i of items) if (!m.has(key(i))) m.set(key(i), i);
  return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
}
