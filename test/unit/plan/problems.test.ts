/** Malformed or hostile rows become PlanProblems; every other exposure stays in the plan. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Row } from "../../../src/ovsdb/wire/datum.ts";
import { flattenPlan } from "../../../src/plan/desired-state.ts";
import { planFromScratch } from "../../../src/plan/planner.ts";
import { patchRow } from "../../fixtures/sb-changes.ts";
import { portRow, type SbTables, SEED, seedFacts, seedSouthbound } from "../../fixtures/sb-seed.ts";
import { testConfig } from "../../fixtures/test-config.ts";

const S = SEED;
const PROV = S.chassis.provider.name;
const GW = S.chassis.gateway.name;
const TEN = S.chassis.tenant.name;

/** A second provider VM on the provider chassis, that we break in various ways. */
function withBadVm(cols: Record<string, unknown>): SbTables {
  const t = seedSouthbound();
  const ports = t.get("Port_Binding") as Map<string, Row>;
  const base = portRow("bad-0000", {
    logical_port: "vm-bad",
    datapath: S.datapaths.public,
    mac: ["fa:16:3e:00:00:01 172.24.4.50"],
    chassis: S.chassis.provider.uuid,
    up: true,
  });
  ports.set("bad-0000", { ...base, ...cols } as Row);
  return t;
}

describe("problems", () => {
  const cases: Array<{ name: string; cols: Record<string, unknown>; object: string; match: RegExp }> = [
    { name: "bad MAC", cols: { mac: ["fa:16:3e:zz:00:01 172.24.4.50"] }, object: "vm-bad", match: /bad MAC/ },
    { name: "bad IP", cols: { mac: ["fa:16:3e:00:00:01 172.24.4.500"] }, object: "vm-bad", match: /bad IP/ },
    {
      name: "loopback IP",
      cols: { mac: ["fa:16:3e:00:00:01 127.0.0.1"] },
      object: "vm-bad",
      match: /loopback/,
    },
    { name: "unknown type", cols: { type: "wormhole" }, object: "vm-bad", match: /unknown type "wormhole"/ },
    {
      name: "hostile name (quote, newline, ;)",
      cols: { logical_port: 'x";\nip link del br-ex' },
      object: "bad-0000",
      match: /unsafe characters/,
    },
    {
      name: "over-long name",
      cols: { logical_port: "a".repeat(300) },
      object: "bad-0000",
      match: /longer than 128/,
    },
    {
      name: "bad neutron:cidrs",
      cols: { mac: ["unknown"], external_ids: new Map([["neutron:cidrs", "172.24.4.50/99"]]) },
      object: "vm-bad",
      match: /neutron:cidrs/,
    },
  ];
  for (const c of cases) {
    it(`${c.name}: reported with the row, the seed VM stays`, () => {
      const state = planFromScratch(testConfig(), seedFacts(PROV), withBadVm(c.cols));
      assert.deepEqual(
        state.entries.map((e) => e.id),
        [`provider-vm:${S.vm1.port}`],
      );
      assert.equal(state.problems.length, 1, JSON.stringify(state.problems));
      assert.equal(state.problems[0]?.object, c.object);
      assert.match(state.problems[0]?.message ?? "", c.match);
      // Nothing hostile reached the kernel objects.
      const flat = JSON.stringify(flattenPlan(state));
      assert.ok(!flat.includes("ip link del") && !flat.includes("vm-bad"));
    });
  }

  it("nonsense nat_addresses: reported, the valid FIP stays", () => {
    const t = seedSouthbound();
    const row = t.get("Port_Binding")?.get(S.gwLsp.uuid) as Row;
    patchRow(t, "Port_Binding", S.gwLsp.uuid, {
      nat_addresses: [
        ...(row.nat_addresses as string[]),
        "nonsense",
        'fa:16:3e:00:00:02 1.2.3 is_chassis_resident("x")',
      ],
    });
    const state = planFromScratch(testConfig(), seedFacts(TEN), t);
    assert.deepEqual(
      state.entries.map((e) => e.advertised),
      [[S.fip.ip]],
    );
    assert.equal(state.problems.length, 2);
    assert.ok(state.problems.every((p) => p.object === S.gwLsp.port));
  });

  it("bad cr-lrp MAC: the gateway is reported, the provider VM on the same host stays", () => {
    const t = seedSouthbound({ gatewayChassis: S.chassis.provider.uuid });
    patchRow(t, "Port_Binding", S.crlrp.uuid, { mac: ["ff:ff:ff:ff:ff:ff 172.24.4.163/24"] });
    const state = planFromScratch(testConfig(), seedFacts(PROV), t);
    assert.deepEqual(
      state.entries.map((e) => e.id),
      [`provider-vm:${S.vm1.port}`],
    );
    assert.equal(state.problems[0]?.object, S.crlrp.port);
  });

  it("a router port network wider than the floor (a hostile /0) is refused and named; the rest stays", () => {
    const t = seedSouthbound();
    patchRow(t, "Port_Binding", S.tenantLrp.uuid, {
      mac: [`${S.tenantLrp.mac} 10.0.0.65/0 10.1.0.1/24 2001:db8:9::1/16`],
    });
    const state = planFromScratch(testConfig(), seedFacts(GW), t);
    const rules = flattenPlan(state).rules.map((r) => r.to);
    const routes = flattenPlan(state).routes.map((r) => r.dst);
    assert.ok(!rules.includes("0.0.0.0/0"), `no rule steers everything: ${rules.join(", ")}`);
    assert.ok(!routes.includes("0.0.0.0/0"), "no route for the whole IPv4 space");
    assert.ok(!rules.includes("2001::/16"), "the /16 IPv6 network is wider than the /48 floor");
    assert.ok(rules.includes("10.1.0.0/24"), "the same port's valid subnet is still exposed");
    assert.ok(rules.includes(`${S.crlrp.ip4}/32`), "the gateway stays exposed");
    const p = state.problems.find((x) => x.object === S.tenantLrp.port);
    assert.match(p?.message ?? "", /0\.0\.0\.0\/0 is wider than \/16 \(min_exposed_prefix_ipv4\)/);
    assert.match(p?.message ?? "", /2001::\/16 is wider than \/48/);
    // The floor is configurable: 0 lets the operator expose anything (their explicit choice).
    const open = planFromScratch(testConfig({ min_exposed_prefix_ipv4: 0 }), seedFacts(GW), t);
    assert.ok(flattenPlan(open).rules.some((r) => r.to === "0.0.0.0/0"));
  });

  it("a tenant subnet overlapping the host's own network (its underlay, its BGP peer) is refused and named", () => {
    // The host's underlay is 10.0.0.0/24 (its BGP peer sits there): the seed's tenant subnet
    // 10.0.0.64/26 and the tenant VM 10.0.0.95 would steer that traffic into br-ex.
    const facts = seedFacts(GW, {
      hostNetworks: [
        { cidr: "10.0.0.1/24", dev: "eth0" },
        { cidr: "127.0.0.1/8", dev: "lo" },
      ],
    });
    const state = planFromScratch(testConfig(), facts, seedSouthbound());
    const flat = flattenPlan(state);
    assert.ok(!flat.rules.some((r) => r.to?.startsWith("10.0.0.")), JSON.stringify(flat.rules));
    assert.ok(!flat.routes.some((r) => r.dst.startsWith("10.0.0.")), "no route into the host's network");
    assert.ok(
      flat.rules.some((r) => r.to === `${S.crlrp.ip4}/32`),
      "the gateway stays exposed",
    );
    const messages = state.problems.map((p) => `${p.object}: ${p.message}`).join("\n");
    assert.match(
      messages,
      /SubnetRouterAttachedEvent 10\.0\.0\.64\/26: overlaps the host's own 10\.0\.0\.1\/24 on eth0/,
    );
    assert.match(
      messages,
      /TenantPortCreatedEvent 10\.0\.0\.95\/32: overlaps the host's own 10\.0\.0\.1\/24 on eth0/,
    );
    // Without the host's networks known, the same Southbound exposes them (nothing to protect).
    assert.ok(
      flattenPlan(planFromScratch(testConfig(), seedFacts(GW), seedSouthbound())).rules.some(
        (r) => r.to === "10.0.0.64/26",
      ),
    );
  });

  it("cr-lrp on a network not mapped here is reported", () => {
    const state = planFromScratch(
      testConfig(),
      seedFacts(GW, { bridgeMappings: [{ network: "elsewhere", bridge: "br-ex" }] }),
      seedSouthbound(),
    );
    assert.deepEqual(state.entries, []);
    assert.match(state.problems[0]?.message ?? "", /not in the local bridge mappings/);
  });

  it("duplicate logical_port: the smallest uuid wins, the other is reported", () => {
    const t = seedSouthbound();
    const ports = t.get("Port_Binding") as Map<string, Row>;
    const vm1 = ports.get(S.vm1.uuid) as Row;
    ports.set("zzz-dup", { ...vm1, _uuid: "zzz-dup", mac: ["fa:16:3e:00:00:09 172.24.4.99"] } as Row);
    const state = planFromScratch(testConfig(), seedFacts(PROV), t);
    assert.deepEqual(state.entries[0]?.advertised, [S.vm1.ip4, S.vm1.ip6]);
    assert.match(state.problems[0]?.message ?? "", /also used by another row/);
  });

  it("an over-long VLAN device name is reported, not planned", () => {
    const t = seedSouthbound();
    patchRow(t, "Port_Binding", S.localnet.uuid, { tag: [1234] });
    const facts = seedFacts(PROV, {
      bridgeMappings: [{ network: "public", bridge: "br-provider01" }],
      bridges: new Map(),
    });
    const state = planFromScratch(testConfig(), facts, t);
    assert.deepEqual(state.entries, []);
    assert.equal(
      state.links.some((l) => l.kind === "vlan"),
      false,
    );
    assert.match(state.problems.map((p) => p.message).join(";"), /longer than 15/);
  });
});
