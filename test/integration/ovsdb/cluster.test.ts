/**
 * A 3-member RAFT Southbound: the client follows the cluster through the loss of the member it is
 * on (resuming from its last transaction id, without reloading the snapshot) and leaves a member
 * that has lost the cluster.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { SB_DATABASE, SB_TABLES } from "../../../src/sb/monitor-spec.ts";
import { sbctl, startOvsdbCluster } from "../../support/ovsdb-server.ts";
import { waitFor } from "../../support/wait.ts";
import { captureLog, recordingClient, rowBy, waitForRow } from "./helpers.ts";

const skip = process.getuid?.() === 0 ? false : "needs root to run ovsdb-server like the agent's hosts do";
const fast = { initialMs: 50, multiplier: 2, maxMs: 500, jitter: 0.2 };

describe("OvsdbClient ↔ clustered Southbound", { skip }, () => {
  let cluster: Awaited<ReturnType<typeof startOvsdbCluster>>;
  before(async () => {
    cluster = await startOvsdbCluster({ schema: "sb", members: 3 });
    await cluster.waitForLeader();
    await sbctl(cluster.remotes, "chassis-add", "gw-1", "geneve", "192.0.2.31");
  });
  after(async () => cluster?.stopAll());

  const memberOf = (remote: string | undefined) => cluster.members.findIndex((m) => m.tcpRemote === remote);

  test("the member the client is on dies: it moves to another and resumes without a full reload", async () => {
    const log = captureLog();
    const { client, changes } = recordingClient({
      remotes: cluster.remotes,
      database: SB_DATABASE,
      tables: SB_TABLES,
      backoff: fast,
      logger: log,
    });
    try {
      await client.whenSynced(15_000);
      assert.equal(client.stats.monitorMethod, "monitor_cond_since");
      await sbctl(cluster.remotes, "chassis-add", "gw-2", "geneve", "192.0.2.32");
      await waitForRow(client, "Chassis", "name", "gw-2");
      assert.notEqual(
        client.stats.lastTxnId,
        "00000000-0000-0000-0000-000000000000",
        "a cluster sends real txn ids",
      );

      const victim = memberOf(client.stats.remote);
      assert.ok(victim >= 0, `client on a member: ${client.stats.remote}`);
      const before = changes.length;
      await cluster.members[victim]?.kill("SIGKILL");
      await waitFor(() => client.state === "active" && memberOf(client.stats.remote) !== victim, {
        what: "client active on another member",
        timeoutMs: 20_000,
      });
      assert.equal(client.stats.lastSync, "resumed", "monitor_cond_since found the last txn id");
      assert.equal(changes.length, before, "nothing re-delivered");

      // ovn-sbctl writes through the leader and gives up while an election runs, or when the member
      // it picks is the dead one: name only the live members and retry until a leader answers.
      const live = cluster.members.filter((_, i) => i !== victim).map((m) => m.tcpRemote);
      await waitFor(
        () =>
          sbctl(live.join(","), "--may-exist", "chassis-add", "gw-3", "geneve", "192.0.2.33").then(
            () => true,
          ),
        {
          what: "a write through the new leader",
          timeoutMs: 30_000,
        },
      );
      await waitForRow(client, "Chassis", "name", "gw-3");
      assert.ok(rowBy(client, "Chassis", "name", "gw-1"));
    } finally {
      await client.stop();
      for (const m of cluster.members) if (!m.running()) await m.restart();
    }
  });

  test("a member that has lost the cluster is left, and the client comes back when the cluster heals", async () => {
    await cluster.waitForLeader();
    const log = captureLog();
    const { client } = recordingClient({
      remotes: cluster.members[0]?.tcpRemote as string,
      database: SB_DATABASE,
      tables: SB_TABLES,
      backoff: fast,
      logger: log,
    });
    try {
      await client.whenSynced(15_000);
      // Without the two others, member 0 cannot reach a leader: _Server reports it disconnected.
      await cluster.members[1]?.kill("SIGKILL");
      await cluster.members[2]?.kill("SIGKILL");
      await waitFor(() => /not connected to the cluster/.test(log.text()), {
        what: "client leaves the isolated member",
        timeoutMs: 30_000,
      });
      assert.notEqual(client.state, "active");
      assert.ok(rowBy(client, "Chassis", "name", "gw-1"), "replica kept meanwhile");
      await cluster.members[1]?.restart();
      await cluster.members[2]?.restart();
      await waitFor(() => client.state === "active", { what: "back on member 0", timeoutMs: 30_000 });
    } finally {
      await client.stop();
      for (const m of cluster.members) if (!m.running()) await m.restart();
    }
  });
});
