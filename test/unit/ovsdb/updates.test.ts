import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Atom, Row, RowChange } from "../../../src/ovsdb/wire/datum.ts";
import { DatumError } from "../../../src/ovsdb/wire/errors.ts";
import { parseSchema, restrictSchema } from "../../../src/ovsdb/wire/schema.ts";
import { applyRowUpdate1, applyRowUpdate2, applyTableUpdates } from "../../../src/ovsdb/wire/updates.ts";

const U1 = "11111111-1111-4111-8111-111111111111";
const U2 = "22222222-2222-4222-8222-222222222222";
const CH1 = "c1c1c1c1-0000-4000-8000-000000000001";
const CH2 = "c2c2c2c2-0000-4000-8000-000000000002";
const DP = "d0d0d0d0-0000-4000-8000-000000000000";

/** A cut-down Port_Binding with each column shape. */
const PB_JSON = {
  isRoot: true,
  columns: {
    logical_port: { type: "string" },
    type: { type: "string" },
    tunnel_key: { type: { key: { type: "integer", minInteger: 1, maxInteger: 32767 } } },
    datapath: { type: { key: { type: "uuid", refTable: "Datapath_Binding" } } },
    chassis: { type: { key: { type: "uuid", refTable: "Chassis", refType: "weak" }, min: 0, max: 1 } },
    mac: { type: { key: "string", min: 0, max: "unlimited" } },
    up: { type: { key: "boolean", min: 0, max: 1 } },
    options: { type: { key: "string", value: "string", min: 0, max: "unlimited" } },
    external_ids: { type: { key: "string", value: "string", min: 0, max: "unlimited" } },
  },
};
const schema = parseSchema({
  name: "OVN_Southbound",
  version: "20.27.0",
  tables: {
    Port_Binding: PB_JSON,
    Datapath_Binding: { isRoot: true, columns: { tunnel_key: { type: "integer" } } },
    Chassis: { isRoot: true, columns: { name: { type: "string" } } },
  },
});
const PB = schema.tables.get("Port_Binding") ?? assert.fail("Port_Binding");

function insertRow(): Row {
  const ch = applyRowUpdate2(PB, U1, undefined, {
    insert: {
      logical_port: "lsp1",
      tunnel_key: 3,
      datapath: ["uuid", DP],
      chassis: ["uuid", CH1],
      mac: "fa:16:3e:00:00:01 10.0.0.5",
      external_ids: [
        "map",
        [
          ["neutron:cidrs", "10.0.0.5/24"],
          ["neutron:device_owner", "compute:nova"],
        ],
      ],
    },
  });
  assert.ok(ch && ch.kind === "insert");
  return ch.new;
}

function updated(ch: RowChange | null): Row {
  assert.ok(ch, "expected a change");
  assert.equal(ch.kind, "update");
  return (ch as Extract<RowChange, { kind: "update" }>).new;
}

describe("applyRowUpdate2", () => {
  it("insert: decodes one-element sets given as bare atoms and fills omitted columns with defaults", () => {
    const row = insertRow();
    assert.equal(row._uuid, U1);
    assert.equal(row.logical_port, "lsp1");
    assert.equal(row.type, ""); // omitted: default
    assert.deepEqual(row.up, []); // omitted optional: empty set
    assert.deepEqual(row.chassis, [CH1]);
    assert.deepEqual(row.mac, ["fa:16:3e:00:00:01 10.0.0.5"]);
    assert.equal(row.datapath, DP);
    assert.equal((row.external_ids as Map<Atom, Atom>).get("neutron:cidrs"), "10.0.0.5/24");
  });

  it("initial of a row we already have is an update when it differs and nothing when identical", () => {
    const row = insertRow();
    const same = {
      initial: {
        logical_port: "lsp1",
        tunnel_key: 3,
        datapath: ["uuid", DP],
        chassis: ["uuid", CH1],
        mac: "fa:16:3e:00:00:01 10.0.0.5",
        external_ids: [
          "map",
          [
            ["neutron:device_owner", "compute:nova"],
            ["neutron:cidrs", "10.0.0.5/24"],
          ],
        ],
      },
    };
    assert.equal(applyRowUpdate2(PB, U1, row, same), null);
    const next = updated(applyRowUpdate2(PB, U1, row, { initial: { ...same.initial, tunnel_key: 4 } }));
    assert.equal(next.tunnel_key, 4);
  });

  it("modify map: same value deletes, new value changes, new key adds", () => {
    const row = insertRow();
    const next = updated(
      applyRowUpdate2(PB, U1, row, {
        modify: {
          external_ids: [
            "map",
            [
              ["neutron:cidrs", "10.0.0.5/24"], // same as current: delete
              ["neutron:device_owner", "network:router_gateway"], // different: change
              ["neutron:port_name", "p1"], // new: add
            ],
          ],
        },
      }),
    );
    assert.deepEqual([...(next.external_ids as Map<Atom, Atom>)].sort(), [
      ["neutron:device_owner", "network:router_gateway"],
      ["neutron:port_name", "p1"],
    ]);
    // The current row is not mutated.
    assert.equal((row.external_ids as Map<Atom, Atom>).size, 2);
  });

  it("modify set with max > 1: the symmetric difference", () => {
    const row = insertRow();
    const mac = updated(applyRowUpdate2(PB, U1, row, { modify: { mac: ["set", ["a", "b"]] } }));
    assert.deepEqual([...(mac.mac as Atom[])].sort(), ["a", "b", "fa:16:3e:00:00:01 10.0.0.5"]);
    const toggled = updated(
      applyRowUpdate2(PB, U1, mac, { modify: { mac: ["set", ["a", "fa:16:3e:00:00:01 10.0.0.5"]] } }),
    );
    assert.deepEqual(toggled.mac, ["b"]);
    const gone = updated(applyRowUpdate2(PB, U1, toggled, { modify: { mac: "b" } })); // one element: bare atom
    assert.deepEqual(gone.mac, []);
  });

  it("modify optional value (max 1): the new value, as ovsdb-server sends it (chassis moves, then is cleared)", () => {
    // Captured from ovsdb-server 3.1: moving chassis CH1 -> CH2 sends just CH2, clearing sends ["set", []].
    const row = insertRow();
    const moved = updated(applyRowUpdate2(PB, U1, row, { modify: { chassis: ["uuid", CH2] } }));
    assert.deepEqual(moved.chassis, [CH2]);
    const cleared = updated(applyRowUpdate2(PB, U1, moved, { modify: { chassis: ["set", []] } }));
    assert.deepEqual(cleared.chassis, []);
    const set = updated(applyRowUpdate2(PB, U1, cleared, { modify: { chassis: ["uuid", CH1], up: true } }));
    assert.deepEqual(set.chassis, [CH1]);
    assert.deepEqual(set.up, [true]);
  });

  it("keeps _version current when the monitor includes it", () => {
    const V1 = "aaaaaaaa-0000-4000-8000-000000000001";
    const V2 = "aaaaaaaa-0000-4000-8000-000000000002";
    const ins = applyRowUpdate2(PB, U2, undefined, { insert: { logical_port: "v", _version: ["uuid", V1] } });
    assert.ok(ins && ins.kind === "insert");
    assert.equal(ins.new._version, V1);
    const next = updated(
      applyRowUpdate2(PB, U2, ins.new, { modify: { _version: ["uuid", V2], type: "patch" } }),
    );
    assert.equal(next._version, V2);
    assert.equal(next.type, "patch");
    assert.throws(() => applyRowUpdate2(PB, U2, ins.new, { modify: { _version: "x" } }), DatumError);
  });

  it("modify scalar: the new value; an empty or no-op diff is no change", () => {
    const row = insertRow();
    const next = updated(applyRowUpdate2(PB, U1, row, { modify: { type: "localnet", tunnel_key: 9 } }));
    assert.equal(next.type, "localnet");
    assert.equal(next.tunnel_key, 9);
    assert.equal(next.logical_port, "lsp1");
    assert.equal(applyRowUpdate2(PB, U1, row, { modify: {} }), null);
    assert.equal(applyRowUpdate2(PB, U1, row, { modify: { logical_port: "lsp1" } }), null);
  });

  it("delete returns the old row, and nothing for a row we do not have", () => {
    const row = insertRow();
    assert.deepEqual(applyRowUpdate2(PB, U1, row, { delete: null }), {
      kind: "delete",
      table: "Port_Binding",
      uuid: U1,
      old: row,
    });
    assert.equal(applyRowUpdate2(PB, U2, undefined, { delete: null }), null);
  });

  it("throws DatumError naming table, row and column on malformed input", () => {
    const row = insertRow();
    assert.throws(
      () => applyRowUpdate2(PB, U1, row, { modify: { tunnel_key: "x" } }),
      (e: unknown) =>
        e instanceof DatumError && e.table === "Port_Binding" && e.uuid === U1 && e.column === "tunnel_key",
    );
    assert.throws(
      () => applyRowUpdate2(PB, U2, undefined, { modify: { type: "x" } }),
      /modify for a row we do not have/,
    );
    assert.throws(
      () => applyRowUpdate2(PB, U1, row, { replace: {} }),
      /none of initial\/insert\/modify\/delete/,
    );
    assert.throws(() => applyRowUpdate2(PB, U1, row, null), DatumError);
  });

  it("reports unknown columns through the callback and ignores them", () => {
    const seen: string[] = [];
    const opts = { onUnknownColumn: (t: string, c: string) => seen.push(`${t}.${c}`) };
    const ch = applyRowUpdate2(PB, U2, undefined, { insert: { logical_port: "x", future: 1 } }, opts);
    assert.ok(ch && ch.kind === "insert");
    assert.equal("future" in ch.new, false);
    assert.equal(applyRowUpdate2(PB, U2, ch.new, { modify: { future: 2 } }, opts), null);
    assert.deepEqual(seen, ["Port_Binding.future", "Port_Binding.future"]);
  });
});

describe("applyRowUpdate1 (monitor v1)", () => {
  it("inserts, modifies with the full new row, and deletes", () => {
    const full = {
      logical_port: "lsp1",
      type: "",
      tunnel_key: 3,
      datapath: ["uuid", DP],
      chassis: ["set", []],
      mac: ["set", []],
      up: ["set", []],
      external_ids: ["map", []],
    };
    const ins = applyRowUpdate1(PB, U1, undefined, { new: full });
    assert.ok(ins && ins.kind === "insert");
    const mod = updated(
      applyRowUpdate1(PB, U1, ins.new, { old: { up: ["set", []] }, new: { ...full, up: true } }),
    );
    assert.deepEqual(mod.up, [true]);
    assert.equal(applyRowUpdate1(PB, U1, mod, { old: {}, new: { ...full, up: true } }), null);
    const del = applyRowUpdate1(PB, U1, mod, { old: full });
    assert.equal(del?.kind, "delete");
    assert.equal(applyRowUpdate1(PB, U2, undefined, { old: full }), null);
    assert.throws(() => applyRowUpdate1(PB, U1, mod, {}), DatumError);
  });
});

describe("applyTableUpdates", () => {
  it("returns changes in order, skips unknown tables, and reports a malformed row without dropping others", () => {
    const store = new Map<string, Row>();
    const unknownTables: string[] = [];
    const res = applyTableUpdates(
      schema,
      (_t, u) => store.get(u),
      {
        Port_Binding: {
          [U1]: { insert: { logical_port: "a", tunnel_key: 1, datapath: ["uuid", DP] } },
          [U2]: { insert: { logical_port: "b", tunnel_key: "bad" } },
          "not-a-uuid": { insert: {} },
          [CH1]: { insert: { logical_port: "c", chassis: ["uuid", CH2] } },
        },
        Future_Table: { [U1]: { insert: { x: 1 } } },
        Chassis: { [CH2]: { initial: { name: "hv2" } } },
      },
      2,
      { onUnknownTable: (t) => unknownTables.push(t) },
    );
    assert.deepEqual(
      res.changes.map((c) => [c.kind, c.table, c.uuid]),
      [
        ["insert", "Port_Binding", U1],
        ["insert", "Port_Binding", CH1],
        ["insert", "Chassis", CH2],
      ],
    );
    assert.deepEqual(unknownTables, ["Future_Table"]);
    assert.equal(res.errors.length, 2);
    assert.equal(res.errors[0]?.uuid, U2);
    assert.equal(res.errors[0]?.column, "tunnel_key");
    assert.equal(res.errors[0]?.table, "Port_Binding");
    assert.equal(res.errors[1]?.uuid, "not-a-uuid");
  });

  it("uses lookup for modifies and deletes (version 2) and the v1 form (version 1)", () => {
    const store = new Map<string, Row>();
    const lookup = (_t: string, u: string) => store.get(u);
    const apply = (tu: unknown, v: 1 | 2) => {
      const r = applyTableUpdates(schema, lookup, tu, v);
      assert.deepEqual(r.errors, []);
      for (const c of r.changes) {
        if (c.kind === "delete") store.delete(c.uuid);
        else store.set(c.uuid, c.new);
      }
      return r.changes;
    };
    apply({ Port_Binding: { [U1]: { insert: { logical_port: "a" } } } }, 2);
    apply({ Port_Binding: { [U1]: { modify: { up: true } } } }, 2);
    assert.deepEqual(store.get(U1)?.up, [true]);
    apply({ Port_Binding: { [U1]: { old: { up: true }, new: { logical_port: "a", up: false } } } }, 1);
    assert.deepEqual(store.get(U1)?.up, [false]);
    const del = apply({ Port_Binding: { [U1]: { delete: null } } }, 2);
    assert.equal(del[0]?.kind, "delete");
    assert.equal(store.size, 0);
    assert.throws(() => applyTableUpdates(schema, lookup, [], 2), DatumError);
  });

  it("fills defaults only for monitored columns when given a restricted schema", () => {
    const narrow = restrictSchema(schema, { Port_Binding: ["logical_port", "chassis"] });
    const res = applyTableUpdates(
      narrow,
      () => undefined,
      { Port_Binding: { [U1]: { insert: { logical_port: "a" } } } },
      2,
    );
    const ch = res.changes[0];
    assert.ok(ch && ch.kind === "insert");
    assert.deepEqual(Object.keys(ch.new), ["_uuid", "logical_port", "chassis"]);
  });
});

describe("replay of a real ovsdb-server 3.1 update3 stream", () => {
  // Captured from ovsdb-server 3.1 with the OVN 23.03 Southbound schema (monitor_cond_since, all
  // columns): insert, then an update setting chassis hv1 -> hv2, external_ids {a:1,b:2} -> {b:3,c:4},
  // mac [m] -> [x,y], up [] -> [true], then a delete.
  const sb = parseSchema({
    name: "OVN_Southbound",
    version: "20.27.0",
    tables: {
      Port_Binding: PB_JSON,
      Chassis: { columns: { name: { type: "string" } } },
      Datapath_Binding: { columns: { tunnel_key: { type: "integer" } } },
    },
  });
  const pbUuid = "36cf988b-245d-48f8-bde7-1784b79b858b";
  const hv1 = "c0bad49c-d888-48e0-8d48-dffcb44b7890";
  const hv2 = "21980a37-0124-4699-9a78-23265a337ddc";
  const dp = "0fa9330d-3221-4297-bbfa-dc06e00beded";
  const messages = [
    `{"Port_Binding":{"${pbUuid}":{"insert":{"_version":["uuid","ce38addc-9237-46a1-9907-f410860deac8"],"chassis":["uuid","${hv1}"],"datapath":["uuid","${dp}"],"external_ids":["map",[["a","1"],["b","2"]]],"logical_port":"lsp1","mac":"fa:16:3e:00:00:01 10.0.0.5","tunnel_key":1}}}}`,
    `{"Port_Binding":{"${pbUuid}":{"modify":{"_version":["uuid","6cebb13d-99c9-4b55-b365-641c486c079e"],"chassis":["uuid","${hv2}"],"external_ids":["map",[["a","1"],["b","3"],["c","4"]]],"mac":["set",["fa:16:3e:00:00:01 10.0.0.5","x","y"]],"up":true}}}}`,
    `{"Port_Binding":{"${pbUuid}":{"modify":{"_version":["uuid","7d1c0e5a-99c9-4b55-b365-641c486c079e"],"chassis":["set",[]],"options":["map",[["k","v"]]]}}}}`,
  ];

  it("rebuilds the same rows the server holds", () => {
    const store = new Map<string, Row>();
    for (const m of messages) {
      const { changes, errors } = applyTableUpdates(sb, (_t, u) => store.get(u), JSON.parse(m), 2);
      assert.deepEqual(errors, []);
      for (const c of changes) if (c.kind !== "delete") store.set(c.uuid, c.new);
      if (m === messages[1]) {
        const r = store.get(pbUuid) ?? assert.fail("row");
        assert.deepEqual(r.chassis, [hv2]);
        assert.deepEqual(
          [...(r.external_ids as Map<Atom, Atom>)],
          [
            ["b", "3"],
            ["c", "4"],
          ],
        );
        assert.deepEqual(r.mac, ["x", "y"]);
        assert.deepEqual(r.up, [true]);
        assert.equal(r._version, "6cebb13d-99c9-4b55-b365-641c486c079e");
      }
    }
    const r = store.get(pbUuid) ?? assert.fail("row");
    assert.deepEqual(r.chassis, []);
    assert.deepEqual([...(r.options as Map<Atom, Atom>)], [["k", "v"]]);
    assert.equal(r.datapath, dp);
    assert.equal(r.type, "");
  });
});
