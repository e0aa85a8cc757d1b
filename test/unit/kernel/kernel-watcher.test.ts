/** The drift watcher with a scripted monitor process: filtering, debouncing, restart, stop. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { SpawnStreaming, StreamingRequest } from "../../../src/host/exec.ts";
import {
  classifyMonitorLine,
  type KernelChange,
  KernelWatcher,
  MONITOR_ARGV,
} from "../../../src/host/kernel/kernel-watcher.ts";

/** Lines captured from `ip -N -o monitor label …` on kernel 6.18. */
const LINES = {
  ourRuleDeleted: "[RULE]Deleted 32000:\tfrom all to 10.7.7.8 lookup 200 proto 99",
  foreignRule: "[RULE]32000:\tfrom all to 10.7.7.9 lookup 200",
  ourRoute: "[ROUTE]Deleted 10.7.8.0/24 dev br-ex table 200 proto 99 scope 253 ",
  kernelRoute: "[ROUTE]2 2001:db8::78 dev br-ex table 255 proto 2 metric 0 pref medium",
  bgpRoute: "[ROUTE]198.51.100.0/24 via 10.0.0.1 dev eth0 proto 186 metric 20",
  addr: "[ADDR]Deleted 2: br-ex    inet6 2001:db8::78/128 scope 0 nodad \\       valid_lft forever",
  ourNeighGone: "[NEIGH]Deleted 10.7.7.9 dev br-ex FAILED proto 99 ",
  dynamicNeigh: "[NEIGH]172.24.4.5 dev br-ex lladdr 00:11:22:33:44:55 STALE ",
  link: "[LINK]5: br-ex: <BROADCAST,MULTICAST> mtu 1500 qdisc noqueue state DOWN",
};

function fakeSpawner() {
  const children: Array<{ req: StreamingRequest; killed: boolean; exit: (code?: number) => void }> = [];
  const spawn: SpawnStreaming = (req) => {
    let done = false;
    const c = {
      req,
      killed: false,
      exit: (code = 1) => {
        if (done) return;
        done = true;
        req.onExit(code, null, "");
      },
    };
    children.push(c);
    return {
      pid: 40000 + children.length,
      kill: () => {
        c.killed = true;
        setImmediate(() => c.exit(143));
      },
    };
  };
  return { spawn, children };
}

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("kernel watcher", () => {
  it("keeps only changes that can matter to the agent", () => {
    assert.equal(classifyMonitorLine(LINES.ourRuleDeleted, 99), "rule");
    assert.equal(classifyMonitorLine(LINES.foreignRule, 99), "rule");
    assert.equal(classifyMonitorLine(LINES.ourRoute, 99), "route");
    assert.equal(classifyMonitorLine(LINES.kernelRoute, 99), undefined);
    assert.equal(classifyMonitorLine(LINES.bgpRoute, 99), undefined);
    assert.equal(classifyMonitorLine(LINES.addr, 99), "address");
    assert.equal(classifyMonitorLine(LINES.ourNeighGone, 99), "neigh");
    assert.equal(classifyMonitorLine(LINES.dynamicNeigh, 99), undefined);
    assert.equal(classifyMonitorLine(LINES.link, 99), "link");
    assert.equal(classifyMonitorLine("garbage", 99), undefined);
  });

  it("runs ONE monitor (in the netns) and folds a burst into one event naming the kinds", async () => {
    const { spawn, children } = fakeSpawner();
    const events: KernelChange[] = [];
    const w = new KernelWatcher({
      netns: "nsA",
      routeProtocol: 99,
      debounceMs: 30,
      spawn,
      onChange: (c) => events.push(c),
    });
    w.start();
    w.start();
    assert.equal(children.length, 1);
    assert.deepEqual(children[0]?.req.argv, MONITOR_ARGV);
    assert.equal(children[0]?.req.netns, "nsA");
    for (const l of [
      LINES.ourRuleDeleted,
      LINES.ourRoute,
      LINES.dynamicNeigh,
      LINES.kernelRoute,
      LINES.ourRoute,
    ])
      children[0]?.req.onLine(l);
    await waitFor(() => events.length === 1);
    assert.deepEqual([...(events[0]?.kinds ?? [])].sort(), ["route", "rule"]);
    assert.equal(events[0]?.events, 3);
    assert.equal(events[0]?.restarted, false);
    children[0]?.req.onLine(LINES.dynamicNeigh);
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(events.length, 1, "irrelevant lines raise no event");
    await w.stop();
  });

  it("restarts a monitor that died and signals that events may have been missed", async () => {
    const { spawn, children } = fakeSpawner();
    const events: KernelChange[] = [];
    const exits: Array<number | null> = [];
    const w = new KernelWatcher({
      routeProtocol: 99,
      debounceMs: 10,
      spawn,
      onChange: (c) => events.push(c),
      onMonitorExit: (i) => exits.push(i.code),
    });
    w.start();
    children[0]?.exit(1);
    await waitFor(() => children.length === 2);
    assert.deepEqual(exits, [1]);
    assert.equal(w.starts, 2);
    await waitFor(() => events.length === 1);
    assert.equal(events[0]?.restarted, true);
    await w.stop();
  });

  it("stop() kills the monitor by PID, waits for it, and never restarts it", async () => {
    const { spawn, children } = fakeSpawner();
    const events: KernelChange[] = [];
    const w = new KernelWatcher({
      routeProtocol: 99,
      debounceMs: 10,
      spawn,
      onChange: (c) => events.push(c),
    });
    w.start();
    assert.equal(w.pid, 40001);
    children[0]?.req.onLine(LINES.ourRuleDeleted);
    await w.stop();
    assert.equal(children[0]?.killed, true);
    assert.equal(w.pid, undefined);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(children.length, 1);
    assert.equal(events.length, 0, "a pending event is dropped after stop");
  });
});
