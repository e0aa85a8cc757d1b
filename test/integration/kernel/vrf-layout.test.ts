/**
 * The `announce_via = vrf` layout on a kernel without VRF and dummy devices (this project's CI
 * kernel lacks both modules): the applier must fail the device step with ONE message that suggests
 * `announce_via = table` and still apply everything else. Where the kernel has them, this case is
 * skipped; the layout itself is tested inside user-mode Linux (test/uml/, test/integration/uml/).
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { netnsUnavailable } from "../../support/netns.ts";
import { ANNOUNCE_TABLE, PROTO, seedState, TABLE } from "../../unit/kernel/seed-state.ts";
import { type KernelLab, kernelLab, linkKindUnsupported, routeLines, ruleList } from "./kernel-helpers.ts";

const noNetns = netnsUnavailable();
/** Probed in a throwaway namespace, only where namespaces work. */
const vrfMissing = noNetns ? undefined : (linkKindUnsupported("vrf") ?? linkKindUnsupported("dummy"));

const labs: KernelLab[] = [];
after(async () => {
  for (const l of labs) await l.ns.remove();
});

describe("vrf layout (real kernel)", () => {
  it("without VRF/dummy support: one message suggesting announce_via = table, everything else applied", {
    skip: noNetns ?? (vrfMissing ? false : "this kernel can create vrf and dummy devices"),
  }, async () => {
    const l = await kernelLab("kv");
    labs.push(l);
    const d = seedState({ layout: "vrf" });
    const report = await l.applier.sync(d);
    assert.equal(report.problems.length, 1);
    assert.match(report.problems[0] ?? "", /announce_via = vrf .*set announce_via = table/);
    const failedKinds = new Set(report.items.filter((i) => !i.ok).map((i) => i.kind));
    assert.deepEqual([...failedKinds].sort(), ["address", "link"]);
    assert.ok(
      report.items.filter((i) => !i.ok && i.kind === "address").every((i) => i.key.startsWith("bgp-nic|")),
      "only bgp-nic's addresses fail",
    );
    assert.equal((await ruleList(l, 4)).length, 3);
    assert.equal((await ruleList(l, 6)).length, 2);
    assert.equal((await routeLines(l, 4, TABLE)).length, 3);
    assert.deepEqual(await routeLines(l, 4, ANNOUNCE_TABLE), []);
    // The next sync does not retry the devices: no batch at all, same single message.
    const again = await l.applier.sync(d);
    assert.equal(again.counts.ops, 0);
    assert.equal(again.processes, 0);
    assert.deepEqual(again.problems, report.problems);
    assert.ok((await ruleList(l, 4)).every((r) => r.endsWith(`proto ${PROTO}`)));
  });
});
