import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { SchemaError } from "../../../src/ovsdb/wire/errors.ts";
import {
  columnShape,
  defaultDatum,
  EMPTY_MAP,
  parseSchema,
  restrictSchema,
  ZERO_UUID,
} from "../../../src/ovsdb/wire/schema.ts";

const SB = "/usr/share/ovn/ovn-sb.ovsschema";
const VSWITCH = "/usr/share/openvswitch/vswitch.ovsschema";

function load(path: string): unknown {
  return JSON.parse(readFileSync(path, "utf8"));
}

function minimal(columns: Record<string, unknown>, extra: Record<string, unknown> = {}): unknown {
  return { name: "Test", version: "1.0.0", tables: { T: { columns, ...extra } } };
}

describe("parseSchema on the installed real schemas", () => {
  it("parses the OVN Southbound schema", { skip: existsSync(SB) ? false : `${SB} not installed` }, () => {
    const s = parseSchema(load(SB));
    assert.equal(s.name, "OVN_Southbound");
    assert.match(s.version, /^\d+\.\d+\.\d+$/);
    const pb = s.tables.get("Port_Binding");
    assert.ok(pb);
    assert.equal(pb.isRoot, true);
    assert.deepEqual(pb.indexes, [["datapath", "tunnel_key"], ["logical_port"]]);

    const chassis = pb.columns.get("chassis");
    assert.ok(chassis);
    assert.equal(columnShape(chassis), "set");
    assert.equal(chassis.type.min, 0);
    assert.equal(chassis.type.max, 1);
    assert.equal(chassis.type.key.type, "uuid");
    assert.equal(chassis.type.key.refTable, "Chassis");
    assert.equal(chassis.type.key.refType, "weak");

    const ext = pb.columns.get("external_ids");
    assert.ok(ext);
    assert.equal(columnShape(ext), "map");
    assert.equal(ext.type.max, Number.POSITIVE_INFINITY);
    assert.equal(ext.type.value?.type, "string");

    const datapath = pb.columns.get("datapath");
    assert.ok(datapath);
    assert.equal(columnShape(datapath), "scalar");
    assert.equal(datapath.type.key.refTable, "Datapath_Binding");
    assert.equal(datapath.type.key.refType, "strong"); // the default when only refTable is given

    const tunnelKey = pb.columns.get("tunnel_key");
    assert.equal(tunnelKey?.type.key.minInteger, 1);
    assert.equal(tunnelKey?.type.key.maxInteger, 32767);
    assert.equal(columnShape(pb.columns.get("mac") ?? assert.fail("mac")), "set");
    assert.equal(pb.columns.get("logical_port")?.type.key.type, "string");

    // Every column of every table is normalised to a full ColumnType.
    for (const t of s.tables.values()) {
      for (const c of t.columns.values()) {
        assert.ok(c.type.min <= c.type.max, `${t.name}.${c.name}`);
        assert.equal(typeof c.type.key.type, "string");
      }
    }
  });

  it("parses the Open vSwitch schema (enums, isRoot, mutable)", {
    skip: existsSync(VSWITCH) ? false : `${VSWITCH} not installed`,
  }, () => {
    const s = parseSchema(load(VSWITCH));
    assert.equal(s.name, "Open_vSwitch");
    assert.equal(s.tables.get("Open_vSwitch")?.isRoot, true);
    assert.equal(s.tables.get("Open_vSwitch")?.maxRows, 1);
    assert.equal(s.tables.get("Port")?.isRoot, false);
    const fail = s.tables.get("Bridge")?.columns.get("fail_mode");
    assert.ok(fail);
    assert.deepEqual([...(fail.type.key.enum ?? [])].sort(), ["secure", "standalone"]);
    // Bridge.name is immutable in the schema ("mutable": false).
    assert.equal(s.tables.get("Bridge")?.columns.get("name")?.mutable, false);
    assert.equal(s.tables.get("Interface")?.columns.get("ofport")?.type.key.type, "integer");
  });
});

describe("parseSchema short forms and errors", () => {
  it("accepts every RFC 7047 §3.2 short form", () => {
    const s = parseSchema(
      minimal({
        a: { type: "string" },
        b: { type: { key: "uuid" } },
        c: { type: { key: { type: "string", enum: ["set", ["x", "y"]] } } },
        d: { type: { key: { type: "string", enum: "only" }, min: 0, max: "unlimited" } },
        e: { type: { key: "integer", value: { type: "real", minReal: 0.5 }, min: 0, max: 4 } },
        f: { type: { key: { type: "uuid", refTable: "T", refType: "weak" }, min: 0, max: 1 } },
        g: { type: "boolean", ephemeral: true, mutable: false },
      }),
    );
    assert.equal(s.cksum, undefined);
    const t = s.tables.get("T");
    assert.ok(t);
    assert.equal(t.isRoot, true); // no table says isRoot: all are roots (old-schema compatibility)
    const col = (n: string) => t.columns.get(n) ?? assert.fail(n);
    assert.deepEqual(col("a").type, { key: { type: "string" }, min: 1, max: 1 });
    assert.deepEqual(col("b").type, { key: { type: "uuid" }, min: 1, max: 1 });
    assert.deepEqual(col("c").type.key.enum, ["x", "y"]);
    assert.deepEqual(col("d").type.key.enum, ["only"]);
    assert.equal(col("d").type.max, Number.POSITIVE_INFINITY);
    assert.equal(columnShape(col("e")), "map");
    assert.equal(col("e").type.value?.minReal, 0.5);
    assert.equal(col("f").type.key.refType, "weak");
    assert.equal(col("g").ephemeral, true);
    assert.equal(col("g").mutable, false);
    assert.equal(col("a").mutable, true);
  });

  it("names the table and column that is malformed", () => {
    const cases: Array<[unknown, RegExp]> = [
      [minimal({ x: { type: "int" } }), /unknown atomic type "int".*table T, column x/],
      [minimal({ x: { type: { key: "string", min: 2, max: 1 } } }), /min 2 exceeds max 1.*column x/],
      [minimal({ x: { type: { key: "string", max: 0 } } }), /invalid max 0.*column x/],
      [minimal({ x: {} }), /missing "type".*column x/],
      [
        minimal({ x: { type: { key: { type: "string", refTable: "T" } } } }),
        /refTable.*not allowed.*column x/,
      ],
      [
        minimal({ x: { type: { key: { type: "uuid", refTable: "Nope" } } } }),
        /Nope does not exist.*column x/,
      ],
      [minimal({ x: { type: { key: { type: "integer", enum: ["set", [1, "a"]] } } } }), /enum value "a"/],
      [minimal({ x: { type: "string" } }, { indexes: [["y"]] }), /index names unknown column "y".*table T/],
      [minimal({ x: { type: "string" } }, { maxRows: 0 }), /invalid maxRows/],
      [{ name: "Test", tables: [] }, /"tables" is not an object/],
      [{ tables: {} }, /invalid schema name/],
    ];
    for (const [json, re] of cases) {
      assert.throws(
        () => parseSchema(json),
        (e: unknown) => e instanceof SchemaError && e.code === "OVSDB_SCHEMA" && re.test(e.message),
        String(re),
      );
    }
  });

  it("marks only flagged tables as roots once any table has isRoot", () => {
    const s = parseSchema({
      name: "D",
      version: "1.0.0",
      tables: { A: { columns: {}, isRoot: true }, B: { columns: {} } },
    });
    assert.equal(s.tables.get("A")?.isRoot, true);
    assert.equal(s.tables.get("B")?.isRoot, false);
  });
});

describe("defaultDatum", () => {
  const s = parseSchema(
    minimal({
      i: { type: "integer" },
      r: { type: "real" },
      b: { type: "boolean" },
      s: { type: "string" },
      u: { type: "uuid" },
      e: { type: { key: { type: "string", enum: ["set", ["z", "a"]] } } },
      set: { type: { key: "string", min: 0, max: "unlimited" } },
      opt: { type: { key: "uuid", min: 0, max: 1 } },
      map: { type: { key: "string", value: "string", min: 0, max: "unlimited" } },
      set1: { type: { key: "integer", min: 1, max: 3 } },
    }),
  );
  const col = (n: string) => s.tables.get("T")?.columns.get(n) ?? assert.fail(n);

  it("follows RFC 7047 §5.2.1: 0, 0.0, false, empty string, all-zero uuid, empty set/map", () => {
    assert.equal(defaultDatum(col("i")), 0);
    assert.equal(defaultDatum(col("r")), 0);
    assert.equal(defaultDatum(col("b")), false);
    assert.equal(defaultDatum(col("s")), "");
    assert.equal(defaultDatum(col("u")), ZERO_UUID);
    assert.deepEqual(defaultDatum(col("set")), []);
    assert.deepEqual(defaultDatum(col("opt")), []);
    assert.equal(defaultDatum(col("map")), EMPTY_MAP);
    assert.deepEqual(defaultDatum(col("set1")), [0]);
  });

  it("ignores enums, like ovsdb-server (the type default, not the first enum value)", () => {
    assert.equal(defaultDatum(col("e")), "");
  });

  it("shares frozen empty defaults that cannot be mutated by accident", () => {
    assert.throws(() => (defaultDatum(col("map")) as Map<string, string>).set("k", "v"), TypeError);
    assert.throws(() => (defaultDatum(col("set")) as string[]).push("x"), TypeError);
    assert.equal(EMPTY_MAP.size, 0);
  });
});

describe("restrictSchema", () => {
  it("keeps only the requested tables and columns", () => {
    const s = parseSchema(minimal({ a: { type: "string" }, b: { type: "integer" } }));
    const r = restrictSchema(s, { T: ["b"] });
    assert.deepEqual([...(r.tables.get("T")?.columns.keys() ?? [])], ["b"]);
    assert.equal(s.tables.get("T")?.columns.size, 2);
    assert.throws(() => restrictSchema(s, { T: ["zz"] }), SchemaError);
    assert.throws(() => restrictSchema(s, { U: undefined }), SchemaError);
  });
});
