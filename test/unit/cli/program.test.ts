import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { runCli } from "../../../src/cli/program.ts";
import { loadConfig } from "../../../src/config/load.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const FIXTURES = join(ROOT, "test/fixtures/config");
const scratch = mkdtempSync(join(tmpdir(), "ovn-bgp-cli-test-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly logs: string;
}

/** Runs the real program in-process with captured output; env is empty unless given. */
async function cli(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  let stdout = "";
  let stderr = "";
  let logs = "";
  const code = await runCli(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    logDestination: { write: (s: string) => (logs += s) },
    env,
  });
  return { code, stdout, stderr, logs };
}

const COMMANDS = ["agent", "sync", "plan", "sb-watch", "lab", "explain", "status", "version", "config"];

describe("ovn-bgp program", () => {
  test("--help lists every command and the global options, exit 0", async () => {
    const r = await cli(["--help"]);
    assert.equal(r.code, 0);
    for (const name of COMMANDS) assert.match(r.stdout, new RegExp(`^  ${name}\\b`, "m"), name);
    for (const opt of ["--config-file", "--config-dir", "--log-level", "--log-format", "--version"]) {
      assert.ok(r.stdout.includes(opt), opt);
    }
    assert.equal(r.stderr, "");
  });

  test("--version and version print this version and the platform's (Node, FRR, OVS, OVN, iproute2)", async () => {
    const r = await cli(["--version"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^ovn-bgp\s+\d+\.\d+\.\d+$/m);
    assert.match(r.stdout, new RegExp(`^node\\s+${process.version.slice(1).replace(/\./g, "\\.")}$`, "m"));
    for (const tool of ["frr", "openvswitch", "ovn", "iproute2"])
      assert.match(r.stdout, new RegExp(`^${tool}\\s+(\\d[\\w.~+-]*|not found|unknown)$`, "m"), tool);
    const json = await cli(["version", "--json"]);
    assert.equal(json.code, 0);
    const facts = JSON.parse(json.stdout) as Record<string, string>;
    assert.deepEqual(Object.keys(facts), ["ovn-bgp", "node", "frr", "openvswitch", "ovn", "iproute2"]);
    assert.equal((await cli(["-V"])).stdout, r.stdout);
  });

  test("every command's --help lists its own flags, pass-through ones included", async () => {
    const want: Record<string, string[]> = {
      sync: ["--once"],
      plan: ["--json", "--diff"],
      "sb-watch": ["--once", "--all"],
      lab: ["up", "check", "status", "down", "--layout", "--rule-layout", "--vlan", "--manual", "--instance"],
      version: ["--json"],
      config: ["--format", "--sources"],
    };
    for (const [command, flags] of Object.entries(want)) {
      const r = await cli([command, "--help"]);
      assert.equal(r.code, 0, command);
      for (const f of flags)
        assert.match(r.stdout, new RegExp(`^\\s+${f}\\b`, "m"), `${command} --help lists ${f}`);
    }
  });

  test("no command prints help on stderr and exits 2; an unknown command exits 2 with one line", async () => {
    const none = await cli([]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /Usage: ovn-bgp/);
    const bogus = await cli(["frobnicate"]);
    assert.equal(bogus.code, 2);
    assert.equal(bogus.stderr, "ovn-bgp: unknown command 'frobnicate' (see 'ovn-bgp --help')\n");
  });
});

describe("upstream options the CLI honours", () => {
  test("an unreachable OVSDB socket fails after [ovn] ovsdb_connection_timeout, naming the cause", async () => {
    const f = join(scratch, "unreachable.conf");
    writeFileSync(
      f,
      "[DEFAULT]\novsdb_connection = unix:/nonexistent-ovnbgp/db.sock\n[ovn]\novsdb_connection_timeout = 1\n",
    );
    const r = await cli(["sync", "--once", "--config-file", f]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /did not answer within 1000 ms: .*connect ENOENT \/nonexistent-ovnbgp\/db\.sock/);
  });

  test("debug = True logs at debug, unless --log-level or the environment says otherwise", async () => {
    const debugLines = (r: Run) => r.logs.split("\n").filter((l) => l.includes('"level":"debug"')).length;
    // `sync` logs its connection attempts at debug.
    const bad = join(scratch, "debug-unreachable.conf");
    writeFileSync(
      bad,
      "[DEFAULT]\ndebug = True\novsdb_connection = unix:/nonexistent-ovnbgp/db.sock\n[ovn]\novsdb_connection_timeout = 1\n",
    );
    assert.ok(
      debugLines(await cli(["sync", "--once", "--config-file", bad])) > 0,
      "debug lines with debug = True",
    );
    assert.equal(debugLines(await cli(["--log-level", "info", "sync", "--once", "--config-file", bad])), 0);
    assert.equal(
      debugLines(await cli(["sync", "--once", "--config-file", bad], { OVN_BGP_LOG_LEVEL: "warn" })),
      0,
    );
  });
});

describe("ovn-bgp config", () => {
  test("prints the resolved config as YAML equal to loadConfig's, warnings on stderr", async () => {
    const upstream = join(FIXTURES, "upstream-bgp-agent.conf");
    const yaml = join(FIXTURES, "ovn-bgp.yaml");
    const r = await cli(["--config-file", upstream, "--config-file", yaml, "config"]);
    assert.equal(r.code, 0, r.stderr);
    const printed = parseYaml(r.stdout) as unknown;
    assert.deepEqual(printed, loadConfig({ configFiles: [upstream, yaml] }).config);
    assert.equal((printed as { bgp_AS: number }).bgp_AS, 4200000001, "the later file wins");
    assert.match(r.stdout, new RegExp(`^#\\s+${upstream}$`, "m"), "files read are listed in a comment");
    const warnings = r.stderr.trim().split("\n");
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0] ?? "",
      /^ovn-bgp: warning: .*upstream-bgp-agent\.conf: ignored upstream options/,
    );
  });

  test("--config-dir and --format json; --sources names each option's file", async () => {
    const dir = join(FIXTURES, "conf.d");
    const json = await cli(["--config-dir", dir, "config", "--format", "json"]);
    assert.equal(json.code, 0, json.stderr);
    const cfg = JSON.parse(json.stdout) as { bgp_AS: number; ovn: { chassis_name: string } };
    assert.equal(cfg.bgp_AS, 65003);
    assert.equal(cfg.ovn.chassis_name, "from-dir");
    const annotated = await cli(["config", "--sources", "--config-dir", dir]);
    assert.match(annotated.stdout, new RegExp(`^bgp_AS: 65003 # from ${join(dir, "30-host.yaml")}$`, "m"));
    assert.match(
      annotated.stdout,
      new RegExp(`^reconcile_interval: 60 # from ${join(dir, "10-base.conf")}$`, "m"),
    );
    assert.match(annotated.stdout, /^flow_cookie: 999$/m, "defaults carry no source comment");
  });

  test("an invalid config exits 2 with the one-line ConfigError and prints nothing on stdout", async () => {
    const bad = join(scratch, "bad.conf");
    writeFileSync(bad, "[DEFAULT]\nbgp_AS=abc\n");
    const r = await cli(["--config-file", bad, "config"]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, `ovn-bgp: bgp_AS in ${bad}: expected an integer 1..4294967295, got 'abc'\n`);
  });

  test("the stack is printed only at debug level", async () => {
    const missing = join(scratch, "missing.conf");
    const quiet = await cli(["--config-file", missing, "config"]);
    assert.equal(quiet.stderr.trim().split("\n").length, 1);
    const loud = await cli(["--log-level", "debug", "--config-file", missing, "config"]);
    assert.equal(loud.code, 2);
    assert.match(loud.stderr, /^ovn-bgp: .*missing\.conf: cannot read config file/);
    assert.match(loud.stderr, /\n {4}at /);
    const viaEnv = await cli(["--config-file", missing, "config"], { OVN_BGP_LOG_LEVEL: "debug" });
    assert.match(viaEnv.stderr, /\n {4}at /);
  });

  test("an invalid OVN_BGP_LOG_LEVEL is a usage error", async () => {
    const r = await cli(["config"], { OVN_BGP_LOG_LEVEL: "loud" });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^ovn-bgp: OVN_BGP_LOG_LEVEL: unknown log level 'loud'/);
  });
});

describe("entry point", () => {
  test("importing src/cli/main.ts runs the program (what bin/ovn-bgp.js relies on)", async () => {
    const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve, reject) => {
      execFile(
        process.execPath,
        ["--import", "tsx", "src/cli/main.ts", "--help"],
        { cwd: ROOT, timeout: 60_000 },
        (err, out) => {
          if (err && typeof err.code !== "number") reject(err);
          else resolve({ code: typeof err?.code === "number" ? err.code : 0, stdout: out });
        },
      );
    });
    assert.equal(code, 0);
    assert.match(stdout, /^Usage: ovn-bgp /);
    assert.match(stdout, /^ {2}sb-watch\b/m);
  });
});
