/**
 * The agent end to end, on real parts: OVN central (NB → ovn-northd → SB), a chassis namespace
 * with its own OVS (userspace datapath), FRR in the chassis peering over a veth with FRR in a
 * "spine" namespace, and `ovn-bgp` itself run as a process inside the chassis namespace with an
 * upstream-style INI file and `announce_via = table` (this kernel has no VRF).
 *
 * Proves: `sync --once` produces the seed's rules, routes and neighbour and the spine learns the
 * /32s; then the running agent withdraws an unbound port at the spine, heals a rule deleted by
 * hand, keeps every route at the spine across its own kill and restart, and brings routes back
 * after an FRR restart.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type AgentRig, CHASSIS, type RunningAgent, startAgentRig } from "../../support/agent-rig.ts";
import { frrUnavailable } from "../../support/frr.ts";
import { netnsUnavailable } from "../../support/netns.ts";
import { ovsUnavailable } from "../../support/ovs-switch.ts";
import { waitFor } from "../../support/wait.ts";

const skip = netnsUnavailable() ?? ovsUnavailable() ?? frrUnavailable() ?? false;

describe("ovn-bgp agent end to end (table layout)", { skip }, () => {
  let rig: AgentRig;
  let agent: RunningAgent | undefined;
  const cli = (...args: string[]) => rig.cli(args);
  const spineRoutes = () => rig.spineRoutes(4) as Promise<Record<string, Array<{ nexthops: unknown[] }>>>;

  before(async () => {
    rig = await startAgentRig({ config: ["announce_via = table", "bgp_vrf_table_id = 199"] });
    const { central } = rig;
    await central.sbctl("lsp-bind", "vm1-port", CHASSIS);
    await central.sbctl("set", "Port_Binding", "vm1-port", "up=true");
    await central.sbctl("lsp-bind", "cr-lrp-gw", CHASSIS);
    // The tenant VM runs on another hypervisor; it is exposed from here, where its router's gateway is.
    await central.sbctl("lsp-bind", "vm-tenant", "rack-2-host-1");
    await central.sbctl("set", "Port_Binding", "vm-tenant", "up=true");
  });

  after(async () => {
    await rig?.stop();
  });

  test("plan --json: what each chassis would expose, by cause, changing nothing", async () => {
    const res = await cli("plan", "--json");
    assert.equal(res.code, 0, res.stderr);
    const plan = JSON.parse(res.stdout) as {
      chassis: string;
      entries: Array<{ cause: { event: string; logicalPort: string } }>;
    };
    const causes = plan.entries.map((e) => `${e.cause.event} ${e.cause.logicalPort}`).sort();
    assert.equal(plan.chassis, CHASSIS);
    for (const want of [
      "PortBindingChassisCreatedEvent vm1-port",
      "PortBindingChassisCreatedEvent cr-lrp-gw",
      "TenantPortCreatedEvent vm-tenant",
    ])
      assert.ok(causes.includes(want), `${want} in ${causes.join(", ")}`);
    assert.ok(
      causes.some((c) => c.startsWith("SubnetRouterAttachedEvent")),
      causes.join(", "),
    );
    assert.doesNotMatch(await rig.hostNs.exec(["ip", "rule", "show"]), /32000/, "plan changed nothing");

    // The same Southbound seen as rack-2-host-1 (a second --config-file overrides the chassis):
    // vm-tenant is bound there but exposed from its gateway's chassis, so that plan has nothing.
    const other = rig.extraConfig("other.conf", ["[ovn]", "chassis_name = rack-2-host-1"]);
    const res2 = await rig.cli(["plan", "--json"], [other]);
    assert.equal(res2.code, 0, res2.stderr);
    const plan2 = JSON.parse(res2.stdout) as { chassis: string; entries: unknown[] };
    assert.equal(plan2.chassis, "rack-2-host-1");
    assert.deepEqual(plan2.entries, []);
  });

  test("sync --once: the seed's rules, routes and neighbour; the spine learns the /32s", async () => {
    const res = await cli("sync", "--once");
    assert.equal(res.code, 0, `sync failed:\n${res.stdout}\n${res.stderr}`);
    const rules = await rig.hostNs.exec(["ip", "rule", "show"]);
    assert.match(rules, /32000:\s+from all to 172\.24\.4\.92 lookup (br-ex|200)/);
    assert.match(rules, /32000:\s+from all to 172\.24\.4\.163 lookup (br-ex|200)/);
    assert.match(rules, /32000:\s+from all to 10\.0\.0\.6[45]\/26 lookup (br-ex|200)/);
    const table = await rig.hostNs.exec(["ip", "route", "show", "table", "200"]);
    assert.match(table, /default dev br-ex/);
    assert.match(table, /172\.24\.4\.163 dev br-ex/);
    assert.match(table, /10\.0\.0\.64\/26 via 172\.24\.4\.163 dev br-ex/);
    const neigh = await rig.hostNs.exec(["ip", "neigh", "show", "dev", "br-ex"]);
    assert.match(neigh, /172\.24\.4\.163 lladdr fa:16:3e:bf:93:93 .*PERMANENT/);
    await waitFor(
      async () => {
        const r = await spineRoutes();
        return r["172.24.4.92/32"] && r["172.24.4.163/32"] && r["10.0.0.95/32"] ? r : undefined;
      },
      { what: "spine learns 172.24.4.92/32, 172.24.4.163/32 and tenant 10.0.0.95/32", timeoutMs: 30_000 },
    );
    // A second sync changes nothing.
    const again = await cli("sync", "--once");
    assert.equal(again.code, 0);
    assert.match(again.stdout, /kernel\s+ok\s+0 change/);
  });

  test("agent: unbind withdraws at the spine, a deleted rule heals, kill/restart keeps routes, FRR restart re-applies", async () => {
    const { central, hostNs, hostFrr } = rig;
    agent = rig.startAgent();
    const log = () => agent?.log() ?? "";
    await waitFor(() => /agent running/.test(log()), {
      what: `agent running; log:\n${log()}`,
      timeoutMs: 60_000,
    });

    await central.sbctl("lsp-unbind", "vm1-port");
    await waitFor(async () => !(await spineRoutes())["172.24.4.92/32"], {
      what: "172.24.4.92/32 withdrawn at the spine",
    });
    assert.doesNotMatch(await hostNs.exec(["ip", "rule", "show"]), /172\.24\.4\.92/);
    assert.match(log(), /PortBindingChassisDeletedEvent/);
    await central.sbctl("lsp-bind", "vm1-port", CHASSIS);
    await waitFor(async () => (await spineRoutes())["172.24.4.92/32"], { what: "re-announced" });

    await hostNs.exec(["ip", "rule", "del", "priority", "32000", "to", "172.24.4.163"]);
    await waitFor(
      async () => /to 172\.24\.4\.163 lookup (br-ex|200)/.test(await hostNs.exec(["ip", "rule", "show"])),
      {
        what: `rule healed; agent log:\n${log().slice(-3000)}`,
        timeoutMs: 5_000,
      },
    );

    // A sysctl has no change notification: the agent looks once a second and heals it.
    const proxyArp = () =>
      hostNs.exec(["cat", "/proc/sys/net/ipv4/conf/br-ex/proxy_arp"]).then((v) => v.trim());
    assert.equal(await proxyArp(), "1");
    await hostNs.exec(["sysctl", "-qw", "net.ipv4.conf.br-ex.proxy_arp=0"]);
    await waitFor(async () => (await proxyArp()) === "1", {
      what: `proxy_arp on br-ex healed; agent log:\n${log().slice(-2000)}`,
      timeoutMs: 3_000,
      intervalMs: 50,
    });
    assert.match(log(), /sysctl drift/);

    await agent.stop("SIGKILL");
    assert.ok((await spineRoutes())["172.24.4.92/32"], "routes stay while the agent is down");
    agent = rig.startAgent();
    await waitFor(() => /agent running/.test(log()), { what: "agent restarted", timeoutMs: 60_000 });
    assert.doesNotMatch(log(), /PortBindingChassisDeletedEvent/, "a restart withdraws nothing");
    assert.ok((await spineRoutes())["172.24.4.92/32"]);

    await hostFrr.restart();
    await waitFor(async () => (await spineRoutes())["172.24.4.92/32"], {
      what: "routes back at the spine after an FRR restart",
      timeoutMs: 30_000,
    });
    // SIGTERM: the agent exits promptly and leaves the host state in place (no withdrawal).
    const code = await agent.stop("SIGTERM", 15_000);
    assert.equal(code, 0, `agent exit after SIGTERM; log:\n${log().slice(-2000)}`);
    assert.match(await hostNs.exec(["ip", "rule", "show"]), /to 172\.24\.4\.92 lookup/);
    assert.ok((await spineRoutes())["172.24.4.92/32"], "still announced after the agent stopped");
  });
});
