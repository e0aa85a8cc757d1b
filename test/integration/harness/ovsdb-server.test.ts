/** Standalone ovsdb-server harness: data round trip, restart persistence and ports, SSL. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type OvsdbServer, ovsdbClient, sbctl, startOvsdbServer } from "../../support/ovsdb-server.ts";

describe("standalone ovsdb-server", () => {
  let sb: OvsdbServer;
  before(async () => {
    sb = await startOvsdbServer({ schema: "sb", tcp: true, ssl: true });
  });
  after(async () => {
    await sb?.stop();
  });

  it("serves the Southbound schema on unix and tcp", async () => {
    assert.equal(sb.dbName, "OVN_Southbound");
    await sbctl(sb.unixRemote, "chassis-add", "ch1", "geneve", "127.0.0.1");
    const names = await sbctl(sb.tcpRemote as string, "--bare", "--columns=name", "list", "Chassis");
    assert.deepEqual(names.trim().split(/\s+/), ["ch1"]);
    assert.match(await sb.ctl("ovsdb-server/list-remotes"), new RegExp(`ptcp:${sb.tcpPort}:127\\.0\\.0\\.1`));
  });

  it("keeps its data, socket and ports across SIGKILL and restart", async () => {
    const before = sb.pid;
    await sbctl(sb.unixRemote, "chassis-add", "ch2", "geneve", "127.0.0.2");
    await sb.kill("SIGKILL");
    assert.equal(sb.running(), false);
    await assert.rejects(sbctl(sb.unixRemote, "--timeout=2", "show"));
    await sb.restart();
    assert.notEqual(sb.pid, before);
    const names = await sbctl(sb.tcpRemote as string, "--bare", "--columns=name", "list", "Chassis");
    assert.deepEqual(names.trim().split(/\s+/).sort(), ["ch1", "ch2"]);
  });

  it("answers over SSL with the client certificate, and refuses a client without one", async () => {
    const certs = sb.certs;
    assert.ok(certs, "ssl: true returns the certificates");
    const target = { remote: sb.sslRemote as string, certs };
    const dbs = await ovsdbClient(target, "list-dbs");
    assert.deepEqual(dbs.trim().split("\n").sort(), ["OVN_Southbound", "_Server"]);
    assert.match(await sbctl(target, "--bare", "--columns=name", "list", "Chassis"), /ch1/);
    await assert.rejects(ovsdbClient(sb.sslRemote as string, "list-dbs"), /private key|certificate/i);
  });
});
