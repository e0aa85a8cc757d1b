/**
 * The `announce_via = vrf` devices on a kernel that has them (run inside user-mode Linux by
 * test/integration/uml/uml.test.ts): the agent creates the VRF and the dummy it needs, adopts the
 * ones an operator made (never deleting or recreating them), and removes only its own.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { addressList, type KernelLab, kernelLab, ruleList } from "../integration/kernel/kernel-helpers.ts";
import { netnsUnavailable } from "../support/netns.ts";
import { seedState } from "../unit/kernel/seed-state.ts";

const labs: KernelLab[] = [];
after(async () => {
  for (const l of labs) await l.ns.remove();
});

const link = async (l: KernelLab, name: string) =>
  (await l.json("link show")).find((x) => x.ifname === name) as
    | {
        ifname: string;
        master?: string;
        ifalias?: string;
        flags: string[];
        linkinfo?: { info_data?: { table?: number } };
      }
    | undefined;

/** A full sync in which every object was applied. */
async function syncAllApplied(l: KernelLab, state: ReturnType<typeof seedState>): Promise<void> {
  const report = await l.applier.sync(state);
  assert.deepEqual(
    report.items.filter((i) => !i.ok),
    [],
  );
}

const SEED_ADDRESSES = ["172.24.4.163/32", "172.24.4.92/32", "2001:db8::20/128", "2001:db8::21c/128"];

describe("vrf layout devices (real kernel with vrf and dummy)", { skip: netnsUnavailable() ?? false }, () => {
  it("creates bgp-vrf and bgp-nic, puts the advertised IPs on bgp-nic, the l3mdev rule appears, idempotent", async () => {
    const l = await kernelLab("kv");
    labs.push(l);
    const d = seedState({ layout: "vrf" });
    await syncAllApplied(l, d);
    const nic = await link(l, "bgp-nic");
    assert.equal(nic?.master, "bgp-vrf");
    assert.equal(nic?.ifalias, "ovn-bgp");
    assert.ok(nic?.flags.includes("UP"));
    assert.ok((await link(l, "bgp-vrf"))?.flags.includes("UP"));
    assert.deepEqual(await addressList(l, "bgp-nic"), SEED_ADDRESSES);
    assert.match(await l.ip("-4 rule show"), /^1000:\s+from all lookup \[l3mdev-table\]/m);
    assert.equal((await l.applier.sync(d)).counts.ops, 0);
    // Switching to the table layout removes the devices the agent created.
    await l.applier.sync(seedState({ layout: "table" }));
    assert.equal(await link(l, "bgp-nic"), undefined);
    assert.equal(await link(l, "bgp-vrf"), undefined);
  });

  it("adopts a VRF and a dummy the operator made: used as they are, never deleted", async () => {
    const l = await kernelLab("ka");
    labs.push(l);
    await l.ip("link add name bgp-vrf type vrf table 10");
    await l.ip("link add name bgp-nic type dummy");
    await syncAllApplied(l, seedState({ layout: "vrf" }));
    const nic = await link(l, "bgp-nic");
    assert.equal(nic?.master, "bgp-vrf", "the operator's dummy is enslaved to the VRF");
    assert.ok(
      nic?.flags.includes("UP") && (await link(l, "bgp-vrf"))?.flags.includes("UP"),
      "both brought up",
    );
    assert.equal(nic?.ifalias, undefined, "an adopted device is not marked as ours");
    assert.deepEqual(await addressList(l, "bgp-nic"), SEED_ADDRESSES);
    // Leaving the vrf layout withdraws the addresses but keeps the operator's devices.
    await l.applier.sync(seedState({ layout: "table" }));
    assert.ok(await link(l, "bgp-nic"), "the operator's dummy stays");
    assert.ok(await link(l, "bgp-vrf"), "the operator's VRF stays");
  });

  it("an operator's VRF with another table is reported and left alone; everything else is applied", async () => {
    const l = await kernelLab("kt");
    labs.push(l);
    await l.ip("link add name bgp-vrf type vrf table 77");
    const report = await l.applier.sync(seedState({ layout: "vrf" }));
    const failed = report.items.filter((i) => !i.ok);
    assert.ok(
      failed.some(
        (i) =>
          i.kind === "link" && i.key === "bgp-vrf" && /table 77.*not created by ovn-bgp/.test(i.error ?? ""),
      ),
      JSON.stringify(failed),
    );
    assert.equal((await link(l, "bgp-vrf"))?.linkinfo?.info_data?.table, 77, "not recreated");
    assert.equal((await ruleList(l, 4)).length, 3, "the rules are applied regardless");
  });

  it("a VRF the agent made with another table is recreated with the configured one", async () => {
    const l = await kernelLab("kr");
    labs.push(l);
    await l.ip("link add name bgp-vrf type vrf table 77");
    await l.ip("link set dev bgp-vrf alias ovn-bgp");
    await syncAllApplied(l, seedState({ layout: "vrf" }));
    assert.equal((await link(l, "bgp-vrf"))?.linkinfo?.info_data?.table, 10);
    assert.equal((await link(l, "bgp-nic"))?.master, "bgp-vrf");
  });
});
