/** RAFT cluster harness: leader election, failover after killing the leader, rejoin, seeding from a file. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  clusterFromFile,
  type OvsdbCluster,
  sbctl,
  startOvsdbCluster,
  startOvsdbServer,
} from "../../support/ovsdb-server.ts";

const chassisNames = async (remote: string, ...opts: string[]) =>
  (await sbctl(remote, ...opts, "--bare", "--columns=name", "list", "Chassis")).trim().split(/\s+/).sort();

describe("ovsdb RAFT cluster", () => {
  let c: OvsdbCluster;
  before(async () => {
    c = await startOvsdbCluster({ schema: "sb", members: 3 });
  });
  after(async () => {
    await c?.stopAll();
  });

  it("elects a leader and fails over when the leader is killed", async () => {
    assert.equal(c.members.length, 3);
    assert.equal(c.dbName, "OVN_Southbound");
    assert.equal(c.remotes.split(",").length, 3);
    await sbctl(c.remotes, "chassis-add", "ch1", "geneve", "127.0.0.1");

    const old = await c.leader();
    assert.equal(await c.members[old]?.role(), "leader");
    await c.members[old]?.kill("SIGKILL");
    const next = await c.waitForLeader({ exclude: old });
    assert.notEqual(next, old);

    await sbctl(c.remotes, "chassis-add", "ch2", "geneve", "127.0.0.2");
    assert.deepEqual(await chassisNames(c.remotes), ["ch1", "ch2"]);

    await c.members[old]?.restart();
    const rejoined = c.members[old]?.unixRemote as string;
    assert.deepEqual(await chassisNames(rejoined, "--no-leader-only"), ["ch1", "ch2"]);
  });

  it("clusterFromFile turns a standalone database into a cluster with its data", async () => {
    const sb = await startOvsdbServer({ schema: "sb" });
    await sbctl(sb.unixRemote, "chassis-add", "seeded", "geneve", "127.0.0.9");
    await sb.stop();
    const c2 = await clusterFromFile(sb.dbFile);
    try {
      assert.equal(c2.dbName, "OVN_Southbound");
      assert.deepEqual(await chassisNames(c2.remotes), ["seeded"]);
    } finally {
      await c2.stopAll();
    }
  });
});
