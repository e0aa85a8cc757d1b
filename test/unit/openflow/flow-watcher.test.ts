/**
 * The flow drift watch with a fake `ovs-ofctl monitor`: someone else's change is drift at once; the
 * agent's own additions while it writes are echo; a deletion while it writes (its own pruning, or
 * someone else's) is looked at once the writes are over, never lost.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { StreamingRequest } from "../../../src/host/exec.ts";
import { FlowWatcher } from "../../../src/host/openflow/flow-watcher.ts";

const ADDED = "event=ADDED table=0 cookie=0x3e7 ip,in_port=1 actions=mod_dl_dst:aa:bb:cc:dd:ee:ff,NORMAL";
const DELETED =
  "event=DELETED reason=delete table=0 cookie=0x3e7 ip,in_port=1 actions=mod_dl_dst:aa:bb:cc:dd:ee:ff,NORMAL";
const FOREIGN = "event=DELETED reason=delete table=0 cookie=0x1000 ip actions=NORMAL";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rig() {
  let monitor: StreamingRequest | undefined;
  const drift: string[] = [];
  const w = new FlowWatcher({
    cookies: [999],
    quietMs: 50,
    onDrift: (_bridge, line) => drift.push(line),
    spawn: (req) => {
      monitor = req;
      return { pid: 1, kill: () => {} };
    },
  });
  w.watch(["br-ex"]);
  const emit = (line: string) => (monitor as StreamingRequest).onErrLine?.(line);
  return { w, drift, emit };
}

describe("FlowWatcher", () => {
  it("someone else's change of our flows is drift at once; other cookies are not ours", () => {
    const { w, drift, emit } = rig();
    emit(DELETED);
    emit(FOREIGN);
    assert.deepEqual(drift, [DELETED]);
    w.stop();
  });

  it("the agent's own additions while it writes (and just after) are echo", async () => {
    const { w, drift, emit } = rig();
    w.writingFlows();
    emit(ADDED);
    w.wrote();
    emit(ADDED);
    await sleep(100);
    assert.deepEqual(drift, []);
    w.stop();
  });

  it("a deletion while the agent writes is looked at once the writes are over", async () => {
    const { w, drift, emit } = rig();
    w.writingFlows();
    emit(DELETED);
    emit(DELETED);
    await sleep(80);
    assert.deepEqual(drift, [], "not while the agent still writes");
    w.wrote();
    emit(DELETED); // in the quiet window after the write
    assert.deepEqual(drift, []);
    await sleep(150);
    assert.deepEqual(drift, [DELETED], "one look after the quiet window, for all of them");
    w.stop();
  });
});
