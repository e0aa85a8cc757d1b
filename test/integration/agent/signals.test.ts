/**
 * SIGTERM and SIGINT stop `ovn-bgp agent` and `ovn-bgp sync --once` within a second in every
 * state, including while they are still connecting (issue 11 point 7: a `timeout -s INT 5` used to
 * run 30 s, until the connect deadline). The local OVS database answers; the Southbound remote
 * does not exist, so both commands are stuck connecting when the signal arrives.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createNetns, type Netns, netnsUnavailable } from "../../support/netns.ts";
import { type OvsSwitch, ovsUnavailable, startOvs } from "../../support/ovs-switch.ts";
import { makeTempDir } from "../../support/temp-dir.ts";
import { waitFor } from "../../support/wait.ts";

const REPO = join(import.meta.dirname, "../../..");
const skip = netnsUnavailable() ?? ovsUnavailable() ?? false;

describe("signals while connecting", { skip }, () => {
  let ns: Netns;
  let ovs: OvsSwitch;
  let conf: string;

  before(async () => {
    ns = await createNetns("sig");
    ovs = await startOvs(ns.name);
    const dir = makeTempDir("sig");
    await ovs.vsctl("set", "Open_vSwitch", ".", "external_ids:system-id=rack-1-host-1");
    conf = join(dir, "agent.conf");
    writeFileSync(
      conf,
      [
        "[DEFAULT]",
        "bgp_AS = 64999",
        `ovsdb_connection = ${ovs.db}`,
        "metrics_listen =",
        `control_socket = ${join(dir, "agent.ctl")}`,
        `rt_tables_dropin = ${join(dir, "rt_tables.d", "ovn-bgp.conf")}`,
        "[ovn]",
        `ovn_sb_connection = unix:${join(dir, "no-such-southbound.sock")}`,
        "",
      ].join("\n"),
    );
  });
  after(async () => {
    await ovs?.stop();
    await ns?.remove();
  });

  for (const [command, signal, wantCode] of [
    [["agent"], "SIGTERM", 0],
    [["agent"], "SIGINT", 0],
    [["sync", "--once"], "SIGTERM", 130],
    [["sync", "--once"], "SIGINT", 130],
  ] as const) {
    it(`${command.join(" ")} stops within 1 s of ${signal} while connecting to the Southbound (exit ${wantCode})`, async () => {
      const child = spawn(
        "ip",
        [
          "netns",
          "exec",
          ns.name,
          "node",
          "--import",
          "tsx",
          join(REPO, "src/cli/main.ts"),
          ...command,
          "--config-file",
          conf,
        ],
        { env: { ...process.env, ...ovs.env }, stdio: ["ignore", "pipe", "pipe"] },
      );
      let out = "";
      child.stdout?.on("data", (b: Buffer) => {
        out += b.toString();
      });
      child.stderr?.on("data", (b: Buffer) => {
        out += b.toString();
      });
      const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
      // Connecting: the Southbound client has reported its first failed attempt.
      await waitFor(() => /no-such-southbound/.test(out), {
        what: `a connect attempt; output:\n${out}`,
        timeoutMs: 60_000,
      });
      const t0 = performance.now();
      child.kill(signal);
      const code = await Promise.race([
        exited,
        new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 10_000)),
      ]);
      const ms = performance.now() - t0;
      if (code === "timeout") child.kill("SIGKILL");
      assert.equal(code, wantCode, `exit after ${signal}; output:\n${out.slice(-2000)}`);
      assert.ok(ms < 1000, `stopped ${Math.round(ms)} ms after ${signal}`);
    });
  }
});
