/**
 * Sysctls under /proc/sys. Net sysctls are per network namespace and the kernel resolves them in
 * the namespace of the process that opens the file, so:
 * - without a netns the agent reads and writes /proc/sys files itself (no child process at all);
 * - with a netns it runs ONE `sysctl -w k=v …` for all changes (slash-separated keys, so device
 *   names with dots such as "br-ex.100" stay intact) and ONE `grep -H . <files>` to read them back.
 *   The write is verified by that read-back, which gives an exact per-item result without having
 *   to parse sysctl's messages.
 */
import { readFile, writeFile } from "node:fs/promises";
import type { Exec } from "../exec.ts";

export interface SysctlIo {
  /** Values by /proc/sys-relative path; missing or unreadable paths are absent. */
  read(paths: readonly string[]): Promise<Map<string, string>>;
  /** Write all values; returns an error text per path that failed (absent = ok). */
  write(
    entries: readonly { path: string; value: string }[],
  ): Promise<{ errors: Map<string, string>; processes: number }>;
}

/** Multi-value sysctls print tab-separated; compare them with single spaces. */
export function normaliseSysctl(v: string): string {
  return v.trim().replace(/\s+/g, " ");
}

export function procSysIo(root = "/proc/sys"): SysctlIo {
  return {
    async read(paths) {
      const out = new Map<string, string>();
      await Promise.all(
        paths.map(async (p) => {
          try {
            out.set(p, normaliseSysctl(await readFile(`${root}/${p}`, "utf8")));
          } catch {
            /* absent: the device does not exist (yet) */
          }
        }),
      );
      return out;
    },
    async write(entries) {
      const errors = new Map<string, string>();
      for (const e of entries) {
        try {
          await writeFile(`${root}/${e.path}`, `${e.value}\n`);
        } catch (err) {
          errors.set(e.path, (err as Error).message);
        }
      }
      return { errors, processes: 0 };
    },
  };
}

export function netnsSysctlIo(exec: Exec, netns: string): SysctlIo {
  const read = async (paths: readonly string[]): Promise<Map<string, string>> => {
    const out = new Map<string, string>();
    if (paths.length === 0) return out;
    // grep exits 2 when a file is missing; the files it could read are still printed as path:value.
    const res = await exec({ argv: ["grep", "-H", "", ...paths.map((p) => `/proc/sys/${p}`)], netns });
    for (const line of res.stdout.split("\n")) {
      const m = /^\/proc\/sys\/([^:]+):(.*)$/.exec(line);
      if (m?.[1] !== undefined) out.set(m[1], normaliseSysctl(m[2] ?? ""));
    }
    return out;
  };
  return {
    read,
    async write(entries) {
      const errors = new Map<string, string>();
      if (entries.length === 0) return { errors, processes: 0 };
      const res = await exec({
        argv: ["sysctl", "-q", "-w", ...entries.map((e) => `${e.path}=${e.value}`)],
        netns,
      });
      const back = await read(entries.map((e) => e.path));
      const stderr = res.stderr.split("\n");
      for (const e of entries) {
        if (back.get(e.path) === normaliseSysctl(e.value)) continue;
        const said = stderr.find((l) => l.includes(`/proc/sys/${e.path}:`) || l.includes(`${e.path}`));
        errors.set(
          e.path,
          said?.trim() || `value did not stick (read back ${JSON.stringify(back.get(e.path) ?? null)})`,
        );
      }
      return { errors, processes: 2 };
    },
  };
}
