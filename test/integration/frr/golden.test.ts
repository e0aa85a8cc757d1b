/**
 * The golden FRR configs are accepted by a real FRR 8.4 and kept as written: loading each one with
 * `vtysh -f` succeeds without a warning, and the applier then sees nothing left to change. The VRF
 * layout's routing (connected routes of a kernel VRF leaked into the default instance) needs kernel
 * VRF support, which is probed at run time.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { run } from "../../../src/host/exec.ts";
import { FrrApplier } from "../../../src/host/frr/frr-applier.ts";
import { type FrrInstance, frrUnavailable, startFrr } from "../../support/frr.ts";
import { createNetns, type Netns, netnsUnavailable, RUN_PREFIX } from "../../support/netns.ts";
import { GOLDEN_CASES } from "../../unit/frr/golden-cases.ts";

const skip = netnsUnavailable() ?? frrUnavailable();
const GOLDEN = join(import.meta.dirname, "../../golden/frr");

/** Why this kernel cannot hold a VRF device, or undefined. */
async function vrfUnavailable(ns: Netns): Promise<string | undefined> {
  const name = `${RUN_PREFIX}v`;
  const res = await run({ argv: ["ip", "link", "add", name, "type", "vrf", "table", "10"], netns: ns.name });
  if (res.code !== 0) return `kernel has no VRF support (ip link add type vrf: ${res.stderr.trim()})`;
  await run({ argv: ["ip", "link", "del", name], netns: ns.name });
  return undefined;
}

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
        const res = await run({ argv: ["vtysh", "--vty_socket", frr.socketDir, "-f", join(GOLDEN, c.file)] });
        assert.equal(res.code, 0, `${res.stdout}${res.stderr}`);
        assert.doesNotMatch(`${res.stdout}${res.stderr}`, /does not exist|Unknown command|%/);
        const plan = await new FrrApplier({ socketDir: frr.socketDir, render: c.opts }).plan(c.intent);
        assert.equal(plan.script, "", "FRR changed or dropped a golden line");
      } finally {
        await frr.stop();
      }
    });
  }

  it("leaks a kernel VRF's connected /32 into the default instance (layout vrf)", async (t) => {
    const why = await vrfUnavailable(ns);
    if (why) {
      t.diagnostic(`skipped: ${why}`);
      t.skip(why);
      return;
    }
    // Reached only on kernels with VRF: the agent's VRF holds a /32 on a device; FRR must see it as
    // connected in the VRF instance and leak it into the default instance's BGP table.
    const vrf = `${RUN_PREFIX}vrf`;
    const dev = `${RUN_PREFIX}n`;
    await ns.exec(["ip", "link", "add", vrf, "type", "vrf", "table", "10"]);
    await ns.exec(["ip", "link", "set", vrf, "up"]);
    await ns.exec(["ip", "link", "add", dev, "type", "veth", "peer", "name", `${dev}p`]);
    await ns.exec(["ip", "link", "set", dev, "master", vrf, "up"]);
    await ns.exec(["ip", "addr", "add", "172.24.4.93/32", "dev", dev]);
    const frr = await startFrr({ netns: ns.name, tag: "frrvrf" });
    try {
      await new FrrApplier({ socketDir: frr.socketDir }).sync({
        asn: 64999,
        layout: "vrf",
        vrf: { name: vrf, table: 10 },
      });
      const deadline = Date.now() + 30_000;
      let out = "";
      while (Date.now() < deadline) {
        out = await frr.vtysh("show bgp ipv4 unicast 172.24.4.93/32 json");
        if (out.includes("172.24.4.93")) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      assert.match(out, /172\.24\.4\.93/);
    } finally {
      await frr.stop();
    }
  });
});
