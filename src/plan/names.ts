/**
 * Validation of every name the plan hands to the kernel, OVS or logs. Southbound strings are
 * untrusted (anyone with NB write access shapes them): a name with quotes, whitespace, `;`,
 * control characters or absurd length never reaches an applier; it becomes a PlanProblem.
 */

/** Linux interface names: IFNAMSIZ-1 = 15 bytes, no "/", ":" or whitespace; "." and ".." refused. */
const DEVICE_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/;

export function deviceNameError(name: string): string | undefined {
  if (DEVICE_RE.test(name)) return undefined;
  return name.length > 15
    ? `device name ${JSON.stringify(name.slice(0, 40))} is longer than 15 characters`
    : `device name ${JSON.stringify(name)} is not a safe interface name`;
}

/** OVS port names used in flow matches (patch ports can be long; still no separators). */
const OVS_PORT_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/;

export function ovsPortNameError(name: string): string | undefined {
  return OVS_PORT_RE.test(name) ? undefined : `OVS port name ${JSON.stringify(name.slice(0, 60))} is unsafe`;
}

/**
 * Logical port names as they appear in causes, entry ids and logs. Neutron uses UUIDs and
 * "cr-lrp-<uuid>"; ovn-nbctl users pick names like "lr0-public" or "vm1". Printable ASCII
 * without quotes, backslashes, `;`, whitespace or shell/format metacharacters, at most 128.
 */
const LOGICAL_PORT_RE = /^[A-Za-z0-9_][A-Za-z0-9_.:@+=/-]{0,127}$/;

export function logicalPortError(name: string): string | undefined {
  if (LOGICAL_PORT_RE.test(name)) return undefined;
  if (name.length === 0) return "empty logical_port";
  return name.length > 128
    ? `logical_port is longer than 128 characters (${name.length})`
    : `logical_port ${JSON.stringify(name.slice(0, 60))} contains unsafe characters`;
}
