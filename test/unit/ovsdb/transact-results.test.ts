import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  checkTransactResults,
  DatumError,
  FramingError,
  OvsdbError,
  SchemaError,
  TransactionError,
} from "../../../src/ovsdb/wire/errors.ts";

const ops = [
  { op: "insert", table: "Port_Binding", row: {}, "uuid-name": "pb" },
  { op: "mutate", table: "Chassis", where: [], mutations: [] },
  { op: "comment", comment: "x" },
];

describe("checkTransactResults", () => {
  it("is undefined when every operation succeeded", () => {
    assert.equal(checkTransactResults(ops, [{ uuid: ["uuid", "x"] }, { count: 1 }, {}]), undefined);
    assert.equal(checkTransactResults([], []), undefined);
  });

  it("reports the failing operation with its index, details and op", () => {
    const e = checkTransactResults(ops, [
      { uuid: ["uuid", "x"] },
      { error: "constraint violation", details: "tunnel_key 0 out of range" },
      null,
    ]);
    assert.ok(e instanceof TransactionError);
    assert.equal(e.code, "OVSDB_TXN");
    assert.equal(e.error, "constraint violation");
    assert.equal(e.details, "tunnel_key 0 out of range");
    assert.equal(e.opIndex, 1);
    assert.equal(e.op, ops[1]);
    assert.match(
      e.message,
      /operation #1 \(mutate Chassis\): constraint violation: tunnel_key 0 out of range/,
    );
  });

  it("reports a commit failure from the extra N+1th result with opIndex -1", () => {
    const e = checkTransactResults(ops, [
      { uuid: ["uuid", "x"] },
      { count: 1 },
      {},
      { error: "referential integrity violation", details: "cannot delete Datapath_Binding row" },
    ]);
    assert.ok(e);
    assert.equal(e.opIndex, -1);
    assert.equal(e.op, undefined);
    assert.equal(e.error, "referential integrity violation");
    assert.match(e.message, /at commit/);
  });

  it("accepts fewer results than operations only when one holds an error", () => {
    const e = checkTransactResults(ops, [{ error: "timed out" }]);
    assert.equal(e?.opIndex, 0);
    assert.equal(e?.error, "timed out");
    const short = checkTransactResults(ops, [{}, {}]);
    assert.equal(short?.error, "malformed reply");
    assert.equal(short?.opIndex, -1);
  });

  it("treats unexplained nulls or surplus results as malformed, never as success", () => {
    assert.equal(checkTransactResults(ops, [{}, null, {}])?.error, "malformed reply");
    assert.equal(checkTransactResults(ops, [{}, {}, {}, {}])?.error, "malformed reply");
    assert.equal(checkTransactResults(ops, "nope" as unknown as unknown[])?.error, "malformed reply");
  });
});

describe("error classes", () => {
  it("carry stable codes and share the OvsdbError base", () => {
    const all: Array<[OvsdbError, string]> = [
      [new FramingError("x"), "OVSDB_FRAMING"],
      [new SchemaError("x", { table: "T", column: "c" }), "OVSDB_SCHEMA"],
      [new DatumError("x", { column: "c" }), "OVSDB_DATUM"],
      [new TransactionError({ error: "aborted", opIndex: 0 }), "OVSDB_TXN"],
    ];
    for (const [e, code] of all) {
      assert.ok(e instanceof OvsdbError && e instanceof Error);
      assert.equal(e.code, code);
    }
    assert.equal(all[1]?.[0].message, "x (table T, column c)");
    const d = new DatumError("bad", { column: "c" }).locate("T", "u");
    assert.equal(d.message, "bad (table T, row u, column c)");
    assert.equal(d.name, "DatumError");
  });
});
