/** The intents behind test/golden/frr/*.conf, shared by the unit (text) and integration (real FRR) tests. */
import type { RenderFrrOptions } from "../../../src/host/frr/render-frr-config.ts";
import type { FrrIntent } from "../../../src/plan/desired-state.ts";

export const GOLDEN_CASES: ReadonlyArray<{ file: string; intent: FrrIntent; opts: RenderFrrOptions }> = [
  {
    file: "table.conf",
    intent: { asn: 64999, routerId: "172.24.4.10", layout: "table", importTable: 200 },
    opts: { ipv6KernelMetric: 4242 },
  },
  { file: "table-ipv4-only.conf", intent: { asn: 64999, layout: "table", importTable: 200 }, opts: {} },
  {
    file: "vrf.conf",
    intent: { asn: 64999, routerId: "172.24.4.10", layout: "vrf", vrf: { name: "bgp-vrf", table: 10 } },
    opts: {},
  },
];
