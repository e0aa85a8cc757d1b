/** Parsers of FRR's JSON, on output captured from FRR 8.4.4 and 10.3 by test/integration/frr/frr-applier.test.ts. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { findRoute, parseBgpSummary, parseRouteTable } from "../../../src/host/frr/frr-show.ts";
import { FRR_VERSIONS, frrFixtureJson } from "./fixtures.ts";

for (const FRR of FRR_VERSIONS) {
  const fixture = (f: string): unknown => frrFixtureJson(FRR, f);

  describe(`parseBgpSummary (FRR ${FRR})`, () => {
    it("lists every peer per address family with its state and prefix counts", () => {
      const s = parseBgpSummary(fixture("bgp-summary.json"));
      assert.equal(s.routerId, "10.255.0.2");
      assert.equal(s.as, 65000);
      const v4 = s.peers.find((p) => p.afi === "ipv4Unicast" && p.peer === "10.255.0.1");
      assert.ok(v4);
      assert.equal(v4.established, true);
      assert.equal(v4.remoteAs, 64999);
      assert.ok(v4.prefixesReceived >= 1);
      assert.ok(s.peers.some((p) => p.afi === "ipv6Unicast" && p.peer === "fd00:255::1" && p.established));
    });

    it("tolerates empty and malformed input", () => {
      assert.deepEqual(parseBgpSummary({}), { peers: [] });
      assert.deepEqual(parseBgpSummary(null), { peers: [] });
      assert.deepEqual(parseBgpSummary({ ipv4Unicast: { peers: { x: 5 } } }).peers, []);
      assert.equal(
        parseBgpSummary({ ipv4Unicast: { peers: { "1.1.1.1": { state: "Active" } } } }).peers[0]?.established,
        false,
      );
    });
  });

  describe(`parseRouteTable (FRR ${FRR})`, () => {
    it("finds the BGP-learned agent prefix at the spine (IPv4)", () => {
      const routes = parseRouteTable(fixture("ip-route.json"));
      const r = findRoute(routes, "172.24.4.92/32", "bgp");
      assert.ok(r);
      assert.equal(r.installed, true);
      assert.equal(r.nexthops[0]?.ip, "10.255.0.1");
      assert.equal(findRoute(routes, "172.24.4.92/32", "connected"), undefined);
    });

    it("finds the BGP-learned agent prefix at the spine (IPv6)", () => {
      const r = findRoute(parseRouteTable(fixture("ipv6-route.json")), "2001:db8::21c/128", "bgp");
      assert.ok(r);
      assert.ok(r.nexthops.some((n) => n.active));
    });

    it("skips malformed entries", () => {
      assert.deepEqual(parseRouteTable({ "10.0.0.0/8": "x", "10.1.0.0/16": [5, { protocol: "kernel" }] }), [
        { prefix: "10.1.0.0/16", protocol: "kernel", selected: false, installed: false, nexthops: [] },
      ]);
    });
  });
}
