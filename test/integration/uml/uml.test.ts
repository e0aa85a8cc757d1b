/**
 * The tests that need a kernel with `dummy` and `vrf` (test/uml/*.test.ts), run inside user-mode
 * Linux by test/support/uml.ts: one guest boot for all of them, each inner test reported here as a
 * test of its own, so their counts land in this run's summary. The guest's console is streamed to
 * stderr with a `[uml]` prefix. uml-trixie.test.ts runs two of them again on Debian 13's stack.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { runInGuest, umlUnavailable } from "../../support/uml.ts";

const REPO = join(import.meta.dirname, "../../..");
const FILES = readdirSync(join(REPO, "test/uml"))
  .filter((f) => f.endsWith(".test.ts"))
  .sort()
  .map((f) => `test/uml/${f}`);
/** The whole guest run, boot to halt; the inner tests' own timeout is shorter. */
const TIMEOUT_MS = 20 * 60_000;

describe("inside user-mode Linux (a kernel with dummy and vrf)", { skip: umlUnavailable() ?? false }, () => {
  it(`${FILES.length} file(s) under test/uml`, { timeout: TIMEOUT_MS + 60_000 }, (t) =>
    runInGuest(t, FILES, TIMEOUT_MS, "bookworm"),
  );
});
