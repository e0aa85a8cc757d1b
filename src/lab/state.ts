/**
 * The lab's record of what it created: `/run/ovn-bgp-lab/<instance>/state.json`. It is rewritten after
 * every creation (namespace, process, path), so a failed or interrupted `up` still leaves an exact
 * list for `down`. Teardown also sweeps by name, so a lost or partial file is not a leak.
 */

import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import type { LabNames } from "./names.ts";
import type { Platform } from "./platform.ts";

export type LabMode = "agent" | "manual";

export interface ProcessRecord {
  /** Human tag, e.g. "rack-1-host-1/ovs-vswitchd". */
  readonly name: string;
  readonly pid: number;
  readonly netns?: string;
}

export interface LabState {
  readonly instance: string;
  readonly prefix: string;
  phase: "building" | "up" | "failed";
  /** The mode `up` asked for and the one it ended in (agent falls back to manual). */
  mode?: LabMode;
  modeNote?: string;
  startedAt: string;
  upSeconds?: number;
  namespaces: string[];
  processes: ProcessRecord[];
  /** Files and directories outside the run dir (FRR pathspaces); the run dir itself is implied. */
  paths: string[];
  /** The OVS/OVN/FRR stack the lab runs (`lab up --platform`); absent: bookworm. */
  platform?: Platform;
  /** The provider network's VLAN tag (`lab up --vlan`); absent: a flat provider network. */
  providerVlan?: number;
  /** Mutable workload facts the lab changed (for status and idempotent checks). */
  workload: { vm1Host?: string; fip?: boolean; gatewayHost?: string };
  /** A load balancer is on router-test (only where the platform's OVS carries its traffic). */
  loadBalancer?: boolean;
}

export function newState(names: LabNames): LabState {
  return {
    instance: names.instance,
    prefix: names.prefix,
    phase: "building",
    startedAt: new Date().toISOString(),
    namespaces: [],
    processes: [],
    paths: [],
    workload: {},
  };
}

export function readState(names: LabNames): LabState | undefined {
  if (!existsSync(names.stateFile)) return undefined;
  try {
    return JSON.parse(readFileSync(names.stateFile, "utf8")) as LabState;
  } catch {
    return undefined; // a torn write: teardown falls back to the name sweep
  }
}

/** Atomic rewrite (temp file + rename), so a crash never leaves half a JSON document. */
export function writeState(names: LabNames, state: LabState): void {
  mkdirSync(names.runDir, { recursive: true });
  const tmp = `${names.stateFile}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, names.stateFile);
}

/** Records creations into the state file as they happen. */
export class StateRecorder {
  constructor(
    readonly names: LabNames,
    readonly state: LabState,
  ) {}

  save(): void {
    writeState(this.names, this.state);
  }
  namespace(ns: string): void {
    if (!this.state.namespaces.includes(ns)) this.state.namespaces.push(ns);
    this.save();
  }
  process(rec: ProcessRecord): void {
    this.state.processes = this.state.processes.filter((p) => p.name !== rec.name);
    this.state.processes.push(rec);
    this.save();
  }
  path(p: string): void {
    if (!this.state.paths.includes(p)) this.state.paths.push(p);
    this.save();
  }
}
