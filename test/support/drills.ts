/**
 * Fault drills against the running agent, on real parts (issue 11): OVN central with a 3-member
 * RAFT Southbound, a chassis namespace with OVS (br-ex mapped, br-int patched to it), FRR peering
 * over IPv4 and IPv6 with a spine whose BGP table is sampled every 50 ms (`SpineWatch`), and the
 * agent in either announce layout: `test/integration/agent/drills.test.ts` runs them in the table
 * layout on the host, `test/uml/drills-vrf.test.ts` in the seed's vrf layout inside user-mode Linux
 * (the host kernel has no VRF). Only the drift kinds of the announce path differ between the two.
 *
 * Each drill prints `RELIABILITY name=value unit` lines: docs/RELIABILITY.md records them with the
 * command that produced them. Time limits asserted here carry a margin for a loaded 2-core CI
 * machine; the figures say what was measured.
 *
 * An operator's own state, some of it shaped like the agent's (same rule priority and table, a
 * route in the agent's bridge table, a permanent neighbour and an NDP proxy entry on br-ex, a
 * helper-shaped address, flows on br-ex and br-int with other and equal cookies, an `OVN-BGP-MINE`
 * route-map used by a neighbour), is put in place first and must survive every drill.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { run } from "../../src/host/exec.ts";
import { platformFile, toolPrefix } from "../../src/lab/platform.ts";
import { type AgentRig, CHASSIS, RIG, type RunningAgent, startAgentRig } from "./agent-rig.ts";
import { frrUnavailable } from "./frr.ts";
import { netnsUnavailable, PLATFORM, RUN_PREFIX } from "./netns.ts";
import { ovsUnavailable } from "./ovs-switch.ts";
import { SpineWatch } from "./spine-watch.ts";
import { sleep, waitFor as waitForAt } from "./wait.ts";

const FRR_RELOAD = "/usr/lib/frr/frr-reload.py";

const PREFIXES = [
  `${RIG.vm1.ip4}/32`,
  `${RIG.crLrp.ip4}/32`,
  `${RIG.vmTenant.ip}/32`,
  `${RIG.vm1.ip6}/128`,
  `${RIG.crLrp.ip6}/128`,
];
const VM2 = { port: "vm2-port", mac: "fa:16:3e:22:22:22", ip4: "172.24.4.93" };
const ANNOUNCE_TABLE = 199;
const BRIDGE_TABLE = 200;
/** Limits asserted (the targets are 1 s for drift and FRR config, 2 s for FRR at the spine). */
const DRIFT_LIMIT_MS = 2_000;
const FRR_LIMIT_MS = 3_000;
/**
 * FRR 10.3's zebra re-imports table 200 through a re-created route-map only after its route-map
 * delay timer (`zebra route-map delay-timer`, default 5 s; 8.4 imports at once): after an
 * frr-reload that removed the agent's lines, the agent is back in ~150 ms and the spine ~5.3 s
 * later (257 ms with the timer at 0). docs/PLATFORMS.md.
 */
const ZEBRA_ROUTE_MAP_DELAY_MS = PLATFORM === "trixie" ? 5_000 : 0;
const SB_CHANGE_LIMIT_MS = 2_000;

/** The operator's objects, checked after every drill. */
const FOREIGN = {
  rule: {
    cmd: ["ip", "rule", "add", "priority", "32000", "to", "198.51.100.7", "lookup", `${BRIDGE_TABLE}`],
  },
  route: ["ip", "route", "add", "198.51.100.0/24", "dev", "br-ex", "table", `${BRIDGE_TABLE}`],
  neigh: [
    "ip",
    "neigh",
    "add",
    "172.24.4.200",
    "lladdr",
    "fa:16:3e:00:00:c8",
    "dev",
    "br-ex",
    "nud",
    "permanent",
  ],
  proxy: ["ip", "-6", "neigh", "add", "proxy", "2001:db8::99", "dev", "br-ex"],
};

/** The agent's flows on br-ex with one patch port: the MAC rewrite (ip, ipv6) and the IPv6 neighbour-solicitation responder (three). */
const AGENT_FLOWS = 5;

export interface DrillOptions {
  readonly layout: "table" | "vrf";
  /** Multiplies every time limit (user-mode Linux runs several times slower than the host). */
  readonly slowdown?: number;
}

/** A drift drill: remove one owned object by hand, then wait for the agent to put it back. */
interface DriftDrill {
  readonly kind: string;
  remove(): Promise<unknown>;
  healed(): Promise<boolean>;
}

export function defineDrills(opts: DrillOptions): void {
  const skip = netnsUnavailable() ?? ovsUnavailable() ?? frrUnavailable() ?? false;
  const slow = opts.slowdown ?? 1;
  describe(`fault drills against the running agent (${opts.layout} layout, IPv4 + IPv6, RAFT Southbound)`, {
    skip,
  }, () => {
    defineDrillTests(opts.layout, slow);
  });
}

function defineDrillTests(layout: "table" | "vrf", slow: number): void {
  /** waitFor with its time limit (default 20 s) scaled by the slowdown. */
  const waitFor: typeof waitForAt = (probe, o = {}) =>
    waitForAt(probe, { ...o, timeoutMs: (o.timeoutMs ?? 20_000) * slow });
  const limit = (ms: number) => ms * slow;
  let rig: AgentRig;
  let agent: RunningAgent;
  let spine: SpineWatch;
  const figures: string[] = [];
  const figure = (name: string, value: number | string, unit: string) => {
    const line = `RELIABILITY ${name}=${value} ${unit}`;
    figures.push(line);
    console.log(line);
  };
  const host = (argv: readonly string[]) => rig.hostNs.exec(argv);
  const log = () => agent.log();
  const ofctl = (...args: string[]) => rig.ovs.ofctl(...args);
  let drillConf = "";
  const startDrillAgent = () => rig.startAgent([drillConf]);
  /** The host's veth towards the spine (the rig names it after the run prefix). */
  const uplink = () => `${RUN_PREFIX}h`;

  /** Time from now until `probe` holds, polled every 20 ms. */
  async function timeUntil(what: string, probe: () => Promise<boolean>, limitMs = 20_000): Promise<number> {
    const t0 = Date.now();
    try {
      await waitFor(async () => (await probe()) || undefined, {
        what,
        timeoutMs: limit(limitMs),
        intervalMs: 20,
      });
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${await diagnostics()}`);
    }
    return Date.now() - t0;
  }

  /** What the host and the spine hold, for a failure message. */
  async function diagnostics(): Promise<string> {
    const show = (f: { vtysh(...c: string[]): Promise<string> }, c: string) =>
      f.vtysh(c).catch((e: unknown) => `(${String(e)})`);
    return [
      `agent log:\n${log().slice(-3000)}`,
      `host bgp:\n${await show(rig.hostFrr, "show bgp ipv4 unicast")}`,
      `host summary:\n${await show(rig.hostFrr, "show bgp summary")}`,
      `host config:\n${await show(rig.hostFrr, "show running-config")}`,
      `spine bgp:\n${await show(rig.spineFrr, "show bgp ipv4 unicast")}`,
      `host FRR log:\n${readFileSync(rig.hostFrr.logFile, "utf8").slice(-2000)}`,
    ].join("\n");
  }

  async function allAtSpine(): Promise<boolean> {
    const [v4, v6] = await Promise.all([rig.spineRoutes(4), rig.spineRoutes(6)]);
    return PREFIXES.every((p) => p in v4 || p in v6);
  }

  async function foreignIntact(when: string): Promise<void> {
    const rules = await host(["ip", "rule", "show"]);
    assert.match(rules, /32000:\s+from all to 198\.51\.100\.7 lookup 200\s*$/m, `operator rule ${when}`);
    assert.match(
      await host(["ip", "route", "show", "table", `${BRIDGE_TABLE}`]),
      /198\.51\.100\.0\/24 dev br-ex/,
      `operator route ${when}`,
    );
    assert.match(
      await host(["ip", "neigh", "show", "dev", "br-ex"]),
      /172\.24\.4\.200 lladdr fa:16:3e:00:00:c8 PERMANENT/,
      `operator neighbour ${when}`,
    );
    assert.match(
      await host(["ip", "-6", "neigh", "show", "proxy"]),
      /2001:db8::99 dev br-ex/,
      `proxy ${when}`,
    );
    assert.match(
      await host(["ip", "-4", "addr", "show", "dev", uplink()]),
      /169\.254\.7\.7\/32/,
      `addr ${when}`,
    );
    const exFlows = await ofctl("dump-flows", rig.ovs.target("br-ex"));
    assert.match(exFlows, /cookie=0x1000,.*nw_dst=198\.51\.100\.7/, `operator br-ex flow ${when}`);
    const intFlows = await ofctl("dump-flows", rig.ovs.target("br-int"));
    assert.match(intFlows, /cookie=0x3e7,.*nw_dst=198\.51\.100\.8/, `br-int flow with our cookie ${when}`);
    const frr = await rig.hostFrr.vtysh("show running-config");
    assert.match(frr, /^route-map OVN-BGP-MINE permit 10$/m, `operator route-map ${when}`);
    assert.match(frr, /neighbor 10\.255\.1\.2 route-map OVN-BGP-MINE in/, `operator neighbour line ${when}`);
    assert.match(frr, /neighbor 10\.255\.1\.2 description operator-spine/, `operator description ${when}`);
    assert.match(frr, /bgp router-id 10\.255\.1\.1/, `router-id ${when}`);
  }

  before(async () => {
    rig = await startAgentRig({
      ipv6: true,
      clusteredSb: true,
      config:
        layout === "vrf"
          ? ["announce_via = vrf"]
          : ["announce_via = table", `bgp_vrf_table_id = ${ANNOUNCE_TABLE}`],
    });
    const { central, ovs } = rig;
    // No periodic pass during the drills (the rig's is 5 s): every heal is the watchers' doing.
    drillConf = rig.extraConfig("drills.conf", ["[DEFAULT]", "reconcile_interval = 300"]);
    // br-int patched to br-ex, as ovn-controller leaves it: the agent's MAC-rewrite flows go on br-ex.
    await rig.patchBrInt();
    await central.nbctl(
      "lsp-add",
      "public",
      VM2.port,
      "--",
      "lsp-set-addresses",
      VM2.port,
      `${VM2.mac} ${VM2.ip4}`,
    );
    await central.waitForNorthd();
    // The operator's state.
    for (const argv of [FOREIGN.rule.cmd, FOREIGN.route, FOREIGN.neigh, FOREIGN.proxy]) await host(argv);
    // Helper-shaped (the agent's bridge helpers are 169.254.i.i/32) on a device the agent does not manage.
    await host(["ip", "addr", "add", "169.254.7.7/32", "dev", uplink()]);
    await ofctl(
      "add-flow",
      ovs.target("br-ex"),
      "cookie=0x1000,priority=900,ip,nw_dst=198.51.100.7,actions=NORMAL",
    );
    await ofctl(
      "add-flow",
      ovs.target("br-int"),
      "cookie=999,priority=900,ip,nw_dst=198.51.100.8,actions=NORMAL",
    );
    // In the running config and in the operator's frr.conf, so an frr-reload keeps it too.
    const operatorFrr = [
      "route-map OVN-BGP-MINE permit 10",
      "exit",
      "router bgp 64999",
      " address-family ipv4 unicast",
      "  neighbor 10.255.1.2 route-map OVN-BGP-MINE in",
      " exit-address-family",
      "exit",
    ];
    await rig.hostFrr.vtysh("configure terminal", ...operatorFrr.map((l) => l.trim()));
    appendFileSync(`${rig.hostFrr.confDir}/frr.conf`, `${operatorFrr.join("\n")}\n`);
    await central.sbctl("lsp-bind", RIG.vm1.port, CHASSIS);
    await central.sbctl("set", "Port_Binding", RIG.vm1.port, "up=true");
    await central.sbctl("lsp-bind", RIG.crLrp.port, CHASSIS);
    await central.sbctl("lsp-bind", RIG.vmTenant.port, "rack-2-host-1");
    await central.sbctl("set", "Port_Binding", RIG.vmTenant.port, "up=true");

    agent = startDrillAgent();
    await waitFor(() => /agent running/.test(log()), { what: "agent running", timeoutMs: 60_000 });
    await waitFor(allAtSpine, { what: "every prefix at the spine", timeoutMs: 60_000 });
    await waitFor(async () => /mod_dl_dst/.test(await ofctl("dump-flows", rig.ovs.target("br-ex"))), {
      what: "the MAC-rewrite flows on br-ex",
    });
    spine = new SpineWatch(rig);
    spine.start();
    await foreignIntact("after start");
  });

  after(async () => {
    await spine?.stop();
    if (figures.length) console.log(`drill figures:\n${figures.join("\n")}`);
    await rig?.stop();
  });

  test("drift of every owned kind, removed by hand, is healed (figure per kind)", async () => {
    const rule = async () =>
      /to 172\.24\.4\.92 lookup 200 proto 179/.test(await host(["ip", "rule", "show"]));
    const route =
      (table: number, dst: string, v6 = false) =>
      async () =>
        new RegExp(`^${dst.replace(/\./g, "\\.")} dev br-ex`, "m").test(
          await host(["ip", ...(v6 ? ["-6"] : []), "route", "show", "table", `${table}`, "proto", "179"]),
        );
    const neigh = async () =>
      /172\.24\.4\.163 lladdr fa:16:3e:bf:93:93 PERMANENT/.test(
        await host(["ip", "neigh", "show", "dev", "br-ex"]),
      );
    const proxies = () => host(["ip", "-6", "neigh", "show", "proxy"]);
    const [ourProxy] = /^(\S+) dev br-ex proxy proto 179/m.exec(await proxies()) ?? [];
    assert.ok(ourProxy, `the agent's NDP proxy entry: ${await proxies()}`);
    const proxyIp = ourProxy.split(" ")[0] as string;
    const sysctl = (key: string) => async () =>
      (await host(["cat", `/proc/sys/net/${key.replace(/\./g, "/")}`])).trim() === "1";
    const flows = async () =>
      (await ofctl("dump-flows", rig.ovs.target("br-ex"), "cookie=999/-1"))
        .split("\n")
        .filter((l) => /actions=/.test(l)).length === AGENT_FLOWS;

    const drills: DriftDrill[] = [
      {
        kind: "rule",
        remove: () =>
          host(["ip", "rule", "del", "priority", "32000", "to", RIG.vm1.ip4, "table", `${BRIDGE_TABLE}`]),
        healed: rule,
      },
      {
        kind: "bridge_route",
        remove: () => host(["ip", "route", "del", RIG.crLrp.ip4, "table", `${BRIDGE_TABLE}`]),
        healed: route(BRIDGE_TABLE, RIG.crLrp.ip4),
      },
      ...announceDrills(layout, host),
      {
        kind: "neighbour",
        remove: () => host(["ip", "neigh", "del", RIG.crLrp.ip4, "dev", "br-ex"]),
        healed: neigh,
      },
      {
        kind: "ndp_proxy",
        remove: () => host(["ip", "-6", "neigh", "del", "proxy", proxyIp, "dev", "br-ex"]),
        healed: async () => (await proxies()).includes(`${proxyIp} dev br-ex proxy proto 179`),
      },
      {
        kind: "sysctl_proxy_arp",
        remove: () => host(["sysctl", "-qw", "net.ipv4.conf.br-ex.proxy_arp=0"]),
        healed: sysctl("ipv4.conf.br-ex.proxy_arp"),
      },
      {
        kind: "sysctl_proxy_ndp",
        remove: () => host(["sysctl", "-qw", "net.ipv6.conf.br-ex.proxy_ndp=0"]),
        healed: sysctl("ipv6.conf.br-ex.proxy_ndp"),
      },
      {
        kind: "flow",
        remove: () => ofctl("del-flows", rig.ovs.target("br-ex"), "cookie=999/-1,ip"),
        healed: flows,
      },
      ...frrDrills(layout, rig),
    ];
    for (const d of drills) {
      assert.ok(await d.healed(), `${d.kind} in place before the drill`);
      const removedAt = Date.now();
      await d.remove();
      // A fast heal (a flow, through its monitor) can be back before the first look; the time is
      // then counted from the removal command's start.
      await timeUntil(`${d.kind} healed`, d.healed);
      const ms = Date.now() - removedAt;
      figure(`drift_heal_ms{kind=${d.kind}}`, ms, "ms");
      assert.ok(ms <= limit(DRIFT_LIMIT_MS), `${d.kind} healed in ${ms} ms (limit ${limit(DRIFT_LIMIT_MS)})`);
      await sleep(200);
    }
    await waitFor(allAtSpine, { what: "every prefix at the spine after the drift drills" });
    // NDP proxy entries: the poll heals them; a kernel that announces proxy deletions (6.18 here,
    // sometimes) lets `ip monitor` heal them first, so which one did is not asserted.
    assert.match(log(), /frr config drift/);
    await foreignIntact("after the drift drills");
  });

  test("FRR: a restart, then a reload that drops the agent's stanzas: the agent's lines and every route come back", async (t) => {
    const configured = () => (log().match(/"msg":"frr configured"/g) ?? []).length;
    // The restart first: it also gives the reload fresh daemons (FRR 8.4's bgpd was seen to abort,
    // signal 6, when frr-reload removed a redistribute whose route-map had been deleted and re-added
    // by the drift drill before: FRR's bug, not reproducible on fresh daemons).
    const restartStarted = Date.now();
    const c0 = configured();
    await rig.hostFrr.restart();
    const up = Date.now();
    await waitFor(() => configured() > c0, {
      what: "the agent re-applied FRR after its restart",
      intervalMs: 10,
    });
    figure("frr_restart_agent_reapplied_ms", Date.now() - up, "ms");
    await timeUntil("every prefix at the spine after an FRR restart", allAtSpine, 60_000);
    const ms = Date.now() - up;
    figure("frr_restart_daemons_up_ms", up - restartStarted, "ms");
    figure("frr_restart_heal_at_spine_ms", ms, "ms");
    // Most of it is the BGP session coming up again with the spine; the agent's part is above.
    assert.ok(ms <= limit(10_000), `back at the spine ${ms} ms after FRR was up`);

    if (!existsSync(platformFile(PLATFORM, FRR_RELOAD))) {
      t.skip(`${platformFile(PLATFORM, FRR_RELOAD)} missing (Debian package frr-pythontools)`);
      return;
    }
    // frr-reload.py with the operator's own frr.conf (which has none of the agent's lines) removes them.
    const from = Date.now();
    const c1 = configured();
    const reload = await run({
      // The platform's own frr-reload.py (it runs that platform's vtysh).
      argv: [
        ...toolPrefix(PLATFORM),
        FRR_RELOAD,
        "--reload",
        "--pathspace",
        rig.hostFrr.name,
        "--stdout",
        `${rig.hostFrr.confDir}/frr.conf`,
      ],
      netns: rig.hostNs.name,
    });
    const out = `${reload.stdout}${reload.stderr}`;
    let name = "frr_reload";
    if (reload.code !== 0 && !/Executed "/.test(out)) {
      // frr-reload.py failed before changing anything (inside user-mode Linux its vtysh "mark" step
      // exits 13): drop every agent stanza at once the way it would, and say so in the figure.
      t.diagnostic(`frr-reload.py failed before changing anything; emulated: ${out.slice(-300)}`);
      await rig.hostFrr.vtysh("configure terminal", ...agentStanzaRemovals(layout));
      name = "frr_reload_emulated";
    } else assert.equal(reload.code, 0, `${out}\n${await diagnostics()}`);
    const reloaded = Date.now();
    figure(`${name}_took_ms`, reloaded - from, "ms");
    await waitFor(() => configured() > c1, { what: "the agent re-applied its FRR lines", intervalMs: 10 });
    figure(`${name}_agent_lines_back_ms`, Date.now() - reloaded, "ms");
    await timeUntil("every prefix at the spine after frr-reload", allAtSpine);
    const reloadMs = Date.now() - reloaded;
    figure(`${name}_heal_at_spine_ms`, reloadMs, "ms");
    figure(`${name}_spine_samples_missing_a_prefix`, spine.withdrawals(PREFIXES, from).length, "samples");
    assert.ok(
      reloadMs <= limit(FRR_LIMIT_MS) + ZEBRA_ROUTE_MAP_DELAY_MS,
      `back at the spine ${reloadMs} ms after frr-reload\n${await diagnostics()}`,
    );
    assert.match(log(), /frr config drift/);
    await foreignIntact("after the FRR drills");
  });

  test("Southbound: the agent's member restarted, then the RAFT leader killed: nothing withdrawn, the next change applied fast, resumed", async () => {
    const cluster = rig.central.sbCluster;
    assert.ok(cluster, "clustered Southbound");
    /** The agent's Southbound monitor starts ("ovsdb monitoring" on a member's socket), oldest first. */
    const sbMonitors = () =>
      log()
        .split("\n")
        .filter((l) => l.includes('"msg":"ovsdb monitoring"') && l.includes("sb-raft"))
        .map((l) => JSON.parse(l) as { remote: string; sync: string });
    const connectedTo = () => sbMonitors().at(-1);
    const bindVm2Ms = async (what: string) => {
      await rig.central.sbctl("lsp-bind", VM2.port, CHASSIS);
      const t0 = Date.now();
      await waitFor(
        async () => new RegExp(`to ${VM2.ip4.replace(/\./g, "\\.")} lookup`).test(await host(["ip", "rule"])),
        {
          what: `${what}: vm2 exposed; log:\n${log().slice(-3000)}`,
          intervalMs: 20,
        },
      );
      const ms = Date.now() - t0;
      await rig.central.sbctl("lsp-unbind", VM2.port);
      await waitFor(async () => !(await host(["ip", "rule"])).includes(VM2.ip4), { what: "vm2 withdrawn" });
      return ms;
    };
    const from = Date.now();
    const before = connectedTo();
    assert.ok(before, "the agent said which Southbound member it uses");
    const mine = cluster.members.find((m) => before.remote === m.unixRemote);
    assert.ok(mine, `member for ${before.remote}`);
    const connects = () => sbMonitors().length;
    const n0 = connects();
    await mine.restart();
    await waitFor(() => connects() > n0, {
      what: "the agent reconnected to the Southbound",
      timeoutMs: 30_000,
    });
    const resumed = connectedTo();
    assert.equal(
      resumed?.sync,
      "resumed",
      `the agent resumed with monitor_cond_since: ${JSON.stringify(resumed)}`,
    );
    figure("sb_member_restart_change_ms", await bindVm2Ms("after a member restart"), "ms");

    const leader = await cluster.leader();
    const n1 = connects();
    const killedAt = Date.now();
    await cluster.members[leader]?.kill("SIGKILL");
    const newLeader = await cluster.waitForLeader({ exclude: leader, timeoutMs: limit(30_000) });
    figure("sb_leader_election_ms", Date.now() - killedAt, "ms");
    const ms = await bindVm2Ms("after leader failover");
    figure("sb_leader_failover_change_ms", ms, "ms");
    assert.ok(
      ms <= limit(SB_CHANGE_LIMIT_MS),
      `a change after the new leader (member ${newLeader}) applied in ${ms} ms`,
    );
    if (connects() > n1) assert.equal(connectedTo()?.sync, "resumed", "resumed after the failover");
    await cluster.members[leader]?.restart();

    const withdrawn = spine.withdrawals(PREFIXES, from);
    figure("sb_drill_spine_samples", spine.count(from), "samples");
    figure("sb_drill_withdrawals", withdrawn.length, "samples");
    assert.deepEqual(withdrawn, [], "no prefix withdrawn at the spine during the Southbound drills");
    assert.doesNotMatch(log(), /PortBindingChassisDeletedEvent.*vm1-port/);
    await foreignIntact("after the Southbound drills");
  });

  test("agent kill -9 and restart: nothing withdrawn, nothing recreated, no child left behind", async () => {
    const from = Date.now();
    const flowDurations = async () =>
      [
        ...(await ofctl("dump-flows", rig.ovs.target("br-ex"), "cookie=999/-1")).matchAll(
          /duration=([\d.]+)s/g,
        ),
      ].map((m) => Number(m[1]));
    const durationsBefore = await flowDurations();
    assert.equal(durationsBefore.length, AGENT_FLOWS);
    const pid = agent.child.pid as number;
    const children = (await host(["pgrep", "-P", `${pid}`]).catch(() => ""))
      .split("\n")
      .filter(Boolean)
      .map(Number);
    assert.ok(children.length >= 2, `the agent's monitors are its children: ${children}`);

    // The kernel's own event stream over the restart: anything the agent recreated would show.
    const monitor: ChildProcess = spawn("ip", ["netns", "exec", rig.hostNs.name, "ip", "monitor", "all"]);
    let events = "";
    monitor.stdout?.on("data", (b: Buffer) => {
      events += b.toString();
    });
    await sleep(300);
    try {
      const killedAt = Date.now();
      await agent.stop("SIGKILL");
      // Gone, or a zombie waiting for the init process to reap it.
      const gone = (c: number) => {
        try {
          return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${c}/stat`, "utf8"));
        } catch {
          return true;
        }
      };
      await waitFor(() => children.every(gone), {
        what: `the old agent's children ${children} gone`,
        timeoutMs: 2_000,
        intervalMs: 20,
      });
      figure("kill9_children_gone_ms", Date.now() - killedAt, "ms");
      agent = startDrillAgent();
      await waitFor(() => /agent running/.test(log()), { what: "agent restarted", timeoutMs: 60_000 });
      figure("kill9_restart_running_ms", Date.now() - killedAt, "ms");
      // Long enough for the first full pass of every target, which would recreate anything it had lost.
      await sleep(limit(3_000));
    } finally {
      monitor.kill();
    }
    const ours = events
      .split("\n")
      .filter((l) => /proto 179|172\.24\.4\.(92|163)|10\.0\.0\.64|2001:db8::/.test(l));
    figure("kill9_kernel_events_for_agent_objects", ours.length, "events");
    assert.deepEqual(ours, [], "the restart recreated nothing in the kernel");
    const durationsAfter = await flowDurations();
    assert.ok(
      durationsAfter.every((d) => d >= Math.min(...durationsBefore)),
      `flows kept (durations ${durationsBefore} → ${durationsAfter})`,
    );
    assert.doesNotMatch(log(), /frr configured/, "nothing written to FRR");
    assert.doesNotMatch(log(), /PortBindingChassisDeletedEvent/, "a restart withdraws nothing");
    const withdrawn = spine.withdrawals(PREFIXES, from);
    figure("kill9_withdrawals", withdrawn.length, "samples");
    assert.deepEqual(withdrawn, []);
    await foreignIntact("after kill -9 and restart");
  });

  test("malformed Southbound rows: the agent keeps serving every valid exposure and names each bad row", async () => {
    const { central } = rig;
    const from = Date.now();
    // northd would delete Port_Bindings it did not make: pause it so the rows stay as written.
    await central.northd.stop();
    try {
      const uuid = async (...find: string[]) =>
        (await central.sbctl("--bare", "--columns=_uuid", "find", ...find)).trim().split("\n")[0] as string;
      const publicDp = await uuid("Datapath_Binding", "external_ids:name=public");
      const tenantDp = await uuid("Datapath_Binding", "external_ids:name=private-test");
      const routerDp = await uuid("Datapath_Binding", "external_ids:name=router-test");
      const chassis = await uuid("Chassis", `name=${CHASSIS}`);
      assert.ok(publicDp && tenantDp && routerDp && chassis, "datapaths and chassis found");
      const bad: Array<{ port: string; fields: string[] }> = [
        { port: "bad-mac-garbage", fields: [`datapath=${publicDp}`, 'mac=["garbage"]'] },
        { port: "bad-mac-ip", fields: [`datapath=${publicDp}`, 'mac=["fa:16:3e:00:00:01 300.1.1.1"]'] },
        { port: "bad-mac-prefix", fields: [`datapath=${publicDp}`, 'mac=["fa:16:3e:00:00:02 0.0.0.0/0"]'] },
        {
          port: "bad-nat",
          fields: [
            `datapath=${publicDp}`,
            "type=patch",
            "options:peer=nowhere",
            'nat_addresses=["zzz 1.2.3", "fa:16:3e:00:00:04 172.24.4.300"]',
          ],
        },
        // A second subnet attached to the router, as Neutron attaches one, whose network is a /0.
        {
          port: "bad-router-port",
          fields: [
            `datapath=${routerDp}`,
            "type=patch",
            "options:peer=bad-router-peer",
            'mac=["fa:16:3e:34:30:99 10.0.0.65/0"]',
          ],
        },
        {
          port: "bad-router-peer",
          fields: [`datapath=${tenantDp}`, "type=patch", "options:peer=bad-router-port", 'mac=["router"]'],
        },
      ];
      // Odd external_ids on an otherwise valid port: the valid part is served.
      const odd = {
        port: "odd-external-ids",
        fields: [
          `datapath=${publicDp}`,
          'mac=["fa:16:3e:00:00:05 172.24.4.95"]',
          'external_ids:"neutron:cidrs"="0.0.0.0/0 garbage"',
          'external_ids:"neutron:device_owner"="network:router_gateway"',
        ],
      };
      let key = 9000;
      for (const b of [...bad, odd])
        await central.sbctl(
          "create",
          "Port_Binding",
          `logical_port=${b.port}`,
          `tunnel_key=${key++}`,
          `chassis=${chassis}`,
          ...b.fields,
        );
      // A valid change afterwards is still applied.
      await central.sbctl("lsp-bind", VM2.port, CHASSIS);
      await waitFor(async () => (await host(["ip", "rule"])).includes(VM2.ip4), {
        what: `vm2 exposed; log:\n${log().slice(-3000)}`,
      });
      await sleep(1_500);
      assert.equal(agent.child.exitCode, null, "the agent keeps running");
      const named = (port: string) =>
        log()
          .split("\n")
          .filter((l) => l.includes(port) && /skipped|refused|invalid/i.test(l));
      for (const b of bad.filter((x) => x.port !== "bad-router-peer")) {
        const lines = named(b.port);
        console.log(`${b.port}:\n${lines.join("\n")}`);
        figure(`malformed_row_named{port=${b.port}}`, lines.length, "lines");
        assert.ok(lines.length >= 1, `${b.port} named`);
        const messages = lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
        assert.equal(new Set(messages).size, messages.length, `${b.port}: each problem named once`);
      }
      assert.match(
        await host(["ip", "rule"]),
        /to 172\.24\.4\.95 lookup/,
        "the odd row's valid IP is exposed",
      );
      assert.ok(await allAtSpine(), "every valid prefix still at the spine");
      const withdrawn = spine.withdrawals(PREFIXES, from);
      assert.deepEqual(withdrawn, [], "nothing valid withdrawn because of the bad rows");
      for (const b of [...bad, odd])
        await central.sbctl(
          "--if-exists",
          "destroy",
          "Port_Binding",
          (await uuid("Port_Binding", `logical_port=${b.port}`)) || "none",
        );
      await central.sbctl("lsp-unbind", VM2.port);
    } finally {
      await central.northd.start();
    }
    await foreignIntact("after the malformed rows");
  });

  test("withdrawing everything removes the agent's objects and only those", async () => {
    const { central } = rig;
    for (const p of [RIG.vm1.port, RIG.crLrp.port]) await central.sbctl("lsp-unbind", p);
    await waitFor(async () => !/proto 179/.test(await host(["ip", "rule", "show"])), {
      what: "the agent's rules withdrawn",
    });
    await waitFor(async () => !(`${RIG.vm1.ip4}/32` in (await rig.spineRoutes(4))), {
      what: "withdrawn at the spine",
    });
    await foreignIntact("after the agent withdrew everything");
  });
}

/** The drift kinds of the announce path: the announce table's routes, or the dummy's addresses. */
function announceDrills(
  layout: "table" | "vrf",
  host: (argv: readonly string[]) => Promise<string>,
): DriftDrill[] {
  if (layout === "vrf") {
    const addr = (family: 4 | 6, cidr: string): DriftDrill => ({
      kind: `announce_address_v${family}`,
      remove: () => host(["ip", `-${family}`, "addr", "del", cidr, "dev", "bgp-nic"]),
      healed: async () => (await host(["ip", `-${family}`, "addr", "show", "dev", "bgp-nic"])).includes(cidr),
    });
    return [addr(4, `${RIG.vm1.ip4}/32`), addr(6, `${RIG.vm1.ip6}/128`)];
  }
  const route = (table: number, dst: string) => async () =>
    new RegExp(`^${dst.replace(/\./g, "\\.")} dev br-ex`, "m").test(
      await host(["ip", "route", "show", "table", `${table}`, "proto", "179"]),
    );
  return [
    {
      kind: "announce_route",
      remove: () => host(["ip", "route", "del", RIG.vm1.ip4, "table", `${ANNOUNCE_TABLE}`]),
      healed: route(ANNOUNCE_TABLE, RIG.vm1.ip4),
    },
    {
      kind: "announce_route_v6",
      remove: () => host(["ip", "-6", "route", "del", RIG.vm1.ip6, "dev", "br-ex", "metric", "1179"]),
      healed: async () =>
        /2001:db8::21c dev br-ex metric 1179/.test(await host(["ip", "-6", "route", "show", "proto", "179"])),
    },
  ];
}

/** What frr-reload sends to remove the agent's stanzas (its own frr.conf has none of them). */
function agentStanzaRemovals(layout: "table" | "vrf"): string[] {
  const af = (afi: string, line: string) => [
    "router bgp 64999",
    `address-family ${afi} unicast`,
    line,
    "exit-address-family",
    "exit",
  ];
  if (layout === "vrf")
    return [
      ...af("ipv4", "no import vrf bgp-vrf"),
      ...af("ipv6", "no import vrf bgp-vrf"),
      "no router bgp 64999 vrf bgp-vrf",
      "no route-map OVN-BGP-CONNECTED permit 10",
    ];
  return [
    `no ip import-table ${ANNOUNCE_TABLE} route-map OVN-BGP-TABLE`,
    ...af("ipv4", `no redistribute table ${ANNOUNCE_TABLE} route-map OVN-BGP-TABLE`),
    ...af("ipv6", "no redistribute kernel route-map OVN-BGP-KERNEL6"),
    "no route-map OVN-BGP-TABLE permit 10",
    "no route-map OVN-BGP-KERNEL6 permit 10",
  ];
}

/** The drift kinds of the agent's FRR lines (each layout renders its own). */
function frrDrills(layout: "table" | "vrf", rig: AgentRig): DriftDrill[] {
  const frrHas = (re: RegExp) => async () => re.test(await rig.hostFrr.vtysh("show running-config"));
  if (layout === "vrf")
    return [
      {
        kind: "frr_import_vrf",
        remove: () =>
          rig.hostFrr.vtysh(
            "configure terminal",
            "router bgp 64999",
            "address-family ipv4 unicast",
            "no import vrf bgp-vrf",
          ),
        healed: frrHas(/address-family ipv4 unicast\n( {2}.*\n)* {2}import vrf bgp-vrf/),
      },
      {
        kind: "frr_route_map",
        remove: () => rig.hostFrr.vtysh("configure terminal", "no route-map OVN-BGP-CONNECTED"),
        healed: frrHas(/^route-map OVN-BGP-CONNECTED permit 10$/m),
      },
    ];
  return [
    {
      kind: "frr_redistribute",
      remove: () =>
        rig.hostFrr.vtysh(
          "configure terminal",
          "router bgp 64999",
          "address-family ipv4 unicast",
          `no redistribute table ${ANNOUNCE_TABLE} route-map OVN-BGP-TABLE`,
        ),
      healed: frrHas(new RegExp(`redistribute table ${ANNOUNCE_TABLE} route-map OVN-BGP-TABLE`)),
    },
    {
      kind: "frr_route_map",
      remove: () => rig.hostFrr.vtysh("configure terminal", "no route-map OVN-BGP-KERNEL6"),
      healed: frrHas(/route-map OVN-BGP-KERNEL6 permit 10\n match metric 1179/),
    },
  ];
}
