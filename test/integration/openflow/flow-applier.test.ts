/**
 * The flow applier against a real Open vSwitch 3.1 (userspace datapath, inside a test namespace):
 * br-ex with OVN-style patch ports to br-int, the MAC-rewrite flows upstream installs (cookie 999,
 * priority 900), idempotence, foreign flows, removal, and a patch port that appears late.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Exec, type ExecRequest, run } from "../../../src/host/exec.ts";
import { FlowApplier } from "../../../src/host/openflow/flow-applier.ts";
import { parseDumpFlows } from "../../../src/host/openflow/flow-text.ts";
import type { FlowSpec } from "../../../src/plan/desired-state.ts";
import { createNetns, type Netns, netnsUnavailable } from "../../support/netns.ts";
import { type OvsSwitch, ovsUnavailable, startOvs } from "../../support/ovs-switch.ts";

const skip = netnsUnavailable() ?? ovsUnavailable();
const COOKIE = 999;
const PRIORITY = 900;
const PATCH_X = "patch-provnet-x-to-br-int";
const PATCH_Y = "patch-provnet-y-to-br-int";

const macFlows = (port: string, mac: string): FlowSpec[] =>
  (["ip", "ipv6"] as const).map((proto) => ({
    bridge: "br-ex",
    cookie: COOKIE,
    priority: PRIORITY,
    match: `${proto},in_port=${port}`,
    actions: `mod_dl_dst:${mac},NORMAL`,
  }));

describe("FlowApplier against a real OVS", { skip }, () => {
  let ns: Netns;
  let ovs: OvsSwitch;
  let applier: FlowApplier;
  let brMac: string;
  const calls: ExecRequest[] = [];
  const recording: Exec = (req) => {
    calls.push(req);
    return run(req);
  };
  const writes = () => calls.filter((c) => c.argv.includes("add-flows")).length;
  const dump = async () =>
    parseDumpFlows(await ovs.ofctl("--no-stats", "--no-names", "dump-flows", ovs.target("br-ex")));
  const ofport = async (port: string) => Number((await ovs.vsctl("get", "interface", port, "ofport")).trim());
  const addPatch = async (tag: string) => {
    const onEx = `patch-provnet-${tag}-to-br-int`;
    const onInt = `patch-br-int-to-provnet-${tag}`;
    await ovs.vsctl(
      "add-port",
      "br-ex",
      onEx,
      "--",
      "set",
      "interface",
      onEx,
      "type=patch",
      `options:peer=${onInt}`,
      "--",
      "add-port",
      "br-int",
      onInt,
      "--",
      "set",
      "interface",
      onInt,
      "type=patch",
      `options:peer=${onEx}`,
    );
  };

  before(async () => {
    ns = await createNetns("ovs");
    ovs = await startOvs(ns.name);
    await ovs.addBridge("br-ex");
    await ovs.addBridge("br-int");
    await addPatch("x");
    brMac = JSON.parse((await ovs.vsctl("get", "interface", "br-ex", "mac_in_use")).trim()) as string;
    // Foreign flows: another cookie, and the NORMAL default flow every bridge starts with.
    await ovs.ofctl("add-flow", ovs.target("br-ex"), "cookie=0x5,priority=100,arp,actions=NORMAL");
    applier = new FlowApplier({ rundir: ovs.dir, netns: ns.name, ownedCookies: [COOKIE], exec: recording });
  });

  after(async () => {
    await ovs?.stop();
    await ns?.remove();
  });

  it("installs the MAC-rewrite flows with the patch port's OpenFlow number, in one write", async () => {
    calls.length = 0;
    const res = await applier.sync(macFlows(PATCH_X, brMac), ["br-ex"]);
    const br = res.bridges[0];
    assert.equal(br?.added.length, 2);
    assert.deepEqual(br?.pending, []);
    assert.equal(writes(), 1);
    const n = await ofport(PATCH_X);
    const ours = (await dump()).filter((f) => f.cookie === BigInt(COOKIE));
    assert.deepEqual(ours.map((f) => `${f.priority} ${f.match} ${f.actions}`).sort(), [
      `900 ip,in_port=${n} mod_dl_dst:${brMac},NORMAL`,
      `900 ipv6,in_port=${n} mod_dl_dst:${brMac},NORMAL`,
    ]);
  });

  it("writes nothing on an identical second sync", async () => {
    calls.length = 0;
    const res = await applier.sync(macFlows(PATCH_X, brMac), ["br-ex"]);
    assert.equal(res.bridges[0]?.wrote, false);
    assert.equal(res.bridges[0]?.unchanged, 2);
    assert.equal(writes(), 0);
  });

  it("leaves foreign flows alone, replaces changed actions in place and removes flows no longer wanted", async () => {
    const other = "aa:bb:cc:00:00:01";
    const changed = await applier.sync(macFlows(PATCH_X, other), ["br-ex"]);
    assert.equal(changed.bridges[0]?.added.length, 2);
    assert.equal(changed.bridges[0]?.removed.length, 0);
    assert.ok(
      (await dump()).filter((f) => f.cookie === BigInt(COOKIE)).every((f) => f.actions.includes(other)),
    );

    const gone = await applier.sync([], ["br-ex"]);
    assert.equal(gone.bridges[0]?.removed.length, 2);
    const left = await dump();
    assert.deepEqual(
      left.filter((f) => f.cookie === BigInt(COOKIE)),
      [],
    );
    assert.ok(
      left.some((f) => f.cookie === 5n && f.match === "arp" && f.priority === 100),
      "cookie 5 flow kept",
    );
    assert.ok(
      left.some((f) => f.cookie === 0n && f.priority === 0 && f.actions === "NORMAL"),
      "NORMAL default kept",
    );
  });

  it("reports a flow for a missing patch port or bridge as pending, and applies it once the port appears", async () => {
    const desired = [
      ...macFlows(PATCH_X, brMac),
      ...macFlows(PATCH_Y, brMac),
      { ...(macFlows(PATCH_X, brMac)[0] as FlowSpec), bridge: "br-nope" },
    ];
    const first = await applier.sync(desired, ["br-ex"]);
    const ex = first.bridges.find((b) => b.bridge === "br-ex");
    assert.equal(ex?.error, undefined);
    assert.equal(ex?.added.length, 2);
    assert.deepEqual(
      ex?.pending.map((p) => p.reason),
      [`port ${PATCH_Y} does not exist (yet)`, `port ${PATCH_Y} does not exist (yet)`],
    );
    const nope = first.bridges.find((b) => b.bridge === "br-nope");
    assert.equal(nope?.error, undefined);
    assert.deepEqual(
      nope?.pending.map((p) => p.reason),
      ["bridge br-nope does not exist"],
    );

    calls.length = 0;
    const again = await applier.sync(desired, ["br-ex"]);
    assert.equal(writes(), 0, "pending flows cause no write storm");
    assert.equal(again.bridges.find((b) => b.bridge === "br-ex")?.pending.length, 2);

    await addPatch("y");
    const later = await applier.sync(desired, ["br-ex"]);
    const ex2 = later.bridges.find((b) => b.bridge === "br-ex");
    assert.deepEqual(ex2?.pending, []);
    assert.equal(ex2?.added.length, 2);
    const y = await ofport(PATCH_Y);
    assert.equal(
      (await dump()).filter((f) => f.cookie === BigInt(COOKIE) && f.match.endsWith(`in_port=${y}`)).length,
      2,
    );
  });

  it("removes the flows of a deleted patch port (its number could be reused by another port)", async () => {
    const y = await ofport(PATCH_Y);
    await ovs.vsctl("del-port", "br-ex", PATCH_Y);
    const res = await applier.sync([...macFlows(PATCH_X, brMac), ...macFlows(PATCH_Y, brMac)], ["br-ex"]);
    const ex = res.bridges[0];
    assert.equal(ex?.removed.length, 2);
    assert.equal(ex?.pending.length, 2);
    assert.deepEqual(
      (await dump()).filter((f) => f.match.endsWith(`in_port=${y}`)),
      [],
    );
  });
});
