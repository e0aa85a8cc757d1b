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

const FIGURES = ["1k_perip", "1k_perbridge"].flatMap((l) => [
  `cold_start_${l}_ms`,
  `sb_server_cpu_at_start_${l}_s`,
  `sb_bytes_agent_${l}`,
  `sb_bytes_full_monitor_${l}`,
  `bind_p50_${l}_ms`,
  `bind_p99_${l}_ms`,
  `unbind_p50_${l}_ms`,
  `unbind_p99_${l}_ms`,
  `rss_${l}_mb`,
  `heap_used_${l}_mb`,
  `idle_cpu_${l}_s_per_min`,
  `lookups_${l}_per_s`,
]);

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
    lines.some((l) => /^BENCH burst_bind_\d+_1k_perbridge_ms=/.test(l)),
    "missing the burst figure",
  );
});
