/**
 * The package an operator installs (issue 12 point 1): `npm pack` builds dist/ and ships it with the
 * launcher and the docs, and no tests or sources; installed into a scratch prefix, `ovn-bgp` runs
 * from it (`--version`, `config`). npm takes the dependencies from its cache when it can.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { run } from "../../../src/host/exec.ts";

const REPO = join(import.meta.dirname, "../../..");

describe("the npm package", () => {
  const dir = mkdtempSync(join(tmpdir(), "ovnbgp-pack-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("packs dist/ (built by prepack), installs into a scratch prefix and runs", async () => {
    const pack = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        "npm",
        ["pack", "--json", "--pack-destination", dir],
        { cwd: REPO, timeout: 300_000, maxBuffer: 16 << 20 },
        (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }),
      );
    });
    assert.equal(pack.code, 0, pack.stderr);
    const [info] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf("[\n"))) as Array<{
      filename: string;
      files: Array<{ path: string }>;
    }>;
    assert.ok(info);
    const files = info.files.map((f) => f.path);
    for (const want of [
      "bin/ovn-bgp.js",
      "dist/cli/main.js",
      "dist/reconcile/agent.js",
      "README.md",
      "package.json",
    ])
      assert.ok(files.includes(want), `${want} in the package`);
    assert.deepEqual(
      files.filter((f) => /^(test|src|bench|scripts)\//.test(f)),
      [],
      "no tests, sources, benchmarks or dev scripts in the package",
    );

    const prefix = join(dir, "prefix");
    const install = await run({
      argv: [
        "npm",
        "install",
        "--prefix",
        prefix,
        "--no-audit",
        "--no-fund",
        "--prefer-offline",
        join(dir, info.filename),
      ],
      timeoutMs: 300_000,
    });
    assert.equal(install.code, 0, install.stderr);
    const bin = join(prefix, "node_modules/.bin/ovn-bgp");
    const version = await run({ argv: [bin, "--version"], timeoutMs: 60_000 });
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /^ovn-bgp\s+\d+\.\d+\.\d+$/m);
    assert.doesNotMatch(version.stderr, /not built/);
    const config = await run({ argv: [bin, "config", "--format", "json"], timeoutMs: 60_000 });
    assert.equal(config.code, 0, config.stderr);
    assert.equal((JSON.parse(config.stdout) as { announce_via: string }).announce_via, "vrf");
  });
});
