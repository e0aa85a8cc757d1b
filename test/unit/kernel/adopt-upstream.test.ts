/** The pure half of taking over from the Python agent (src/host/kernel/adopt-upstream.ts). */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  canonicalCidr,
  mainRtTablesOf,
  parseRtTables,
  planAdoption,
} from "../../../src/host/kernel/adopt-upstream.ts";
import type { KernelState } from "../../../src/plan/desired-state.ts";

const desired: KernelState = {
  links: [],
  addresses: [],
  rules: [
    { family: 4, priority: 32000, to: "172.24.4.92/32", table: 201 },
    { family: 4, priority: 32000, to: "10.0.0.64/26", table: 201 },
  ],
  routes: [{ family: 4, table: 201, dst: "172.24.4.92/32", dev: "br-ex", scope: "link" }],
  neighbours: [{ family: 4, dev: "br-ex", ip: "172.24.4.163", mac: "fa:16:3e:bf:93:93" }],
  ndpProxies: [],
  sysctls: [],
};
const scope = { priority: 32000, protocol: 179, tables: new Set([201]), devices: new Set(["br-ex"]) };

describe("adopting upstream's objects", () => {
  test("rt_tables: names and numbers, comments and reserved ids skipped; the main file next to the drop-in dir", () => {
    const t = parseRtTables("255 local\n254\tmain\n# 7 old\n201 br-ex # upstream\n0x20 br-ex2\nbad line\n");
    assert.deepEqual(
      [...t.entries()],
      [
        ["br-ex", 201],
        ["br-ex2", 32],
      ],
    );
    assert.equal(mainRtTablesOf("/etc/iproute2/rt_tables.d/ovn-bgp.conf"), "/etc/iproute2/rt_tables");
    assert.equal(mainRtTablesOf("/srv/ovn-bgp.conf"), undefined);
  });

  test("host bits are dropped when comparing (upstream keeps them on subnet rules)", () => {
    assert.equal(canonicalCidr("10.0.0.65/26", 4), "10.0.0.64/26");
    assert.equal(canonicalCidr("2001:db8::21c", 6), "2001:db8::21c/128");
    assert.equal(canonicalCidr("nonsense", 4), undefined);
  });

  test("twins of wanted rules go after the pass, stale ones before; routes and neighbours are re-marked or withdrawn", () => {
    const plan = planAdoption(
      desired,
      {
        rules: [
          { family: 4, priority: 32000, to: "172.24.4.92/32", table: 201, protocol: 0 },
          { family: 4, priority: 32000, to: "10.0.0.65/26", table: 201, protocol: 0 },
          { family: 4, priority: 32000, to: "172.24.4.200/32", table: 201, protocol: 0 },
          { family: 4, priority: 32000, to: "172.24.4.92/32", table: 201, protocol: 179 },
          { family: 4, priority: 31000, to: "198.51.100.7/32", table: 201, protocol: 0 },
          { family: 4, priority: 32000, to: "198.51.100.8/32", table: 254, protocol: 0 },
        ],
        routes: [
          { family: 4, table: 201, dstText: "172.24.4.92", dst: "172.24.4.92/32", protocol: 3 },
          { family: 4, table: 201, dstText: "172.24.4.200", dst: "172.24.4.200/32", protocol: 3 },
          { family: 4, table: 201, dstText: "10.9.0.0/16", dst: "10.9.0.0/16", protocol: 188 },
        ],
        neighbours: [
          { family: 4, dev: "br-ex", ip: "172.24.4.163", mac: "fa:16:3e:00:00:01", protocol: 0 },
          { family: 4, dev: "eth0", ip: "10.255.1.2", mac: "fa:16:3e:00:00:02", protocol: 0 },
        ],
      },
      scope,
    );
    const lines = (ops: typeof plan.before) => ops.flatMap((o) => o.lines);
    assert.deepEqual(lines(plan.after), [
      "rule del to 172.24.4.92/32 lookup 201 priority 32000 protocol 0",
      "rule del to 10.0.0.65/26 lookup 201 priority 32000 protocol 0",
    ]);
    assert.deepEqual(lines(plan.before), [
      "rule del to 172.24.4.200/32 lookup 201 priority 32000 protocol 0",
      "route replace 172.24.4.92/32 dev br-ex table 201 proto 179 scope link",
      "route del 172.24.4.200 table 201 proto 3",
      "neigh replace 172.24.4.163 lladdr fa:16:3e:bf:93:93 dev br-ex nud permanent protocol 179",
    ]);
  });
});
