/**
 * The lab in the seed's own announce layout (run inside user-mode Linux by
 * test/integration/uml/uml.test.ts): `lab up --layout vrf`, every walk of `lab check` with real
 * packets, `lab down` leaving nothing. The provider VM's host holds its /32 and /128 on bgp-nic in
 * bgp-vrf, as the seed's `ip a sh ovn` shows.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { run } from "../../src/host/exec.ts";
import { BASELINE } from "../../src/lab/manual-exposure.ts";
import { WORKLOAD as W } from "../../src/lab/topology.ts";
import { labCycle, labUnavailable } from "../support/lab-cycle.ts";

test(
  "lab (announce_via vrf): up, check (every walk of the seed), down leaves nothing",
  {
    skip: labUnavailable(),
    timeout: 900_000,
  },
  () =>
    labCycle({ announceVia: "vrf" }, async (names) => {
      const ns = names.ns(BASELINE.vm1Host);
      const link = JSON.parse(
        (await run({ argv: ["ip", "-n", ns, "-j", "-d", "link", "show", "bgp-nic"] })).stdout,
      );
      assert.equal(link[0]?.master, "bgp-vrf");
      const addrs = (await run({ argv: ["ip", "-n", ns, "-br", "address", "show", "dev", "bgp-nic"] }))
        .stdout;
      assert.match(addrs, new RegExp(`${W.vm1.ip4.replaceAll(".", "\\.")}/32`));
      assert.match(
        (await run({ argv: ["ip", "-n", ns, "rule", "show"] })).stdout,
        /1000:\s+from all lookup \[l3mdev-table\]/,
      );
    }),
);
