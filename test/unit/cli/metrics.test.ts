import assert from "node:assert/strict";
import { request } from "node:http";
import { describe, test } from "node:test";
import { parseListenAddress } from "../../../src/util/listen-address.ts";
import { createMetrics, type HealthStatus, startMetricsServer } from "../../../src/util/metrics.ts";

interface Reply {
  readonly status: number;
  readonly type: string;
  readonly body: string;
}

function get(url: string, method = "GET"): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          type: String(res.headers["content-type"] ?? ""),
          body: Buffer.concat(chunks).toString("utf8"),
        }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

const METRIC_NAMES = [
  "ovn_bgp_events_total",
  "ovn_bgp_reconcile_duration_seconds",
  "ovn_bgp_reconcile_errors_total",
  "ovn_bgp_exposed_ips",
  "ovn_bgp_ovsdb_connected",
  "ovn_bgp_ovsdb_reconnects_total",
  "ovn_bgp_ovsdb_bytes_received_total",
  "ovn_bgp_apply_ops_total",
];

describe("metrics registry", () => {
  test("each createMetrics has its own registry (fresh counters)", async () => {
    const a = createMetrics({ defaultMetrics: false });
    const b = createMetrics({ defaultMetrics: false });
    a.applyOpsTotal.inc({ target: "kernel", op: "add" }, 3);
    const textA = await a.registry.metrics();
    const textB = await b.registry.metrics();
    assert.match(textA, /ovn_bgp_apply_ops_total\{target="kernel",op="add"\} 3/);
    assert.doesNotMatch(textB, /target="kernel"/);
  });

  test("seed events are counted from zero before they first happen", async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.eventsTotal.inc({ event: "FIPSetEvent" });
    const text = await m.registry.metrics();
    assert.match(text, /ovn_bgp_events_total\{event="PortBindingChassisCreatedEvent"\} 0/);
    assert.match(text, /ovn_bgp_events_total\{event="FIPSetEvent"\} 1/);
  });
});

describe("metrics server", () => {
  test("serves /metrics with every agent metric and the Node process metrics", async (t) => {
    const m = createMetrics();
    m.ovsdbConnected.set({ db: "OVN_Southbound" }, 1);
    m.reconcileDuration.observe(0.2);
    const server = await startMetricsServer("127.0.0.1:0", m.registry);
    t.after(() => server.close());
    assert.equal(server.address.host, "127.0.0.1");
    assert.ok(server.address.port > 0);
    const r = await get(`${server.url}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.type, /^text\/plain/);
    for (const name of METRIC_NAMES) assert.match(r.body, new RegExp(`^# TYPE ${name} `, "m"), name);
    assert.match(r.body, /^ovn_bgp_ovsdb_connected\{db="OVN_Southbound"\} 1$/m);
    assert.match(r.body, /^ovn_bgp_reconcile_duration_seconds_count 1$/m);
    assert.match(r.body, /^process_cpu_user_seconds_total /m);
    assert.match(r.body, /^nodejs_eventloop_lag_seconds /m);
  });

  test("/readyz (and its alias /healthz) return the probe's status, 503 when not ok or when it throws; /livez is its own", async (t) => {
    let status: HealthStatus = { ok: true, sb: "connected" };
    let explode = false;
    const m = createMetrics({ defaultMetrics: false });
    const server = await startMetricsServer("127.0.0.1:0", m.registry, {
      readyz: async () => {
        if (explode) throw new Error("replica gone");
        return status;
      },
      livez: () => ({ ok: true, passRunningForMs: 0 }),
    });
    t.after(() => server.close());
    const ready = await get(`${server.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(JSON.parse(ready.body), { ok: true, sb: "connected" });
    const up = await get(`${server.url}/healthz`);
    assert.equal(up.status, 200);
    assert.deepEqual(JSON.parse(up.body), { ok: true, sb: "connected" });
    status = { ok: false, sb: "reconnecting" };
    const down = await get(`${server.url}/healthz`);
    assert.equal(down.status, 503);
    assert.deepEqual(JSON.parse(down.body), { ok: false, sb: "reconnecting" });
    explode = true;
    const broken = await get(`${server.url}/healthz`);
    assert.equal(broken.status, 503);
    assert.deepEqual(JSON.parse(broken.body), { ok: false, error: "replica gone" });
    assert.equal((await get(`${server.url}/readyz`)).status, 503);
    // Not ready is not dead: liveness answers on its own.
    const live = await get(`${server.url}/livez`);
    assert.equal(live.status, 200);
    assert.deepEqual(JSON.parse(live.body), { ok: true, passRunningForMs: 0 });
  });

  test("other paths are 404, other methods 405, HEAD has no body", async (t) => {
    const m = createMetrics({ defaultMetrics: false });
    const server = await startMetricsServer("127.0.0.1:0", m.registry);
    t.after(() => server.close());
    assert.equal((await get(`${server.url}/`)).status, 404);
    assert.equal((await get(`${server.url}/metrics`, "POST")).status, 405);
    const head = await get(`${server.url}/metrics`, "HEAD");
    assert.equal(head.status, 200);
    assert.equal(head.body, "");
  });

  test("close() stops listening", async () => {
    const m = createMetrics({ defaultMetrics: false });
    const server = await startMetricsServer("127.0.0.1:0", m.registry);
    await get(`${server.url}/metrics`);
    await server.close();
    await assert.rejects(get(`${server.url}/metrics`), /ECONNREFUSED/);
  });

  test("an invalid listen address is refused", async () => {
    const m = createMetrics({ defaultMetrics: false });
    await assert.rejects(startMetricsServer("9797", m.registry), /invalid listen address '9797'/);
  });
});

describe("listen addresses", () => {
  test("host:port, [v6]:port; no host, bad port or unbracketed v6 are refused", () => {
    assert.deepEqual(parseListenAddress("127.0.0.1:9797"), { host: "127.0.0.1", port: 9797 });
    assert.deepEqual(parseListenAddress("[::1]:0"), { host: "::1", port: 0 });
    assert.deepEqual(parseListenAddress("localhost:80"), { host: "localhost", port: 80 });
    for (const bad of ["", ":9797", "9797", "::1:9797", "127.0.0.1:65536", "127.0.0.1:", "[zz]:1", "a b:1"]) {
      assert.equal(parseListenAddress(bad), undefined, bad);
    }
  });
});
