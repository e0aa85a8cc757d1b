/**
 * Switching a hypervisor from the Python ovn-bgp-agent (issue 12 point 9): the host holds what
 * upstream leaves (its "201 br-ex" in the main rt_tables, unmarked rules at 32000, routes in its
 * table, the cr-lrp's permanent neighbour, the tenant subnet's rule with host bits, and the rule and
 * route of a VM that went away while it was stopped). With adopt_upstream_state the agent uses
 * table 201, re-marks what it wants in place, removes upstream's twins and stale objects, and the
 * forwarding path of a served IP never changes on the way (sampled every 20 ms). Objects outside
 * its scope (another priority, the main table) stay.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  type AgentRig,
  CHASSIS,
  OTHER_CHASSIS,
  RIG,
  type RunningAgent,
  startAgentRig,
} from "../../support/agent-rig.ts";
import { frrUnavailable } from "../../support/frr.ts";
import { netnsUnavailable } from "../../support/netns.ts";
import { ovsUnavailable } from "../../support/ovs-switch.ts";
import { waitFor } from "../../support/wait.ts";

const skip = netnsUnavailable() ?? ovsUnavailable() ?? frrUnavailable() ?? false;
const T = 201;
const STALE = "172.24.4.200";

describe("taking over from the Python agent (adopt_upstream_state)", { skip }, () => {
  let rig: AgentRig;
  let agent: RunningAgent;
  let samples: string[] = [];
  let sampler: ReturnType<typeof spawn> | undefined;

  before(async () => {
    rig = await startAgentRig({ config: ["announce_via = table", "bgp_vrf_table_id = 199"] });
    const { central, hostNs } = rig;
    await central.sbctl("lsp-bind", RIG.vm1.port, CHASSIS);
    await central.sbctl("lsp-bind", "cr-lrp-gw", CHASSIS);
    await central.sbctl("lsp-bind", RIG.vmTenant.port, OTHER_CHASSIS);
    await rig.patchBrInt();
    // What upstream leaves behind, as its pyroute2 calls make it (no protocol on rules/neighbours).
    writeFileSync(join(rig.dir, "rt_tables"), `255\tlocal\n254\tmain\n253\tdefault\n0\tunspec\n${T} br-ex\n`);
    const ip = (...a: string[]) => hostNs.exec(["ip", ...a]);
    await ip("route", "add", "default", "dev", "br-ex", "table", String(T));
    for (const addr of [RIG.vm1.ip4, RIG.crLrp.ip4, STALE]) {
      await ip("rule", "add", "to", addr, "lookup", String(T), "priority", "32000");
      await ip("route", "add", addr, "dev", "br-ex", "scope", "link", "table", String(T));
    }
    await ip("neigh", "replace", RIG.crLrp.ip4, "lladdr", RIG.crLrp.mac, "dev", "br-ex", "nud", "permanent");
    await ip("rule", "add", "to", "10.0.0.65/26", "lookup", String(T), "priority", "32000");
    await ip("route", "add", RIG.tenantSubnet, "via", RIG.crLrp.ip4, "dev", "br-ex", "table", String(T));
    // The operator's own, outside the agent's scope: another priority, the main table.
    await ip("rule", "add", "to", "198.51.100.7", "lookup", String(T), "priority", "31000");
    await ip("route", "add", "198.51.100.0/24", "dev", "br-ex", "table", "main");
    // The path of vm1's traffic, every 20 ms, while the agent takes over.
    sampler = spawn("ip", [
      "netns",
      "exec",
      hostNs.name,
      "sh",
      "-c",
      `while :; do ip route get ${RIG.vm1.ip4} | head -1; sleep 0.02; done`,
    ]);
    sampler.stdout?.on("data", (b: Buffer) => samples.push(...b.toString().trim().split("\n")));
    const conf = rig.extraConfig("adopt.conf", ["[DEFAULT]", "adopt_upstream_state = True"]);
    samples = [];
    agent = rig.startAgent([conf]);
    await waitFor(async () => (/adopt_upstream_state: done/.test(agent.log()) ? true : undefined), {
      what: "adoption done",
      timeoutMs: 60_000,
    }).catch((err: Error) => {
      throw new Error(`${err.message}\n${agent.log().slice(-3000)}`);
    });
    await new Promise((r) => setTimeout(r, 500));
    sampler.kill();
  });
  after(async () => {
    sampler?.kill();
    await rig?.stop();
  });

  const rules = () => rig.hostNs.exec(["ip", "-d", "rule", "show", "priority", "32000"]);

  test("the bridge keeps upstream's table number (rt_tables drop-in says 201 br-ex)", () => {
    const dropin = readFileSync(join(rig.dir, "rt_tables.d", "ovn-bgp.conf"), "utf8");
    assert.match(dropin, new RegExp(`^${T}\\s+br-ex$`, "m"));
  });

  test("every wanted rule is ours, once; upstream's twins and its host-bits subnet rule are gone", async () => {
    const r = await rules();
    for (const addr of [RIG.vm1.ip4, RIG.crLrp.ip4]) {
      const lines = r.split("\n").filter((l) => l.includes(`to ${addr} `));
      assert.equal(lines.length, 1, `${addr}:\n${r}`);
      assert.match(lines[0] ?? "", /proto 179/);
    }
    assert.doesNotMatch(r, /10\.0\.0\.65\/26/);
    assert.match(r, /to 10\.0\.0\.64\/26 lookup br-ex proto 179|to 10\.0\.0\.64\/26 lookup 201 proto 179/);
  });

  test("routes and the cr-lrp neighbour were re-marked in place; the stale VM's rule and route are withdrawn", async () => {
    const routes = await rig.hostNs.exec(["ip", "route", "show", "table", String(T)]);
    assert.match(routes, new RegExp(`${RIG.vm1.ip4.replace(/\./g, "\\.")} dev br-ex proto 179 scope link`));
    assert.doesNotMatch(routes, new RegExp(STALE.replace(/\./g, "\\.")));
    assert.doesNotMatch(await rules(), new RegExp(`to ${STALE.replace(/\./g, "\\.")} `));
    const neigh = await rig.hostNs.exec(["ip", "-d", "neigh", "show", RIG.crLrp.ip4, "dev", "br-ex"]);
    assert.match(neigh, /PERMANENT/);
    assert.match(neigh, /proto 179/);
  });

  test("vm1's path never changed while the agent took over", () => {
    assert.ok(samples.length >= 10, `sampled ${samples.length} times`);
    const off = samples.filter((s) => !new RegExp(`dev br-ex table (${T}|br-ex)`).test(s));
    assert.deepEqual(off, [], "every sample goes through br-ex's table");
  });

  test("the operator's objects outside the agent's scope stay", async () => {
    assert.match(await rig.hostNs.exec(["ip", "rule", "show", "priority", "31000"]), /198\.51\.100\.7/);
    assert.match(await rig.hostNs.exec(["ip", "route", "show", "table", "main"]), /198\.51\.100\.0\/24/);
    assert.equal(agent.child.exitCode, null);
  });
});
