/**
 * The tests that need a kernel with `dummy` and `vrf` (test/uml/*.test.ts), run inside user-mode
 * Linux by test/support/uml.ts: one guest boot for all of them, each inner test reported here as a
 * test of its own, so their counts land in this run's summary. The guest's console is streamed to
 * stderr with a `[uml]` prefix. A second guest runs the vrf layout's FRR and agent tests on Debian
 * 13's stack (`OVN_BGP_PLATFORM=trixie` inside, results named `trixie › …`, console `[uml trixie]`).
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { platformUnavailable } from "../../../src/lab/platform.ts";
import { runTestsInUml, umlUnavailable } from "../../support/uml.ts";

const REPO = join(import.meta.dirname, "../../..");
const FILES = readdirSync(join(REPO, "test/uml"))
  .filter((f) => f.endsWith(".test.ts"))
  .sort()
  .map((f) => `test/uml/${f}`);
/** The whole guest run, boot to halt; the inner tests' own timeout is shorter. */
const TIMEOUT_MS = 20 * 60_000;
const TRIXIE_TIMEOUT_MS = 15 * 60_000;

/** The vrf layout's FRR part and the agent in it, again on Debian 13's FRR 10.3 (docs/PLATFORMS.md). */
const TRIXIE_FILES = ["test/uml/frr-vrf.test.ts", "test/uml/vrf-agent.test.ts"];

async function runInGuest(
  t: TestContext,
  files: readonly string[],
  timeoutMs: number,
  platform: "bookworm" | "trixie",
): Promise<void> {
  const tag = platform === "bookworm" ? "uml" : `uml ${platform}`;
  const run = await runTestsInUml({
    files,
    timeoutMs,
    testTimeoutMs: 8 * 60_000,
    env: { OVN_BGP_PLATFORM: platform },
    onLine: (l) => process.stderr.write(`[${tag}] ${l}\n`),
  });
  const tail = () => run.console.split("\n").slice(-60).join("\n");
  for (const r of run.results) {
    if (r.suite && r.outcome !== "fail") continue;
    const name = platform === "bookworm" ? r.name : `${platform} › ${r.name}`;
    await t.test(name, { skip: r.outcome === "skip" ? (r.reason ?? true) : false }, () => {
      if (r.outcome === "fail") throw new Error(`on ${platform}: ${r.error ?? "failed inside the guest"}`);
    });
  }
  assert.ok(!run.timedOut, `the guest was killed after ${timeoutMs / 1000} s; its console ended:\n${tail()}`);
  assert.ok(run.results.length > 0, `no test reported from inside the guest; its console ended:\n${tail()}`);
  assert.equal(run.exitCode, 0, `the test run inside the guest failed; its console ended:\n${tail()}`);
}

describe("inside user-mode Linux (a kernel with dummy and vrf)", { skip: umlUnavailable() ?? false }, () => {
  it(`${FILES.length} file(s) under test/uml`, { timeout: TIMEOUT_MS + 60_000 }, (t) =>
    runInGuest(t, FILES, TIMEOUT_MS, "bookworm"),
  );
  it(
    `${TRIXIE_FILES.length} of them again on Debian 13's FRR 10.3, OVS 3.5, OVN 25.03`,
    { timeout: TRIXIE_TIMEOUT_MS + 60_000, skip: platformUnavailable("trixie") ?? false },
    (t) => runInGuest(t, TRIXIE_FILES, TRIXIE_TIMEOUT_MS, "trixie"),
  );
});
