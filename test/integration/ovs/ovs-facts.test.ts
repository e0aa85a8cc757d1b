/**
 * The local Open_vSwitch replica: the chassis identity and bridge facts the agent starts from,
 * read from a real ovsdb-server with the vswitch schema and changed with ovs-vsctl.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { OVS_DATABASE, OVS_TABLES, readOvsFacts } from "../../../src/ovs/ovs-facts.ts";
import { OvsdbClient } from "../../../src/ovsdb/client.ts";
import { startOvsdbServer, vsctl } from "../../support/ovsdb-server.ts";
import { waitFor } from "../../support/wait.ts";

const skip = process.getuid?.() === 0 ? false : "needs root to run ovsdb-server like the agent's hosts do";

describe("local Open_vSwitch facts", { skip }, () => {
  let server: Awaited<ReturnType<typeof startOvsdbServer>>;
  before(async () => {
    server = await startOvsdbServer({ schema: "ovs" });
    await vsctl(server.unixRemote, "init");
  });
  after(async () => server?.stop());

  test("system-id, ovn-remote, bridge mappings, bridge MAC and patch ports follow ovs-vsctl", async () => {
    const db = server.unixRemote;
    await vsctl(
      db,
      "set",
      "Open_vSwitch",
      ".",
      "external_ids:system-id=rack-1-host-2",
      "external_ids:hostname=rack-1-host-2",
      "external_ids:ovn-remote=tcp:127.0.0.1:6642",
      "external_ids:ovn-bridge-mappings=public:br-ex",
    );
    await vsctl(db, "add-br", "br-ex", "--", "set", "Bridge", "br-ex", "datapath_type=netdev");
    const client = new OvsdbClient({ remotes: db, database: OVS_DATABASE, tables: OVS_TABLES }).start();
    try {
      await client.whenSynced(10_000);
      let facts = readOvsFacts(client.replica);
      assert.equal(facts.systemId, "rack-1-host-2");
      assert.equal(facts.ovnRemote, "tcp:127.0.0.1:6642");
      assert.equal(facts.bridgeMappings, "public:br-ex");
      assert.equal(facts.bridges.get("br-ex")?.datapathType, "netdev");
      assert.deepEqual(facts.bridges.get("br-ex")?.patchPorts, []);

      // ovn-controller adds the provider patch port later: the replica must pick it up.
      await vsctl(
        db,
        "add-port",
        "br-ex",
        "patch-provnet-1-to-br-int",
        "--",
        "set",
        "Interface",
        "patch-provnet-1-to-br-int",
        "type=patch",
        "options:peer=patch-br-int-to-provnet-1",
      );
      await vsctl(db, "set", "Interface", "br-ex", 'mac_in_use="aa:bb:cc:00:00:01"');
      facts = await waitFor(
        () => {
          const f = readOvsFacts(client.replica);
          return f.bridges.get("br-ex")?.patchPorts.length === 1 && f.bridges.get("br-ex")?.mac
            ? f
            : undefined;
        },
        { what: "patch port and MAC replicated" },
      );
      assert.deepEqual(facts.bridges.get("br-ex")?.patchPorts, ["patch-provnet-1-to-br-int"]);
      assert.equal(facts.bridges.get("br-ex")?.mac, "aa:bb:cc:00:00:01");

      await vsctl(db, "remove", "Open_vSwitch", ".", "external_ids", "ovn-bridge-mappings");
      await waitFor(() => readOvsFacts(client.replica).bridgeMappings === undefined, {
        what: "mapping removed",
      });
    } finally {
      await client.stop();
    }
  });
});
