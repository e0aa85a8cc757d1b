/**
 * The project's end-to-end test: `lab up` → `lab check` → `lab down` on a private lab instance, and
 * nothing of it left afterwards (test/support/lab-cycle.ts). The mode is chosen as `lab up` chooses
 * it: the agent on every host, or — while `ovn-bgp agent` still exits "not implemented" — the manual
 * exposure (said in the output). Run for both rule layouts: the same walks must carry packets
 * whichever rule steers them. The announce layout is the kernel's default (`table` here, no VRF);
 * the `vrf` layout's lab and the VLAN provider network's (this kernel has no 8021q either) run inside
 * user-mode Linux (test/uml/lab-vrf.test.ts, lab-vlan.test.ts).
 */
import { test } from "node:test";
import { labCycle, labUnavailable } from "../../support/lab-cycle.ts";

for (const ruleLayout of ["per-ip", "per-bridge"] as const)
  test(
    `lab (ip_rule_layout ${ruleLayout}): up, check (every walk of the seed), down leaves nothing`,
    {
      skip: labUnavailable(),
      timeout: 600_000,
    },
    () => labCycle({ ruleLayout }),
  );
