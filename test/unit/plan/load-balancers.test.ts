/**
 * Load balancers as ovn-octavia-provider makes them (issue 13 point 3): a VIP on the provider
 * network of a router's load balancer is exposed from the chassis that holds the router's cr-lrp,
 * like a centralized FIP, under OVNLBCreateEvent; it moves with the gateway and goes with the load
 * balancer, incrementally; tenant-side VIPs and VIPs that are no address are not exposed.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Row } from "../../../src/ovsdb/wire/datum.ts";
import { Planner, planFromScratch } from "../../../src/plan/planner.ts";
import { vipAddress } from "../../../src/sb/load-balancer.ts";
import { row, SEED, seedFacts, seedSouthbound } from "../../fixtures/sb-seed.ts";
import { testConfig } from "../../fixtures/test-config.ts";

const S = SEED;
const LB = "l0000000-0000-4000-8000-000000000001";
const GROUP = "g0000000-0000-4000-8000-000000000001";

function withLb(vips: Record<string, string>, via: "datapaths" | "group" | "switch-only" = "group") {
  const t = seedSouthbound();
  // OVN before 23.09 lists a load balancer under its switches only.
  const dps = via === "switch-only" ? [S.datapaths.private] : [S.datapaths.router, S.datapaths.private];
  t.set("Logical_DP_Group", new Map([[GROUP, row(GROUP, { datapaths: via === "datapaths" ? [] : dps })]]));
  t.set(
    "Load_Balancer",
    new Map([
      [
        LB,
        row(LB, {
          name: "lb-web",
          vips,
          protocol: "tcp",
          ...(via === "datapaths" ? { datapaths: dps } : { datapath_group: GROUP }),
        }),
      ],
    ]),
  );
  return t;
}

const lbEntries = (p: { entries: readonly { cause: { kind: string } }[] }) =>
  p.entries.filter((e) => e.cause.kind === "lb-vip");

describe("load balancer VIPs", () => {
  it("VIP keys: address with or without port, IPv6 in brackets", () => {
    assert.equal(vipAddress("172.24.4.50:80"), "172.24.4.50");
    assert.equal(vipAddress("172.24.4.50"), "172.24.4.50");
    assert.equal(vipAddress("[2001:db8::50]:443"), "2001:db8::50");
    assert.equal(vipAddress("2001:db8::50"), "2001:db8::50");
    assert.equal(vipAddress("not-a-vip:80"), undefined);
  });

  for (const via of ["group", "datapaths", "switch-only"] as const) {
    it(`a provider VIP is exposed from the cr-lrp's chassis (applied through ${via})`, () => {
      const t = withLb(
        { "172.24.4.50:80": "10.0.0.95:8080", "10.0.0.100:80": "10.0.0.95:8080", "[2001:db8::50]:80": "" },
        via,
      );
      const state = planFromScratch(testConfig(), seedFacts(S.chassis.gateway.name), t);
      const lbs = lbEntries(state);
      assert.equal(lbs.length, 1);
      const e = state.entries.find((x) => x.cause.kind === "lb-vip");
      assert.equal(e?.cause.event, "OVNLBCreateEvent");
      assert.equal(e?.cause.logicalPort, "lb-web");
      assert.deepEqual(
        e?.advertised,
        ["172.24.4.50", "2001:db8::50"],
        "tenant-side VIP 10.0.0.100 not exposed",
      );
      assert.ok(e?.rules.some((r) => r.to === "172.24.4.50/32"));
      assert.ok(e?.routes.some((r) => r.dst === "172.24.4.50/32" && r.dev === "br-ex"));
      // Not from the other chassis.
      assert.deepEqual(lbEntries(planFromScratch(testConfig(), seedFacts(S.chassis.provider.name), t)), []);
    });
  }

  it("a VIP that is no address is reported, the rest exposed", () => {
    const t = withLb({ "172.24.4.50:80": "x", "junk:80": "y" });
    const state = planFromScratch(testConfig(), seedFacts(S.chassis.gateway.name), t);
    assert.equal(lbEntries(state).length, 1);
    assert.ok(state.problems.some((p) => /VIP "junk:80" is not an address/.test(p.message)));
  });

  it("incremental: the load balancer and its group changing move the VIP in and out", () => {
    const t = withLb({ "172.24.4.50:80": "10.0.0.95:8080" });
    const p = new Planner(testConfig(), seedFacts(S.chassis.gateway.name));
    p.load(t);
    assert.equal(lbEntries(p.state()).length, 1);
    const lbRow = (t.get("Load_Balancer") as Map<string, Row>).get(LB) as Row;
    // The load balancer removed: OVNLBDeleteEvent's entry goes.
    let d = p.apply([{ kind: "delete", table: "Load_Balancer", uuid: LB, old: lbRow }]);
    assert.deepEqual(
      d.removed.map((e) => e.cause.kind),
      ["lb-vip"],
    );
    assert.equal(lbEntries(p.state()).length, 0);
    // Back, with another VIP.
    const next = row(LB, { name: "lb-web", vips: { "172.24.4.51:80": "" }, datapath_group: GROUP });
    d = p.apply([{ kind: "insert", table: "Load_Balancer", uuid: LB, new: next }]);
    assert.deepEqual(
      d.added.map((e) => e.advertised),
      [["172.24.4.51"]],
    );
    // Neither the router nor a switch behind it in the group any more: the VIP goes.
    const grp = (t.get("Logical_DP_Group") as Map<string, Row>).get(GROUP) as Row;
    const narrower = row(GROUP, { datapaths: ["d0000000-0000-4000-8000-0000000000ff"] });
    d = p.apply([{ kind: "update", table: "Logical_DP_Group", uuid: GROUP, old: grp, new: narrower }]);
    assert.equal(d.removed.length, 1);
    assert.equal(lbEntries(p.state()).length, 0);
    assert.ok(p.lastRecomputed < 5, `recomputed ${p.lastRecomputed} rows`);
  });

  it("gateway failover: the VIP follows the cr-lrp", () => {
    const t = withLb({ "172.24.4.50:80": "10.0.0.95:8080" });
    const p = new Planner(testConfig(), seedFacts(S.chassis.gateway.name));
    p.load(t);
    const ports = t.get("Port_Binding") as Map<string, Row>;
    const cr = ports.get(S.crlrp.uuid) as Row;
    const moved = { ...cr, chassis: [S.chassis.provider.uuid] } as Row;
    const d = p.apply([{ kind: "update", table: "Port_Binding", uuid: S.crlrp.uuid, old: cr, new: moved }]);
    assert.ok(d.removed.some((e) => e.cause.kind === "lb-vip"));
    assert.equal(lbEntries(p.state()).length, 0);
  });
});
