import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseBridgeMappings } from "../../../src/plan/local-facts.ts";

describe("parseBridgeMappings", () => {
  it("keeps mapping order", () => {
    const r = parseBridgeMappings("public:br-ex, ext2:br-ex2");
    assert.deepEqual(r.mappings, [
      { network: "public", bridge: "br-ex" },
      { network: "ext2", bridge: "br-ex2" },
    ]);
    assert.equal(r.problems.length, 0);
  });
  it("reports malformed and duplicate pairs, keeps the rest", () => {
    const r = parseBridgeMappings("public:br-ex,broken,a:b:c,public:br-other,ext:br-x");
    assert.deepEqual(
      r.mappings.map((m) => m.network),
      ["public", "ext"],
    );
    assert.equal(r.problems.length, 3);
  });
  it("handles absence", () => {
    assert.deepEqual(parseBridgeMappings(undefined).mappings, []);
    assert.deepEqual(parseBridgeMappings("").mappings, []);
  });
});
