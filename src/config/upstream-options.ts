/**
 * Upstream ovn-bgp-agent options this agent accepts but does not implement. An upstream config file must
 * load unchanged (drop-in replacement), so these are never errors: the loader warns, listing them, and
 * moves on. Anything neither implemented nor listed here is "unknown" (usually a typo) and also warned.
 *
 * Sources: upstream `ovn_bgp_agent/config.py` (groups DEFAULT, agent, ovn, local_ovn_cluster), every
 * option name it has had since its first release (operators' files outlive option removals), and the
 * oslo libraries it registers (oslo.log in DEFAULT, oslo.concurrency, oslo.privsep). Names are matched
 * one by one, so a misspelt upstream option is reported as unknown rather than silently filed under
 * "not implemented".
 */
import { DEFAULT_GROUP } from "./sources.ts";

/**
 * Options this agent keeps under [ovn] (options.ts DEPRECATED_DEFAULT_LOCATION) that upstream registers
 * in [DEFAULT] only, not as a deprecated spelling: an upstream file's [DEFAULT] one is used without the
 * "belongs in [ovn]" warning ([ovn] still wins when both are set).
 */
export const UPSTREAM_DEFAULT_LOCATION: ReadonlySet<string> = new Set(["ovsdb_connection_timeout"]);

/** Upstream [DEFAULT] options for features this agent does not have (EVPN, NB driver, tuning knobs). */
const UPSTREAM_DEFAULT_UNIMPLEMENTED = new Set([
  "frr_reconcile_interval",
  "require_snat_disabled_for_tenant_networks",
  "evpn_local_ip",
  "evpn_nic",
  "evpn_udp_dstport",
  "clear_vrf_routes_on_startup",
  // Upstream deletes the per-network EVPN VRFs with it. This agent's one VRF (bgp_vrf) is never
  // removed on stop or disconnect (announcements survive a restart); it goes only when no longer
  // configured (announce_via = table, or another bgp_vrf), and only if the agent created it.
  "delete_vrf_on_disconnect",
  // NB-driver options, which upstream also reads from [DEFAULT] (deprecated_group).
  "ovn_nb_connection",
  "ovn_nb_private_key",
  "ovn_nb_certificate",
  "ovn_nb_ca_cert",
]);

/**
 * oslo.log registers these in [DEFAULT]; our logging is configured with --log-level/--log-format, and the
 * log goes to stderr (journald adds timestamps and rotation).
 */
const OSLO_LOG_OPTIONS = new Set([
  "verbose",
  "log_config_append",
  "log_config", // deprecated name of log_config_append
  "log_date_format",
  "log_file",
  "logfile", // deprecated name of log_file
  "log_dir",
  "logdir", // deprecated name of log_dir
  "watch_log_file",
  "use_syslog",
  "use_journal",
  "syslog_log_facility",
  "use_json",
  "use_stderr",
  "use_eventlog",
  "log_color",
  "log_rotate_interval",
  "log_rotate_interval_type",
  "max_logfile_count",
  "max_logfile_size_mb",
  "log_rotation_type",
  "logging_context_format_string",
  "logging_default_format_string",
  "logging_debug_format_suffix",
  "logging_exception_prefix",
  "logging_user_identity_format",
  "default_log_levels",
  "publish_errors",
  "instance_format",
  "instance_uuid_format",
  "rate_limit_interval",
  "rate_limit_burst",
  "rate_limit_except_level",
  "fatal_deprecations",
]);

/**
 * Options that choose the agent's mode. Their upstream *default* value is what this agent does, so
 * writing it is accepted silently; any other value selects a mode this agent does not have, and is
 * an error (running in another mode than the one asked for would expose the wrong things), with
 * what is supported in the message.
 */
const MODE_OPTIONS: ReadonlyMap<string, { readonly accepted: string; readonly why: string }> = new Map([
  [
    "driver",
    { accepted: "ovn_bgp_driver", why: "this agent is upstream's Southbound driver (ovn_bgp_driver) only" },
  ],
  [
    "exposing_method",
    {
      accepted: "underlay",
      why: "this agent exposes through the host's kernel routing (underlay) only; vrf/l2vpn (EVPN) and ovn (local OVN cluster) are not implemented",
    },
  ],
]);

/** Upstream [ovn] options for the NB driver. */
const UPSTREAM_OVN_UNIMPLEMENTED = new Set([
  "ovn_nb_connection",
  "ovn_nb_private_key",
  "ovn_nb_certificate",
  "ovn_nb_ca_cert",
]);

/** Upstream groups (its own and its oslo libraries') whose options all mean nothing here, by name. */
const UPSTREAM_GROUPS_UNIMPLEMENTED: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  // Privilege escalation through rootwrap/privsep: this agent runs with the capabilities it needs.
  // root_helper_daemon and use_helper_for_ns_read left upstream with rootwrap, and remain in old files.
  ["agent", new Set(["root_helper", "root_helper_daemon", "use_helper_for_ns_read"])],
  // exposing_method = ovn (a node-local OVN cluster).
  [
    "local_ovn_cluster",
    new Set([
      "ovn_nb_connection",
      "external_nics",
      "peer_ips",
      "provider_networks_pool_prefixes",
      "bgp_chassis_id",
    ]),
  ],
  ["oslo_concurrency", new Set(["disable_process_locking", "lock_path"])],
]);

/**
 * oslo.privsep's sections (`[privsep]` and upstream's `[privsep_ovs_vsctl]`, `[privsep_vtysh]`, …): how
 * upstream starts its privileged helpers. Nothing here has such helpers and nothing would change, so
 * they are accepted without a warning.
 */
function isPrivsepGroup(group: string): boolean {
  return group === "privsep" || group.startsWith("privsep_");
}

export type UpstreamVerdict =
  /** Upstream option set to the value this agent implements anyway: silently accepted. */
  | { readonly kind: "accepted" }
  /** Upstream option (or value) not implemented: warn. `logging` marks oslo.log options for the hint. */
  | { readonly kind: "unsupported"; readonly label: string; readonly logging: boolean }
  /** An upstream mode this agent does not have: an error, saying what is supported. */
  | { readonly kind: "refused"; readonly detail: string }
  | { readonly kind: "unknown" };

/** Judges an option that is not in the implemented set. */
export function judgeUnimplemented(group: string, key: string, value: unknown): UpstreamVerdict {
  if (group === DEFAULT_GROUP) {
    const mode = MODE_OPTIONS.get(key);
    if (mode !== undefined) {
      const written = typeof value === "string" ? value.trim() : value;
      return written === mode.accepted
        ? { kind: "accepted" }
        : {
            kind: "refused",
            detail: `'${String(written)}' is not supported: ${mode.why}; remove the option or set ${key} = ${mode.accepted}`,
          };
    }
    if (UPSTREAM_DEFAULT_UNIMPLEMENTED.has(key)) return { kind: "unsupported", label: key, logging: false };
    if (OSLO_LOG_OPTIONS.has(key)) return { kind: "unsupported", label: key, logging: true };
    return { kind: "unknown" };
  }
  if (group === "ovn" && UPSTREAM_OVN_UNIMPLEMENTED.has(key)) {
    return { kind: "unsupported", label: `ovn.${key}`, logging: false };
  }
  if (UPSTREAM_GROUPS_UNIMPLEMENTED.get(group)?.has(key)) {
    return { kind: "unsupported", label: `${group}.${key}`, logging: false };
  }
  if (isPrivsepGroup(group)) return { kind: "accepted" };
  return { kind: "unknown" };
}
