/**
 * iproute2 name drop-ins: `/etc/iproute2/rt_tables.d/<name>.conf` (table id → name, so `ip route show
 * table br-ex` and `ip rule` print names) and `/etc/iproute2/rt_protos.d/<name>.conf` (so routes show
 * `proto ovn-bgp`). The main rt_tables file is never edited. Names are cosmetic: every line the agent
 * writes uses numbers, so nothing depends on these files being read. Writes are atomic (temp file +
 * rename in the same directory) and happen only when the content changes.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { RoutingTableSpec } from "../../plan/desired-state.ts";
import { checkProtocol, checkTable, checkTableName } from "./validate.ts";

const HEADER = "# Managed by ovn-bgp: rewritten on every change; edits are lost.\n";

/** The name the route protocol is registered under. */
export const PROTOCOL_NAME = "ovn-bgp";

export function renderRtTables(tables: readonly RoutingTableSpec[]): string {
  const byId = new Map<number, string>();
  for (const t of tables) byId.set(checkTable(t.id), checkTableName(t.name));
  const lines = [...byId.entries()].sort(([a], [b]) => a - b).map(([id, name]) => `${id}\t${name}\n`);
  return HEADER + lines.join("");
}

export function renderRtProtos(protocol: number): string {
  return `${HEADER}${checkProtocol(protocol)}\t${PROTOCOL_NAME}\n`;
}

export async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

export async function writeAtomic(path: string, content: string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.tmp`);
  await writeFile(tmp, content, { mode: 0o644 });
  await rename(tmp, path);
}
