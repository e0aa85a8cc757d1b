/**
 * The tests that need a kernel with `dummy` and `vrf` (test/uml/*.test.ts), run inside user-mode
 * Linux by test/support/uml.ts: one guest boot for all of them, each inner test reported here as a
 * test of its own, so their counts land in this run's summary. The guest's console is streamed to
 * stderr with a `[uml]` prefix.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { runTestsInUml, umlUnavailable } from "../../support/uml.ts";

const REPO = join(import.meta.dirname, "../../..");
const FILES = readdirSync(join(REPO, "test/uml"))
  .filter((f) => f.endsWith(".test.ts"))
  .sort()
  .map((f) => `test/uml/${f}`);
/** The whole guest run, boot to halt; the inner tests' own timeout is shorter. */
const TIMEOUT_MS = 20 * 60_000;

describe("inside user-mode Linux (a kernel with dummy and vrf)", { skip: umlUnavailable() ?? false }, () => {
  it(`${FILES.length} file(s) under test/uml`, { timeout: TIMEOUT_MS + 60_000 }, async (t) => {
    const run = await runTestsInUml({
      files: FILES,
      timeoutMs: TIMEOUT_MS,
      testTimeoutMs: 8 * 60_000,
      onLine: (l) => process.stderr.write(`[uml] ${l}\n`),
    });
    const tail = () => run.console.split("\n").slice(-60).join("\n");
    for (const r of run.results) {
      if (r.suite && r.outcome !== "fail") continue;
      await t.test(r.name, { skip: r.outcome === "skip" ? (r.reason ?? true) : false }, () => {
        if (r.outcome === "fail") throw new Error(r.error ?? "failed inside the guest");
      });
    }
    assert.ok(
      !run.timedOut,
      `the guest was killed after ${TIMEOUT_MS / 1000} s; its console ended:\n${tail()}`,
    );
    assert.ok(
      run.results.length > 0,
      `no test reported from inside the guest; its console ended:\n${tail()}`,
    );
    assert.equal(run.exitCode, 0, `the test run inside the guest failed; its console ended:\n${tail()}`);
  });
});
