import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatFrrConfig, parseFrrConfig } from "../../../src/host/frr/frr-config-tree.ts";
import { FRR_VERSIONS, frrFixtureText } from "./fixtures.ts";

for (const FRR of FRR_VERSIONS) {
  const RUNNING = frrFixtureText(FRR, "running-config-chassis.txt");

  describe(`parseFrrConfig (FRR ${FRR})`, () => {
    it("reads a captured show running-config into nested contexts", () => {
      const cfg = parseFrrConfig(RUNNING);
      assert.deepEqual(cfg.get("")?.lines.includes("ip import-table 200 route-map OVN-BGP-TABLE"), true);
      assert.ok(!cfg.get("")?.lines.some((l) => /^(frr version|Building|Current|end|!)/.test(l)));
      assert.deepEqual(cfg.get("router bgp 64999\naddress-family ipv6 unicast")?.lines, [
        "redistribute kernel route-map OVN-BGP-KERNEL6",
        "neighbor fd00:255::2 activate",
      ]);
      assert.ok(
        cfg.get("router bgp 64999")?.lines.includes("neighbor 10.255.0.2 description operator-spine-v4"),
      );
      // An empty route-map (header immediately followed by exit) is still a context.
      assert.deepEqual(cfg.get("route-map OVN-BGP-TABLE permit 10")?.lines, []);
      assert.deepEqual(cfg.get("route-map OVN-BGP-KERNEL6 permit 10")?.lines, [
        "match metric 4242",
        "set metric 0",
      ]);
    });

    it("normalises whitespace and survives a format round trip", () => {
      const cfg = parseFrrConfig(RUNNING);
      const again = parseFrrConfig(formatFrrConfig(cfg).join("\n"));
      assert.deepEqual([...again.entries()].sort(), [...cfg.entries()].sort());
      assert.deepEqual(
        parseFrrConfig("router bgp 1\n   neighbor   1.1.1.1    remote-as 2  \nexit\n").get("router bgp 1")
          ?.lines,
        ["neighbor 1.1.1.1 remote-as 2"],
      );
    });
  });
}
