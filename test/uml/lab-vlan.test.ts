/**
 * The lab on a VLAN provider network (run inside user-mode Linux, whose kernel has 8021q): the
 * localnet port carries tag 100 (Neutron's segmentation id), so the agent reaches the provider
 * network through its br-ex.100 VLAN device, with proxy ARP/NDP on it and the rules, routes and
 * neighbours through it; every walk of `lab check` carries packets that way.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { run } from "../../src/host/exec.ts";
import { BASELINE } from "../../src/lab/manual-exposure.ts";
import { labCycle, labUnavailable } from "../support/lab-cycle.ts";

test(
  "lab on a VLAN provider network (tag 100): up, check (every walk of the seed), down leaves nothing",
  {
    skip: labUnavailable(),
    timeout: 900_000,
  },
  () =>
    labCycle({ vlan: 100 }, async (names) => {
      const ns = names.ns(BASELINE.vm1Host);
      const link = JSON.parse(
        (await run({ argv: ["ip", "-n", ns, "-j", "-d", "link", "show", "br-ex.100"] })).stdout,
      );
      assert.equal(link[0]?.linkinfo?.info_data?.id, 100, "the agent made br-ex.100");
      const sysctl = (k: string) =>
        run({ argv: ["cat", `/proc/sys/net/${k}`], netns: ns }).then((r) => r.stdout.trim());
      assert.equal(await sysctl("ipv4/conf/br-ex.100/proxy_arp"), "1");
      assert.equal(await sysctl("ipv6/conf/br-ex.100/proxy_ndp"), "1");
    }),
);
