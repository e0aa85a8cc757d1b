/**
 * A switch-over from the Python agent in the seed's vrf layout (run inside user-mode Linux): the host
 * holds exactly what upstream leaves (bgp-vrf and bgp-nic with the exposed /32s, its FRR stanzas with
 * a bare `redistribute connected`, its "201 br-ex" table with unmarked rules, routes and the
 * cr-lrp's neighbour, and the /32 of a VM that went away), the spine has learnt every prefix from
 * it; then ovn-bgp starts with adopt_upstream_state. The spine, sampled every 50 ms, never loses a
 * served prefix; the stale one is withdrawn; every rule is the agent's, once.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type AgentRig, CHASSIS, RIG, type RunningAgent, startAgentRig } from "../support/agent-rig.ts";
import { frrUnavailable } from "../support/frr.ts";
import { netnsUnavailable } from "../support/netns.ts";
import { ovsUnavailable } from "../support/ovs-switch.ts";
import { SpineWatch } from "../support/spine-watch.ts";
import { sleep, waitFor } from "../support/wait.ts";

const skip = netnsUnavailable() ?? ovsUnavailable() ?? frrUnavailable() ?? false;
const SLOW = { timeoutMs: 120_000, intervalMs: 250 };
const T = 201;
const STALE = "172.24.4.200";
const SERVED = [`${RIG.vm1.ip4}/32`, `${RIG.crLrp.ip4}/32`];

describe("adopt_upstream_state in the vrf layout: the spine loses nothing", { skip }, () => {
  let rig: AgentRig;
  let agent: RunningAgent | undefined;
  let watch: SpineWatch;
  let startedAt = 0;

  before(async () => {
    rig = await startAgentRig({ config: ["announce_via = vrf"] });
    const { central, hostNs } = rig;
    await central.sbctl("lsp-bind", RIG.vm1.port, CHASSIS);
    await central.sbctl("lsp-bind", "cr-lrp-gw", CHASSIS);
    await rig.patchBrInt();
    const ip = (...a: string[]) => hostNs.exec(["ip", ...a]);
    // Upstream's devices and announced addresses.
    await ip("link", "add", "bgp-vrf", "type", "vrf", "table", "10");
    await ip("link", "set", "bgp-vrf", "up");
    await ip("link", "add", "bgp-nic", "type", "dummy");
    await ip("link", "set", "bgp-nic", "master", "bgp-vrf");
    await ip("link", "set", "bgp-nic", "up");
    await sleep(1500); // zebra drops addresses that follow a link change too closely (apply.ts)
    for (const a of [RIG.vm1.ip4, RIG.crLrp.ip4, STALE])
      await ip("address", "add", `${a}/32`, "dev", "bgp-nic");
    // Upstream's FRR stanzas, as it writes them.
    await rig.hostFrr.vtysh(
      "configure terminal",
      "router bgp 64999 vrf bgp-vrf",
      "bgp router-id 10.255.1.1",
      "address-family ipv4 unicast",
      "redistribute connected",
      "exit-address-family",
      "exit",
      "router bgp 64999",
      "address-family ipv4 unicast",
      "import vrf bgp-vrf",
      "exit-address-family",
    );
    // Its table, rules, routes and the cr-lrp neighbour, unmarked.
    writeFileSync(join(rig.dir, "rt_tables"), `255\tlocal\n254\tmain\n253\tdefault\n0\tunspec\n${T} br-ex\n`);
    await ip("route", "add", "default", "dev", "br-ex", "table", String(T));
    for (const a of [RIG.vm1.ip4, RIG.crLrp.ip4, STALE]) {
      await ip("rule", "add", "to", a, "lookup", String(T), "priority", "32000");
      await ip("route", "add", a, "dev", "br-ex", "scope", "link", "table", String(T));
    }
    await ip("neigh", "replace", RIG.crLrp.ip4, "lladdr", RIG.crLrp.mac, "dev", "br-ex", "nud", "permanent");
    await waitFor(
      async () => {
        const have = Object.keys(await rig.spineRoutes(4));
        return [...SERVED, `${STALE}/32`].every((p) => have.includes(p)) ? true : undefined;
      },
      { ...SLOW, what: "the spine learns what upstream announced" },
    );
    watch = new SpineWatch(rig);
    watch.start();
    await sleep(1000);
    startedAt = Date.now();
    const conf = rig.extraConfig("adopt.conf", ["[DEFAULT]", "adopt_upstream_state = True"]);
    agent = rig.startAgent([conf]);
    await waitFor(async () => (/adopt_upstream_state: done/.test(agent?.log() ?? "") ? true : undefined), {
      ...SLOW,
      what: "adoption done",
    }).catch((err: Error) => {
      throw new Error(`${err.message}\n${agent?.log().slice(-3000)}`);
    });
    await waitFor(
      async () => (Object.keys(await rig.spineRoutes(4)).includes(`${STALE}/32`) ? undefined : true),
      { ...SLOW, what: "the stale prefix withdrawn" },
    );
    await sleep(5000); // FRR settles after the agent's lines
    await watch.stop();
  });
  after(async () => {
    await watch?.stop();
    await rig?.stop();
  });

  test("no served prefix was withdrawn at the spine while ovn-bgp took over", () => {
    assert.ok(watch.count(startedAt) >= 5, `sampled ${watch.count(startedAt)} times`);
    assert.deepEqual(watch.withdrawals(SERVED, startedAt), []);
  });

  test("the agent owns the VRF instance now, through its route-map", async () => {
    const conf = await rig.hostFrr.vtysh("show running-config");
    assert.match(
      conf,
      /router bgp 64999 vrf bgp-vrf[\s\S]*redistribute connected route-map OVN-BGP-CONNECTED/,
    );
  });

  test("every served rule is the agent's, once; the stale VM's rule, route and address are gone", async () => {
    const rules = await rig.hostNs.exec(["ip", "-d", "rule", "show", "priority", "32000"]);
    for (const a of [RIG.vm1.ip4, RIG.crLrp.ip4]) {
      const lines = rules.split("\n").filter((l) => l.includes(`to ${a} `));
      assert.equal(lines.length, 1, rules);
      assert.match(lines[0] ?? "", /proto 179/);
    }
    const stale = STALE.replace(/\./g, "\\.");
    assert.doesNotMatch(rules, new RegExp(`to ${stale} `));
    assert.doesNotMatch(
      await rig.hostNs.exec(["ip", "route", "show", "table", String(T)]),
      new RegExp(stale),
    );
    assert.doesNotMatch(
      await rig.hostNs.exec(["ip", "address", "show", "dev", "bgp-nic"]),
      new RegExp(stale),
    );
  });
});
