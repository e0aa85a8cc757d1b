/**
 * The package an operator installs (issue 12 point 1): `npm pack` builds dist/ and ships it with the
 * launcher and the docs, and no tests or sources; installed into a scratch prefix, `ovn-bgp` runs
 * from it (`--version`, `config`). npm takes the dependencies from its cache when it can.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
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
      "packaging/systemd/ovn-bgp-agent.service",
      "packaging/systemd/ovn-bgp.sysusers",
      "scripts/install-hypervisor.sh",
    ])
      assert.ok(files.includes(want), `${want} in the package`);
    assert.deepEqual(
      files.filter((f) => /^(test|src|bench|scripts)\//.test(f) && f !== "scripts/install-hypervisor.sh"),
      [],
      "no tests, sources, benchmarks or dev scripts in the package (the hypervisor installer only)",
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

    // The hypervisor installer from the unpacked package, into a scratch root: it installs the
    // package, the unit, the user and a config, and never touches a service.
    const unpacked = join(dir, "unpacked");
    await run({ argv: ["mkdir", "-p", unpacked] });
    const tar = await run({ argv: ["tar", "-xzf", join(dir, info.filename), "-C", unpacked] });
    assert.equal(tar.code, 0, tar.stderr);
    const root = join(dir, "root");
    const inst = await run({
      argv: [
        "bash",
        join(unpacked, "package/scripts/install-hypervisor.sh"),
        "--root",
        root,
        join(dir, info.filename),
      ],
      env: { npm_config_prefer_offline: "true", npm_config_audit: "false", npm_config_fund: "false" },
      timeoutMs: 300_000,
    });
    assert.equal(inst.code, 0, `${inst.stdout}\n${inst.stderr}`);
    assert.doesNotMatch(
      inst.stdout + inst.stderr,
      /systemctl (start|stop|restart) (openvswitch|ovs-|ovn-(host|controller|central|northd)|frr)/,
    );
    const unit = readFileSync(join(root, "etc/systemd/system/ovn-bgp-agent.service"), "utf8");
    assert.match(unit, /^Type=notify$/m);
    assert.match(readFileSync(join(root, "usr/lib/sysusers.d/ovn-bgp.conf"), "utf8"), /^u ovn-bgp /m);
    const conf = readFileSync(join(root, "etc/ovn-bgp-agent/bgp-agent.conf"), "utf8");
    assert.match(conf, /bgp_AS/);
    const installed = await run({ argv: [join(root, "usr/bin/ovn-bgp"), "--version"], timeoutMs: 60_000 });
    assert.equal(installed.code, 0, installed.stderr);
    assert.match(installed.stdout, /^ovn-bgp\s+\d+\.\d+\.\d+$/m);
  });
});
