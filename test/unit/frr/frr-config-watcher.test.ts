/**
 * FRR config drift without FRR: a fake daemon speaks the vty socket protocol (command + NUL in,
 * output + three NULs + status byte out, view node until `enable`), so the client's framing and
 * the watcher's decisions (baseline, settle, the agent's own writes) are checked exactly.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { FrrConfigWatcher } from "../../../src/host/frr/frr-config-watcher.ts";
import { VtyClient } from "../../../src/host/frr/vty-client.ts";

/** A daemon whose running config is `config`; it counts connections and commands. */
class FakeDaemon {
  config = "frr version 8.4.4\n!\nrouter bgp 64999\nexit\n!\n";
  commands: string[] = [];
  connections = 0;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(readonly path: string) {
    this.server = createServer((s) => {
      this.connections++;
      this.sockets.add(s);
      let enabled = false;
      let buf = "";
      s.on("data", (d) => {
        buf += d.toString();
        let nul = buf.indexOf("\0");
        while (nul >= 0) {
          const cmd = buf.slice(0, nul);
          buf = buf.slice(nul + 1);
          this.commands.push(cmd);
          const reply = (out: string, status: number) =>
            s.write(Buffer.concat([Buffer.from(out), Buffer.from([0, 0, 0, status])]));
          if (cmd === "enable") {
            enabled = true;
            reply("", 0);
          } else if (cmd === "show running-config" && enabled) {
            // Split the answer to prove the client waits for the terminator, not the first chunk.
            const text = `Building configuration...\n\nCurrent configuration:\n${this.config}`;
            s.write(text.slice(0, 10));
            setImmediate(() => reply(text.slice(10), 0));
          } else reply(`% Unknown command: ${cmd}\n`, 2);
          nul = buf.indexOf("\0");
        }
      });
      s.on("close", () => this.sockets.delete(s));
    });
  }

  listen(): Promise<void> {
    return new Promise((r) => this.server.listen(this.path, r));
  }

  /** A restart: every connection dropped. */
  dropConnections(): void {
    for (const s of this.sockets) s.destroy();
  }

  close(): Promise<void> {
    this.dropConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

describe("VtyClient and FrrConfigWatcher against a fake vty socket", () => {
  let dir: string;
  let bgpd: FakeDaemon;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "ovnbgp-vty-"));
    bgpd = new FakeDaemon(join(dir, "bgpd.vty"));
    await bgpd.listen();
  });

  after(async () => {
    await bgpd.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("one connection: enable first, then commands; a failing status rejects with the daemon's words", async () => {
    const c = new VtyClient(bgpd.path);
    const before = bgpd.connections;
    const out = await c.run("show running-config");
    assert.match(out, /router bgp 64999/);
    await c.run("show running-config");
    assert.equal(bgpd.connections - before, 1, "the connection is kept");
    await assert.rejects(c.run("show nonsense"), /status 2: % Unknown command: show nonsense/);
    assert.deepEqual(bgpd.commands.slice(-4), [
      "enable",
      "show running-config",
      "show running-config",
      "show nonsense",
    ]);
    bgpd.dropConnections();
    await new Promise((r) => setTimeout(r, 20));
    assert.match(await c.run("show running-config"), /router bgp/, "reconnects after the daemon went away");
    c.close();
  });

  test("a missing socket rejects at once with its cause", async () => {
    const c = new VtyClient(join(dir, "zebra.vty"));
    await assert.rejects(c.run("show running-config"), /ENOENT/);
  });

  test("the watcher: baseline first, a settled change is drift, the agent's own write is not", async () => {
    const drift: string[][] = [];
    const w = new FrrConfigWatcher({
      socketDir: dir,
      daemons: ["bgpd"],
      intervalMs: 0,
      settleMs: 10,
      onDrift: (d) => drift.push([...d]),
    });
    assert.deepEqual(await w.check(), [], "the first look records the baseline");
    assert.deepEqual(await w.check(), [], "nothing changed");

    bgpd.config += "route-map X permit 10\n";
    assert.deepEqual(await w.check(), ["bgpd"], "someone else's change, settled");
    assert.deepEqual(drift, [["bgpd"]]);
    assert.deepEqual(await w.check(), [], "reported once");

    // The agent writes: its echo is taken as the new baseline, not drift.
    w.writing();
    assert.deepEqual(await w.check(), [], "no look while the agent writes");
    bgpd.config += "ip import-table 199\n";
    await w.wrote(true);
    assert.deepEqual(await w.check(), []);
    assert.equal(drift.length, 1);
    w.stop();
  });

  test("a config still moving (an frr-reload in progress) waits until it has settled", async () => {
    const drift: string[][] = [];
    const w = new FrrConfigWatcher({
      socketDir: dir,
      daemons: ["bgpd"],
      intervalMs: 0,
      settleMs: 30,
      onDrift: (d) => drift.push([...d]),
    });
    await w.check();
    bgpd.config += "route-map Y permit 10\n";
    const moving = setInterval(() => {
      bgpd.config += "!\n";
    }, 5);
    try {
      assert.deepEqual(await w.check(), [], "changed again during the settle read: not yet");
    } finally {
      clearInterval(moving);
    }
    assert.deepEqual(drift, []);
    assert.deepEqual(await w.check(), ["bgpd"], "acted on at the next look, once it stood still");
    w.stop();
  });
});
