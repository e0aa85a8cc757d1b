/**
 * The resolved agent configuration: what every other module receives. Loading (INI as upstream
 * writes it, our YAML, defaults, validation with zod) lives in src/config/load.ts; option names
 * follow the upstream Python ovn-bgp-agent where the concept is the same.
 */
export interface AgentConfig {
  /** Seconds between full reconciles (upstream: reconcile_interval, default 300). */
  readonly reconcile_interval: number;
  readonly expose_tenant_networks: boolean;
  readonly expose_ipv6_gua_tenant_networks: boolean;
  /** "ip" (each tenant VM IP is advertised) or "subnet" (the tenant subnet is advertised). */
  readonly advertisement_method_tenant_networks: "ip" | "subnet";
  /** Neutron address scope ids; when non-empty, only tenant subnets in these scopes are exposed. */
  readonly address_scopes: readonly string[];
  readonly bgp_AS: number;
  readonly bgp_router_id?: string;
  /** The dummy device that holds advertised /32 and /128 in the "vrf" layout. */
  readonly bgp_nic: string;
  readonly bgp_vrf: string;
  /** Table of the VRF ("vrf" layout) or the table FRR imports ("table" layout). */
  readonly bgp_vrf_table_id: number;
  /** How advertised IPs reach FRR. */
  readonly announce_via: "vrf" | "table";
  /** Local Open_vSwitch DB. */
  readonly ovsdb_connection: string;
  /** Priority of the agent's `ip rule`s (the seed shows 32000). */
  readonly ip_rule_priority: number;
  /**
   * `per-ip`: one `ip rule to <IP or subnet> lookup <bridge table>` per exposure (the seed's host).
   * `per-bridge`: one `ip rule lookup <bridge table> suppress_prefixlength 0` per bridge table and
   * family; the table's host and subnet routes then steer exactly the exposed prefixes.
   */
  readonly ip_rule_layout: "per-ip" | "per-bridge";
  /** Tenant subnets wider than these prefix lengths are refused (a hostile /0 would steer the host). */
  readonly min_exposed_prefix_ipv4: number;
  readonly min_exposed_prefix_ipv6: number;
  /** Route protocol number that marks the agent's routes (and rules, neighbours) as its own. */
  readonly route_protocol: number;
  /** First routing table id for provider bridges; bridge i (0-based, in mapping order) gets base + i. */
  readonly bridge_table_base: number;
  /** Where bridge table names are registered (a drop-in; the main rt_tables file is never edited). */
  readonly rt_tables_dropin: string;
  /** Cookie of the agent's OpenFlow flows on provider bridges. */
  readonly flow_cookie: number;
  /** Priority of those flows. */
  readonly flow_priority: number;
  /** Directory of FRR's vty sockets (`vtysh --vty_socket`). */
  readonly frr_vty_socket_dir: string;
  /** Argv words put before `vtysh` (FRR in a container or another root); empty: vtysh from the PATH. */
  readonly frr_command_prefix: readonly string[];
  /** Argv words put before `ovs-ofctl` / `ovs-vsctl`; empty: from the PATH. */
  readonly ovs_command_prefix: readonly string[];
  /**
   * Milliseconds between looks at the owned state that sends no change notification (sysctls, NDP
   * proxy entries, FRR's running config); 0 leaves them to the periodic pass.
   */
  readonly drift_poll_ms: number;
  /** oslo.log's `debug = True`: log at debug unless --log-level or OVN_BGP_LOG_LEVEL is given. */
  readonly debug: boolean;
  /** Prometheus metrics listen address ("127.0.0.1:9797"); empty disables. */
  readonly metrics_listen: string;
  /** The running agent's control socket (`ovn-bgp status`, `ovs-appctl -t`); empty disables. */
  readonly control_socket: string;
  /**
   * On the first full pass, take over what the Python ovn-bgp-agent left (its unmarked rules at
   * ip_rule_priority, the routes in its bridge tables, its permanent neighbours on the bridges) and
   * use its rt_tables numbers for the bridges (src/host/kernel/adopt-upstream.ts).
   */
  readonly adopt_upstream_state: boolean;
  readonly ovn: OvnConfig;
}

export interface OvnConfig {
  /** Falls back to the local Open_vSwitch external_ids:ovn-remote. */
  readonly ovn_sb_connection?: string;
  readonly ovn_sb_private_key?: string;
  readonly ovn_sb_certificate?: string;
  readonly ovn_sb_ca_cert?: string;
  /** Falls back to the local Open_vSwitch external_ids:system-id. */
  readonly chassis_name?: string;
  /**
   * Seconds a start waits for the first complete copy of each database; then it fails, naming the
   * last connection error (upstream's option; default 30 here, 180 upstream).
   */
  readonly ovsdb_connection_timeout: number;
}
