/**
 * The seed's `vrf` layout on Debian 13's FRR 10.3 (docs/PLATFORMS.md): test/uml/frr-vrf.test.ts and
 * vrf-agent.test.ts run again inside a user-mode Linux guest of their own with
 * `OVN_BGP_PLATFORM=trixie`, each result named `trixie › …`, the console streamed as `[uml trixie]`.
 * A file of its own, so each guest has the whole per-file timeout.
 */
import { describe, it } from "node:test";
import { platformUnavailable } from "../../../src/lab/platform.ts";
import { runInGuest, umlUnavailable } from "../../support/uml.ts";

const FILES = ["test/uml/frr-vrf.test.ts", "test/uml/vrf-agent.test.ts"];
const TIMEOUT_MS = 15 * 60_000;

describe("inside user-mode Linux, on Debian 13's FRR 10.3, OVS 3.5, OVN 25.03", {
  skip: umlUnavailable() ?? platformUnavailable("trixie") ?? false,
}, () => {
  it(`${FILES.length} file(s) of test/uml on trixie`, { timeout: TIMEOUT_MS + 60_000 }, (t) =>
    runInGuest(t, FILES, TIMEOUT_MS, "trixie"),
  );
});
