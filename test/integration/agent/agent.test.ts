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
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { run } from "../../../src/host/exec.ts";
import { type FrrInstance, frrUnavailable, startFrr } from "../../support/frr.ts";
import { createNetns, type Netns, netnsUnavailable, RUN_PREFIX } from "../../support/netns.ts";
import { addChassis, type OvnCentral, startOvnCentral } from "../../support/ovn-central.ts";
import { type OvsSwitch, ovsUnavailable, startOvs } from "../../support/ovs-switch.ts";
import { makeTempDir } from "../../support/temp-dir.ts";
import { waitFor } from "../../support/wait.ts";

const skip = netnsUnavailable() ?? ovsUnavailable() ?? frrUnavailable() ?? false;
const REPO = join(import.meta.dirname, "../../..");
const CHASSIS = "rack-1-host-1";

const SPINE_CONF = `
router bgp 65000
 bgp router-id 10.255.1.2
 no bgp ebgp-requires-policy
 neighbor 10.255.1.1 remote-as 64999
 address-family ipv4 unicast
  neighbor 10.255.1.1 activate
 exit-address-family
!`;
const CHASSIS_CONF = `
router bgp 64999
 bgp router-id 10.255.1.1
 no bgp ebgp-requires-policy
 neighbor 10.255.1.2 remote-as 65000
 neighbor 10.255.1.2 description operator-spine
!`;

describe("ovn-bgp agent end to end (table layout)", { skip }, () => {
  let central: OvnCentral;
  let hostNs: Netns;
  let spineNs: Netns;
  let ovs: OvsSwitch;
  let hostFrr: FrrInstance;
  let spineFrr: FrrInstance;
  let confFile: string;
  let agent: ChildProcess | undefined;
  const sb = () => central.sbUnixRemote;

  const cli = (...args: string[]) =>
    run({
      argv: ["node", "--import", "tsx", join(REPO, "src/cli/main.ts"), ...args, "--config-file", confFile],
      netns: hostNs.name,
      env: { ...ovs.env },
      timeoutMs: 120_000,
    });

  const spineRoutes = async (): Promise<Record<string, Array<{ nexthops: unknown[] }>>> =>
    JSON.parse(await spineFrr.vtysh("show ip route bgp json"));

  const startAgent = () => {
    const child = spawn(
      "ip",
      [
        "netns",
        "exec",
        hostNs.name,
        "node",
        "--import",
        "tsx",
        join(REPO, "src/cli/main.ts"),
        "agent",
        "--config-file",
        confFile,
      ],
      { env: { ...process.env, ...ovs.env }, stdio: ["ignore", "ignore", "pipe"] },
    );
    let log = "";
    child.stderr?.on("data", (b: Buffer) => {
      log += b.toString();
      if (log.length > 200_000) log = log.slice(-100_000);
    });
    (child as ChildProcess & { log: () => string }).log = () => log;
    return child;
  };

  before(async () => {
    central = await startOvnCentral();
    [hostNs, spineNs] = await Promise.all([createNetns("host"), createNetns("spine")]);
    const veth = `${RUN_PREFIX}h`;
    await hostNs.exec([
      "ip",
      "link",
      "add",
      veth,
      "type",
      "veth",
      "peer",
      "name",
      "eth0",
      "netns",
      spineNs.name,
    ]);
    await hostNs.exec(["ip", "addr", "add", "10.255.1.1/30", "dev", veth]);
    await hostNs.exec(["ip", "link", "set", veth, "up"]);
    await spineNs.exec(["ip", "addr", "add", "10.255.1.2/30", "dev", "eth0"]);
    await spineNs.exec(["ip", "link", "set", "eth0", "up"]);

    ovs = await startOvs(hostNs.name);
    await ovs.addBridge("br-ex");
    await ovs.vsctl(
      "set",
      "Open_vSwitch",
      ".",
      `external_ids:system-id=${CHASSIS}`,
      `external_ids:ovn-remote=${sb()}`,
      "external_ids:ovn-bridge-mappings=public:br-ex",
    );
    await hostNs.exec(["ip", "link", "set", "br-ex", "up"]);
    await addChassis(sb(), { name: CHASSIS, encapIp: "192.0.2.11" });
    await addChassis(sb(), { name: "rack-2-host-1", encapIp: "192.0.2.21" });

    [hostFrr, spineFrr] = await Promise.all([
      startFrr({ netns: hostNs.name, config: CHASSIS_CONF, tag: "frrh" }),
      startFrr({ netns: spineNs.name, config: SPINE_CONF, tag: "frrs" }),
    ]);

    // The seed's topology, through the NB as an operator (or Neutron) builds it.
    const nb = (...a: string[]) => central.nbctl(...a);
    await nb("ls-add", "public");
    await nb("lsp-add", "public", "provnet-public", "--", "lsp-set-type", "provnet-public", "localnet");
    await nb(
      "lsp-set-addresses",
      "provnet-public",
      "unknown",
      "--",
      "lsp-set-options",
      "provnet-public",
      "network_name=public",
    );
    await nb(
      "lsp-add",
      "public",
      "vm1-port",
      "--",
      "lsp-set-addresses",
      "vm1-port",
      "fa:16:3e:11:22:33 172.24.4.92",
    );
    await nb("lr-add", "router-test");
    await nb("lrp-add", "router-test", "lrp-gw", "fa:16:3e:bf:93:93", "172.24.4.163/24");
    await nb("lrp-set-gateway-chassis", "lrp-gw", CHASSIS, "10");
    await nb("lsp-add", "public", "public-router", "--", "lsp-set-type", "public-router", "router");
    await nb(
      "lsp-set-addresses",
      "public-router",
      "router",
      "--",
      "lsp-set-options",
      "public-router",
      "router-port=lrp-gw",
    );
    await nb("ls-add", "private-test");
    await nb("lrp-add", "router-test", "lrp-tenant", "fa:16:3e:34:30:23", "10.0.0.65/26");
    await nb("lsp-add", "private-test", "private-router", "--", "lsp-set-type", "private-router", "router");
    await nb(
      "lsp-set-addresses",
      "private-router",
      "router",
      "--",
      "lsp-set-options",
      "private-router",
      "router-port=lrp-tenant",
    );
    await nb(
      "lsp-add",
      "private-test",
      "vm-tenant",
      "--",
      "lsp-set-addresses",
      "vm-tenant",
      "fa:16:3e:0b:99:2b 10.0.0.95",
    );
    await central.waitForNorthd();
    await waitFor(
      async () =>
        (
          await central.sbctl(
            "--bare",
            "--columns=logical_port",
            "find",
            "Port_Binding",
            "logical_port=cr-lrp-gw",
          )
        ).trim() || undefined,
      { what: "cr-lrp in SB" },
    );
    await central.sbctl("lsp-bind", "vm1-port", CHASSIS);
    await central.sbctl("set", "Port_Binding", "vm1-port", "up=true");
    await central.sbctl("lsp-bind", "cr-lrp-gw", CHASSIS);
    // The tenant VM runs on another hypervisor; it is exposed from here, where its router's gateway is.
    await central.sbctl("lsp-bind", "vm-tenant", "rack-2-host-1");
    await central.sbctl("set", "Port_Binding", "vm-tenant", "up=true");

    const dir = makeTempDir("agentconf");
    confFile = join(dir, "bgp-agent.conf");
    writeFileSync(
      confFile,
      [
        "[DEFAULT]",
        "bgp_AS = 64999",
        "bgp_router_id = 10.255.1.1",
        "expose_tenant_networks = True",
        "announce_via = table",
        "bgp_vrf_table_id = 199",
        `ovsdb_connection = ${ovs.db}`,
        `frr_vty_socket_dir = ${hostFrr.socketDir}`,
        `rt_tables_dropin = ${join(dir, "rt_tables.d", "ovn-bgp.conf")}`,
        "metrics_listen =",
        "reconcile_interval = 5",
        "",
      ].join("\n"),
    );
  });

  after(async () => {
    agent?.kill("SIGKILL");
    await Promise.allSettled([hostFrr?.stop(), spineFrr?.stop(), ovs?.stop()]);
    await Promise.allSettled([hostNs?.remove(), spineNs?.remove()]);
    await central?.stop();
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
    assert.doesNotMatch(await hostNs.exec(["ip", "rule", "show"]), /32000/, "plan changed nothing");

    // The same Southbound seen as rack-2-host-1 (a second --config-file overrides the chassis):
    // vm-tenant is bound there but exposed from its gateway's chassis, so that plan has nothing.
    const other = join(makeTempDir("otherchassis"), "other.conf");
    writeFileSync(other, "[ovn]\nchassis_name = rack-2-host-1\n");
    const res2 = await run({
      argv: [
        "node",
        "--import",
        "tsx",
        join(REPO, "src/cli/main.ts"),
        "plan",
        "--json",
        "--config-file",
        confFile,
        "--config-file",
        other,
      ],
      netns: hostNs.name,
      env: { ...ovs.env },
      timeoutMs: 120_000,
    });
    assert.equal(res2.code, 0, res2.stderr);
    const plan2 = JSON.parse(res2.stdout) as { chassis: string; entries: unknown[] };
    assert.equal(plan2.chassis, "rack-2-host-1");
    assert.deepEqual(plan2.entries, []);
  });

  test("sync --once: the seed's rules, routes and neighbour; the spine learns the /32s", async () => {
    const res = await cli("sync", "--once");
    assert.equal(res.code, 0, `sync failed:\n${res.stdout}\n${res.stderr}`);
    const rules = await hostNs.exec(["ip", "rule", "show"]);
    assert.match(rules, /32000:\s+from all to 172\.24\.4\.92 lookup (br-ex|200)/);
    assert.match(rules, /32000:\s+from all to 172\.24\.4\.163 lookup (br-ex|200)/);
    assert.match(rules, /32000:\s+from all to 10\.0\.0\.6[45]\/26 lookup (br-ex|200)/);
    const table = await hostNs.exec(["ip", "route", "show", "table", "200"]);
    assert.match(table, /default dev br-ex/);
    assert.match(table, /172\.24\.4\.163 dev br-ex/);
    assert.match(table, /10\.0\.0\.64\/26 via 172\.24\.4\.163 dev br-ex/);
    const neigh = await hostNs.exec(["ip", "neigh", "show", "dev", "br-ex"]);
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
    agent = startAgent();
    const log = () => (agent as ChildProcess & { log: () => string }).log();
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

    agent.kill("SIGKILL");
    await new Promise((r) => agent?.once("exit", r));
    assert.ok((await spineRoutes())["172.24.4.92/32"], "routes stay while the agent is down");
    agent = startAgent();
    await waitFor(() => /agent running/.test(log()), { what: "agent restarted", timeoutMs: 60_000 });
    assert.doesNotMatch(log(), /PortBindingChassisDeletedEvent/, "a restart withdraws nothing");
    assert.ok((await spineRoutes())["172.24.4.92/32"]);

    await hostFrr.restart();
    await waitFor(async () => (await spineRoutes())["172.24.4.92/32"], {
      what: "routes back at the spine after an FRR restart",
      timeoutMs: 30_000,
    });
    // SIGTERM: the agent exits promptly and leaves the host state in place (no withdrawal).
    const exited = new Promise<number | null>((r) => agent?.once("exit", (code) => r(code)));
    agent.kill("SIGTERM");
    const code = await Promise.race([
      exited,
      new Promise<string>((r) => setTimeout(() => r("timeout"), 15_000)),
    ]);
    assert.equal(code, 0, `agent exit after SIGTERM; log:\n${log().slice(-2000)}`);
    assert.match(await hostNs.exec(["ip", "rule", "show"]), /to 172\.24\.4\.92 lookup/);
    assert.ok((await spineRoutes())["172.24.4.92/32"], "still announced after the agent stopped");
  });
});
