/**
 * The rendered FRR text for both layouts, pinned by golden files (test/golden/frr/*.conf) that the
 * integration test also loads into a real FRR. UPDATE_GOLDEN=1 rewrites them.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { type RenderFrrOptions, renderFrrConfig } from "../../../src/host/frr/render-frr-config.ts";
import type { FrrIntent } from "../../../src/plan/desired-state.ts";
import { GOLDEN_CASES } from "./golden-cases.ts";

const GOLDEN = join(import.meta.dirname, "../../golden/frr");

describe("renderFrrConfig", () => {
  for (const c of GOLDEN_CASES) {
    it(`matches the golden ${c.file}`, () => {
      const text = `${renderFrrConfig(c.intent, c.opts).join("\n")}\n`;
      const path = join(GOLDEN, c.file);
      if (process.env.UPDATE_GOLDEN === "1") writeFileSync(path, text);
      assert.equal(text, readFileSync(path, "utf8"));
    });
  }

  it("marks every agent line with an OVN-BGP- route-map or the agent's VRF", () => {
    for (const c of GOLDEN_CASES) {
      const lines = renderFrrConfig(c.intent, c.opts).map((l) => l.trim());
      const plain = lines.filter(
        (l) =>
          !/OVN-BGP-/.test(l) &&
          !/^(!|exit|exit-address-family|router bgp 64999( vrf bgp-vrf)?|address-family ipv[46] unicast|bgp router-id \S+|import vrf bgp-vrf|match metric \d+|set metric 0)$/.test(
            l,
          ),
      );
      assert.deepEqual(plain, [], c.file);
    }
  });

  it("omits the IPv6 redistribution in the table layout without a kernel metric", () => {
    const text = renderFrrConfig({ asn: 65001, layout: "table", importTable: 7 }).join("\n");
    assert.match(text, /ip import-table 7 route-map OVN-BGP-TABLE/);
    assert.doesNotMatch(text, /ipv6|KERNEL6/);
  });

  it("rejects what FRR 8.4 cannot take, with a terminal error", () => {
    const bad: Array<[FrrIntent, RenderFrrOptions?]> = [
      [{ asn: 64999, layout: "table", importTable: 253 }],
      [{ asn: 64999, layout: "table", importTable: 0 }],
      [{ asn: 64999, layout: "table" }],
      [{ asn: 0, layout: "table", importTable: 200 }],
      [{ asn: 64999, routerId: "10.0.0.256", layout: "table", importTable: 200 }],
      [{ asn: 64999, layout: "vrf" }],
      [{ asn: 64999, layout: "vrf", vrf: { name: "bad name", table: 10 } }],
      [{ asn: 64999, layout: "table", importTable: 200 }, { ipv6KernelMetric: 1.5 }],
    ];
    for (const [intent, opts] of bad)
      assert.throws(() => renderFrrConfig(intent, opts), { code: "FRR_RENDER" }, JSON.stringify(intent));
  });
});
