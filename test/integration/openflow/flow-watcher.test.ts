/**
 * The flow drift watch against a real ovs-vswitchd: a flow with our cookie added or deleted by
 * someone else is reported; the agent's own writes (between writingFlows and wrote, plus the quiet
 * window) and flows with other cookies are not.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { FlowWatcher } from "../../../src/host/openflow/flow-watcher.ts";
import { createNetns, type Netns, netnsUnavailable } from "../../support/netns.ts";
import { type OvsSwitch, ovsUnavailable, startOvs } from "../../support/ovs-switch.ts";
import { sleep, waitFor } from "../../support/wait.ts";

describe("FlowWatcher (real OVS)", { skip: netnsUnavailable() ?? ovsUnavailable() ?? false }, () => {
  let ns: Netns;
  let ovs: OvsSwitch;
  before(async () => {
    ns = await createNetns("fw");
    ovs = await startOvs(ns.name);
    await ovs.addBridge("br-ex");
    // ovs-ofctl monitor opens its own control socket in the OVS run directory (as the agent's do).
    Object.assign(process.env, ovs.env);
  });
  after(async () => {
    await ovs?.stop();
    await ns?.remove();
  });

  it("reports foreign changes to our flows only", async () => {
    const drift: string[] = [];
    const fw = new FlowWatcher({
      cookies: [999],
      target: (b) => ovs.target(b),
      netns: ns.name,
      quietMs: 300,
      onDrift: (_b, line) => drift.push(line),
    });
    try {
      fw.watch(["br-ex"]);
      const of = (...a: string[]) => ovs.ofctl(a[0] as string, ovs.target("br-ex"), ...a.slice(1));
      // Someone adds a flow with our cookie: drift (retried until the monitor is connected).
      await waitFor(
        async () => {
          await of("add-flow", "cookie=999,priority=901,ip,actions=NORMAL");
          await sleep(200);
          return drift.length > 0;
        },
        { what: "a foreign add reported", timeoutMs: 10_000 },
      );
      assert.match(drift[0] ?? "", /event=(ADDED|MODIFIED) .*cookie=0x3e7/);
      drift.length = 0;
      // Our own write is echo, and so is a flow with another cookie.
      fw.writingFlows();
      await of("add-flow", "cookie=999,priority=900,ip,actions=NORMAL");
      fw.wrote();
      await of("add-flow", "cookie=5,priority=800,ip,actions=NORMAL");
      await sleep(400); // past the quiet window
      // Someone deletes ours: drift. Events come in order, so the echo above would show first.
      await of("del-flows", "cookie=999/-1");
      await waitFor(() => drift.length > 0, { what: "the deletion reported", timeoutMs: 5_000 });
      assert.ok(
        drift.every((l) => /event=DELETED .*cookie=0x3e7/.test(l)),
        drift.join("\n"),
      );
    } finally {
      fw.stop();
    }
  });
});
