import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { diffKernel } from "../../../src/host/kernel/diff.ts";
import { flattenPlan } from "../../../src/plan/desired-state.ts";
import { ndResponderFlows } from "../../../src/plan/host-wide.ts";
import { planFromScratch } from "../../../src/plan/planner.ts";
import { patchRow } from "../../fixtures/sb-changes.ts";
import { SEED, seedFacts, seedSouthbound } from "../../fixtures/sb-seed.ts";
import { testConfig } from "../../fixtures/test-config.ts";
import { emptyObserved } from "../kernel/seed-state.ts";

const S = SEED;
const PROV = S.chassis.provider.name;

describe("host-wide objects", () => {
  it("per bridge, in mapping order: table, default routes, proxy sysctls, helper addresses, flows", () => {
    const facts = seedFacts(PROV, {
      bridgeMappings: [
        { network: "public", bridge: "br-ex" },
        { network: "ext2", bridge: "br-ex2" },
        { network: "ext3", bridge: "br-ex" },
      ],
      bridges: new Map([
        ["br-ex", { mac: "AA:BB:CC:00:00:01", patchPorts: ["patch-provnet-1-to-br-int"] }],
        ["br-ex2", { patchPorts: ["patch-provnet-2-to-br-int"] }],
      ]),
    });
    const state = planFromScratch(testConfig(), facts, seedSouthbound());
    assert.deepEqual(state.routingTables, [
      { id: 200, name: "br-ex" },
      { id: 201, name: "br-ex2" },
    ]);
    assert.deepEqual(
      state.routes.map((r) => `${r.family} ${r.table} ${r.dst} ${r.dev} ${r.scope}`),
      [
        "4 200 default br-ex link",
        "4 201 default br-ex2 link",
        "6 200 default br-ex link",
        "6 201 default br-ex2 link",
      ],
    );
    assert.deepEqual(
      state.addresses.map((a) => `${a.dev} ${a.cidr}`),
      [
        "br-ex2 169.254.2.2/32",
        "br-ex2 fd53:d91e:400:7f17::2:2/128",
        "br-ex 169.254.1.1/32",
        "br-ex fd53:d91e:400:7f17::1:1/128",
      ],
    );
    const sysctls = Object.fromEntries(state.sysctls.map((s) => [s.key, s.value]));
    for (const k of [
      "net.ipv4.ip_forward",
      "net.ipv6.conf.all.forwarding",
      "net.ipv4.conf.br-ex.proxy_arp",
      "net.ipv6.conf.br-ex.proxy_ndp",
      "net.ipv4.conf.br-ex2.proxy_arp",
    ])
      assert.equal(sysctls[k], "1", k);
    // Flows only where the bridge MAC is known; MAC canonicalised.
    assert.deepEqual(state.flows, [
      {
        bridge: "br-ex",
        cookie: 999,
        priority: 900,
        match: "ip,in_port=patch-provnet-1-to-br-int",
        actions: "mod_dl_dst:aa:bb:cc:00:00:01,NORMAL",
      },
      {
        bridge: "br-ex",
        cookie: 999,
        priority: 900,
        match: "ipv6,in_port=patch-provnet-1-to-br-int",
        actions: "mod_dl_dst:aa:bb:cc:00:00:01,NORMAL",
      },
      {
        bridge: "br-ex",
        cookie: 999,
        priority: 910,
        match: "icmp6,in_port=patch-provnet-1-to-br-int,icmp_type=135,icmp_code=0,nd_options_type=1",
        actions:
          "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],mod_dl_src:aa:bb:cc:00:00:01,move:NXM_NX_IPV6_SRC[]->NXM_NX_IPV6_DST[]," +
          "move:NXM_NX_ND_TARGET[]->NXM_NX_IPV6_SRC[],load:0x88->NXM_NX_ICMPV6_TYPE[]," +
          "load:0xe0000000->ERICOXM_OF_ICMPV6_ND_RESERVED[],load:0x2->ERICOXM_OF_ICMPV6_ND_OPTIONS_TYPE[],resubmit(,10)",
      },
      {
        bridge: "br-ex",
        cookie: 999,
        priority: 920,
        match: "icmp6,in_port=patch-provnet-1-to-br-int,icmp_type=135,icmp_code=0,nd_target=fe80::/10",
        actions: "mod_dl_dst:aa:bb:cc:00:00:01,NORMAL",
      },
      {
        bridge: "br-ex",
        cookie: 999,
        table: 10,
        priority: 910,
        match: "icmp6,in_port=patch-provnet-1-to-br-int,icmp_type=136,icmp_code=0,nd_options_type=2",
        actions: "load:0xaabbcc000001->NXM_NX_ND_TLL[],IN_PORT",
      },
    ]);
  });

  it("the responder's MAC load is written as ovs-ofctl prints it (no leading zero), so it compares equal", () => {
    const flows = ndResponderFlows("br-ex", "patch", "0e:07:92:7d:70:42", testConfig());
    assert.equal(flows.at(-1)?.actions, "load:0xe07927d7042->NXM_NX_ND_TLL[],IN_PORT");
  });

  it("VLAN provider network: br-ex.<tag> device, proxy on it, exposures through it", () => {
    const t = seedSouthbound();
    patchRow(t, "Port_Binding", S.localnet.uuid, { tag: [100] });
    const state = planFromScratch(testConfig(), seedFacts(PROV), t);
    assert.ok(
      state.links.some(
        (l) => l.kind === "vlan" && l.name === "br-ex.100" && l.parent === "br-ex" && l.vlanId === 100,
      ),
    );
    assert.ok(state.sysctls.some((s) => s.key === "net.ipv4.conf.br-ex.100.proxy_arp"));
    // What the planner writes, the applier takes: no sysctl of the VLAN device is refused as invalid
    // (it was: "net.ipv4.conf.br-ex/100.proxy_arp" failed validation and the kernel target forever).
    const observed = emptyObserved(["br-ex", "br-ex.100"]);
    const ops = diffKernel(flattenPlan(state), observed, { routeProtocol: 179, rtTablesDropin: "/x/y.conf" });
    assert.deepEqual(
      ops.blocked.filter((b) => b.kind === "sysctl"),
      [],
    );
    assert.deepEqual(
      ops.ops
        .filter((o) => o.kind === "sysctl" && o.key.includes("br-ex.100"))
        .map((o) => o.sysctl?.path)
        .sort(),
      ["net/ipv4/conf/br-ex.100/proxy_arp", "net/ipv6/conf/br-ex.100/proxy_ndp"],
    );
    const e = state.entries[0];
    assert.deepEqual(
      e?.routes.map((r) => `${r.dst} ${r.dev}`),
      ["172.24.4.92/32 br-ex.100", "2001:db8::21c/128 br-ex.100"],
    );
    assert.equal(e?.rules[0]?.table, 200);
  });

  it("unsafe patch port names and bridge names are reported", () => {
    const facts = seedFacts(PROV, {
      bridgeMappings: [
        { network: "public", bridge: "br-ex" },
        { network: "x", bridge: "br ex;" },
      ],
      bridges: new Map([["br-ex", { mac: "aa:bb:cc:00:00:01", patchPorts: ["in_port=1,actions=drop"] }]]),
    });
    const state = planFromScratch(testConfig(), facts, seedSouthbound());
    assert.deepEqual(state.flows, []);
    assert.deepEqual(
      state.routingTables.map((t) => t.name),
      ["br-ex"],
    );
    assert.equal(state.problems.length, 2);
  });
});
