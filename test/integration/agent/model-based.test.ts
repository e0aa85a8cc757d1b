/**
 * MODEL-BASED: random sequences of Southbound operations (bind, unbind, move, FIP set/unset, router
 * gateway set/unset and move, subnet attach/detach, tenant VM moves) written to a real Southbound,
 * with the agent running in-process on a chassis namespace (real kernel, OVS with the userspace
 * datapath, FRR). At quiescence a *fresh* pipeline (planner from scratch on the Southbound, appliers
 * observing the host) finds nothing to change in the kernel, the flows or FRR: the running agent's
 * incremental state equals what the planner wants. After everything is removed, nothing the agent
 * made is left. Run for both rule layouts; the running agent must have used its delta path.
 *
 * Also: drift right after a delta is healed (route, rule, neighbour, address removed by hand), and a
 * kernel refusal on one object (a foreign route in the way) leaves the rest applied, is reported
 * with the object, and is retried until it succeeds.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { loadConfig } from "../../../src/config/load.ts";
import { run } from "../../../src/host/exec.ts";
import { OvsdbClient } from "../../../src/ovsdb/client.ts";
import { Agent } from "../../../src/reconcile/agent.ts";
import { SB_DATABASE } from "../../../src/sb/monitor-spec.ts";
import { silentLogger } from "../../../src/util/log.ts";
import { type AgentMetrics, createMetrics } from "../../../src/util/metrics.ts";
import { type FrrInstance, frrUnavailable, startFrr } from "../../support/frr.ts";
import { createNetns, type Netns, netnsUnavailable } from "../../support/netns.ts";
import { type OvsSwitch, ovsUnavailable, startOvs } from "../../support/ovs-switch.ts";
import { type OvsdbServer, startOvsdbServer } from "../../support/ovsdb-server.ts";
import { makeTempDir } from "../../support/temp-dir.ts";
import { waitFor } from "../../support/wait.ts";

const REPO = join(import.meta.dirname, "../../..");
const skip = netnsUnavailable() ?? ovsUnavailable() ?? frrUnavailable() ?? false;
const ME = "mbt-me";
const PROTO = 179;
const VMS = 5;
const ROUTERS = 2;
const TVMS = 2;

const map = (o: Record<string, string>) => ["map", Object.entries(o)];
const set = (a: readonly string[]) => ["set", a];
const ref = (u: string) => ["uuid", u];
const hex = (n: number) => n.toString(16).padStart(2, "0");

/** The Southbound as the test means it to be: what each port is and where it is bound. */
interface World {
  vm: Array<"me" | "other">;
  /** Router gateway: absent, or bound to a chassis. */
  gw: Array<"none" | "me" | "other">;
  subnet: boolean[];
  /** Tenant VM [router][k]: bound where, and whether it has a FIP. */
  tvm: Array<Array<{ at: "me" | "other"; fip: boolean }>>;
}

const opArb = fc.oneof(
  fc.record({
    op: fc.constant("vm" as const),
    i: fc.nat(VMS - 1),
    at: fc.constantFrom("me" as const, "other" as const),
  }),
  fc.record({
    op: fc.constant("gw" as const),
    r: fc.nat(ROUTERS - 1),
    at: fc.constantFrom("none" as const, "me" as const, "other" as const),
  }),
  fc.record({ op: fc.constant("subnet" as const), r: fc.nat(ROUTERS - 1), on: fc.boolean() }),
  fc.record({
    op: fc.constant("tvm" as const),
    r: fc.nat(ROUTERS - 1),
    k: fc.nat(TVMS - 1),
    at: fc.constantFrom("me" as const, "other" as const),
  }),
  fc.record({
    op: fc.constant("fip" as const),
    r: fc.nat(ROUTERS - 1),
    k: fc.nat(TVMS - 1),
    on: fc.boolean(),
  }),
);
type Op = typeof opArb extends fc.Arbitrary<infer T> ? T : never;

function applyOp(w: World, o: Op): void {
  if (o.op === "vm") w.vm[o.i] = o.at;
  else if (o.op === "gw") w.gw[o.r] = o.at;
  else if (o.op === "subnet") w.subnet[o.r] = o.on;
  else if (o.op === "tvm") (w.tvm[o.r]?.[o.k] as { at: string }).at = o.at;
  else (w.tvm[o.r]?.[o.k] as { fip: boolean }).fip = o.on;
}

/** Writes a World into the Southbound with one transaction per change (Neutron-shaped rows). */
class SbWriter {
  readonly client: OvsdbClient;
  private chassis: Record<"me" | "other", string> = { me: "", other: "" };
  private dps: Record<string, string> = {};
  /** logical_port → uuid of the rows that exist. */
  private rows = new Map<string, string>();
  private tunnelKey = 100;

  constructor(remote: string) {
    this.client = new OvsdbClient({
      remotes: remote,
      database: SB_DATABASE,
      tables: { Chassis: { columns: ["name"] } },
    }).start();
  }

  async init(): Promise<void> {
    await this.client.whenSynced();
    const ops: object[] = [];
    for (const [i, name] of [ME, "mbt-other"].entries()) {
      ops.push({
        op: "insert",
        table: "Encap",
        "uuid-name": `e${i}`,
        row: { type: "geneve", ip: `198.51.100.${i + 1}`, chassis_name: name },
      });
      ops.push({
        op: "insert",
        table: "Chassis",
        row: { name, hostname: name, encaps: ["named-uuid", `e${i}`] },
      });
    }
    const dpNames = [
      "public",
      ...Array.from({ length: ROUTERS }, (_, r) => [`router-${r}`, `tenant-${r}`]).flat(),
    ];
    for (const [i, name] of dpNames.entries())
      ops.push({
        op: "insert",
        table: "Datapath_Binding",
        row: { tunnel_key: i + 1, external_ids: map({ name }) },
      });

    const res = (await this.client.transact(ops)) as Array<{ uuid?: [string, string] }>;
    this.chassis = { me: res[1]?.uuid?.[1] ?? "", other: res[3]?.uuid?.[1] ?? "" };
    dpNames.forEach((name, i) => {
      this.dps[name] = res[4 + i]?.uuid?.[1] ?? "";
    });
    await this.put("provnet-public", {
      type: "localnet",
      datapath: "public",
      mac: ["unknown"],
      options: { network_name: "public" },
    });
  }

  /** Insert or update one Port_Binding by logical_port; `undefined` deletes it. */
  async put(
    name: string,
    row:
      | {
          type?: string;
          datapath: string;
          mac: readonly string[];
          at?: "me" | "other";
          options?: Record<string, string>;
          nat?: readonly string[];
        }
      | undefined,
  ): Promise<void> {
    const uuid = this.rows.get(name);
    if (!row) {
      if (!uuid) return;
      await this.client.transact([
        { op: "delete", table: "Port_Binding", where: [["_uuid", "==", ref(uuid)]] },
      ]);
      this.rows.delete(name);
      return;
    }
    const body = {
      type: row.type ?? "",
      mac: set(row.mac),
      chassis: row.at ? ref(this.chassis[row.at]) : set([]),
      up: row.at !== undefined,
      options: map(row.options ?? {}),
      nat_addresses: set(row.nat ?? []),
    };
    if (uuid) {
      await this.client.transact([
        { op: "update", table: "Port_Binding", where: [["_uuid", "==", ref(uuid)]], row: body },
      ]);
      return;
    }
    const res = (await this.client.transact([
      {
        op: "insert",
        table: "Port_Binding",
        row: {
          ...body,
          logical_port: name,
          datapath: ref(this.dps[row.datapath] ?? ""),
          tunnel_key: this.tunnelKey++,
        },
      },
    ])) as Array<{ uuid?: [string, string] }>;
    this.rows.set(name, res[0]?.uuid?.[1] ?? "");
  }

  /** Bring the Southbound to `w` (only the rows that differ from `was` are written). */
  async write(w: World, was: World | undefined): Promise<void> {
    const same = (a: unknown, b: unknown) => was !== undefined && JSON.stringify(a) === JSON.stringify(b);
    for (let i = 0; i < VMS; i++) {
      if (same(w.vm[i], was?.vm[i])) continue;
      await this.put(`vm-${i}`, {
        datapath: "public",
        mac: [`fa:16:3e:00:00:${hex(i)} 172.24.4.${10 + i} 2001:db8::${(10 + i).toString(16)}`],
        at: w.vm[i] ?? "other",
      });
    }
    for (let r = 0; r < ROUTERS; r++) {
      const gwMac = `fa:16:3e:00:01:${hex(r)}`;
      const gwNets = `172.24.4.${160 + r}/24 2001:db8::${(32 + r).toString(16)}/64`;
      const fips = (w.tvm[r] ?? [])
        .map((t, k) =>
          t.fip
            ? `fa:16:3e:00:03:${hex(r * 16 + k)} 172.24.4.${70 + r * 10 + k} is_chassis_resident("tvm-${r}-${k}")`
            : undefined,
        )
        .filter((x): x is string => x !== undefined);
      if (!same([w.gw[r], w.tvm[r]], [was?.gw[r], was?.tvm[r]])) {
        const on = w.gw[r] !== "none";
        await this.put(
          `lrp-gw-${r}`,
          on
            ? {
                type: "patch",
                datapath: `router-${r}`,
                mac: [`${gwMac} ${gwNets}`],
                options: { peer: `lsp-gw-${r}` },
              }
            : undefined,
        );
        await this.put(
          `cr-lrp-gw-${r}`,
          on
            ? {
                type: "chassisredirect",
                datapath: `router-${r}`,
                mac: [`${gwMac} ${gwNets}`],
                at: w.gw[r] === "me" ? "me" : "other",
                options: { "distributed-port": `lrp-gw-${r}` },
              }
            : undefined,
        );
        await this.put(
          `lsp-gw-${r}`,
          on
            ? {
                type: "patch",
                datapath: "public",
                mac: ["router"],
                options: { peer: `lrp-gw-${r}` },
                nat: fips,
              }
            : undefined,
        );
      }
      if (!same(w.subnet[r], was?.subnet[r])) {
        const on = w.subnet[r] === true;
        await this.put(
          `lrp-t-${r}`,
          on
            ? {
                type: "patch",
                datapath: `router-${r}`,
                mac: [`fa:16:3e:00:02:${hex(r)} 10.0.${r}.1/24`],
                options: { peer: `lsp-t-${r}` },
              }
            : undefined,
        );
        await this.put(
          `lsp-t-${r}`,
          on
            ? { type: "patch", datapath: `tenant-${r}`, mac: ["router"], options: { peer: `lrp-t-${r}` } }
            : undefined,
        );
      }
      for (let k = 0; k < TVMS; k++) {
        const t = w.tvm[r]?.[k];
        if (!t || same(t.at, was?.tvm[r]?.[k]?.at)) continue;
        await this.put(`tvm-${r}-${k}`, {
          datapath: `tenant-${r}`,
          mac: [`fa:16:3e:00:04:${hex(r * 16 + k)} 10.0.${r}.${10 + k}`],
          at: t.at,
        });
      }
    }
  }

  /** Delete every port (chassis and datapaths stay). */
  async clear(): Promise<void> {
    for (const name of [...this.rows.keys()]) await this.put(name, undefined);
  }
}

function initialWorld(): World {
  return {
    vm: Array.from({ length: VMS }, () => "other" as const),
    gw: Array.from({ length: ROUTERS }, () => "none" as const),
    subnet: Array.from({ length: ROUTERS }, () => false),
    tvm: Array.from({ length: ROUTERS }, () =>
      Array.from({ length: TVMS }, () => ({ at: "other" as const, fip: false })),
    ),
  };
}

for (const layout of ["per-ip", "per-bridge"] as const) {
  describe(`model-based: the running agent converges to the planner's wish (${layout})`, { skip }, () => {
    let ns: Netns;
    let ovs: OvsSwitch;
    let frr: FrrInstance;
    let sb: OvsdbServer;
    let writer: SbWriter;
    let agent: Agent;
    let metrics: AgentMetrics;
    let confFile: string;
    let planDiff = "";
    const log = silentLogger();
    /** The agent's flows on br-ex (cookie 999, the default flow_cookie). */
    const ourFlows = async () =>
      (await ovs.ofctl("dump-flows", ovs.target("br-ex"), "cookie=999/-1"))
        .split("\n")
        .filter((l) => l.includes("actions="));

    const config = () => loadConfig({ configFiles: [confFile] }).config;
    const ip = (...args: string[]) => ns.exec(["ip", ...args]);
    const json = async (...args: string[]) =>
      JSON.parse((await ip("-N", "-j", ...args)) || "[]") as Array<Record<string, unknown>>;

    /** A fresh pipeline's dry run: what it would still change (empty = converged). */
    const remaining = async (): Promise<string[]> => {
      const fresh = new Agent(config(), { log, netns: ns.name, watch: false });
      try {
        await fresh.open();
        const d = await fresh.dryRun();
        const out = [
          ...d.kernel.ops.map((o) => `kernel ${o.op} ${o.kind} ${o.key}`),
          ...d.kernel.blocked.map((b) => `kernel blocked ${b.kind} ${b.key}: ${b.error}`),
        ];
        if ("error" in d.flows) out.push(`flows: ${d.flows.error}`);
        else
          for (const b of d.flows.bridges)
            for (const f of [...b.added, ...b.removed]) out.push(`flow ${b.bridge} ${f.match}`);
        if ("error" in d.frr) out.push(`frr: ${d.frr.error}`);
        else if (d.frr.script.trim() !== "") out.push(`frr: ${d.frr.script.trim()}`);
        return out;
      } finally {
        await fresh.stop();
      }
    };

    const converged = async (what: string) => {
      let last: string[] = [];
      await waitFor(
        async () => {
          await agent.idle();
          last = await remaining();
          return last.length === 0;
        },
        {
          what: `${what}: still to change: ${last.slice(0, 8).join(" | ")}`,
          timeoutMs: 20_000,
          intervalMs: 50,
        },
      ).catch(async (e) => {
        // What the switch holds: tells a flow never written from one written and lost.
        const flows = await ovs.ofctl("dump-flows", ovs.target("br-ex")).catch((err: unknown) => String(err));
        throw new Error(
          `${(e as Error).message}\nremaining: ${last.slice(0, 12).join("\n  ")}\nbr-ex holds:\n${flows}`,
        );
      });
    };

    before(async () => {
      ns = await createNetns("mbt");
      sb = await startOvsdbServer({ schema: "sb", name: "mbt-sb" });
      ovs = await startOvs(ns.name);
      await ovs.addBridge("br-ex");
      await ovs.addBridge("br-int");
      await ns.exec(["ip", "link", "set", "br-ex", "up"]);
      // The patch pair ovn-controller makes for the localnet: the agent's MAC-rewrite flows use it.
      await ovs.vsctl(
        "add-port",
        "br-ex",
        "patch-provnet-to-br-int",
        "--",
        "set",
        "interface",
        "patch-provnet-to-br-int",
        "type=patch",
        "options:peer=patch-br-int-to-provnet",
        "--",
        "add-port",
        "br-int",
        "patch-br-int-to-provnet",
        "--",
        "set",
        "interface",
        "patch-br-int-to-provnet",
        "type=patch",
        "options:peer=patch-provnet-to-br-int",
      );
      await ovs.vsctl(
        "set",
        "Open_vSwitch",
        ".",
        `external_ids:system-id=${ME}`,
        `external_ids:ovn-remote=${sb.unixRemote}`,
        "external_ids:ovn-bridge-mappings=public:br-ex",
      );
      // ovs-ofctl finds this switch's bridges through OVS_RUNDIR (children inherit it).
      Object.assign(process.env, ovs.env);
      frr = await startFrr({ netns: ns.name, tag: "mbtfrr" });
      await frr.waitReady();
      const dir = makeTempDir("mbt");
      confFile = join(dir, "bgp-agent.conf");
      const { writeFileSync } = await import("node:fs");
      writeFileSync(
        confFile,
        [
          "[DEFAULT]",
          "bgp_AS = 64999",
          "bgp_router_id = 10.255.9.1",
          "expose_tenant_networks = True",
          "announce_via = table",
          "bgp_vrf_table_id = 199",
          `ip_rule_layout = ${layout}`,
          `route_protocol = ${PROTO}`,
          `ovsdb_connection = ${ovs.db}`,
          `frr_vty_socket_dir = ${frr.socketDir}`,
          `rt_tables_dropin = ${join(dir, "rt_tables.d", "ovn-bgp.conf")}`,
          "reconcile_interval = 3600",
          "",
        ].join("\n"),
      );
      writer = new SbWriter(sb.unixRemote);
      await writer.init();
      // Before the agent runs: what `plan --diff` says a sync would change (kernel, flows and FRR).
      const res = await run({
        argv: [
          "node",
          "--import",
          "tsx",
          join(REPO, "src/cli/main.ts"),
          "plan",
          "--diff",
          "--config-file",
          confFile,
        ],
        netns: ns.name,
        env: { ...ovs.env },
        timeoutMs: 60_000,
      });
      assert.equal(res.code, 0, res.stderr);
      planDiff = res.stdout;
      metrics = createMetrics({ defaultMetrics: false });
      agent = new Agent(config(), { log, metrics, netns: ns.name });
      await agent.start();
      await converged("start");
      assert.equal(
        (await ourFlows()).length,
        5,
        "the MAC-rewrite flows (ip, ipv6) and the IPv6 neighbour-solicitation responder (three) on br-ex",
      );
    });

    after(async () => {
      await agent?.stop();
      await writer?.client.stop();
      await frr?.stop();
      await ovs?.stop();
      await ns?.remove();
      await sb?.stop();
    });

    test("plan --diff shows what a sync would change in the kernel, the flows and FRR", () => {
      assert.match(planDiff, /# what a sync would change in the kernel \(\d+ op\(s\)\)/);
      assert.match(planDiff, /add route 4\|200\|default/);
      assert.match(planDiff, /# what a sync would change in the provider bridges' flows \(5 flow\(s\)\)/);
      assert.match(
        planDiff,
        /add flow br-ex cookie=999,priority=900,ip,in_port=patch-provnet-to-br-int actions=mod_dl_dst:/,
      );
      assert.match(planDiff, /# what a sync would send to FRR \([1-9]\d* line\(s\)\)[\s\S]*import-table 199/);
    });

    test("random Southbound sequences: at quiescence a fresh pipeline finds nothing to change", async () => {
      let world = initialWorld();
      let was: World | undefined;
      const sequences = fc.sample(fc.array(opArb, { minLength: 4, maxLength: 8 }), {
        numRuns: 4,
        seed: layout === "per-ip" ? 7 : 11,
      });
      for (const [s, ops] of sequences.entries()) {
        for (const op of ops) {
          applyOp(world, op);
          await writer.write(world, was);
          was = structuredClone(world);
        }
        await converged(`sequence ${s + 1}: ${ops.map((o) => JSON.stringify(o)).join(" ")}`);
      }
      const deltas = (await metrics.passesTotal.get()).values.find(
        (v) => v.labels.target === "kernel" && v.labels.mode === "delta",
      );
      assert.ok(
        (deltas?.value ?? 0) > 0,
        "the running agent applied Southbound changes through its delta path",
      );
      world = initialWorld();
      await writer.write(world, was);
      was = structuredClone(world);
    });

    test("drift right after a delta is healed: route, rule, neighbour and address removed by hand", async () => {
      const w = initialWorld();
      w.vm[0] = "me";
      w.gw[0] = "me";
      await writer.write(w, initialWorld());
      await converged("vm-0 and the gateway bound here");
      // Remove by hand, at once after the delta: each comes back.
      await ip("route", "del", "172.24.4.10/32", "table", "200");
      if (layout === "per-ip")
        await ip(
          "rule",
          "del",
          "to",
          "172.24.4.10",
          "lookup",
          "200",
          "priority",
          "32000",
          "protocol",
          String(PROTO),
        );
      else
        await ip(
          "rule",
          "del",
          "lookup",
          "200",
          "suppress_prefixlength",
          "0",
          "priority",
          "32000",
          "protocol",
          String(PROTO),
        );
      await ip("neigh", "del", "172.24.4.160", "dev", "br-ex");
      await ip("address", "del", "169.254.1.1/32", "dev", "br-ex");
      await converged("healed after drift");
      // Flows and sysctls have their own watches: deleted flows and a reset proxy_arp come back
      // within seconds, far ahead of the periodic pass.
      const flowPasses = async () =>
        (await metrics.passesTotal.get()).values
          .filter((v) => v.labels.target === "flows")
          .reduce((n, v) => n + v.value, 0);
      const before = await flowPasses();
      await ovs.ofctl("del-flows", ovs.target("br-ex"), "cookie=999/-1");
      await ns.exec(["sysctl", "-qw", "net.ipv4.conf.br-ex.proxy_arp=0"]);
      await waitFor(async () => (await ourFlows()).length === 5, {
        what: "br-ex flows back",
        timeoutMs: 3_000,
        intervalMs: 50,
      });
      await waitFor(
        async () => (await ns.exec(["cat", "/proc/sys/net/ipv4/conf/br-ex/proxy_arp"])).trim() === "1",
        { what: "proxy_arp back", timeoutMs: 3_000, intervalMs: 50 },
      );
      assert.ok((await flowPasses()) > before, "a flows pass ran for the drift");
      await writer.write(initialWorld(), w);
      await converged("back to nothing");
    });

    test("a kernel refusal on one object leaves the rest applied, names the object, and is retried", async () => {
      // A foreign route where vm-1's host route must go: the kernel refuses ours ("File exists").
      await ip("route", "add", "172.24.4.11/32", "dev", "br-ex", "table", "200", "proto", "static");
      const w = initialWorld();
      w.vm[1] = "me";
      w.vm[2] = "me";
      await writer.write(w, initialWorld());
      await waitFor(
        async () => {
          await agent.idle();
          const st = agent.status.get("kernel");
          return st && !st.ok && st.details?.some((d) => d.includes("172.24.4.11/32"));
        },
        { what: "the kernel target reports vm-1's route", timeoutMs: 10_000 },
      );
      const routes = (await json("route", "show", "table", "200")).map((r) => `${r.dst} ${r.protocol}`);
      assert.ok(
        routes.includes(`172.24.4.12 ${PROTO}`),
        `vm-2 applied despite vm-1's failure: ${routes.join(", ")}`,
      );
      await ip("route", "del", "172.24.4.11/32", "table", "200", "proto", "static");
      await converged("the retry applies vm-1's route once the foreign one is gone");
      assert.equal(agent.status.get("kernel")?.ok, true);
      await writer.write(initialWorld(), w);
      await converged("back to nothing");
    });

    test("after everything is removed nothing the agent made is left", async () => {
      await writer.clear();
      await converged("every port deleted");
      await ovs.vsctl("remove", "Open_vSwitch", ".", "external_ids", "ovn-bridge-mappings");
      await converged("no provider bridge mapped");
      const rules = [...(await json("-4", "rule", "show")), ...(await json("-6", "rule", "show"))].filter(
        (r) => String(r.protocol) === String(PROTO),
      );
      assert.deepEqual(rules, [], "no rule of ours");
      const routes = [
        ...(await json("-4", "route", "show", "table", "all")),
        ...(await json("-6", "route", "show", "table", "all")),
      ].filter((r) => String(r.protocol) === String(PROTO));
      assert.deepEqual(routes, [], "no route of ours");
      const neighs = (await json("neigh", "show", "nud", "permanent")).filter(
        (n) => String(n.protocol) === String(PROTO),
      );
      assert.deepEqual(neighs, [], "no neighbour of ours");
      const addrs = (await json("address", "show", "dev", "br-ex")).flatMap(
        (l) => (l.addr_info as Array<{ local: string; scope: string }>) ?? [],
      );
      assert.deepEqual(
        addrs.map((a) => a.local).filter((a) => !a.startsWith("fe80:")),
        [],
        "no helper address left on br-ex",
      );
      assert.deepEqual(await ourFlows(), [], "no flow of ours on br-ex");
    });
  });
}
