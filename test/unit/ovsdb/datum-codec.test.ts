import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { Atom, Datum } from "../../../src/ovsdb/wire/datum.ts";
import {
  datumEquals,
  decodeDatum,
  decodeRow,
  encodeAtom,
  encodeDatum,
  isUuid,
  namedUuid,
} from "../../../src/ovsdb/wire/datum-codec.ts";
import { DatumError } from "../../../src/ovsdb/wire/errors.ts";
import {
  type AtomicType,
  type ColumnSchema,
  type ColumnType,
  parseColumnType,
  parseSchema,
  ZERO_UUID,
} from "../../../src/ovsdb/wire/schema.ts";

const U1 = "8c4f5a1e-0b6d-4e2a-9f1c-3d2b1a0e9f8c";
const U2 = "0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6";

function column(name: string, type: unknown): ColumnSchema {
  return { name, type: parseColumnType(type), ephemeral: false, mutable: true };
}

const str = column("name", "string");
const int = column("tunnel_key", "integer");
const real = column("weight", "real");
const bool = column("up", "boolean");
const uuid = column("datapath", { key: { type: "uuid", refTable: "Datapath_Binding" } });
const optUuid = column("chassis", { key: "uuid", min: 0, max: 1 });
const strSet = column("mac", { key: "string", min: 0, max: "unlimited" });
const uuidSet = column("ports", { key: "uuid", min: 0, max: "unlimited" });
const strMap = column("external_ids", { key: "string", value: "string", min: 0, max: "unlimited" });
const intUuidMap = column("queues", { key: "integer", value: "uuid", min: 0, max: "unlimited" });

function throwsDatum(fn: () => unknown, re: RegExp, col?: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DatumError, `not a DatumError: ${String(e)}`);
    assert.equal(e.code, "OVSDB_DATUM");
    assert.match(e.message, re);
    if (col !== undefined) assert.equal(e.column, col);
    return true;
  });
}

describe("isUuid", () => {
  it("accepts canonical uuids only", () => {
    assert.equal(isUuid(U1), true);
    assert.equal(isUuid(U1.toUpperCase()), true);
    assert.equal(isUuid(ZERO_UUID), true);
    assert.equal(isUuid(U1.slice(1)), false);
    assert.equal(isUuid(`${U1.slice(0, 8)}x${U1.slice(9)}`), false);
    assert.equal(isUuid(`${U1.slice(0, 35)}g`), false);
    assert.equal(isUuid("row1"), false);
  });
});

describe("decodeDatum (server data)", () => {
  it("decodes scalars of every type", () => {
    assert.equal(decodeDatum(str, "lsp1"), "lsp1");
    assert.equal(decodeDatum(int, 42), 42);
    assert.equal(decodeDatum(real, 3), 3); // reals may arrive as integers
    assert.equal(decodeDatum(real, 2.5), 2.5);
    assert.equal(decodeDatum(bool, true), true);
    assert.equal(decodeDatum(uuid, ["uuid", U1]), U1);
    assert.equal(decodeDatum(str, ["set", ["x"]]), "x"); // a one-element set is also a scalar
  });

  it('decodes sets: bare atom for one element, ["set", [...]] otherwise', () => {
    assert.deepEqual(decodeDatum(strSet, "52:54:00:00:00:01 10.0.0.5"), ["52:54:00:00:00:01 10.0.0.5"]);
    assert.deepEqual(decodeDatum(strSet, ["set", []]), []);
    assert.deepEqual(decodeDatum(strSet, ["set", ["a", "b"]]), ["a", "b"]);
    assert.deepEqual(decodeDatum(optUuid, ["uuid", U1]), [U1]);
    assert.deepEqual(decodeDatum(optUuid, ["set", []]), []);
    assert.deepEqual(
      decodeDatum(uuidSet, [
        "set",
        [
          ["uuid", U1],
          ["uuid", U2],
        ],
      ]),
      [U1, U2],
    );
  });

  it("decodes maps", () => {
    const m = decodeDatum(strMap, [
      "map",
      [
        ["neutron:device_owner", "compute:nova"],
        ["k", ""],
      ],
    ]);
    assert.ok(m instanceof Map);
    assert.deepEqual(
      [...m],
      [
        ["neutron:device_owner", "compute:nova"],
        ["k", ""],
      ],
    );
    assert.deepEqual(
      [...(decodeDatum(intUuidMap, ["map", [[0, ["uuid", U2]]]]) as Map<Atom, Atom>)],
      [[0, U2]],
    );
    assert.equal((decodeDatum(strMap, ["map", []]) as Map<Atom, Atom>).size, 0);
  });

  it("rejects malformed values with the column named", () => {
    throwsDatum(() => decodeDatum(int, 1.5), /expected an integer/, "tunnel_key");
    throwsDatum(() => decodeDatum(int, "1"), /expected integer/, "tunnel_key");
    throwsDatum(() => decodeDatum(bool, 0), /expected boolean/, "up");
    throwsDatum(() => decodeDatum(uuid, ["named-uuid", "row1"]), /named-uuid is only valid/, "datapath");
    throwsDatum(() => decodeDatum(uuid, U1), /expected \["uuid"/, "datapath");
    throwsDatum(() => decodeDatum(uuid, ["uuid", "not-a-uuid"]), /invalid value/, "datapath");
    throwsDatum(() => decodeDatum(strSet, ["set", "a"]), /invalid set/, "mac");
    throwsDatum(() => decodeDatum(strSet, ["set", ["a", 1]]), /invalid set element 1/, "mac");
    throwsDatum(() => decodeDatum(strMap, { a: "b" }), /invalid map/, "external_ids");
    throwsDatum(() => decodeDatum(strMap, ["map", [["a"]]]), /invalid map pair/, "external_ids");
    throwsDatum(() => decodeDatum(strMap, ["map", [["a", 2]]]), /invalid map value 2/, "external_ids");
    throwsDatum(() => decodeDatum(str, ["set", ["a", "b"]]), /invalid value/, "name");
  });
});

describe("encodeAtom / encodeDatum (operations we send)", () => {
  it("encodes uuids, named-uuids and refuses invalid ones", () => {
    assert.deepEqual(encodeAtom(uuid.type.key, U1), ["uuid", U1]);
    assert.deepEqual(encodeAtom(uuid.type.key, "row1"), ["named-uuid", "row1"]);
    assert.deepEqual(namedUuid("new_pb"), ["named-uuid", "new_pb"]);
    throwsDatum(() => encodeAtom(uuid.type.key, "row1", { allowNamedUuid: false }), /invalid uuid/);
    throwsDatum(() => encodeAtom(uuid.type.key, "not valid!"), /invalid uuid/);
    throwsDatum(() => namedUuid("1abc"), /invalid named-uuid/);
  });

  it("checks types and constraints", () => {
    const key = parseColumnType({ key: { type: "integer", minInteger: 1, maxInteger: 4095 } }).key;
    assert.equal(encodeAtom(key, 4095), 4095);
    throwsDatum(() => encodeAtom(key, 0), /out of range/);
    throwsDatum(() => encodeAtom(key, 1.5), /invalid integer/);
    const en = parseColumnType({ key: { type: "string", enum: ["set", ["secure", "standalone"]] } }).key;
    assert.equal(encodeAtom(en, "secure"), "secure");
    throwsDatum(() => encodeAtom(en, "open"), /not one of/);
    const len = parseColumnType({ key: { type: "string", maxLength: 2 } }).key;
    assert.equal(encodeAtom(len, "𝄞é"), "𝄞é"); // two code points, four UTF-16 units
    throwsDatum(() => encodeAtom(len, "abc"), /length 3 out of range/);
    throwsDatum(() => encodeAtom(real.type.key, Number.NaN), /invalid real/);
  });

  it("encodes sets and maps in the long form, accepting a bare atom as a one-element set", () => {
    assert.deepEqual(encodeDatum(strSet, ["a", "b"]), ["set", ["a", "b"]]);
    assert.deepEqual(encodeDatum(strSet, "a"), ["set", ["a"]]);
    assert.deepEqual(encodeDatum(optUuid, []), ["set", []]);
    assert.deepEqual(encodeDatum(optUuid, [U1]), ["set", [["uuid", U1]]]);
    assert.deepEqual(encodeDatum(strMap, new Map([["k", "v"]])), ["map", [["k", "v"]]]);
    assert.deepEqual(encodeDatum(intUuidMap, new Map([[1, "q1"]])), ["map", [[1, ["named-uuid", "q1"]]]]);
    assert.equal(encodeDatum(str, "x"), "x");
    throwsDatum(() => encodeDatum(strMap, ["a"]), /expected a map/, "external_ids");
    throwsDatum(() => encodeDatum(str, ["a", "b"]), /expected one atom/, "name");
    throwsDatum(() => encodeDatum(int, "7"), /invalid integer/, "tunnel_key");
  });
});

describe("datumEquals", () => {
  it("compares atoms, sets regardless of order, and maps", () => {
    assert.equal(datumEquals("a", "a"), true);
    assert.equal(datumEquals(1, "1"), false);
    assert.equal(datumEquals(["a", "b"], ["b", "a"]), true);
    assert.equal(datumEquals(["a", "b"], ["a", "c"]), false);
    assert.equal(datumEquals(["a"], ["a", "b"]), false);
    const big = Array.from({ length: 40 }, (_, i) => `e${i}`);
    assert.equal(datumEquals(big, [...big].reverse()), true);
    assert.equal(datumEquals(big, [...big.slice(1), "zz"]), false);
    assert.equal(datumEquals(new Map([["k", "v"]]), new Map([["k", "v"]])), true);
    assert.equal(datumEquals(new Map([["k", "v"]]), new Map([["k", "w"]])), false);
    assert.equal(datumEquals(new Map([["k", "v"]]), new Map([["j", "v"]])), false);
    assert.equal(datumEquals(new Map(), []), false);
    assert.equal(datumEquals("a", ["a"]), false);
  });
});

describe("decodeRow", () => {
  const schema = parseSchema({
    name: "S",
    version: "1.0.0",
    tables: {
      T: {
        columns: {
          name: { type: "string" },
          constructor: { type: "integer" }, // collides with an Object.prototype member on purpose
          chassis: { type: { key: "uuid", min: 0, max: 1 } },
          ext: { type: { key: "string", value: "string", min: 0, max: "unlimited" } },
        },
      },
    },
  });
  const table = schema.tables.get("T") ?? assert.fail("T");

  it("fills defaults for omitted columns and reports unknown ones instead of throwing", () => {
    const unknown: string[] = [];
    const row = decodeRow(
      table,
      U1,
      { name: "x", extra: 1 },
      { fillDefaults: true, onUnknownColumn: (c) => unknown.push(c) },
    );
    assert.equal(row._uuid, U1);
    assert.equal(row.name, "x");
    assert.equal(row.constructor, 0);
    assert.deepEqual(row.chassis, []);
    assert.equal((row.ext as Map<Atom, Atom>).size, 0);
    assert.deepEqual(unknown, ["extra"]);
    assert.deepEqual(Object.keys(row), ["_uuid", "name", "constructor", "chassis", "ext"]);
  });

  it("keeps only the columns present without fillDefaults, and _version from select results", () => {
    const row = decodeRow(
      table,
      U1,
      { _uuid: ["uuid", U1], _version: ["uuid", U2], chassis: ["uuid", U2] },
      {
        fillDefaults: false,
      },
    );
    assert.deepEqual({ ...row }, { _uuid: U1, _version: U2, chassis: [U2] });
  });

  it("names table, row and column of a malformed value", () => {
    assert.throws(
      () => decodeRow(table, U1, { name: 5 }, { fillDefaults: true }),
      (e: unknown) =>
        e instanceof DatumError &&
        e.table === "T" &&
        e.uuid === U1 &&
        e.column === "name" &&
        /invalid value 5.*table T, row 8c4f.*column name/.test(e.message),
    );
  });
});

// ---------------------------------------------------------------------------------------------------
// Property: encode → JSON → decode is the identity for random column types and datums.

const atomicTypes: AtomicType[] = ["integer", "real", "boolean", "string", "uuid"];

function atomArb(t: AtomicType): fc.Arbitrary<Atom> {
  switch (t) {
    case "integer":
      return fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 });
    case "real":
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case "boolean":
      return fc.boolean();
    case "string":
      return fc.string({ unit: "binary" });
    case "uuid":
      return fc.uuid();
  }
}

const columnTypeArb: fc.Arbitrary<ColumnType> = fc
  .record({
    key: fc.constantFrom(...atomicTypes),
    value: fc.option(fc.constantFrom(...atomicTypes), { nil: undefined }),
    min: fc.constantFrom(0, 1),
    max: fc.constantFrom(1, 2, 5, Number.POSITIVE_INFINITY),
  })
  .map(({ key, value, min, max }) =>
    parseColumnType({
      key,
      ...(value ? { value } : {}),
      min,
      max: max === Number.POSITIVE_INFINITY ? "unlimited" : max,
    }),
  );

function datumArb(type: ColumnType): fc.Arbitrary<Datum> {
  const max = Math.min(type.max, 6);
  const key = atomArb(type.key.type);
  if (type.value !== undefined) {
    const value = atomArb(type.value.type);
    return fc
      .uniqueArray(fc.tuple(key, value), {
        minLength: type.min,
        maxLength: max,
        selector: (p) => p[0],
        comparator: "SameValueZero",
      })
      .map((pairs) => new Map(pairs));
  }
  if (type.min === 1 && type.max === 1) return key;
  return fc.uniqueArray(key, { minLength: type.min, maxLength: max, comparator: "SameValueZero" });
}

describe("codec round trip (property)", () => {
  it("decode(JSON(encode(datum))) equals datum for random column types", () => {
    fc.assert(
      fc.property(
        columnTypeArb.chain((type) => fc.tuple(fc.constant(type), datumArb(type))),
        ([type, datum]) => {
          const col: ColumnSchema = { name: "c", type, ephemeral: false, mutable: true };
          const wire = JSON.parse(JSON.stringify(encodeDatum(col, datum)));
          const back = decodeDatum(col, wire);
          assert.ok(datumEquals(back, datum), `${JSON.stringify(wire)}`);
          // The server's short form for one-element sets decodes to the same datum.
          if (Array.isArray(datum) && datum.length === 1) {
            const bare = (wire as [string, unknown[]])[1][0];
            assert.ok(datumEquals(decodeDatum(col, bare), datum));
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
