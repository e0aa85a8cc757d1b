/** The generic daemon manager: failed starts explain themselves, stop/kill act on our PID, netns isolation. */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { runOk } from "../../../src/host/exec.ts";
import { DaemonStartError, pidAlive, startDaemon } from "../../support/daemon.ts";
import { createNetns, netnsUnavailable } from "../../support/netns.ts";
import { type OvsdbServer, startOvsdbServer, vsctl } from "../../support/ovsdb-server.ts";
import { tcpAccepts, unixSocketAccepts } from "../../support/ports.ts";
import { makeTempDir } from "../../support/temp-dir.ts";

describe("daemon harness", () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it("a daemon that dies at start-up fails with the tail of its log", async () => {
    const dir = makeTempDir("baddb");
    const bogus = join(dir, "not-a-db");
    writeFileSync(bogus, "this is not an ovsdb file\n");
    await assert.rejects(
      startDaemon({
        name: "bad-ovsdb",
        dir,
        argv: (p) => ["ovsdb-server", bogus, `--log-file=${p.logFile}`, `--unixctl=${p.ctlSocket}`],
        ready: (d) => unixSocketAccepts(d.ctlSocket),
      }),
      (err: Error) => {
        assert.ok(err instanceof DaemonStartError);
        assert.match(err.message, /exited \(code \d+\) before it was ready/);
        assert.match(err.message, /not-a-db/, "the daemon's own complaint is quoted");
        return true;
      },
    );
  });

  it("a daemon that never becomes ready is killed and reported", async () => {
    const d = startDaemon({
      name: "never-ready",
      argv: ["sleep", "600"],
      ready: () => false,
      readyTimeoutMs: 300,
    });
    await assert.rejects(d, /timed out after 300 ms waiting for never-ready ready/);
  });

  it("stop, kill and restart act on the daemon's own PID", async () => {
    const d = await startDaemon({ name: "sleeper", argv: ["sleep", "600"] });
    cleanups.push(() => d.stop());
    const first = d.pid;
    assert.ok(pidAlive(first));
    await d.kill("SIGSTOP");
    assert.ok(d.running(), "SIGSTOP does not end it");
    await d.stop(); // must continue a stopped process for SIGTERM to land
    assert.equal(pidAlive(first), false);
    await d.restart();
    assert.notEqual(d.pid, first);
    await d.kill("SIGKILL");
    assert.equal(d.running(), false);
    assert.match(d.lastExit ?? "", /SIGKILL/);
  });

  it("a daemon that forks is tracked through its pidfile", async () => {
    const dir = makeTempDir("detach");
    const db = join(dir, "conf.db");
    await runOk({ argv: ["ovsdb-tool", "create", db, "/usr/share/openvswitch/vswitch.ovsschema"] });
    const sock = join(dir, "db.sock");
    const d = await startDaemon({
      name: "detached",
      dir,
      daemonizes: true,
      argv: (p) => [
        "ovsdb-server",
        db,
        "--detach",
        "--no-chdir",
        `--pidfile=${p.pidFile}`,
        `--log-file=${p.logFile}`,
        `--unixctl=${p.ctlSocket}`,
        `--remote=punix:${sock}`,
      ],
      ready: () => unixSocketAccepts(sock),
    });
    cleanups.push(() => d.stop());
    assert.equal(Number(readFileSync(d.pidFile, "utf8")), d.pid);
    assert.ok(pidAlive(d.pid));
    await d.restart();
    assert.ok(await unixSocketAccepts(sock));
    const pid = d.pid;
    await d.stop();
    assert.equal(pidAlive(pid), false);
  });

  it("a server in a namespace listens on that namespace's loopback only", async (t) => {
    const why = netnsUnavailable();
    if (why) {
      t.skip(why);
      return;
    }
    const ns = await createNetns("hd");
    cleanups.push(() => ns.remove());
    const ovs: OvsdbServer = await startOvsdbServer({ schema: "ovs", tcp: true, netns: ns.name });
    cleanups.push(() => ovs.stop());
    const port = ovs.tcpPort as number;
    await vsctl({ remote: ovs.tcpRemote as string, netns: ns.name }, "add-br", "br-test");
    assert.match(await vsctl(ovs.unixRemote, "list-br"), /br-test/, "unix socket reachable from the root ns");
    assert.equal(await tcpAccepts(port), false, "the namespace's port is not open in the root namespace");
  });
});
