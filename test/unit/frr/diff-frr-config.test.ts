/**
 * The FRR diff touches only what the agent owns: tested on the running config captured from a real
 * FRR 8.4.4 and 10.3 (test/fixtures/frr/<version>/running-config-chassis.txt) and on hand-written variants.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  diffFrrConfig,
  type FrrCommand,
  findAsnConflict,
  isEmptyDiff,
  renderFrrScript,
} from "../../../src/host/frr/diff-frr-config.ts";
import { parseFrrConfig } from "../../../src/host/frr/frr-config-tree.ts";
import { type RenderFrrOptions, renderFrrConfig } from "../../../src/host/frr/render-frr-config.ts";
import type { FrrIntent } from "../../../src/plan/desired-state.ts";
import { FRR_VERSIONS, frrFixtureText } from "./fixtures.ts";

const TABLE: FrrIntent = { asn: 64999, routerId: "10.255.0.1", layout: "table", importTable: 200 };
const V6: RenderFrrOptions = { ipv6KernelMetric: 4242 };

const desired = (intent: FrrIntent, opts: RenderFrrOptions = {}) =>
  parseFrrConfig(renderFrrConfig(intent, opts).join("\n"));
const show = (cmds: readonly FrrCommand[]) => cmds.map((c) => [...c.path, c.line ?? "<enter>"].join(" > "));

for (const FRR of FRR_VERSIONS) {
  const RUNNING = frrFixtureText(FRR, "running-config-chassis.txt");

  describe(`diffFrrConfig (FRR ${FRR})`, () => {
    it("finds nothing to do when the running config already holds the agent's lines", () => {
      const diff = diffFrrConfig(desired(TABLE, V6), parseFrrConfig(RUNNING));
      assert.ok(isEmptyDiff(diff), renderFrrScript(diff));
      assert.equal(renderFrrScript(diff), "");
    });

    it("adds everything to an empty FRR, route-maps first", () => {
      const diff = diffFrrConfig(desired(TABLE, V6), parseFrrConfig("frr defaults datacenter\n"));
      assert.deepEqual(diff.remove, []);
      assert.deepEqual(show(diff.add), [
        "route-map OVN-BGP-TABLE permit 10 > <enter>",
        "route-map OVN-BGP-KERNEL6 permit 10 > match metric 4242",
        "route-map OVN-BGP-KERNEL6 permit 10 > set metric 0",
        "ip import-table 200 route-map OVN-BGP-TABLE",
        "router bgp 64999 > bgp router-id 10.255.0.1",
        "router bgp 64999 > address-family ipv4 unicast > redistribute table 200 route-map OVN-BGP-TABLE",
        "router bgp 64999 > address-family ipv6 unicast > redistribute kernel route-map OVN-BGP-KERNEL6",
      ]);
      // The script re-parses into exactly the desired contexts.
      const again = diffFrrConfig(desired(TABLE, V6), parseFrrConfig(renderFrrScript(diff)));
      assert.ok(isEmptyDiff(again), renderFrrScript(again));
    });

    it("moves to another import table: adds the new lines, then removes only the agent's old ones", () => {
      const diff = diffFrrConfig(desired({ ...TABLE, importTable: 201 }, V6), parseFrrConfig(RUNNING));
      assert.deepEqual(show(diff.add), [
        "ip import-table 201 route-map OVN-BGP-TABLE",
        "router bgp 64999 > address-family ipv4 unicast > redistribute table 201 route-map OVN-BGP-TABLE",
      ]);
      assert.deepEqual(show(diff.remove), [
        "router bgp 64999 > address-family ipv4 unicast > redistribute table 200 route-map OVN-BGP-TABLE",
        "ip import-table 200 route-map OVN-BGP-TABLE",
      ]);
      assert.equal(
        renderFrrScript(diff),
        [
          "ip import-table 201 route-map OVN-BGP-TABLE",
          "router bgp 64999",
          " address-family ipv4 unicast",
          "  redistribute table 201 route-map OVN-BGP-TABLE",
          " exit-address-family",
          "exit",
          "router bgp 64999",
          " address-family ipv4 unicast",
          "  no redistribute table 200 route-map OVN-BGP-TABLE",
          " exit-address-family",
          "exit",
          "no ip import-table 200 route-map OVN-BGP-TABLE",
          "",
        ].join("\n"),
      );
    });

    it("replaces a changed value in an owned route-map without a trailing 'no'", () => {
      const diff = diffFrrConfig(desired(TABLE, { ipv6KernelMetric: 77 }), parseFrrConfig(RUNNING));
      assert.deepEqual(show(diff.add), ["route-map OVN-BGP-KERNEL6 permit 10 > match metric 77"]);
      assert.deepEqual(diff.remove, []);
    });

    it("drops the IPv6 route-map and its user when IPv6 is no longer wanted, the route-map last", () => {
      const diff = diffFrrConfig(desired(TABLE), parseFrrConfig(RUNNING));
      assert.deepEqual(diff.add, []);
      assert.deepEqual(show(diff.remove), [
        "router bgp 64999 > address-family ipv6 unicast > redistribute kernel route-map OVN-BGP-KERNEL6",
        "route-map OVN-BGP-KERNEL6 permit 10",
      ]);
      assert.match(renderFrrScript(diff), /\nno route-map OVN-BGP-KERNEL6 permit 10\n$/);
    });

    it("never removes the operator's lines, even ones that look like the agent's", () => {
      const running = parseFrrConfig(`ip import-table 200
ip import-table 150 route-map OPERATOR
router bgp 64999
 neighbor 10.0.0.1 remote-as 65000
 neighbor 10.0.0.1 description spine
 address-family ipv4 unicast
  redistribute table 200
  redistribute connected route-map OPERATOR
  import vrf operator-vrf
 exit-address-family
exit
router bgp 64999 vrf operator-vrf
 address-family ipv4 unicast
  redistribute connected
 exit-address-family
exit
route-map OPERATOR permit 10
exit
ip prefix-list PL seq 5 permit 10.0.0.0/8
`);
      for (const intent of [
        TABLE,
        { ...TABLE, importTable: 7 },
        { asn: 64999, layout: "vrf", vrf: { name: "bgp-vrf", table: 10 } } as FrrIntent,
      ]) {
        const diff = diffFrrConfig(desired(intent, V6), running);
        assert.deepEqual(diff.remove, [], JSON.stringify(intent));
      }
    });

    it("an operator's own OVN-BGP-… route-map, its users and their router-id are theirs", () => {
      const running = parseFrrConfig(`route-map OVN-BGP-MINE permit 10
 set local-preference 200
exit
router bgp 64999
 bgp router-id 10.9.9.9
 neighbor 10.0.0.1 remote-as 65000
 address-family ipv4 unicast
  neighbor 10.0.0.1 route-map OVN-BGP-MINE out
 exit-address-family
exit
`);
      for (const intent of [
        TABLE,
        { ...TABLE, routerId: "10.255.0.1" },
        {
          asn: 64999,
          layout: "vrf",
          vrf: { name: "bgp-vrf", table: 10 },
          routerId: "10.255.0.1",
        } as FrrIntent,
      ]) {
        const diff = diffFrrConfig(desired(intent, V6), running);
        assert.deepEqual(diff.remove, [], JSON.stringify(intent));
        assert.ok(
          !show(diff.add).some((l) => l === "router bgp 64999 > bgp router-id 10.255.0.1"),
          "the operator's router-id is not replaced (that would reset every session)",
        );
        if (intent.routerId)
          assert.match(
            diff.kept?.[0] ?? "",
            /bgp router-id 10\.9\.9\.9 \(bgp_router_id wants 10\.255\.0\.1\)/,
          );
      }
      // With no router-id of theirs, the agent's is set.
      const fresh = diffFrrConfig(
        desired({ ...TABLE, routerId: "10.255.0.1" }, V6),
        parseFrrConfig("router bgp 64999\nexit\n"),
      );
      assert.ok(show(fresh.add).includes("router bgp 64999 > bgp router-id 10.255.0.1"));
    });

    it("switches the VRF: drops the old import before the old instance, keeps the operator's VRF", () => {
      const running = parseFrrConfig(
        renderFrrConfig({ asn: 64999, layout: "vrf", vrf: { name: "old-vrf", table: 10 } }).join("\n") +
          "\nrouter bgp 64999\n address-family ipv4 unicast\n  import vrf operator-vrf\n exit-address-family\nexit\nrouter bgp 64999 vrf operator-vrf\n neighbor 1.1.1.1 remote-as 1\nexit\n",
      );
      const diff = diffFrrConfig(
        desired({ asn: 64999, layout: "vrf", vrf: { name: "bgp-vrf", table: 10 } }),
        running,
      );
      assert.deepEqual(show(diff.remove), [
        "router bgp 64999 > address-family ipv4 unicast > import vrf old-vrf",
        "router bgp 64999 > address-family ipv6 unicast > import vrf old-vrf",
        "router bgp 64999 vrf old-vrf",
      ]);
      assert.ok(
        show(diff.add).includes(
          "router bgp 64999 vrf bgp-vrf > address-family ipv4 unicast > redistribute connected route-map OVN-BGP-CONNECTED",
        ),
      );
    });

    it("switches layout table -> vrf: every table-layout line and route-map goes", () => {
      const diff = diffFrrConfig(
        desired({ asn: 64999, layout: "vrf", vrf: { name: "bgp-vrf", table: 10 } }),
        parseFrrConfig(RUNNING),
      );
      const removed = show(diff.remove);
      // Users first, then the route-maps (in the order FRR prints them, which 8.4 and 10.3 do not share).
      assert.deepEqual(removed.slice(0, 3), [
        "router bgp 64999 > address-family ipv4 unicast > redistribute table 200 route-map OVN-BGP-TABLE",
        "router bgp 64999 > address-family ipv6 unicast > redistribute kernel route-map OVN-BGP-KERNEL6",
        "ip import-table 200 route-map OVN-BGP-TABLE",
      ]);
      assert.deepEqual(removed.slice(3).sort(), [
        "route-map OVN-BGP-KERNEL6 permit 10",
        "route-map OVN-BGP-TABLE permit 10",
      ]);
    });

    it("property: removals only ever name OVN-BGP- route-maps, their users, or the agent's VRF instance", () => {
      const operatorLine = fc.constantFrom(
        "neighbor 10.0.0.1 remote-as 65000",
        "neighbor 10.0.0.1 description x",
        "redistribute table 200",
        "redistribute kernel",
        "redistribute connected route-map OP",
        "import vrf other",
        "neighbor 10.0.0.1 route-map OVN-BGP-MINE out",
        "bgp router-id 1.2.3.4",
        "network 10.0.0.0/8",
      );
      const context = fc.constantFrom<readonly string[]>(
        [],
        ["router bgp 64999"],
        ["router bgp 64999", "address-family ipv4 unicast"],
        ["router bgp 64999", "address-family ipv6 unicast"],
        ["route-map OP permit 10"],
        ["route-map OVN-BGP-MINE permit 10"],
        ["router bgp 64999 vrf other"],
      );
      const agentRunning = fc.constantFrom<FrrIntent>(
        TABLE,
        { ...TABLE, importTable: 9 },
        { asn: 64999, layout: "vrf", vrf: { name: "a-vrf", table: 10 } },
      );
      fc.assert(
        fc.property(
          fc.array(fc.tuple(context, operatorLine), { maxLength: 12 }),
          agentRunning,
          agentRunning,
          (ops, was, want) => {
            const text = [
              ...renderFrrConfig(was, V6),
              ...ops.flatMap(([path, line]) => [
                ...path.map((h, i) => " ".repeat(i) + h),
                " ".repeat(path.length) + line,
                ...path.map(
                  (_, i) =>
                    " ".repeat(path.length - 1 - i) +
                    (path[path.length - 1 - i]?.startsWith("address-family")
                      ? "exit-address-family"
                      : "exit"),
                ),
              ]),
            ].join("\n");
            const diff = diffFrrConfig(desired(want, V6), parseFrrConfig(text));
            for (const r of diff.remove) {
              const s = [...r.path, r.line].join(" > ");
              assert.ok(/OVN-BGP-|import vrf a-vrf|router bgp 64999 vrf a-vrf/.test(s), s);
              assert.ok(!/vrf other|route-map OP\b|OVN-BGP-MINE/.test(s), s);
            }
          },
        ),
      );
    });
  });

  describe(`findAsnConflict (FRR ${FRR})`, () => {
    it("reports an operator BGP instance with another AS, ignores VRF instances", () => {
      const want = desired(TABLE);
      assert.equal(
        findAsnConflict(want, parseFrrConfig("router bgp 64999\nexit\nrouter bgp 1 vrf x\nexit\n")),
        undefined,
      );
      assert.match(
        findAsnConflict(want, parseFrrConfig("router bgp 65001\n neighbor 1.1.1.1 remote-as 1\nexit\n")) ??
          "",
        /65001/,
      );
    });
  });
}
