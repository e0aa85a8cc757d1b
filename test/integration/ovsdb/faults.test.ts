/**
 * Faults: the server killed and restarted, garbage bytes and a truncated frame from the line, SSL
 * with certificates made by the test (and a wrong CA). The client reports, reconnects, never
 * crashes, and keeps what it had replicated.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { OvsdbClient } from "../../../src/ovsdb/client.ts";
import { SB_DATABASE, SB_TABLES } from "../../../src/sb/monitor-spec.ts";
import { makeCerts } from "../../support/certs.ts";
import { atExit } from "../../support/netns.ts";
import { sbctl, startOvsdbServer } from "../../support/ovsdb-server.ts";
import { makeTempDir } from "../../support/temp-dir.ts";
import { waitFor } from "../../support/wait.ts";
import { captureLog, recordingClient, rowBy, waitForRow } from "./helpers.ts";

const skip = process.getuid?.() === 0 ? false : "needs root to run ovsdb-server like the agent's hosts do";
const fast = { initialMs: 50, multiplier: 2, maxMs: 400, jitter: 0.2 };

/**
 * A unix-socket proxy in front of a real server that damages chosen connections: the n-th
 * connection gets `inject(n)` bytes (after the server's first reply) and may then be cut.
 */
function damagingProxy(target: string, plan: (n: number) => { inject?: string; cut?: boolean } | undefined) {
  const dir = makeTempDir("proxy");
  const path = join(dir, "proxy.sock");
  let n = 0;
  const server = net.createServer((client) => {
    n += 1;
    const damage = plan(n);
    const upstream = net.connect({ path: target });
    let replied = false;
    client.on("data", (b) => upstream.write(b));
    upstream.on("data", (b) => {
      client.write(b);
      if (!replied && damage) {
        replied = true;
        if (damage.inject) client.write(damage.inject);
        if (damage.cut) client.end();
      }
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("close", end);
    upstream.on("close", end);
    client.on("error", end);
    upstream.on("error", end);
  });
  const closeProxy = () => server.close();
  atExit(closeProxy);
  return new Promise<{ remote: string; connections: () => number; close: () => void }>((resolve) =>
    server.listen(path, () => resolve({ remote: `unix:${path}`, connections: () => n, close: closeProxy })),
  );
}

describe("OvsdbClient under faults", { skip }, () => {
  let server: Awaited<ReturnType<typeof startOvsdbServer>>;
  before(async () => {
    server = await startOvsdbServer({ schema: "sb", ssl: true });
    await sbctl(server.unixRemote, "chassis-add", "ch-1", "geneve", "192.0.2.21");
  });
  after(async () => server?.stop());

  test("server killed and restarted: replica kept through the outage, no spurious changes, new rows seen", async () => {
    const { client, changes } = recordingClient({
      remotes: server.unixRemote,
      database: SB_DATABASE,
      tables: SB_TABLES,
      backoff: fast,
    });
    try {
      await client.whenSynced(10_000);
      const states: string[] = [];
      client.on("state", (_from: string, to: string) => states.push(to));
      const before = changes.length;
      await server.kill("SIGKILL");
      await waitFor(() => client.state === "backoff" || client.state === "connecting", {
        what: "client noticed",
      });
      assert.ok(rowBy(client, "Chassis", "name", "ch-1"), "replica kept while the server is down");
      await server.restart();
      await waitFor(() => client.state === "active", { what: "reconnected", timeoutMs: 15_000 });
      assert.equal(changes.length, before, "a reload of identical data emits no changes");
      assert.ok(states.includes("backoff"));
      await sbctl(server.unixRemote, "chassis-add", "ch-2", "geneve", "192.0.2.22");
      await waitForRow(client, "Chassis", "name", "ch-2");
      assert.ok(client.stats.reconnects >= 1);
    } finally {
      await client.stop();
    }
  });

  test("garbage bytes and a truncated frame: reported with the remote, reconnected, replica intact", async () => {
    const proxy = await damagingProxy(server.unixRemote.slice("unix:".length), (n) =>
      n === 2
        ? { inject: "\u0000garbage{]" }
        : n === 3
          ? { inject: '{"id":null,"method":"update3","params":["db",', cut: true }
          : undefined,
    );
    const log = captureLog();
    const client = new OvsdbClient({
      remotes: proxy.remote,
      database: SB_DATABASE,
      tables: SB_TABLES,
      logger: log,
      backoff: fast,
      probeIntervalMs: 1_000,
    });
    client.start();
    try {
      await client.whenSynced(10_000);
      // Connection 1 is clean. Force a reconnect: connections 2 and 3 are damaged, 4 is clean again.
      await server.kill("SIGKILL");
      await server.restart();
      await waitFor(() => proxy.connections() >= 4 && client.state === "active", {
        what: "through the damaged connections",
        timeoutMs: 20_000,
      });
      assert.match(
        log.text(),
        new RegExp(`${proxy.remote}.*bad data from server|bad data from server.*${proxy.remote}`),
      );
      assert.ok(rowBy(client, "Chassis", "name", "ch-1"));
      await sbctl(server.unixRemote, "chassis-add", "ch-3", "geneve", "192.0.2.23");
      await waitForRow(client, "Chassis", "name", "ch-3");
    } finally {
      await client.stop();
      proxy.close();
    }
  });

  test("SSL with the test's certificates replicates; a client trusting another CA is refused with a clear error", async () => {
    assert.ok(server.sslRemote && server.certs);
    const certs = server.certs;
    const { client } = recordingClient({
      remotes: server.sslRemote,
      database: SB_DATABASE,
      tables: SB_TABLES,
      ssl: { privateKey: certs.clientKey, certificate: certs.clientCert, caCert: certs.caCert },
    });
    try {
      await client.whenSynced(10_000);
      assert.ok(rowBy(client, "Chassis", "name", "ch-1"));
    } finally {
      await client.stop();
    }

    const otherCa = await makeCerts(makeTempDir("otherca"));
    const log = captureLog();
    const bad = new OvsdbClient({
      remotes: server.sslRemote,
      database: SB_DATABASE,
      tables: SB_TABLES,
      logger: log,
      backoff: fast,
      ssl: { privateKey: otherCa.clientKey, certificate: otherCa.clientCert, caCert: otherCa.caCert },
    });
    bad.start();
    try {
      await waitFor(
        () =>
          log.lines.some(
            (l) => l.level === "warn" && JSON.stringify(l.obj).includes(server.sslRemote as string),
          ),
        {
          what: "a warning naming the SSL remote",
        },
      );
      assert.equal(bad.isSynced, false);
    } finally {
      await bad.stop();
    }
  });
});
