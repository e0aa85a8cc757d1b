/**
 * Per-test temporary directories: `makeTempDir("ovsdb")` creates `/tmp/<RUN_PREFIX>-ovsdb-XXXXXX`
 * (short, so unix socket paths inside stay well under the 108-byte limit) and removes it at process
 * exit, also on failure. `removeTempDir` removes it earlier.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { atExit, RUN_PREFIX } from "./netns.ts";

const unregisters = new Map<string, () => void>();

export function makeTempDir(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), `${RUN_PREFIX}-${tag}-`));
  unregisters.set(
    dir,
    atExit(() => rmSync(dir, { recursive: true, force: true })),
  );
  return dir;
}

/** Remove a directory made by `makeTempDir` now (stop its daemons first). */
export function removeTempDir(dir: string): void {
  unregisters.get(dir)?.();
  unregisters.delete(dir);
  rmSync(dir, { recursive: true, force: true });
}
