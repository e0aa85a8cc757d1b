/** Validation and parsing of ovs-ofctl text; samples are real OVS 3.1 output. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  checkFlowSpec,
  normaliseMatch,
  parseDumpFlows,
  parsePortsDesc,
} from "../../../src/host/openflow/flow-text.ts";
import { parseInterfaceOfports } from "../../../src/host/openflow/ovs-ofctl.ts";
import type { FlowSpec } from "../../../src/plan/desired-state.ts";

const GOOD: FlowSpec = {
  bridge: "br-ex",
  cookie: 999,
  priority: 900,
  match: "ip,in_port=patch-provnet-0d5b0c1e-to-br-int",
  actions: "mod_dl_dst:3e:81:10:88:d3:4a,NORMAL",
};

describe("checkFlowSpec", () => {
  it("accepts the upstream MAC-rewrite flows", () => {
    assert.equal(checkFlowSpec(GOOD), undefined);
    assert.equal(checkFlowSpec({ ...GOOD, match: "ipv6,in_port=7" }), undefined);
  });

  it("rejects anything that could reach ovs-ofctl as a different flow", () => {
    const bad: Array<Partial<FlowSpec>> = [
      { bridge: "br ex" },
      { bridge: "br-ex\nx" },
      { cookie: 0 },
      { cookie: -1 },
      { cookie: 1.5 },
      { priority: 70000 },
      { match: "" },
      { match: "ip,in_port=a b" },
      { match: "ip\nadd cookie=0x1,actions=drop" },
      { match: "ip,cookie=0x1" },
      { match: "ip,table=3" },
      { match: "ip,dl_dst=zz:00:00:00:00:00" },
      { match: 'ip,in_port="x"' },
      { actions: "" },
      { actions: "mod_dl_dst:3e:81:10:88:d3,NORMAL" },
      { actions: "mod_dl_dst:3e:81:10:88:d3:4a,NORMAL\nadd x" },
      { actions: "learn(table=1,NORMAL)" },
      { actions: "output: 1" },
      { actions: "move:NXM_OF_ETH_SRC[]->eth_dst" },
      { actions: "move:0x1->NXM_OF_ETH_DST[]" },
      { actions: "load:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]" },
      { actions: "load:0x1->NXM_X[],output:1\nadd x" },
      { actions: "load:0x1->NXM_X[0..3]" },
    ];
    for (const b of bad) assert.notEqual(checkFlowSpec({ ...GOOD, ...b }), undefined, JSON.stringify(b));
  });

  it("accepts the IPv6 neighbour-solicitation responder (moves and loads of whole fields)", () => {
    const responder = {
      ...GOOD,
      match: "icmp6,in_port=patch-x,icmp_type=135,icmp_code=0,nd_options_type=1",
      actions:
        "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],mod_dl_src:aa:bb:cc:00:00:01,move:NXM_NX_IPV6_SRC[]->NXM_NX_IPV6_DST[]," +
        "move:NXM_NX_ND_TARGET[]->NXM_NX_IPV6_SRC[],load:0xaabbcc000001->NXM_NX_ND_SLL[],load:0x88->NXM_NX_ICMPV6_TYPE[]," +
        "load:0xe0000000->ERICOXM_OF_ICMPV6_ND_RESERVED[],load:0x2->ERICOXM_OF_ICMPV6_ND_OPTIONS_TYPE[],IN_PORT",
    };
    assert.equal(checkFlowSpec(responder), undefined);
    assert.equal(checkFlowSpec({ ...GOOD, match: "icmp6,icmp_type=135,nd_target=fe80::/10" }), undefined);
    assert.equal(checkFlowSpec({ ...GOOD, actions: "load:0x2->NXM_X[],resubmit(,10)" }), undefined);
    assert.equal(
      checkFlowSpec({ ...GOOD, table: 10, actions: "load:0xaa->NXM_NX_ND_TLL[],IN_PORT" }),
      undefined,
    );
    assert.notEqual(checkFlowSpec({ ...GOOD, table: 255 }), undefined);
    assert.notEqual(checkFlowSpec({ ...GOOD, actions: "resubmit(1,2)" }), undefined);
  });

  it("property: a valid spec never contains whitespace, quotes or a newline", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (match, actions) => {
        if (checkFlowSpec({ ...GOOD, match, actions }) === undefined)
          assert.doesNotMatch(match + actions, /[\s"'()]/);
      }),
    );
  });
});

describe("parseDumpFlows", () => {
  it("reads flows with and without statistics, defaulting the priority", () => {
    const text = `NXST_FLOW reply (xid=0x4):
 cookie=0x3e7, duration=0.024s, table=0, n_packets=0, n_bytes=0, idle_age=0, priority=900,ip,in_port=1 actions=mod_dl_dst:3e:81:10:88:d3:4a,NORMAL
 cookie=0x3e7, priority=900,ipv6,in_port="patch-provnet-x" actions=mod_dl_dst:3e:81:10:88:d3:4a,NORMAL
 cookie=0x5, table=3, priority=100,arp actions=NORMAL
 cookie=0x6, ip actions=drop
 priority=0 actions=NORMAL
`;
    assert.deepEqual(parseDumpFlows(text), [
      {
        cookie: 999n,
        table: 0,
        priority: 900,
        match: "ip,in_port=1",
        actions: "mod_dl_dst:3e:81:10:88:d3:4a,NORMAL",
      },
      {
        cookie: 999n,
        table: 0,
        priority: 900,
        match: 'ipv6,in_port="patch-provnet-x"',
        actions: "mod_dl_dst:3e:81:10:88:d3:4a,NORMAL",
      },
      { cookie: 5n, table: 3, priority: 100, match: "arp", actions: "NORMAL" },
      { cookie: 6n, table: 0, priority: 32768, match: "ip", actions: "drop" },
      { cookie: 0n, table: 0, priority: 0, match: "", actions: "NORMAL" },
    ]);
  });

  it("normalises match order and quoting", () => {
    assert.equal(normaliseMatch('in_port="p1",ip'), normaliseMatch("ip,in_port=p1"));
  });
});

describe("port tables", () => {
  it("reads dump-ports-desc (names cut to 15 characters) and OVSDB ofports", () => {
    const desc = `OFPST_PORT_DESC reply (xid=0x2):
 1(patch-provnet-x): addr:fa:f8:10:31:3e:30
     config:     0
 LOCAL(br-ex): addr:3e:81:10:88:d3:4a
`;
    assert.deepEqual(parsePortsDesc(desc), [{ ofport: 1, name: "patch-provnet-x" }]);
    const json = JSON.stringify({
      data: [
        ["patch-provnet-x-to-br-int", 1],
        ["br-ex", 65534],
        ["new-port", ["set", []]],
        ["failed", -1],
      ],
      headings: ["name", "ofport"],
    });
    assert.deepEqual(
      [...parseInterfaceOfports(json)],
      [
        ["patch-provnet-x-to-br-int", 1],
        ["br-ex", 65534],
      ],
    );
  });
});
