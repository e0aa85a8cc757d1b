import assert from "node:assert/strict";
import { Duplex } from "node:stream";
import { test } from "node:test";
import { ConnectionClosedError, RpcConnection, RpcError } from "../../../src/ovsdb/rpc/json-rpc.ts";

/** Two ends of an in-memory byte stream: what one writes, the other reads. */
function pipePair(): [Duplex, Duplex] {
  let a!: Duplex;
  let b!: Duplex;
  const make = (peer: () => Duplex) =>
    new Duplex({
      read() {},
      write(chunk, _enc, cb) {
        peer().push(chunk);
        cb();
      },
      final(cb) {
        peer().push(null);
        cb();
      },
    });
  a = make(() => b);
  b = make(() => a);
  return [a, b];
}

/** Collect the JSON messages written to `end`, split by a naive parser good enough for tests. */
function serverSide(end: Duplex, onMessage: (m: Record<string, unknown>) => void): void {
  let buf = "";
  end.on("data", (c: Buffer) => {
    buf += c.toString();
    // Our client writes one JSON value per write; split on "}{" boundaries.
    const parts = buf.replace(/}{/g, "}\n{").split("\n");
    buf = "";
    for (const p of parts) {
      try {
        onMessage(JSON.parse(p));
      } catch {
        buf = p;
      }
    }
  });
}

const opts = { remote: "test:mem", probeIntervalMs: 0, requestTimeoutMs: 2_000 };

test("matches replies to requests by id, in any order, and surfaces per-request errors", async () => {
  const [client, server] = pipePair();
  const rpc = new RpcConnection(client, opts);
  const seen: Array<Record<string, unknown>> = [];
  serverSide(server, (m) => {
    seen.push(m);
    if (seen.length === 2) {
      // Answer the second first, split into two chunks in the middle of a string.
      const r2 = JSON.stringify({ id: seen[1]?.id, result: null, error: "unknown method" });
      server.write(r2.slice(0, 10));
      server.write(
        r2.slice(10) + JSON.stringify({ id: seen[0]?.id, result: ["OVN_Southbound"], error: null }),
      );
    }
  });
  const p1 = rpc.request("list_dbs", []);
  const p2 = rpc.request("monitor_cond_since", ["db"]);
  assert.deepEqual(await p1, ["OVN_Southbound"]);
  await assert.rejects(p2, (e: unknown) => e instanceof RpcError && e.kind === "unknown method");
  rpc.close();
});

test("answers the server's echo requests and delivers notifications", async () => {
  const [client, server] = pipePair();
  const rpc = new RpcConnection(client, opts);
  const notes: unknown[] = [];
  rpc.on("notification", (method: string, params: unknown[]) => notes.push([method, params]));
  const echoReply = new Promise<Record<string, unknown>>((resolve) => serverSide(server, resolve));
  server.write(JSON.stringify({ method: "echo", params: ["x", 1], id: "srv-1" }));
  server.write(JSON.stringify({ method: "update3", params: ["db", "t1", {}], id: null }));
  assert.deepEqual(await echoReply, { id: "srv-1", result: ["x", 1], error: null });
  assert.deepEqual(notes, [["update3", ["db", "t1", {}]]]);
  rpc.close();
});

test("garbage from the server closes the connection with a message naming the remote; pending requests fail", async () => {
  const [client, server] = pipePair();
  const rpc = new RpcConnection(client, opts);
  const closed = new Promise<Error>((resolve) => rpc.once("close", resolve));
  const pending = rpc.request("get_schema", ["OVN_Southbound"]);
  server.write("\x00\x01garbage");
  const why = await closed;
  assert.match(why.message, /test:mem: bad data from server/);
  await assert.rejects(pending, ConnectionClosedError);
  assert.equal(rpc.isClosed, true);
});

test("the inactivity probe sends echo after silence and closes when it is not answered", async () => {
  const [client, server] = pipePair();
  const rpc = new RpcConnection(client, { ...opts, probeIntervalMs: 60 });
  const keepAlive = setInterval(() => {}, 1000); // the probe timer is unref'd; a real socket keeps the loop alive
  const probes: unknown[] = [];
  serverSide(server, (m) => probes.push(m.method));
  const why = await new Promise<Error>((resolve) => rpc.once("close", resolve));
  clearInterval(keepAlive);
  assert.deepEqual(probes, ["echo"]);
  assert.match(why.message, /inactivity probe/);
});

test("an answered probe keeps the connection open", async () => {
  const [client, server] = pipePair();
  const rpc = new RpcConnection(client, { ...opts, probeIntervalMs: 40 });
  const keepAlive = setInterval(() => {}, 1000);
  let probes = 0;
  serverSide(server, (m) => {
    if (m.method === "echo") {
      probes += 1;
      server.write(JSON.stringify({ id: m.id, result: [], error: null }));
    }
  });
  while (probes < 3) await new Promise((r) => setTimeout(r, 20));
  assert.equal(rpc.isClosed, false);
  clearInterval(keepAlive);
  rpc.close();
});
