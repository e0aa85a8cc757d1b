/**
 * Drift healing against a real kernel: the watcher's `ip monitor` runs in the test namespace, a
 * rule deleted by hand raises an event, and the resync it triggers restores the rule. Also: the
 * monitor is restarted when killed, and `stop()` ends it by PID.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { type KernelChange, KernelWatcher } from "../../../src/host/kernel/kernel-watcher.ts";
import { netnsUnavailable } from "../../support/netns.ts";
import { waitFor } from "../../support/wait.ts";
import { PROTO, seedState, TABLE } from "../../unit/kernel/seed-state.ts";
import { type KernelLab, kernelLab, ruleList } from "./kernel-helpers.ts";

const skip = netnsUnavailable();
const cleanup: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Start a watcher and wait until its monitor really listens (a probe change is seen). */
async function liveWatcher(l: KernelLab, events: KernelChange[]): Promise<KernelWatcher> {
  const w = new KernelWatcher({
    netns: l.ns.name,
    routeProtocol: PROTO,
    debounceMs: 50,
    onChange: (c) => events.push(c),
  });
  w.start();
  cleanup.push(() => w.stop());
  let n = 0;
  await waitFor(
    async () => {
      n++;
      await l.ip(`address add 192.0.2.${n}/32 dev br-ex`);
      await l.ip(`address del 192.0.2.${n}/32 dev br-ex`);
      return events.some((e) => e.kinds.has("address"));
    },
    { what: "the monitor to report a probe address change", intervalMs: 200 },
  );
  return w;
}

describe("kernel drift watcher (real kernel)", { skip }, () => {
  it("a rule deleted by hand raises an event and the resync restores it", async () => {
    const l = await kernelLab("kw");
    cleanup.push(() => l.ns.remove());
    await l.applier.sync(seedState());
    const events: KernelChange[] = [];
    await liveWatcher(l, events);
    events.length = 0;

    await l.ip(`rule del to 172.24.4.92/32 lookup ${TABLE} priority 32000 protocol ${PROTO}`);
    const ev = await waitFor(() => events.find((e) => e.kinds.has("rule")), { what: "a rule event" });
    assert.equal(ev.restarted, false);
    assert.ok(!(await ruleList(l, 4)).some((r) => r.includes("172.24.4.92/32")));

    const heal = await l.applier.sync(seedState());
    assert.deepEqual(
      heal.items.map((i) => `${i.kind} ${i.op} ${i.key} ${i.ok}`),
      [`rule add 4|32000|172.24.4.92/32|${TABLE} true`],
    );
    assert.ok((await ruleList(l, 4)).includes(`32000 to 172.24.4.92/32 table ${TABLE} proto ${PROTO}`));

    // Deleting one of our routes is seen too (foreign routes are filtered: see the unit test).
    events.length = 0;
    await l.ip(`route add 198.51.100.0/24 dev br-ex table 300 proto static`);
    await l.ip(`route del default dev br-ex table ${TABLE} proto ${PROTO}`);
    await waitFor(() => events.find((e) => e.kinds.has("route")), { what: "a route event" });
    assert.equal((await l.applier.sync(seedState())).counts.add, 1);
  });

  it("restarts a monitor that was killed, and stop() ends it by PID", async () => {
    const l = await kernelLab("kw");
    cleanup.push(() => l.ns.remove());
    const events: KernelChange[] = [];
    const w = await liveWatcher(l, events);
    const first = w.pid;
    assert.ok(first !== undefined && pidAlive(first));
    process.kill(first, "SIGKILL");
    await waitFor(() => w.starts === 2 && w.pid !== undefined && w.pid !== first, {
      what: "a restarted monitor",
    });
    await waitFor(() => events.find((e) => e.restarted), { what: "the restart event" });
    const second = w.pid;
    assert.ok(second !== undefined);
    await w.stop();
    assert.equal(w.pid, undefined);
    await waitFor(() => !pidAlive(second), { what: `monitor PID ${second} to exit` });
  });
});
