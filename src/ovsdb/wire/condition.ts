/**
 * Builders for monitor conditions (ovsdb-server(7) §4.1.12 monitor_cond) and `where` clauses
 * (RFC 7047 §5.1 <condition>). The clauses of one table's monitor condition are OR-ed: a row is sent
 * when any clause matches; `true` matches every row, `false` none. In a `where` they are AND-ed.
 *
 * When a {@link ColumnSchema} is given, the value is a {@link Datum} encoded for that column (uuids
 * become ["uuid", s]; named-uuids are refused, they mean nothing in a condition). With a bare column
 * name the value must already be in wire form.
 */
import type { Datum } from "./datum.ts";
import { encodeAtom, encodeDatum } from "./datum-codec.ts";
import { DatumError } from "./errors.ts";
import { type ColumnSchema, columnShape } from "./schema.ts";

export type ConditionFunction = "==" | "!=" | "includes" | "excludes" | "<" | "<=" | ">" | ">=";

export type Clause = [column: string, fn: ConditionFunction, value: unknown] | boolean;

/** The implicit `_uuid` column, for clauses like `eq(UUID_COLUMN, uuid)`. */
export const UUID_COLUMN: ColumnSchema = Object.freeze({
  name: "_uuid",
  type: Object.freeze({ key: Object.freeze({ type: "uuid" as const }), min: 1, max: 1 }),
  ephemeral: false,
  mutable: false,
});

/** Builds one clause; see the module comment for how `value` is encoded. */
export function clause(col: ColumnSchema | string, fn: ConditionFunction, value: unknown): Clause {
  if (typeof col === "string") return [col, fn, value];
  const shape = columnShape(col);
  if ((fn === "<" || fn === "<=" || fn === ">" || fn === ">=") && shape !== "scalar") {
    throw new DatumError(`function ${fn} needs a scalar column`, { column: col.name });
  }
  const opts = { allowNamedUuid: false };
  // A scalar compared with "includes"/"==" takes an atom; sets/maps take a full datum (a bare atom
  // is accepted as a one-element set by encodeDatum).
  const wire =
    shape === "scalar" ? encodeScalar(col, value as Datum, opts) : encodeDatum(col, value as Datum, opts);
  return [col.name, fn, wire];
}

function encodeScalar(col: ColumnSchema, value: Datum, opts: { allowNamedUuid: boolean }): unknown {
  if (typeof value === "object") return encodeDatum(col, value, opts);
  try {
    return encodeAtom(col.type.key, value, opts);
  } catch (err) {
    if (err instanceof DatumError && err.column === undefined) {
      err.column = col.name;
      err.locate(undefined, undefined);
    }
    throw err;
  }
}

export const eq = (col: ColumnSchema | string, value: unknown): Clause => clause(col, "==", value);
export const ne = (col: ColumnSchema | string, value: unknown): Clause => clause(col, "!=", value);
export const includes = (col: ColumnSchema | string, value: unknown): Clause =>
  clause(col, "includes", value);
export const excludes = (col: ColumnSchema | string, value: unknown): Clause =>
  clause(col, "excludes", value);
export const lt = (col: ColumnSchema | string, value: unknown): Clause => clause(col, "<", value);
export const le = (col: ColumnSchema | string, value: unknown): Clause => clause(col, "<=", value);
export const gt = (col: ColumnSchema | string, value: unknown): Clause => clause(col, ">", value);
export const ge = (col: ColumnSchema | string, value: unknown): Clause => clause(col, ">=", value);

/** The condition that matches every row (what a monitor without a condition does). */
export const ALL: readonly Clause[] = Object.freeze([true]);
/** The condition that matches no row (keeps the table in the monitor without receiving rows). */
export const NONE: readonly Clause[] = Object.freeze([false]);
