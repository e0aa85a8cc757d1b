/**
 * Merges monitor notifications into rows, without side effects: the caller owns the row store and
 * applies the returned {@link RowChange}s itself.
 *
 * Two wire forms exist (RFC 7047 §4.1.6 and ovsdb-server(7) §4.1.14–4.1.16):
 * - `update` (monitor, version 1): {"old"?: row, "new"?: row}; "new" carries every monitored column,
 *   "old" only the changed ones (we do not need it: we have the current row);
 * - `update2`/`update3` (monitor_cond/monitor_cond_since, version 2): exactly one of
 *   {"initial": row}, {"insert": row}, {"modify": diff}, {"delete": null}. Inserted rows omit columns
 *   at their default value. A "modify" carries, per changed column with max > 1, the symmetric
 *   difference of a set, or for a map the pairs to delete (key with its current value) and to set
 *   (new key, or key with a new value); for every column with max 1 (scalars, and optional values
 *   such as Port_Binding.chassis) it carries the NEW VALUE, because ovsdb-server only diffs
 *   "composite" types (n_max > 1). Verified against ovsdb-server 3.1: moving chassis A→B sends B,
 *   clearing it sends ["set", []].
 *
 * Rows also carry `_version` when the monitor asks for all columns; it is kept and updated.
 *
 * When a monitor requests a subset of columns, pass a schema narrowed with `restrictSchema()` so
 * defaults are filled only for monitored columns.
 */
import type { Atom, Datum, Row, RowChange } from "./datum.ts";
import {
  type ColumnCodec,
  datumEquals,
  decodeRow,
  decodeWith,
  isUuid,
  rowEquals,
  SHAPE_MAP,
  SHAPE_SET,
  tableCodec,
} from "./datum-codec.ts";
import { DatumError } from "./errors.ts";
import { type DatabaseSchema, EMPTY_MAP, EMPTY_SET, type TableSchema } from "./schema.ts";

export interface UpdateOptions {
  /** Called (once per occurrence) for a column the schema lacks; the column is skipped. */
  onUnknownColumn?: (table: string, column: string) => void;
}

export interface TableUpdatesOptions extends UpdateOptions {
  /** Called for a table the schema lacks; its rows are skipped (never an error). */
  onUnknownTable?: (table: string) => void;
}

export interface TableUpdatesResult {
  /** Row changes in message order (tables, then rows, as they appear in the JSON). */
  changes: RowChange[];
  /** One error per malformed row; the other rows are still applied. */
  errors: DatumError[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function unknownColumnHook(table: TableSchema, opts?: UpdateOptions): ((c: string) => void) | undefined {
  const cb = opts?.onUnknownColumn;
  return cb ? (c: string) => cb(table.name, c) : undefined;
}

/** Turns a freshly decoded complete row into an insert, an update of `current`, or nothing. */
function replaceRow(table: TableSchema, uuid: string, current: Row | undefined, next: Row): RowChange | null {
  if (current === undefined) return { kind: "insert", table: table.name, uuid, new: next };
  if (rowEquals(current, next)) return null;
  return { kind: "update", table: table.name, uuid, old: current, new: next };
}

/**
 * Applies one `update2`/`update3` <row-update2> to `current` (undefined when we do not have the row).
 * Returns the change, or null when nothing changed or a delete names a row we do not have.
 * "initial"/"insert" of a row we already have becomes an update (or null if identical). Throws
 * {@link DatumError} naming table/uuid/column on malformed input, and for a "modify" of an unknown
 * row (its diff cannot be applied: the replica is out of sync).
 */
export function applyRowUpdate2(
  table: TableSchema,
  uuid: string,
  current: Row | undefined,
  rowUpdate2: unknown,
  opts?: UpdateOptions,
): RowChange | null {
  const where = { table: table.name, uuid };
  if (!isObject(rowUpdate2)) throw new DatumError(`row update is not an object: ${show(rowUpdate2)}`, where);
  const full = rowUpdate2.initial ?? rowUpdate2.insert;
  if (full !== undefined) {
    if (!isObject(full)) throw new DatumError(`row is not an object: ${show(full)}`, where);
    const next = decodeRow(table, uuid, full, {
      fillDefaults: true,
      onUnknownColumn: unknownColumnHook(table, opts),
    });
    return replaceRow(table, uuid, current, next);
  }
  const diff = rowUpdate2.modify;
  if (diff !== undefined) {
    if (!isObject(diff)) throw new DatumError(`modify is not an object: ${show(diff)}`, where);
    if (current === undefined) throw new DatumError("modify for a row we do not have", where);
    return modifyRow(table, uuid, current, diff, opts);
  }
  if ("delete" in rowUpdate2) {
    return current === undefined ? null : { kind: "delete", table: table.name, uuid, old: current };
  }
  throw new DatumError(
    `row update has none of initial/insert/modify/delete: ${show(Object.keys(rowUpdate2))}`,
    where,
  );
}

function modifyRow(
  table: TableSchema,
  uuid: string,
  current: Row,
  diff: Record<string, unknown>,
  opts: UpdateOptions | undefined,
): RowChange | null {
  const byName = tableCodec(table).byName;
  let next: Record<string, Datum> | undefined;
  for (const name in diff) {
    const c = byName.get(name);
    if (c === undefined) {
      if (name === "_version") {
        const v = decodeVersion(diff[name], table, uuid);
        if (current._version !== v) {
          if (next === undefined) next = { ...current };
          next._version = v;
        }
      } else {
        opts?.onUnknownColumn?.(table.name, name);
      }
      continue;
    }
    let d: Datum;
    try {
      d = decodeWith(c, diff[name]);
    } catch (err) {
      if (err instanceof DatumError) throw err.locate(table.name, uuid);
      throw err;
    }
    const old = current[name] ?? c.def;
    const merged = mergeDiff(c, old, d);
    if (!datumEquals(old, merged)) {
      if (next === undefined) next = { ...current };
      next[name] = merged;
    }
  }
  if (next === undefined) return null;
  return { kind: "update", table: table.name, uuid, old: current, new: next as Row };
}

function decodeVersion(w: unknown, table: TableSchema, uuid: string): string {
  if (Array.isArray(w) && w.length === 2 && w[0] === "uuid" && typeof w[1] === "string" && isUuid(w[1])) {
    return w[1];
  }
  throw new DatumError(`invalid _version ${show(w)}`, { table: table.name, uuid, column: "_version" });
}

/** Applies a decoded modify value `d` of column `c` to its current datum. */
function mergeDiff(c: ColumnCodec, old: Datum, d: Datum): Datum {
  if (!c.diff) return d;
  if (c.shape === SHAPE_SET) return symmetricDifference(old as readonly Atom[], d as readonly Atom[]);
  if (c.shape === SHAPE_MAP)
    return applyMapDiff(old as ReadonlyMap<Atom, Atom>, d as ReadonlyMap<Atom, Atom>);
  return d;
}

function symmetricDifference(cur: readonly Atom[], diff: readonly Atom[]): readonly Atom[] {
  if (diff.length === 0) return cur;
  if (cur.length === 0) return diff;
  const toggle = new Set(diff);
  const out: Atom[] = [];
  for (const a of cur) if (!toggle.delete(a)) out.push(a);
  for (const a of toggle) out.push(a);
  return out.length === 0 ? EMPTY_SET : out;
}

function applyMapDiff(cur: ReadonlyMap<Atom, Atom>, diff: ReadonlyMap<Atom, Atom>): ReadonlyMap<Atom, Atom> {
  if (diff.size === 0) return cur;
  const out = new Map(cur);
  for (const [k, v] of diff) {
    // A key repeated with its current value means "delete"; anything else sets it.
    if (cur.has(k) && cur.get(k) === v) out.delete(k);
    else out.set(k, v);
  }
  return out.size === 0 ? EMPTY_MAP : out;
}

/**
 * Applies one version-1 `update` <row-update> ({"old"?, "new"?}). Without "new" it is a delete (null
 * for a row we do not have). With "new" and no current row it is an insert; otherwise the new
 * columns replace the current ones (columns not monitored keep their current value).
 */
export function applyRowUpdate1(
  table: TableSchema,
  uuid: string,
  current: Row | undefined,
  rowUpdate: unknown,
  opts?: UpdateOptions,
): RowChange | null {
  const where = { table: table.name, uuid };
  if (!isObject(rowUpdate)) throw new DatumError(`row update is not an object: ${show(rowUpdate)}`, where);
  const n = rowUpdate.new;
  if (n === undefined || n === null) {
    if (!("old" in rowUpdate)) throw new DatumError('row update has neither "old" nor "new"', where);
    return current === undefined ? null : { kind: "delete", table: table.name, uuid, old: current };
  }
  if (!isObject(n)) throw new DatumError(`"new" is not an object: ${show(n)}`, where);
  const onUnknownColumn = unknownColumnHook(table, opts);
  if (current === undefined) {
    return replaceRow(
      table,
      uuid,
      undefined,
      decodeRow(table, uuid, n, { fillDefaults: true, onUnknownColumn }),
    );
  }
  const cols = decodeRow(table, uuid, n, { fillDefaults: false, onUnknownColumn });
  let next: Record<string, Datum> | undefined;
  for (const k in cols) {
    if (k === "_uuid") continue;
    const v = cols[k] as Datum;
    const old = current[k];
    if (old === undefined || !datumEquals(old, v)) {
      if (next === undefined) next = { ...current };
      next[k] = v;
    }
  }
  if (next === undefined) return null;
  return { kind: "update", table: table.name, uuid, old: current, new: next as Row };
}

/**
 * Walks a <table-updates> (version 1) or <table-updates2> (version 2, also used by update3) object,
 * `{table: {uuid: rowUpdate}}`, and returns the changes in order. `lookup` gives the current row (it
 * is only called for tables in the schema). Tables the schema lacks are skipped via `onUnknownTable`;
 * a malformed row becomes an entry of `errors` and the other rows are still returned. Throws only when
 * `tableUpdates` itself is not an object.
 */
export function applyTableUpdates(
  schema: DatabaseSchema,
  lookup: (table: string, uuid: string) => Row | undefined,
  tableUpdates: unknown,
  version: 1 | 2,
  opts?: TableUpdatesOptions,
): TableUpdatesResult {
  if (!isObject(tableUpdates)) {
    throw new DatumError(`table updates are not an object: ${show(tableUpdates)}`);
  }
  const changes: RowChange[] = [];
  const errors: DatumError[] = [];
  for (const tname in tableUpdates) {
    const table = schema.tables.get(tname);
    if (table === undefined) {
      opts?.onUnknownTable?.(tname);
      continue;
    }
    const rows = tableUpdates[tname];
    if (!isObject(rows)) {
      errors.push(new DatumError(`table update is not an object: ${show(rows)}`, { table: tname }));
      continue;
    }
    for (const uuid in rows) {
      try {
        if (!isUuid(uuid)) throw new DatumError("row key is not a uuid", { table: tname, uuid });
        const current = lookup(tname, uuid);
        const ch =
          version === 2
            ? applyRowUpdate2(table, uuid, current, rows[uuid], opts)
            : applyRowUpdate1(table, uuid, current, rows[uuid], opts);
        if (ch !== null) changes.push(ch);
      } catch (err) {
        if (!(err instanceof DatumError)) throw err;
        errors.push(err.locate(tname, uuid));
      }
    }
  }
  return { changes, errors };
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  if (s === undefined) return String(v);
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}
