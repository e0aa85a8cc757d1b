/**
 * `lab down`: removes every process, namespace and file of one lab instance, from the state file and,
 * because that file may be partial (a failed or interrupted `up`) or gone, also by exact name: every
 * namespace the lab can create, every process inside those namespaces, and the FRR pathspaces and run
 * dir named after the instance. Signals go only to PIDs that are inside the lab's namespaces or whose
 * command line names the lab's prefix or run dir, so a recycled PID is never hit.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { run } from "../host/exec.ts";
import type { LabNames } from "./names.ts";
import { alive, stopPids } from "./proc.ts";
import { readState } from "./state.ts";
import { NODES } from "./topology.ts";

export interface Leftovers {
  readonly namespaces: string[];
  readonly pids: number[];
  readonly paths: string[];
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}

async function pidsInNamespace(ns: string): Promise<number[]> {
  const res = await run({ argv: ["ip", "netns", "pids", ns] });
  if (res.code !== 0) return [];
  return res.stdout
    .split(/\s+/)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
}

function labPaths(names: LabNames): string[] {
  return [...NODES.flatMap((n) => [names.frrConfDir(n.name), names.frrSockDir(n.name)]), names.runDir];
}

const existingNamespaces = (names: LabNames) =>
  names.allNamespaces().filter((ns) => existsSync(`/run/netns/${ns}`));

/** What of this instance still exists. */
export async function leftovers(names: LabNames): Promise<Leftovers> {
  const namespaces = existingNamespaces(names);
  const pids = new Set<number>();
  for (const ns of namespaces) for (const p of await pidsInNamespace(ns)) pids.add(p);
  for (const p of readState(names)?.processes ?? []) {
    if (!alive(p.pid)) continue;
    const cl = cmdline(p.pid);
    if (cl.includes(names.prefix) || cl.includes(names.runDir)) pids.add(p.pid);
  }
  const paths = labPaths(names).filter((p) => existsSync(p));
  return { namespaces, pids: [...pids], paths };
}

/** Remove everything; returns what could not be removed (empty on success). */
export async function removeLab(names: LabNames, say: (line: string) => void): Promise<Leftovers> {
  const before = await leftovers(names);
  if (before.pids.length) say(`  stopping ${before.pids.length} processes`);
  const stubborn = await stopPids(before.pids);
  for (const ns of before.namespaces) {
    const res = await run({ argv: ["ip", "netns", "del", ns] });
    if (res.code !== 0) say(`  ip netns del ${ns}: ${res.stderr.trim()}`);
  }
  if (before.namespaces.length) say(`  removed ${before.namespaces.length} namespaces`);
  for (const p of before.paths) rmSync(p, { recursive: true, force: true });
  if (before.paths.length) say(`  removed ${before.paths.length} directories`);
  const after = await leftovers(names);
  return { ...after, pids: [...new Set([...after.pids, ...stubborn.filter(alive)])] };
}
