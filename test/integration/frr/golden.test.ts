/**
 * The golden FRR configs are accepted by a real FRR (8.4, or 10.3 on trixie) and kept as written: loading each one with
 * `vtysh -f` succeeds without a warning, and the applier then sees nothing left to change. The VRF
 * layout's routing (connected routes of a kernel VRF leaked into the default instance) needs kernel
 * VRF support: test/uml/frr-vrf.test.ts, inside user-mode Linux.
 */
import assert from "node:assert/strict";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { run } from "../../../src/host/exec.ts";
import { FrrApplier } from "../../../src/host/frr/frr-applier.ts";
import { type FrrInstance, frrUnavailable, startFrr } from "../../support/frr.ts";
import { createNetns, type Netns, netnsUnavailable } from "../../support/netns.ts";
import { makeTempDir } from "../../support/temp-dir.ts";
import { GOLDEN_CASES } from "../../unit/frr/golden-cases.ts";

const skip = netnsUnavailable() ?? frrUnavailable();
const GOLDEN = join(import.meta.dirname, "../../golden/frr");

describe("golden FRR configs on a real FRR", { skip }, () => {
  let ns: Netns;
  before(async () => {
    ns = await createNetns("gold");
  });
  after(async () => {
    await ns?.remove();
  });

  for (const c of GOLDEN_CASES) {
    it(`${c.file} loads without errors and is kept as rendered`, async () => {
      const frr: FrrInstance = await startFrr({ netns: ns.name, tag: "frrgold" });
      try {
        // From a temp dir: another platform's vtysh runs in its own root, which sees /tmp but not the repo.
        const file = join(makeTempDir("golden"), c.file);
        copyFileSync(join(GOLDEN, c.file), file);
        const res = await run({ argv: ["vtysh", "--vty_socket", frr.socketDir, "-f", file] });
        assert.equal(res.code, 0, `${res.stdout}${res.stderr}`);
        assert.doesNotMatch(`${res.stdout}${res.stderr}`, /does not exist|Unknown command|%/);
        const plan = await new FrrApplier({ socketDir: frr.socketDir, render: c.opts }).plan(c.intent);
        assert.equal(plan.script, "", "FRR changed or dropped a golden line");
      } finally {
        await frr.stop();
      }
    });
  }
});
