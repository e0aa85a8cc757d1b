/**
 * The OVSDB client against a real ovsdb-server with the real OVN Southbound schema: snapshot,
 * inserts, map and set mutations, deletes made by ovn-sbctl, transactions of our own, conditional
 * monitoring, and a schema that lacks what we ask for.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { TransactionError } from "../../../src/ovsdb/wire/errors.ts";
import { SB_DATABASE, SB_TABLES } from "../../../src/sb/monitor-spec.ts";
import { sbctl, startOvsdbServer } from "../../support/ovsdb-server.ts";
import { waitFor } from "../../support/wait.ts";
import { captureLog, recordingClient, rowBy, waitForRow } from "./helpers.ts";

const skip = process.getuid?.() === 0 ? false : "needs root to run ovsdb-server like the agent's hosts do";

describe("OvsdbClient ↔ real Southbound ovsdb-server", { skip }, () => {
  let server: Awaited<ReturnType<typeof startOvsdbServer>>;
  let db: string;
  before(async () => {
    server = await startOvsdbServer({ schema: "sb" });
    db = server.unixRemote;
    await sbctl(db, "chassis-add", "rack-1-host-1", "geneve", "192.0.2.11");
    await sbctl(db, "create", "Datapath_Binding", "tunnel_key=1", "external_ids:name=public");
  });
  after(async () => server?.stop());

  test("initial snapshot, then inserts, map and set mutations, binds and deletes, each with the old row", async () => {
    const { client, changes } = recordingClient({ remotes: db, database: SB_DATABASE, tables: SB_TABLES });
    try {
      await client.whenSynced(10_000);
      const ch = rowBy(client, "Chassis", "name", "rack-1-host-1");
      assert.ok(ch, "chassis from the snapshot");
      assert.ok(ch.external_ids instanceof Map, "map columns decode to Map");
      assert.equal(client.stats.lastSync, "snapshot");

      const dp = (
        await sbctl(db, "--bare", "--columns=_uuid", "find", "Datapath_Binding", "tunnel_key=1")
      ).trim();
      await sbctl(
        db,
        "create",
        "Port_Binding",
        "logical_port=vm1-port",
        `datapath=${dp}`,
        "tunnel_key=5",
        'mac="fa:16:3e:11:22:33 172.24.4.92 2001:db8::21c"',
        "external_ids:neutron\\:device_owner=compute:nova",
      );
      const pb = await waitForRow(client, "Port_Binding", "logical_port", "vm1-port");
      assert.ok(pb);
      assert.deepEqual(
        pb.mac,
        ["fa:16:3e:11:22:33 172.24.4.92 2001:db8::21c"],
        "one-element set is an array",
      );
      assert.equal(pb.datapath, dp);
      assert.deepEqual(pb.chassis, [], "omitted default columns are filled");
      assert.equal((pb.external_ids as Map<string, string>).get("neutron:device_owner"), "compute:nova");

      // Map mutation: add a key, change it, remove it.
      await sbctl(db, "set", "Port_Binding", "vm1-port", "external_ids:neutron\\:cidrs=172.24.4.92/24");
      await waitFor(
        () =>
          (
            rowBy(client, "Port_Binding", "logical_port", "vm1-port")?.external_ids as Map<string, string>
          )?.get("neutron:cidrs") === "172.24.4.92/24",
        { what: "map key added" },
      );
      await sbctl(db, "remove", "Port_Binding", "vm1-port", "external_ids", '"neutron:device_owner"');
      const afterRemove = await waitFor(
        () => {
          const r = rowBy(client, "Port_Binding", "logical_port", "vm1-port");
          return r && !(r.external_ids as Map<string, string>).has("neutron:device_owner") ? r : undefined;
        },
        { what: "map key removed" },
      );
      assert.equal(
        (afterRemove.external_ids as Map<string, string>).get("neutron:cidrs"),
        "172.24.4.92/24",
        "other keys kept",
      );

      // Set mutation: a second MAC entry, then removal of the first.
      await sbctl(db, "add", "Port_Binding", "vm1-port", "mac", '"fa:16:3e:44:55:66 172.24.4.93"');
      await waitFor(
        () => (rowBy(client, "Port_Binding", "logical_port", "vm1-port")?.mac as string[])?.length === 2,
        { what: "set grew" },
      );
      await sbctl(
        db,
        "remove",
        "Port_Binding",
        "vm1-port",
        "mac",
        '"fa:16:3e:11:22:33 172.24.4.92 2001:db8::21c"',
      );
      await waitFor(
        () => {
          const m = rowBy(client, "Port_Binding", "logical_port", "vm1-port")?.mac as string[] | undefined;
          return m?.length === 1 && m[0] === "fa:16:3e:44:55:66 172.24.4.93";
        },
        { what: "set shrank" },
      );

      // Bind to the chassis (a reference column), as ovn-controller would.
      await sbctl(db, "lsp-bind", "vm1-port", "rack-1-host-1");
      await waitFor(
        () =>
          (rowBy(client, "Port_Binding", "logical_port", "vm1-port")?.chassis as string[])?.[0] === ch._uuid,
        { what: "bound" },
      );
      const bindChange = changes.findLast((c) => c.kind === "update" && c.table === "Port_Binding");
      assert.ok(bindChange && bindChange.kind === "update");
      assert.deepEqual(bindChange.old.chassis, [], "update carries the old row");

      await sbctl(db, "destroy", "Port_Binding", pb._uuid);
      await waitForRow(client, "Port_Binding", "logical_port", "vm1-port", false);
      const del = changes.findLast((c) => c.kind === "delete");
      assert.ok(del && del.kind === "delete");
      assert.equal(del.old.logical_port, "vm1-port", "delete carries the old row");
    } finally {
      await client.stop();
    }
  });

  test("transact: committed rows come back through the monitor; a failed op names the error and the op", async () => {
    const { client } = recordingClient({ remotes: db, database: SB_DATABASE, tables: SB_TABLES });
    try {
      await client.whenSynced(10_000);
      const chassis = (name: string) => [
        {
          op: "insert",
          table: "Encap",
          row: { type: "geneve", ip: "192.0.2.99", chassis_name: name },
          "uuid-name": "e1",
        },
        {
          op: "insert",
          table: "Chassis",
          row: { name, hostname: "h1", encaps: ["named-uuid", "e1"] },
          "uuid-name": "c1",
        },
      ];
      const res = await client.transact(chassis("txn-chassis"));
      const uuid = (res[1] as { uuid: [string, string] }).uuid[1];
      const row = await waitForRow(client, "Chassis", "name", "txn-chassis");
      assert.equal(row?._uuid, uuid);
      // Chassis.name is an index: a second row with the same name violates it at commit.
      await assert.rejects(
        client.transact(chassis("txn-chassis")),
        (e: unknown) =>
          e instanceof TransactionError && e.error === "constraint violation" && e.opIndex === -1,
      );
      await assert.rejects(
        client.transact([{ op: "insert", table: "No_Such_Table", row: {} }]),
        (e: unknown) => e instanceof TransactionError && e.opIndex === 0,
      );
    } finally {
      await client.stop();
    }
  });

  test("conditional monitoring: only matching Port_Bindings are replicated, and conditions change live", async () => {
    const dp = (
      await sbctl(db, "--bare", "--columns=_uuid", "find", "Datapath_Binding", "tunnel_key=1")
    ).trim();
    for (const [name, type, key] of [
      ["ln-public", "localnet", 10],
      ["vm-a", "", 11],
      ["vm-b", "", 12],
    ] as const) {
      await sbctl(
        db,
        "create",
        "Port_Binding",
        `logical_port=${name}`,
        `type="${type}"`,
        `datapath=${dp}`,
        `tunnel_key=${key}`,
      );
    }
    const { client, changes } = recordingClient({
      remotes: db,
      database: SB_DATABASE,
      tables: {
        ...SB_TABLES,
        Port_Binding: { ...SB_TABLES.Port_Binding, where: [["type", "==", "localnet"]] },
      },
    });
    try {
      await client.whenSynced(10_000);
      const names = () =>
        [...client.replica.table("Port_Binding").values()].map((r) => r.logical_port).sort();
      assert.deepEqual(names(), ["ln-public"]);
      await client.setCondition("Port_Binding", [
        ["type", "==", "localnet"],
        ["logical_port", "==", "vm-a"],
      ]);
      await waitFor(() => names().includes("vm-a"), { what: "vm-a added by the new condition" });
      assert.deepEqual(names(), ["ln-public", "vm-a"]);
      await client.setCondition("Port_Binding", [["logical_port", "==", "vm-a"]]);
      await waitFor(() => !names().includes("ln-public"), { what: "ln-public dropped" });
      assert.ok(changes.some((c) => c.kind === "delete" && c.old.logical_port === "ln-public"));
      assert.deepEqual(names(), ["vm-a"]);
      // A change and its undo within one round trip (a gateway leaving and coming back): the
      // second must not be taken for "nothing to send" while the first is still in flight.
      const drop = client.setCondition("Port_Binding", [["logical_port", "==", "vm-b"]]);
      const back = client.setCondition("Port_Binding", [["logical_port", "==", "vm-a"]]);
      await Promise.all([drop, back]);
      await waitFor(() => (names().join() === "vm-a" ? true : undefined), {
        what: "vm-a replicated again after the undo",
      });
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(names(), ["vm-a"], "the last condition wins");
    } finally {
      await client.stop();
    }
  });

  test("a table or column the server's schema lacks is skipped with a warning; the rest replicates", async () => {
    const log = captureLog();
    const { client } = recordingClient({
      remotes: db,
      database: SB_DATABASE,
      logger: log,
      tables: {
        Chassis: { columns: ["name", "column_from_the_future"] },
        Table_From_The_Future: {},
      },
    });
    try {
      await client.whenSynced(10_000);
      assert.ok(rowBy(client, "Chassis", "name", "rack-1-host-1"));
      assert.match(log.text(), /no table Table_From_The_Future/);
      assert.match(log.text(), /no column Chassis\.column_from_the_future/);
    } finally {
      await client.stop();
    }
  });
});
