/**
 * The FRR applier against two real FRR 8.4 instances: "chassis" (AS 64999, the agent's side) and
 * "spine" (AS 65000), each in its own namespace, joined by a veth whose addresses exist only inside
 * the namespaces. The chassis' frr.conf holds the operator's config (neighbours with descriptions,
 * a route-map, a prefix-list); the applier adds the table layout on top and must never touch it.
 *
 * Set CAPTURE_FRR_FIXTURES=1 to refresh test/fixtures/frr/ from this run.
 */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Exec, type ExecRequest, run } from "../../../src/host/exec.ts";
import { FrrApplier } from "../../../src/host/frr/frr-applier.ts";
import { parseFrrConfig } from "../../../src/host/frr/frr-config-tree.ts";
import { findRoute, parseBgpSummary, parseRouteTable } from "../../../src/host/frr/frr-show.ts";
import { FrrWatcher } from "../../../src/host/frr/frr-watcher.ts";
import type { FrrIntent } from "../../../src/plan/desired-state.ts";
import { type FrrInstance, frrUnavailable, startFrr } from "../../support/frr.ts";
import { createNetns, type Netns, netnsUnavailable, RUN_PREFIX } from "../../support/netns.ts";

const skip = netnsUnavailable() ?? frrUnavailable();
const FIXTURES = join(import.meta.dirname, "../../fixtures/frr");
const capture = process.env.CAPTURE_FRR_FIXTURES === "1";

/** Route protocol of the test's "agent" routes: not one FRR reserves (11, 186-197), which zebra ignores. */
const PROTO = "44";
const V6_METRIC = 4242;
const V4_IP = "172.24.4.92/32";
const V6_IP = "2001:db8::21c/128";

const OPERATOR = `ip prefix-list OPERATOR-PL seq 5 permit 10.0.0.0/8 le 32
!
route-map OPERATOR-RM permit 10
 match ip address prefix-list OPERATOR-PL
exit
!
router bgp 64999
 bgp router-id 10.255.0.1
 neighbor 10.255.0.2 remote-as 65000
 neighbor 10.255.0.2 description operator-spine-v4
 neighbor fd00:255::2 remote-as 65000
 neighbor fd00:255::2 description operator-spine-v6
 !
 address-family ipv6 unicast
  neighbor fd00:255::2 activate
 exit-address-family
exit
`;
const SPINE = `router bgp 65000
 bgp router-id 10.255.0.2
 neighbor 10.255.0.1 remote-as 64999
 neighbor fd00:255::1 remote-as 64999
 !
 address-family ipv6 unicast
  neighbor fd00:255::1 activate
 exit-address-family
exit
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function poll<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      lastErr = e;
    }
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ""}`);
}

describe("FRR applier (table layout) against real FRR", { skip }, () => {
  let chassisNs: Netns;
  let spineNs: Netns;
  let chassis: FrrInstance;
  let spine: FrrInstance;
  let applier: FrrApplier;
  const calls: ExecRequest[] = [];
  const recording: Exec = (req) => {
    calls.push(req);
    return run(req);
  };
  const veth = `${RUN_PREFIX}c`;
  const intent: FrrIntent = { asn: 64999, routerId: "10.255.0.1", layout: "table", importTable: 200 };

  const spineRoutes = async (family: 4 | 6) =>
    parseRouteTable(
      JSON.parse(await spine.vtysh(family === 4 ? "show ip route json" : "show ipv6 route json")),
    );
  const spineHas = async (family: 4 | 6, prefix: string) =>
    findRoute(await spineRoutes(family), prefix, "bgp");

  before(async () => {
    chassisNs = await createNetns("ch");
    spineNs = await createNetns("sp");
    // Both veth ends are created inside the namespaces: nothing touches the root namespace.
    await chassisNs.exec([
      "ip",
      "link",
      "add",
      veth,
      "type",
      "veth",
      "peer",
      "name",
      `${RUN_PREFIX}s`,
      "netns",
      spineNs.name,
    ]);
    await chassisNs.exec(["ip", "addr", "add", "10.255.0.1/30", "dev", veth]);
    await chassisNs.exec(["ip", "-6", "addr", "add", "fd00:255::1/64", "dev", veth, "nodad"]);
    await chassisNs.exec(["ip", "link", "set", veth, "up"]);
    await spineNs.exec(["ip", "addr", "add", "10.255.0.2/30", "dev", `${RUN_PREFIX}s`]);
    await spineNs.exec(["ip", "-6", "addr", "add", "fd00:255::2/64", "dev", `${RUN_PREFIX}s`, "nodad"]);
    await spineNs.exec(["ip", "link", "set", `${RUN_PREFIX}s`, "up"]);
    chassis = await startFrr({ netns: chassisNs.name, config: OPERATOR, tag: "frrch" });
    spine = await startFrr({ netns: spineNs.name, config: SPINE, tag: "frrsp" });
    applier = new FrrApplier({
      socketDir: chassis.socketDir,
      netns: chassisNs.name,
      exec: recording,
      render: { ipv6KernelMetric: V6_METRIC },
    });
  });

  after(async () => {
    await chassis?.stop();
    await spine?.stop();
    await chassisNs?.remove();
    await spineNs?.remove();
  });

  it("applies the table layout once, then writes nothing on an identical sync", async () => {
    const first = await applier.sync(intent);
    assert.equal(first.changed, true);
    const running = await chassis.vtysh("show running-config");
    assert.match(running, /^ip import-table 200 route-map OVN-BGP-TABLE$/m);
    assert.match(running, /^ {2}redistribute table 200 route-map OVN-BGP-TABLE$/m);
    assert.match(running, /^ {2}redistribute kernel route-map OVN-BGP-KERNEL6$/m);

    calls.length = 0;
    const second = await applier.sync(intent);
    assert.equal(second.changed, false);
    assert.equal(second.script, "");
    assert.ok(
      calls.every((c) => !c.argv.includes("-f")),
      `no vtysh write expected, got ${calls.map((c) => c.argv.join(" ")).join("; ")}`,
    );
  });

  it("advertises host routes of table 200 (IPv4) and metric-marked kernel routes (IPv6) to the spine", async () => {
    await chassisNs.exec(["ip", "route", "add", V4_IP, "dev", veth, "proto", PROTO, "table", "200"]);
    await chassisNs.exec(["ip", "-6", "route", "add", V6_IP, "dev", veth, "proto", PROTO, "table", "200"]);
    await chassisNs.exec([
      "ip",
      "-6",
      "route",
      "add",
      V6_IP,
      "dev",
      veth,
      "proto",
      PROTO,
      "metric",
      String(V6_METRIC),
    ]);
    const v4 = await poll("172.24.4.92/32 at the spine", () => spineHas(4, V4_IP));
    assert.equal(v4.nexthops[0]?.ip, "10.255.0.1");
    const v6 = await poll("2001:db8::21c/128 at the spine", () => spineHas(6, V6_IP));
    assert.equal(v6.protocol, "bgp");

    const summary = parseBgpSummary(JSON.parse(await spine.vtysh("show bgp summary json")));
    assert.ok(summary.peers.some((p) => p.peer === "10.255.0.1" && p.established));
    if (capture) {
      // One directory per FRR version (test/fixtures/frr/<version>/), whichever platform runs this.
      const version = /FRRouting (\S+)/.exec(await chassis.vtysh("show version"))?.[1] ?? "unknown";
      const dir = join(FIXTURES, version);
      mkdirSync(dir, { recursive: true });
      // Re-indented so the captures pass the repository's formatter check unchanged.
      const save = async (file: string, cmd: string) =>
        writeFileSync(join(dir, file), `${JSON.stringify(JSON.parse(await spine.vtysh(cmd)), null, 2)}\n`);
      await save("bgp-summary.json", "show bgp summary json");
      await save("ip-route.json", "show ip route json");
      await save("ipv6-route.json", "show ipv6 route json");
      writeFileSync(join(dir, "running-config-chassis.txt"), await chassis.vtysh("show running-config"));
    }
  });

  it("keeps the operator's neighbours, route-map and prefix-list across repeated and changed applies", async () => {
    const operatorLines = (cfg: string) => {
      const tree = parseFrrConfig(cfg);
      return {
        pl: tree.get("")?.lines.includes("ip prefix-list OPERATOR-PL seq 5 permit 10.0.0.0/8 le 32"),
        rm: tree
          .get("route-map OPERATOR-RM permit 10")
          ?.lines.includes("match ip address prefix-list OPERATOR-PL"),
        nb: tree.get("router bgp 64999")?.lines.includes("neighbor 10.255.0.2 description operator-spine-v4"),
        nb6: tree
          .get("router bgp 64999")
          ?.lines.includes("neighbor fd00:255::2 description operator-spine-v6"),
      };
    };
    const all = { pl: true, rm: true, nb: true, nb6: true };
    await applier.sync(intent);
    await applier.sync(intent);
    assert.deepEqual(operatorLines(await chassis.vtysh("show running-config")), all);

    // The import table changes: the old agent lines go, the operator's stay.
    const moved = await applier.sync({ ...intent, importTable: 201 });
    assert.equal(moved.changed, true);
    const cfg = await chassis.vtysh("show running-config");
    assert.match(cfg, /^ip import-table 201 route-map OVN-BGP-TABLE$/m);
    assert.doesNotMatch(cfg, /import-table 200|redistribute table 200/);
    assert.deepEqual(operatorLines(cfg), all);

    await applier.sync(intent);
    assert.deepEqual(operatorLines(await chassis.vtysh("show running-config")), all);
    await poll("172.24.4.92/32 back at the spine", () => spineHas(4, V4_IP));
  });

  it("withdraws a deleted route from the spine", async () => {
    await chassisNs.exec(["ip", "route", "del", V4_IP, "table", "200"]);
    await chassisNs.exec(["ip", "-6", "route", "del", V6_IP, "metric", String(V6_METRIC)]);
    await poll("172.24.4.92/32 gone from the spine", async () =>
      (await spineHas(4, V4_IP)) ? undefined : true,
    );
    await poll("2001:db8::21c/128 gone from the spine", async () =>
      (await spineHas(6, V6_IP)) ? undefined : true,
    );
  });

  it("notices an FRR restart and the re-applied config brings the routes back", async () => {
    await chassisNs.exec(["ip", "route", "add", V4_IP, "dev", veth, "proto", PROTO, "table", "200"]);
    await poll("172.24.4.92/32 at the spine", () => spineHas(4, V4_IP));

    let restarts = 0;
    let reapplied = false;
    let syncing: Promise<void> | undefined;
    // What the agent does: on a restart signal, sync until FRR answers (it may not be ready yet).
    const reapply = async () => {
      await poll(
        "re-apply after restart",
        async () => ((await applier.sync(intent)) ? true : undefined),
        60_000,
      );
      reapplied = true;
    };
    const watcher = new FrrWatcher({
      socketDir: chassis.socketDir,
      intervalMs: 200,
      onRestart: () => {
        restarts += 1;
        syncing ??= reapply();
      },
    });
    watcher.start();
    try {
      await watcher.poll(); // baseline
      const before = chassis.pids();
      await chassis.restart();
      assert.notDeepEqual(chassis.pids(), before);
      await poll("the watcher to fire", async () => (restarts > 0 ? true : undefined), 10_000);
      await poll("the re-apply", async () => (reapplied ? true : undefined), 60_000);
      assert.match(
        await chassis.vtysh("show running-config"),
        /redistribute table 200 route-map OVN-BGP-TABLE/,
      );
      await poll("172.24.4.92/32 back at the spine after the restart", () => spineHas(4, V4_IP));
    } finally {
      watcher.stop();
      await syncing?.catch(() => {});
    }
  });
});
