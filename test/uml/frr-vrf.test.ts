/**
 * The FRR applier's `vrf` layout on a kernel with VRF (run inside user-mode Linux by
 * test/integration/uml/uml.test.ts): a /32 on a device in a kernel VRF is connected in FRR's VRF
 * instance and leaked into the default instance's BGP table. Run on both platforms (FRR 8.4 and 10.3).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FrrApplier } from "../../src/host/frr/frr-applier.ts";
import { frrUnavailable, startFrr } from "../support/frr.ts";
import { createNetns, netnsUnavailable, PLATFORM, RUN_PREFIX } from "../support/netns.ts";
import { waitFor } from "../support/wait.ts";

describe("FRR applier, vrf layout (real kernel VRF)", {
  skip: netnsUnavailable() ?? frrUnavailable() ?? false,
}, () => {
  it("leaks a kernel VRF's connected /32 into the default instance", async (t) => {
    const ns = await createNetns("fv");
    const vrf = `${RUN_PREFIX}vrf`;
    const dev = `${RUN_PREFIX}n`;
    await ns.exec(["ip", "link", "add", vrf, "type", "vrf", "table", "10"]);
    await ns.exec(["ip", "link", "set", vrf, "up"]);
    await ns.exec(["ip", "link", "add", dev, "type", "dummy"]);
    await ns.exec(["ip", "link", "set", dev, "master", vrf, "up"]);
    await ns.exec(["ip", "addr", "add", "172.24.4.93/32", "dev", dev]);
    const frr = await startFrr({ netns: ns.name, tag: "frrvrf" });
    try {
      // The FRR of the platform under test (docs/PLATFORMS.md), not whichever is on the PATH.
      const version = /FRRouting (\S+)/.exec(await frr.vtysh("show version"))?.[1] ?? "?";
      t.diagnostic(`FRR ${version} (platform ${PLATFORM})`);
      assert.equal(
        version.split(".")[0],
        PLATFORM === "trixie" ? "10" : "8",
        `FRR ${version} on ${PLATFORM}`,
      );
      const res = await new FrrApplier({ socketDir: frr.socketDir }).sync({
        asn: 64999,
        layout: "vrf",
        vrf: { name: vrf, table: 10 },
      });
      assert.ok(res.changed);
      const out = await waitFor(
        async () => {
          const o = await frr.vtysh("show bgp ipv4 unicast 172.24.4.93/32 json");
          return o.includes("172.24.4.93") ? o : undefined;
        },
        { what: "172.24.4.93/32 in the default instance's BGP table", timeoutMs: 60_000, intervalMs: 250 },
      );
      assert.match(out, /172\.24\.4\.93/);
    } finally {
      await frr.stop();
      await ns.remove();
    }
  });
});
