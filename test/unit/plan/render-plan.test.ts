import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { planFromScratch } from "../../../src/plan/planner.ts";
import { planToJson, renderPlanText, withdrawEvent } from "../../../src/plan/render-plan.ts";
import { SEED, seedFacts, seedSouthbound } from "../../fixtures/sb-seed.ts";
import { testConfig } from "../../fixtures/test-config.ts";

describe("renderPlanText", () => {
  const text = renderPlanText(
    planFromScratch(testConfig(), seedFacts(SEED.chassis.gateway.name), seedSouthbound()),
  );
  const lines = [
    `PortBindingChassisCreatedEvent cr-lrp logical_port=${SEED.crlrp.port} ips=172.24.4.163,2001:db8::20`,
    "  rule 32000: to 172.24.4.163 lookup br-ex",
    "  route table br-ex: 172.24.4.163 dev br-ex scope link",
    "  neigh 172.24.4.163 lladdr fa:16:3e:bf:93:93 dev br-ex PERMANENT",
    "  neigh proxy 2001:db8:: dev br-ex",
    `SubnetRouterAttachedEvent tenant-subnet logical_port=${SEED.tenantLrp.port}`,
    "  rule 32000: to 10.0.0.64/26 lookup br-ex",
    "  route table br-ex: 10.0.0.64/26 via 172.24.4.163 dev br-ex",
    `TenantPortCreatedEvent tenant-vm logical_port=${SEED.vmTenant.port} ips=10.0.0.95`,
    "  address 10.0.0.95/32 dev bgp-nic",
    "  route table br-ex: default dev br-ex scope link",
    "  route -6 table br-ex: default dev br-ex scope link",
    "  table 200 br-ex",
    "problems (0):",
  ];
  for (const l of lines) it(`has ${JSON.stringify(l)}`, () => assert.ok(text.split("\n").includes(l), text));
});

describe("planToJson", () => {
  it("is stable across runs and parses back", () => {
    const a = planToJson(
      planFromScratch(testConfig(), seedFacts(SEED.chassis.gateway.name), seedSouthbound()),
    );
    const b = planToJson(
      planFromScratch(testConfig(), seedFacts(SEED.chassis.gateway.name), seedSouthbound()),
    );
    assert.equal(a, b);
    assert.equal(JSON.parse(a).entries.length, 3);
  });
});

describe("withdrawEvent", () => {
  it("maps creation events to their counterparts", () => {
    assert.equal(withdrawEvent("FIPSetEvent"), "FIPUnsetEvent");
    assert.equal(withdrawEvent("TenantPortCreatedEvent"), "TenantPortDeletedEvent");
    assert.equal(withdrawEvent("SubnetRouterAttachedEvent"), "SubnetRouterDetachedEvent");
  });
});
