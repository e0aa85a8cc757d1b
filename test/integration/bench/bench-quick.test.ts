/**
 * The scale benchmark's quick mode runs end to end: real Southbound, OVS and the agent in a
 * namespace. Only that it finishes and prints its machine-readable figures is asserted; the
 * figures themselves are the benchmark's business, not a test's (no speed assertions).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { run } from "../../../src/host/exec.ts";
import { netnsUnavailable } from "../../support/netns.ts";
import { ovsUnavailable } from "../../support/ovs-switch.ts";

const skip = netnsUnavailable() ?? ovsUnavailable() ?? false;
const REPO = join(import.meta.dirname, "../../..");

const FIGURES = [
  "cold_start_1k_ms",
  "sb_server_cpu_at_start_1k_s",
  "sb_bytes_agent_1k",
  "sb_bytes_full_monitor_1k",
  "bind_p50_1k_ms",
  "bind_p99_1k_ms",
  "unbind_p50_1k_ms",
  "unbind_p99_1k_ms",
  "rss_1k_mb",
  "idle_cpu_1k_s_per_min",
];

test("npm run bench -- --quick exits 0 and prints every BENCH line", { skip, timeout: 600_000 }, async () => {
  const res = await run({
    argv: ["node", "--import", "tsx", join(REPO, "bench/run.ts"), "--quick"],
    timeoutMs: 540_000,
  });
  assert.equal(res.code, 0, `bench --quick failed:\n${res.stdout.slice(-4000)}\n${res.stderr.slice(-4000)}`);
  const lines = res.stdout.split("\n").filter((l) => l.startsWith("BENCH "));
  for (const name of FIGURES) {
    const line = lines.find((l) => l.startsWith(`BENCH ${name}=`));
    assert.ok(line, `missing BENCH ${name}; got:\n${lines.join("\n")}`);
    assert.match(line, /^BENCH [a-z0-9_]+=-?\d+(\.\d+)?(e[+-]?\d+)? \S+$/, `malformed: ${line}`);
  }
  assert.ok(
    lines.some((l) => /^BENCH burst_bind_\d+_1k_ms=/.test(l)),
    "missing the burst figure",
  );
});
