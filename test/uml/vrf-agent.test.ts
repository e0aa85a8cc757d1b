/**
 * The seed's own layout end to end (run inside user-mode Linux by test/integration/uml/uml.test.ts):
 * `announce_via = vrf`, the default, with upstream's default names (bgp_nic = bgp-nic, bgp_vrf =
 * bgp-vrf, bgp_vrf_table_id = 10), on real parts: OVN central, a chassis namespace with OVS
 * (netdev) and FRR, a spine FRR peering over IPv4 and IPv6 (test/support/agent-rig.ts).
 *
 * Proves: the table and vrf layouts program the same rules, routes and neighbours; the vrf layout
 * puts the seed's /32 and /128 on the dummy in the VRF, the kernel adds the l3mdev rule and the spine
 * learns every exposed prefix of both families; the running agent withdraws them on unbind, move and
 * gateway failover, exposes a FIP when its VM moves here, and a kill and restart withdraw nothing;
 * the seed's device names (`ovn` in `ovn-bgp-vrf`) work through config.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import {
  type AgentRig,
  CHASSIS,
  OTHER_CHASSIS,
  RIG,
  type RunningAgent,
  startAgentRig,
} from "../support/agent-rig.ts";
import { frrUnavailable } from "../support/frr.ts";
import { netnsUnavailable } from "../support/netns.ts";
import { ovsUnavailable } from "../support/ovs-switch.ts";
import { waitFor } from "../support/wait.ts";

const skip = netnsUnavailable() ?? ovsUnavailable() ?? frrUnavailable() ?? false;
/** Everything is several times slower inside the guest than on the host. */
const SLOW = { timeoutMs: 90_000, intervalMs: 250 };

const PROVIDER = [`${RIG.vm1.ip4}/32`, `${RIG.vm1.ip6}/128`];
const GATEWAY = [`${RIG.crLrp.ip4}/32`, `${RIG.crLrp.ip6}/128`, `${RIG.vmTenant.ip}/32`];
const FIP = `${RIG.fip.ip}/32`;

describe("vrf layout end to end (dummy in a VRF, FRR leaks it into the default instance)", { skip }, () => {
  let rig: AgentRig;
  let agent: RunningAgent | undefined;
  const ip = (...args: string[]) => rig.hostNs.exec(["ip", ...args]);

  /** Prefixes (both families) the spine holds from BGP. */
  const spine = async (): Promise<Set<string>> =>
    new Set([...Object.keys(await rig.spineRoutes(4)), ...Object.keys(await rig.spineRoutes(6))]);
  /** Wait for the spine's BGP routes to satisfy `ok`; on timeout, say what the host held. */
  const spineUntil = async (ok: (have: Set<string>) => boolean, what: string) => {
    try {
      return await waitFor(
        async () => {
          const have = await spine();
          return ok(have) ? have : undefined;
        },
        { ...SLOW, what },
      );
    } catch (e) {
      const show = (...c: string[]) => rig.hostFrr.vtysh(...c).catch((err: unknown) => String(err));
      throw new Error(
        `${(e as Error).message}\nspine: ${[...(await spine())].join(" ")}\nhost addresses:\n${await ip("-br", "address")}` +
          `\nhost FRR bgp:\n${await show("show bgp vrf all ipv4 unicast")}\nhost FRR config:\n${await show("show running-config")}` +
          `\nzebra:\n${await show("show ip route vrf all")}\nFRR log tail:\n${readFileSync(rig.hostFrr.logFile, "utf8").slice(-2000)}` +
          `\nagent log tail:\n${agent?.log().slice(-3000) ?? ""}`,
      );
    }
  };
  const spineHas = (want: readonly string[], what: string) =>
    spineUntil((have) => want.every((p) => have.has(p)), `the spine learns ${want.join(", ")} (${what})`);
  const spineLacks = (gone: readonly string[], what: string) =>
    spineUntil((have) => gone.every((p) => !have.has(p)), `the spine withdraws ${gone.join(", ")} (${what})`);
  const addresses = async (dev: string): Promise<string[]> => {
    const rows = JSON.parse(await ip("-j", "address", "show", "dev", dev)) as Array<{
      addr_info: Array<{ local: string; prefixlen: number }>;
    }>;
    return (rows[0]?.addr_info ?? [])
      .filter((a) => !a.local.startsWith("fe80:"))
      .map((a) => `${a.local}/${a.prefixlen}`)
      .sort();
  };
  const linkOf = async (dev: string) => {
    const rows = JSON.parse(await ip("-j", "-d", "link", "show")) as Array<{
      ifname: string;
      master?: string;
      flags: string[];
      linkinfo?: { info_kind?: string; info_data?: { table?: number } };
    }>;
    return rows.find((r) => r.ifname === dev);
  };
  /** What steers traffic, whatever the layout: rules, bridge-table routes, neighbours, NDP proxies. */
  const steering = async () => ({
    rules4: (await ip("-4", "rule", "show")).split("\n").filter((l) => /32000:/.test(l)),
    rules6: (await ip("-6", "rule", "show")).split("\n").filter((l) => /32000:/.test(l)),
    routes4: await ip("-4", "route", "show", "table", "200"),
    routes6: await ip("-6", "route", "show", "table", "200"),
    neighbours: await ip("neigh", "show", "nud", "permanent"),
    proxies: await ip("-6", "neigh", "show", "proxy"),
  });
  const moveSb = (port: string, to: string) =>
    rig.central.sbctl("--", "lsp-unbind", port, "--", "lsp-bind", port, to);

  before(async () => {
    rig = await startAgentRig({ ipv6: true, standbyGateway: true, fip: true });
    const sbctl = rig.central.sbctl;
    await sbctl("lsp-bind", RIG.vm1.port, CHASSIS);
    await sbctl("set", "Port_Binding", RIG.vm1.port, "up=true");
    await sbctl("lsp-bind", RIG.crLrp.port, CHASSIS);
    await sbctl("lsp-bind", RIG.vmTenant.port, OTHER_CHASSIS);
    await sbctl("set", "Port_Binding", RIG.vmTenant.port, "up=true");
  });

  after(async () => {
    await rig?.stop();
  });

  test("table and vrf layouts steer alike; vrf puts the /32s and /128s on bgp-nic in bgp-vrf; the spine learns them", async () => {
    const table = rig.extraConfig("table.conf", ["[DEFAULT]", "announce_via = table"]);
    const first = await rig.cli(["sync", "--once"], [table]);
    assert.equal(first.code, 0, `sync (table layout) failed:\n${first.stdout}\n${first.stderr}`);
    const byTable = await steering();
    assert.match(byTable.rules4.join("\n"), /to 172\.24\.4\.92 lookup (br-ex|200)/);

    const res = await rig.cli(["sync", "--once"]);
    assert.equal(res.code, 0, `sync (vrf layout) failed:\n${res.stdout}\n${res.stderr}`);
    assert.deepEqual(await steering(), byTable, "the layouts differ only in how they announce");

    const nic = await linkOf("bgp-nic");
    const vrf = await linkOf("bgp-vrf");
    assert.equal(nic?.linkinfo?.info_kind, "dummy");
    assert.equal(nic?.master, "bgp-vrf");
    assert.ok(nic?.flags.includes("UP") && vrf?.flags.includes("UP"), "both devices up");
    assert.equal(vrf?.linkinfo?.info_data?.table, 10);
    assert.deepEqual(await addresses("bgp-nic"), [...PROVIDER, ...GATEWAY].sort());
    assert.match(await ip("-4", "rule", "show"), /^1000:\s+from all lookup \[l3mdev-table\]/m);
    assert.equal(
      await ip("-4", "route", "show", "table", "10", "proto", "179"),
      "",
      "table layout routes gone",
    );
    assert.match(byTable.routes4, /10\.0\.0\.64\/26 via 172\.24\.4\.163 dev br-ex/);
    assert.match(byTable.neighbours, /172\.24\.4\.163 dev br-ex lladdr fa:16:3e:bf:93:93 .*PERMANENT/);
    await spineHas([...PROVIDER, ...GATEWAY], "sync --once, vrf layout");
    const frr = await rig.hostFrr.vtysh("show running-config");
    assert.match(frr, /router bgp 64999 vrf bgp-vrf/);
    assert.match(frr, /import vrf bgp-vrf/);
    assert.doesNotMatch(frr, /ip import-table/, "the table layout's FRR lines are gone");

    const again = await rig.cli(["sync", "--once"]);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /kernel\s+ok\s+0 change/);
  });

  test("the agent withdraws on unbind, move and failover (IPv4 and IPv6), exposes a FIP that moves here, and a restart withdraws nothing", async () => {
    const { central } = rig;
    agent = rig.startAgent();
    const log = () => agent?.log() ?? "";
    await waitFor(() => /agent running/.test(log()), { ...SLOW, what: `agent running; log:\n${log()}` });
    await spineHas([...PROVIDER, ...GATEWAY], "the agent is running");

    await central.sbctl("lsp-unbind", RIG.vm1.port);
    await spineLacks(PROVIDER, "unbind");
    assert.deepEqual(await addresses("bgp-nic"), [...GATEWAY].sort());
    assert.match(log(), /PortBindingChassisDeletedEvent/);
    await central.sbctl("lsp-bind", RIG.vm1.port, CHASSIS);
    await spineHas(PROVIDER, "bound again");

    await moveSb(RIG.vm1.port, OTHER_CHASSIS);
    await spineLacks(PROVIDER, "the VM moved away");
    await moveSb(RIG.vm1.port, CHASSIS);
    await spineHas(PROVIDER, "the VM moved back");

    await moveSb(RIG.vmTenant.port, CHASSIS);
    await spineHas([FIP], "the FIP's VM moved here");
    assert.match(log(), /FIPSetEvent/);
    await moveSb(RIG.vmTenant.port, OTHER_CHASSIS);
    await spineLacks([FIP], "the FIP's VM moved away");

    await moveSb(RIG.crLrp.port, OTHER_CHASSIS);
    await spineLacks(GATEWAY, "gateway failover to the other chassis");
    assert.deepEqual(await addresses("bgp-nic"), [...PROVIDER].sort());
    assert.doesNotMatch(
      await ip("-4", "rule", "show"),
      /10\.0\.0\.6[45]\/26/,
      "tenant subnet rule withdrawn",
    );
    assert.doesNotMatch(await ip("neigh", "show", "nud", "permanent"), /172\.24\.4\.163/);
    await moveSb(RIG.crLrp.port, CHASSIS);
    await spineHas(GATEWAY, "failback");

    assert.equal(await agent.stop("SIGKILL"), null);
    const held = await spine();
    agent = rig.startAgent();
    await waitFor(() => /agent running/.test(log()), { ...SLOW, what: "agent restarted" });
    assert.doesNotMatch(log(), /DeletedEvent|UnsetEvent|DetachedEvent/, "a restart withdraws nothing");
    assert.deepEqual(await spine(), held);

    // SIGTERM: the agent exits and leaves the VRF, the dummy and the announcements in place.
    assert.equal(await agent.stop("SIGTERM"), 0, `exit after SIGTERM; log:\n${log().slice(-2000)}`);
    assert.equal((await linkOf("bgp-nic"))?.master, "bgp-vrf");
    assert.deepEqual(await spine(), held);
  });

  test("the seed's device names through config: `ovn` in `ovn-bgp-vrf`; renamed back and forth, announced every time", async () => {
    await agent?.stop("SIGKILL");
    // A fresh zebra: FRR 8.4's zebra, after the previous test's churn (failover, moves, restarts),
    // was seen to crash on a VRF removal (SIGSEGV in rib_process_dplane_results, an FRR bug; the
    // agent already drops the instance first and removes the dummy, then the VRF, with pauses).
    // Production runs FRR under watchfrr, and the agent re-applies after a restart.
    await rig.hostFrr.restart(); // back to the operator's frr.conf; the first sync re-applies ours
    const names = rig.extraConfig("seed-names.conf", ["[DEFAULT]", "bgp_nic = ovn", "bgp_vrf = ovn-bgp-vrf"]);
    // Each rename deletes the agent's devices and creates them under the other names; zebra must see
    // the addresses of the re-created dummy every time (apply.ts DEVICE_SETTLE_MS).
    for (const [nic, vrf, extra] of [
      ["ovn", "ovn-bgp-vrf", [names]],
      ["bgp-nic", "bgp-vrf", []],
      ["ovn", "ovn-bgp-vrf", [names]],
    ] as const) {
      const res = await rig.cli(["sync", "--once"], extra);
      assert.equal(res.code, 0, `sync (${nic} in ${vrf}) failed:\n${res.stdout}\n${res.stderr}`);
      assert.equal((await linkOf(nic))?.master, vrf);
      assert.deepEqual(await addresses(nic), [...PROVIDER, ...GATEWAY].sort());
      const old = nic === "ovn" ? ["bgp-nic", "bgp-vrf"] : ["ovn", "ovn-bgp-vrf"];
      for (const dev of old) assert.equal(await linkOf(dev), undefined, `${dev} removed`);
      assert.match(
        await rig.hostFrr.vtysh("show running-config"),
        new RegExp(`router bgp 64999 vrf ${vrf}\\n`),
      );
      await spineUntil(
        (have) => [...PROVIDER, ...GATEWAY].every((p) => have.has(p)),
        `the spine learns every prefix from ${nic} in ${vrf}`,
      );
      // The same prefixes were announced under the old names: look at the new VRF's own BGP table.
      await waitFor(
        async () => {
          const t = await rig.hostFrr.vtysh(`show bgp vrf ${vrf} ipv4 unicast`);
          return [`${RIG.vm1.ip4}/32`, `${RIG.crLrp.ip4}/32`].every((p) => t.includes(p));
        },
        { ...SLOW, what: `BGP VRF ${vrf} holds the connected /32s` },
      );
      const zebra = await rig.hostFrr.vtysh(`show interface ${nic} vrf ${vrf}`);
      for (const p of [...PROVIDER, ...GATEWAY])
        assert.ok(zebra.includes(p), `zebra lists ${p} on ${nic}:\n${zebra}`);
    }
  });
});
