import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Row } from "../../../src/ovsdb/wire/datum.ts";
import { portBindingFromRow } from "../../../src/sb/port-binding.ts";
import { portRow } from "../../fixtures/sb-seed.ts";

describe("portBindingFromRow", () => {
  it("reads a well-formed row", () => {
    const pb = portBindingFromRow(
      portRow("u1", {
        logical_port: "vm1",
        datapath: "dp1",
        mac: ["fa:16:3e:6c:1f:0e 172.24.4.92"],
        chassis: "ch1",
        additional_chassis: ["ch2"],
        up: true,
        tag: 100,
        options: { "requested-chassis": "a,b" },
      }),
    );
    assert.equal(pb.logicalPort, "vm1");
    assert.equal(pb.chassis, "ch1");
    assert.deepEqual(pb.additionalChassis, ["ch2"]);
    assert.equal(pb.up, true);
    assert.equal(pb.tag, 100);
    assert.equal(pb.options.get("requested-chassis"), "a,b");
    assert.deepEqual(pb.oddities, []);
  });

  it("never throws on odd shapes and records them", () => {
    const odd = {
      _uuid: "u2",
      logical_port: 42,
      type: ["a", "b"],
      datapath: "dp",
      mac: "fa:16:3e:6c:1f:0e 172.24.4.92",
      chassis: ["c1", "c2"],
      up: "yes",
      options: "x",
      external_ids: new Map<unknown, unknown>([["k", 1]]),
      tag: 1.5,
    } as unknown as Row;
    const pb = portBindingFromRow(odd);
    assert.equal(pb.logicalPort, "");
    assert.deepEqual(pb.mac, ["fa:16:3e:6c:1f:0e 172.24.4.92"]);
    assert.equal(pb.chassis, undefined);
    assert.equal(pb.up, undefined);
    assert.equal(pb.externalIds.size, 0);
    assert.ok(pb.oddities.length >= 5, pb.oddities.join("; "));
  });
});
