/**
 * Names and paths of one lab instance. Every namespace, FRR pathspace and file carries the instance's
 * prefix, so two instances (the README's default and a CI run) never meet, and teardown can find
 * leftovers by exact name even when the state file is lost.
 */
import { HOSTS, LEAVES, SPINE } from "./topology.ts";

export const LAB_RUN_ROOT = "/run/ovn-bgp-lab";
export const DEFAULT_INSTANCE = "lab";
const INSTANCE_RE = /^[a-z][a-z0-9]{0,11}$/;

/** The namespaces that are not fabric nodes. */
export const CENTRAL = "central";
export const TUNNEL = "tun";
export const VM_NAMES = ["vm1-provider", "vm-tenant", "vm2-provider", "vm3-provider"] as const;

export class LabUsageError extends Error {
  readonly code = "LAB_USAGE";
}

export interface LabNames {
  readonly instance: string;
  readonly prefix: string;
  readonly runDir: string;
  readonly stateFile: string;
  /** Namespace of a node, VM, `central` or `tun`: `<prefix>-<name>`. */
  ns(name: string): string;
  /** Per-node directory for daemons' databases, sockets, pidfiles and logs. */
  dir(name: string): string;
  /** FRR pathspace of a node (`-N`): the namespace name, so `/etc/frr/<ns>` and `/var/run/frr/<ns>`. */
  frrConfDir(node: string): string;
  frrSockDir(node: string): string;
  /** Every namespace the lab may create, in creation order. */
  allNamespaces(): string[];
}

export function labNames(instance: string = DEFAULT_INSTANCE): LabNames {
  if (!INSTANCE_RE.test(instance))
    throw new LabUsageError(
      `lab instance ${JSON.stringify(instance)}: use 1-12 lower-case letters/digits, starting with a letter`,
    );
  const prefix = `ovnbgp-${instance}`;
  const runDir = `${LAB_RUN_ROOT}/${instance}`;
  const ns = (name: string) => `${prefix}-${name}`;
  return {
    instance,
    prefix,
    runDir,
    stateFile: `${runDir}/state.json`,
    ns,
    dir: (name) => `${runDir}/${name}`,
    frrConfDir: (node) => `/etc/frr/${ns(node)}`,
    frrSockDir: (node) => `/var/run/frr/${ns(node)}`,
    allNamespaces: () => [CENTRAL, TUNNEL, SPINE, ...LEAVES, ...HOSTS, ...VM_NAMES].map(ns),
  };
}
