import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ALL, clause, eq, includes, lt, NONE, ne, UUID_COLUMN } from "../../../src/ovsdb/wire/condition.ts";
import { DatumError } from "../../../src/ovsdb/wire/errors.ts";
import { type ColumnSchema, parseColumnType } from "../../../src/ovsdb/wire/schema.ts";

const U1 = "8c4f5a1e-0b6d-4e2a-9f1c-3d2b1a0e9f8c";

function column(name: string, type: unknown): ColumnSchema {
  return { name, type: parseColumnType(type), ephemeral: false, mutable: true };
}

const chassis = column("chassis", { key: { type: "uuid", refTable: "Chassis" }, min: 0, max: 1 });
const type = column("type", "string");
const ext = column("external_ids", { key: "string", value: "string", min: 0, max: "unlimited" });
const key = column("tunnel_key", { key: { type: "integer", minInteger: 1, maxInteger: 32767 } });

describe("condition builders", () => {
  it("encode values through the column type", () => {
    assert.deepEqual(eq(chassis, [U1]), ["chassis", "==", ["set", [["uuid", U1]]]]);
    assert.deepEqual(includes(chassis, U1), ["chassis", "includes", ["set", [["uuid", U1]]]]);
    assert.deepEqual(eq(type, "localnet"), ["type", "==", "localnet"]);
    assert.deepEqual(ne(type, ""), ["type", "!=", ""]);
    assert.deepEqual(includes(ext, new Map([["neutron:device_owner", "compute:nova"]])), [
      "external_ids",
      "includes",
      ["map", [["neutron:device_owner", "compute:nova"]]],
    ]);
    assert.deepEqual(eq(UUID_COLUMN, U1), ["_uuid", "==", ["uuid", U1]]);
    assert.deepEqual(lt(key, 100), ["tunnel_key", "<", 100]);
  });

  it("pass wire values through when given a bare column name", () => {
    assert.deepEqual(eq("chassis", ["set", []]), ["chassis", "==", ["set", []]]);
  });

  it("refuse named-uuids, ordering on non-scalars, and invalid values", () => {
    assert.throws(
      () => eq(UUID_COLUMN, "row1"),
      (e: unknown) => e instanceof DatumError && e.column === "_uuid",
    );
    assert.throws(() => clause(ext, ">", new Map()), /needs a scalar column/);
    assert.throws(
      () => lt(key, 0),
      (e: unknown) => e instanceof DatumError && e.column === "tunnel_key",
    );
  });

  it("provide the constant conditions", () => {
    assert.deepEqual(ALL, [true]);
    assert.deepEqual(NONE, [false]);
    assert.ok(Object.isFrozen(ALL));
  });
});
