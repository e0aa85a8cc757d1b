/**
 * The second platform (docs/PLATFORMS.md): a representative subset of the integration suite run
 * again against Debian 13's OVN 25.03, OVS 3.5 and FRR 10.3 (`OVN_BGP_PLATFORM=trixie`), in one
 * child `node --test`. Each inner test is reported here as a test of its own whose name starts with
 * "trixie ›", so a failure says which platform it is on and the counts land in this run's summary.
 * The child's own output is streamed to stderr with a `[trixie]` prefix.
 *
 * The subset is what reads or writes a format that changes between versions: FRR's running config
 * and JSON (applier, golden configs, the agent end to end, the fault drills with frr-reload.py), the
 * Southbound schema (replica, cluster, load balancers, northd-made topologies), OpenFlow dumps, and
 * the whole lab with packets. The kernel suites do not depend on the platform: they are not repeated.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { platformUnavailable } from "../../../src/lab/platform.ts";
import { netnsUnavailable } from "../../support/netns.ts";
import { makeTempDir } from "../../support/temp-dir.ts";

const REPO = join(import.meta.dirname, "../../..");
const PLATFORM = "trixie";
export const TRIXIE_FILES = [
  "test/integration/frr/frr-applier.test.ts",
  "test/integration/frr/golden.test.ts",
  "test/integration/harness/ovn-central.test.ts",
  "test/integration/ovsdb/sb-replica.test.ts",
  "test/integration/ovsdb/cluster.test.ts",
  "test/integration/openflow/flow-applier.test.ts",
  "test/integration/openflow/flow-watcher.test.ts",
  "test/integration/ovs/ovs-facts.test.ts",
  "test/integration/agent/agent.test.ts",
  "test/integration/agent/drills.test.ts",
  "test/integration/agent/load-balancer.test.ts",
  "test/integration/agent/explain.test.ts",
  "test/integration/agent/model-based.test.ts",
  "test/integration/lab/lab.test.ts",
];
const TIMEOUT_MS = 30 * 60_000;

interface InnerResult {
  readonly name: string;
  readonly outcome: "pass" | "fail" | "skip" | "todo";
  readonly reason?: string;
  readonly suite?: boolean;
  readonly error?: string;
}

/** The platform's, and not marked as a test file's child: node:test would then refuse to run files. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, OVN_BGP_PLATFORM: PLATFORM };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

/** The inner run must not skip for want of the platform: that would pass as a run on it. */
const skip = netnsUnavailable() ?? (process.getuid?.() === 0 ? false : "needs root");

describe(`on Debian 13's stack (platform ${PLATFORM}: OVN 25.03, OVS 3.5, FRR 10.3)`, { skip }, () => {
  it(`${TRIXIE_FILES.length} integration files`, { timeout: TIMEOUT_MS + 60_000 }, async (t) => {
    const why = platformUnavailable(PLATFORM);
    assert.equal(why, undefined, why);
    const dir = makeTempDir("trixie");
    const resultsFile = join(dir, "results.jsonl");
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "--test",
        "--test-concurrency=1",
        `--test-timeout=${15 * 60_000}`,
        "--test-reporter=spec",
        "--test-reporter-destination=stdout",
        "--test-reporter=./test/support/uml-reporter.mjs",
        `--test-reporter-destination=${resultsFile}`,
        ...TRIXIE_FILES,
      ],
      { cwd: REPO, env: childEnv(), stdio: ["ignore", "pipe", "pipe"] },
    );
    const tail: string[] = [];
    const relay = (b: Buffer) => {
      for (const l of b.toString().split("\n")) {
        if (l === "") continue;
        process.stderr.write(`[${PLATFORM}] ${l}\n`);
        tail.push(l);
        if (tail.length > 80) tail.shift();
      }
    };
    child.stdout.on("data", relay);
    child.stderr.on("data", relay);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGTERM");
    }, TIMEOUT_MS);
    const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
    clearTimeout(timer);

    const results: InnerResult[] = existsSync(resultsFile)
      ? readFileSync(resultsFile, "utf8")
          .split("\n")
          .filter((l) => l.trim() !== "")
          .map((l) => JSON.parse(l) as InnerResult)
      : [];
    for (const r of results) {
      if (r.suite && r.outcome !== "fail") continue;
      await t.test(
        `${PLATFORM} › ${r.name}`,
        { skip: r.outcome === "skip" ? (r.reason ?? true) : false },
        () => {
          if (r.outcome === "fail") throw new Error(`on ${PLATFORM}: ${r.error ?? "failed"}`);
        },
      );
    }
    assert.ok(!timedOut, `the ${PLATFORM} run was stopped after ${TIMEOUT_MS / 1000} s:\n${tail.join("\n")}`);
    assert.ok(results.length > 0, `no test reported from the ${PLATFORM} run:\n${tail.join("\n")}`);
    assert.equal(code, 0, `the ${PLATFORM} run failed:\n${tail.slice(-30).join("\n")}`);
  });
});
