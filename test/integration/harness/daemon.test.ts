/** The generic daemon manager: failed starts explain themselves, stop/kill act on our PID, netns isolation. */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { DaemonStartError, startDaemon } from "../../support/daemon.ts";
import { createNetns, netnsUnavailable } from "../../support/netns.ts";
import { type OvsdbServer, startOvsdbServer, vsctl } from "../../support/ovsdb-server.ts";
import { tcpAccepts, unixSocketAccepts } from "../../support/ports.ts";
import { makeTempDir } from "../../support/temp-dir.ts";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

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
    assert.ok(alive(first));
    await d.kill("SIGSTOP");
    assert.ok(d.running(), "SIGSTOP does not end it");
    await d.stop(); // must continue a stopped process for SIGTERM to land
    assert.equal(alive(first), false);
    await d.restart();
    assert.notEqual(d.pid, first);
    await d.kill("SIGKILL");
    assert.equal(d.running(), false);
    assert.match(d.lastExit ?? "", /SIGKILL/);
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
