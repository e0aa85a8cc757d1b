/**
 * A plain-OVN gateway router (options:chassis, ports of type l3gateway) is exposed like a cr-lrp:
 * its external port, the subnets behind it, their VMs and its NAT addresses.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Row } from "../../../src/ovsdb/wire/datum.ts";
import { planFromScratch } from "../../../src/plan/planner.ts";
import { chassisRow, portRow, type SbTables, seedFacts } from "../../fixtures/sb-seed.ts";
import { testConfig } from "../../fixtures/test-config.ts";

function gatewayRouter(boundBy: "chassis" | "option"): SbTables {
  const ports = new Map<string, Row>();
  const add = (u: string, p: Parameters<typeof portRow>[1]) => ports.set(u, portRow(u, p));
  const here = boundBy === "chassis" ? { chassis: "ch-gw" } : {};
  const pin = { "l3gateway-chassis": "gw-host" };
  add("ln", {
    logical_port: "ext-localnet",
    type: "localnet",
    datapath: "dp-ext",
    mac: ["unknown"],
    options: { network_name: "public" },
  });
  add("e1", {
    logical_port: "ext-gr0",
    type: "l3gateway",
    datapath: "dp-ext",
    mac: ["router"],
    options: { peer: "gr0-ext", ...pin },
    nat_addresses: ["0a:00:00:00:00:01 172.24.4.170 172.24.4.171"],
    ...here,
  });
  add("g1", {
    logical_port: "gr0-ext",
    type: "l3gateway",
    datapath: "dp-gr",
    mac: ["0a:00:00:00:00:01 172.24.4.170/24"],
    options: { peer: "ext-gr0", ...pin },
    ...here,
  });
  add("g2", {
    logical_port: "gr0-int",
    type: "l3gateway",
    datapath: "dp-gr",
    mac: ["0a:00:00:00:00:02 10.1.0.1/24"],
    options: { peer: "int-gr0", ...pin },
    ...here,
  });
  add("i1", {
    logical_port: "int-gr0",
    type: "l3gateway",
    datapath: "dp-int",
    mac: ["router"],
    options: { peer: "gr0-int", ...pin },
    ...here,
  });
  add("v1", {
    logical_port: "vm-a",
    datapath: "dp-int",
    mac: ["0a:00:00:00:00:10 10.1.0.10"],
    chassis: "ch-other",
    up: true,
  });
  return new Map([
    [
      "Chassis",
      new Map([
        ["ch-gw", chassisRow("ch-gw", "gw-host")],
        ["ch-other", chassisRow("ch-other", "other")],
      ]),
    ],
    ["Port_Binding", ports],
  ]);
}

describe("gateway router (l3gateway)", () => {
  for (const how of ["chassis", "option"] as const) {
    it(`bound by ${how}`, () => {
      const state = planFromScratch(testConfig(), seedFacts("gw-host"), gatewayRouter(how));
      assert.deepEqual(
        state.entries.map((e) => [e.id, e.advertised]),
        [
          ["cr-lrp:gr0-ext", ["172.24.4.170"]],
          ["fip:ext-gr0:ext-gr0", ["172.24.4.171"]],
          ["tenant-subnet:gr0-int:10.1.0.0/24", []],
          ["tenant-vm:vm-a", ["10.1.0.10"]],
        ],
      );
      assert.deepEqual(state.problems, []);
      assert.deepEqual(planFromScratch(testConfig(), seedFacts("other"), gatewayRouter(how)).entries, []);
    });
  }
});
