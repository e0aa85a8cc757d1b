/**
 * One whole lab cycle for the end-to-end tests: `lab up` (with the given options) → `lab check` →
 * `lab down` on a private instance, asserting that every walk of the seed passes and that nothing
 * of the lab remains. `afterUp` runs before the check (the seed's baseline placement), for
 * layout-specific looks.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import type { UpOptions } from "../../src/lab/build.ts";
import { check, labNames, leftovers, removeLab, up } from "../../src/lab/lab.ts";
import type { LabNames } from "../../src/lab/names.ts";
import { platformFile } from "../../src/lab/platform.ts";
import { PLATFORM } from "./netns.ts";

/** Why the lab cannot run here, or undefined. */
export function labUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root (network namespaces, OVS, FRR)";
  for (const bin of [
    "/usr/sbin/ovs-vswitchd",
    "/usr/bin/ovn-controller",
    "/usr/bin/ovn-northd",
    "/usr/lib/frr/bgpd",
  ])
    if (!existsSync(platformFile(PLATFORM, bin))) return `${platformFile(PLATFORM, bin)} is not installed`;
  return undefined;
}

export async function labCycle(opts: UpOptions, afterUp?: (names: LabNames) => Promise<void>): Promise<void> {
  const names = labNames(`t${randomBytes(3).toString("hex")}`);
  const say = (l: string) => process.stdout.write(`# ${l}\n`);
  const onSignal = () => {
    void removeLab(names, () => {}).finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const res = await up(names, say, opts);
    assert.ok(res.mode === "agent" || res.mode === "manual");
    assert.deepEqual(res.missingRoutes, [], `the spine did not learn: ${res.missingRoutes.join(", ")}`);
    // A second `up` of the same instance must refuse clearly instead of building over it.
    await assert.rejects(
      up(names, () => {}),
      /already up/,
    );
    await afterUp?.(names);

    const report = await check(names, say);
    const failed = report.results.filter((r) => !r.ok);
    assert.deepEqual(
      failed.map((r) => `walk ${r.walk}: ${r.name}: ${r.detail}`),
      [],
      "every assertion of lab check passes",
    );
    for (const walk of ["1", "2", "3", "4"])
      assert.ok(
        report.results.some((r) => r.walk === walk && r.status === "pass"),
        `walk ${walk} was checked`,
      );
  } finally {
    const left = await removeLab(names, say);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    assert.deepEqual(left, { namespaces: [], pids: [], paths: [] }, "nothing of the lab remains after down");
  }
  const after = await leftovers(names);
  assert.deepEqual(after, { namespaces: [], pids: [], paths: [] });
  assert.ok(!existsSync(names.runDir));
}
