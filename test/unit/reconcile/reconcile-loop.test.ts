import assert from "node:assert/strict";
import { test } from "node:test";
import { type PassRequest, ReconcileLoop, type Target } from "../../../src/reconcile/reconcile-loop.ts";

test("a burst of triggers in one turn becomes one pass with every target and reason", async () => {
  const passes: PassRequest[] = [];
  const loop = new ReconcileLoop(async (req) => {
    passes.push(req);
    return { failed: new Set() };
  });
  loop.trigger(["kernel"], "sb change");
  loop.trigger(["kernel"], "sb change");
  loop.trigger(["frr"], "frr restart");
  loop.trigger(["flows"], "ovs change", true);
  await loop.idle();
  assert.equal(passes.length, 1);
  assert.deepEqual([...(passes[0]?.targets ?? [])].sort(), ["flows", "frr", "kernel"]);
  assert.deepEqual(passes[0]?.reasons, ["sb change", "frr restart", "ovs change"]);
  // Only the target that asked for a full pass gets one: the kernel stays a delta.
  assert.deepEqual([...(passes[0]?.full ?? [])], ["flows"]);
  loop.stop();
});

test("triggers during a pass run in the next pass, never concurrently", async () => {
  let concurrent = 0;
  let maxConcurrent = 0;
  const seen: Target[][] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const loop = new ReconcileLoop(async (req) => {
    concurrent += 1;
    maxConcurrent = Math.max(maxConcurrent, concurrent);
    seen.push([...req.targets]);
    if (seen.length === 1) await gate;
    concurrent -= 1;
    return { failed: new Set() };
  });
  loop.trigger(["kernel"], "a");
  await new Promise((r) => setImmediate(r));
  loop.trigger(["frr"], "b");
  loop.trigger(["flows"], "c");
  release();
  await loop.idle();
  assert.equal(maxConcurrent, 1);
  assert.deepEqual(seen, [["kernel"], ["frr", "flows"]]);
  loop.stop();
});

test("failed targets are retried as a full pass; success resets", async () => {
  const seen: PassRequest[] = [];
  const loop = new ReconcileLoop(
    async (req) => {
      seen.push(req);
      return { failed: seen.length === 1 ? new Set<Target>(["frr"]) : new Set<Target>() };
    },
    { initialMs: 10, multiplier: 2, maxMs: 50 },
  );
  loop.trigger(["kernel", "frr"], "start");
  while (seen.length < 2) await new Promise((r) => setTimeout(r, 5));
  await loop.idle();
  assert.deepEqual([...(seen[1]?.targets ?? [])], ["frr"]);
  assert.deepEqual(seen[1]?.reasons, ["retry"]);
  assert.deepEqual([...(seen[1]?.full ?? [])], ["frr"]);
  loop.stop();
});

test("every failed target is retried on its own schedule, also while another's retry is pending", async () => {
  const seen: PassRequest[] = [];
  const fails: Target[][] = [["kernel"], ["frr"]]; // pass 1: kernel fails; pass 2 (a trigger): frr fails
  const loop = new ReconcileLoop(
    async (req) => {
      seen.push(req);
      return { failed: new Set<Target>(fails[seen.length - 1] ?? []) };
    },
    { initialMs: 40, multiplier: 2, maxMs: 200 },
  );
  loop.trigger(["kernel"], "start");
  await loop.idle();
  loop.trigger(["frr"], "frr restart"); // while the kernel's retry is pending
  await loop.idle();
  const deadline = Date.now() + 2_000;
  while (Date.now() < deadline && !seen.slice(2).some((r) => r.targets.has("frr")))
    await new Promise((r) => setTimeout(r, 5));
  await loop.idle();
  const retried = seen.slice(2).filter((r) => r.reasons.includes("retry"));
  const targets = new Set(retried.flatMap((r) => [...r.targets]));
  assert.ok(targets.has("kernel"), "the kernel's retry ran");
  assert.ok(targets.has("frr"), "frr's failure was not dropped while the kernel's retry was pending");
  loop.stop();
});

test("a pass that throws is retried for all its targets", async () => {
  let n = 0;
  const loop = new ReconcileLoop(
    async () => {
      n += 1;
      if (n === 1) throw new Error("boom");
      return { failed: new Set() };
    },
    { initialMs: 5, multiplier: 2, maxMs: 20 },
  );
  loop.trigger(["kernel"], "start");
  while (n < 2) await new Promise((r) => setTimeout(r, 5));
  loop.stop();
  assert.equal(n, 2);
});
