/**
 * `ovn-bgp explain` (issue 12 point 4) on the seed's workloads against real daemons: an exposed
 * provider VM with every host object in place and FRR advertising it; the same after a hand-removed
 * rule (named missing); a tenant VM carried by its subnet behind the local cr-lrp; and the reasons
 * for not exposing: bound to another chassis, bound to none, no row at all.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Explanation } from "../../../src/reconcile/explain.ts";
import { type AgentRig, CHASSIS, OTHER_CHASSIS, RIG, startAgentRig } from "../../support/agent-rig.ts";
import { frrUnavailable } from "../../support/frr.ts";
import { netnsUnavailable } from "../../support/netns.ts";
import { ovsUnavailable } from "../../support/ovs-switch.ts";
import { waitFor } from "../../support/wait.ts";

const skip = netnsUnavailable() ?? ovsUnavailable() ?? frrUnavailable() ?? false;

describe("ovn-bgp explain", { skip }, () => {
  let rig: AgentRig;
  const explainJson = async (q: string): Promise<Explanation> => {
    const res = await rig.cli(["explain", q, "--json"]);
    assert.equal(res.code, 0, res.stderr);
    return JSON.parse(res.stdout) as Explanation;
  };

  before(async () => {
    rig = await startAgentRig({ config: ["announce_via = table", "bgp_vrf_table_id = 199"] });
    await rig.central.sbctl("lsp-bind", RIG.vm1.port, CHASSIS);
    await rig.central.sbctl("lsp-bind", "cr-lrp-gw", CHASSIS);
    await rig.patchBrInt();
    const sync = await rig.cli(["sync", "--once"]);
    assert.equal(sync.code, 0, sync.stderr);
    await waitFor(async () => ((await rig.spineRoutes(4))[`${RIG.vm1.ip4}/32`] ? true : undefined), {
      what: "vm1 at the spine",
    });
  });
  after(async () => {
    await rig?.stop();
  });

  test("an exposed provider VM: its event, every host object in place, FRR advertising it", async () => {
    const x = await explainJson(RIG.vm1.ip4);
    assert.equal(x.exposed, true);
    const e = x.exposures.find((y) => y.logical_port === RIG.vm1.port);
    assert.ok(e, JSON.stringify(x.exposures));
    assert.equal(e.event, "PortBindingChassisCreatedEvent");
    assert.equal(e.kind, "provider-vm");
    const kinds = new Set(e.objects.map((o) => o.kind));
    for (const k of ["rule", "route", "flow"]) assert.ok(kinds.has(k), `${k} listed`);
    for (const o of e.objects) assert.equal(o.state, "in place", `${o.what}`);
    const frr = x.frr.find((f) => f.prefix === `${RIG.vm1.ip4}/32`);
    assert.match(frr?.state ?? "", /in FRR's BGP table .*advertised to 10\.255\.1\.2/);
    assert.deepEqual(
      x.southbound.map((s) => [s.logical_port, s.chassis, s.matched]),
      [[RIG.vm1.port, CHASSIS, "mac"]],
    );
    const byPort = await explainJson(RIG.vm1.port);
    assert.equal(byPort.exposed, true);
    const text = await rig.cli(["explain", RIG.vm1.ip4]);
    assert.match(text.stdout, /EXPOSED/);
    assert.match(text.stdout, /PortBindingChassisCreatedEvent provider-vm logical_port=vm1-port/);
  });

  test("a rule removed by hand is named missing", async () => {
    await rig.hostNs.exec(["ip", "rule", "del", "to", RIG.vm1.ip4, "priority", "32000"]);
    const x = await explainJson(RIG.vm1.ip4);
    const rule = x.exposures.flatMap((e) => e.objects).find((o) => o.kind === "rule");
    assert.equal(rule?.state, "missing");
    assert.match((await rig.cli(["explain", RIG.vm1.ip4])).stdout, /\[!!\] rule 32000: to 172\.24\.4\.92/);
    assert.equal((await rig.cli(["sync", "--once"])).code, 0);
  });

  test("a tenant VM behind the local gateway: TenantPortCreatedEvent, and its subnet carries it", async () => {
    await rig.central.sbctl("lsp-bind", RIG.vmTenant.port, OTHER_CHASSIS);
    await rig.cli(["sync", "--once"]);
    const x = await explainJson(RIG.vmTenant.ip);
    assert.equal(x.exposed, true);
    const kinds = x.exposures.map((e) => `${e.event} ${e.kind} ${e.relation}`).sort();
    assert.ok(kinds.includes("TenantPortCreatedEvent tenant-vm advertises it"), kinds.join("; "));
    assert.ok(
      kinds.includes("SubnetRouterAttachedEvent tenant-subnet its subnet contains it"),
      kinds.join("; "),
    );
  });

  test("why not: bound to another chassis, bound to none, no row", async () => {
    await rig.central.sbctl("lsp-bind", RIG.vm1.port, OTHER_CHASSIS).catch(async () => {
      await rig.central.sbctl("lsp-unbind", RIG.vm1.port);
      return rig.central.sbctl("lsp-bind", RIG.vm1.port, OTHER_CHASSIS);
    });
    let x = await explainJson(RIG.vm1.ip4);
    assert.equal(x.exposed, false);
    assert.match(x.why_not.join("\n"), new RegExp(`bound to chassis ${OTHER_CHASSIS}, not ${CHASSIS}`));
    await rig.central.sbctl("lsp-unbind", RIG.vm1.port);
    x = await explainJson(RIG.vm1.port);
    assert.match(x.why_not.join("\n"), /bound to no chassis/);
    x = await explainJson("192.0.2.200");
    assert.match(x.why_not.join("\n"), /no Port_Binding carries 192\.0\.2\.200/);
    const bad = await rig.cli(["explain"]);
    assert.equal(bad.code, 2);
  });
});
