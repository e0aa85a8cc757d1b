/**
 * OVSDB database schemas (RFC 7047 §3.2), parsed from `get_schema` replies or `.ovsschema` files.
 *
 * The parsed form is normalised: every short form ("type": "string", {"key": "uuid"}, an enum given
 * as a bare atom...) becomes the full {@link ColumnType}, so the codec never has to look at the raw
 * JSON again. Parsed objects are frozen because the codecs cache compiled decoders per schema object.
 */
import type { Atom, Datum } from "./datum.ts";
import { SchemaError } from "./errors.ts";

export type AtomicType = "integer" | "real" | "boolean" | "string" | "uuid";

export interface BaseType {
  readonly type: AtomicType;
  /** Allowed values (RFC 7047 §3.2 <base-type> "enum"), already decoded to atoms. */
  readonly enum?: readonly Atom[];
  /** For uuid: the table referenced. */
  readonly refTable?: string;
  /** For uuid with refTable: "strong" (the default) or "weak". */
  readonly refType?: "strong" | "weak";
  readonly minInteger?: number;
  readonly maxInteger?: number;
  readonly minReal?: number;
  readonly maxReal?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
}

export interface ColumnType {
  readonly key: BaseType;
  /** Present for map columns. */
  readonly value?: BaseType;
  readonly min: number;
  /** `Infinity` for "unlimited". */
  readonly max: number;
}

export interface ColumnSchema {
  readonly name: string;
  readonly type: ColumnType;
  readonly ephemeral: boolean;
  readonly mutable: boolean;
}

export interface TableSchema {
  readonly name: string;
  readonly columns: ReadonlyMap<string, ColumnSchema>;
  readonly isRoot: boolean;
  readonly maxRows?: number;
  readonly indexes: string[][];
}

export interface DatabaseSchema {
  readonly name: string;
  readonly version: string;
  readonly cksum?: string;
  readonly tables: ReadonlyMap<string, TableSchema>;
}

const ATOMIC_TYPES: ReadonlySet<string> = new Set(["integer", "real", "boolean", "string", "uuid"]);
const ID_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const ZERO_UUID = "00000000-0000-0000-0000-000000000000";

type Where = { table?: string; column?: string };

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * Parses a <database-schema>. Throws {@link SchemaError} naming the table/column that is malformed.
 *
 * `isRoot`: RFC 7047 §3.2 and ovsdb(7): when no table says `"isRoot": true`, every table is a root
 * table (schemas older than the flag); otherwise a table without the flag is not a root.
 */
export function parseSchema(json: unknown): DatabaseSchema {
  if (!isObject(json)) throw new SchemaError("schema is not a JSON object");
  const { name, version, cksum, tables } = json;
  if (typeof name !== "string" || !ID_RE.test(name))
    throw new SchemaError(`invalid schema name ${show(name)}`);
  // ovsdb-server(7) §3.2: "version" may be omitted by old schemas; we keep "" then.
  if (version !== undefined && typeof version !== "string") {
    throw new SchemaError(`invalid schema version ${show(version)}`);
  }
  if (cksum !== undefined && typeof cksum !== "string") throw new SchemaError(`invalid cksum ${show(cksum)}`);
  if (!isObject(tables)) throw new SchemaError(`schema ${name}: "tables" is not an object`);

  const anyRoot = Object.values(tables).some((t) => isObject(t) && t.isRoot === true);
  const out = new Map<string, TableSchema>();
  for (const [tname, tjson] of Object.entries(tables)) {
    out.set(tname, parseTable(tname, tjson, anyRoot));
  }
  for (const t of out.values()) {
    for (const c of t.columns.values()) {
      for (const b of [c.type.key, c.type.value]) {
        if (b?.refTable !== undefined && !out.has(b.refTable)) {
          throw new SchemaError(`refTable ${b.refTable} does not exist`, { table: t.name, column: c.name });
        }
      }
    }
  }
  const schema: DatabaseSchema = {
    name,
    version: version ?? "",
    ...(cksum === undefined ? {} : { cksum }),
    tables: out,
  };
  return Object.freeze(schema);
}

function parseTable(name: string, json: unknown, anyRoot: boolean): TableSchema {
  const where = { table: name };
  if (!ID_RE.test(name)) throw new SchemaError("invalid table name", where);
  if (!isObject(json)) throw new SchemaError("table schema is not an object", where);
  const { columns, maxRows, isRoot, indexes } = json;
  if (!isObject(columns)) throw new SchemaError('"columns" is not an object', where);
  const cols = new Map<string, ColumnSchema>();
  for (const [cname, cjson] of Object.entries(columns)) {
    if (!ID_RE.test(cname) || cname.startsWith("_")) {
      throw new SchemaError("invalid column name", { table: name, column: cname });
    }
    cols.set(cname, parseColumn(cname, cjson, { table: name, column: cname }));
  }
  if (maxRows !== undefined && !(Number.isInteger(maxRows) && (maxRows as number) >= 1)) {
    throw new SchemaError(`invalid maxRows ${show(maxRows)}`, where);
  }
  if (isRoot !== undefined && typeof isRoot !== "boolean") {
    throw new SchemaError(`invalid isRoot ${show(isRoot)}`, where);
  }
  const idx: string[][] = [];
  if (indexes !== undefined) {
    if (!Array.isArray(indexes)) throw new SchemaError('"indexes" is not an array', where);
    for (const index of indexes) {
      if (!Array.isArray(index) || index.length === 0) {
        throw new SchemaError(`invalid index ${show(index)}`, where);
      }
      for (const c of index) {
        if (typeof c !== "string" || (!cols.has(c) && c !== "_uuid" && c !== "_version")) {
          throw new SchemaError(`index names unknown column ${show(c)}`, where);
        }
      }
      idx.push([...(index as string[])]);
    }
  }
  const table: TableSchema = {
    name,
    columns: cols,
    isRoot: anyRoot ? isRoot === true : true,
    ...(maxRows === undefined ? {} : { maxRows: maxRows as number }),
    indexes: idx,
  };
  return Object.freeze(table);
}

function parseColumn(name: string, json: unknown, where: Where): ColumnSchema {
  if (!isObject(json)) throw new SchemaError("column schema is not an object", where);
  const { type, ephemeral, mutable } = json;
  if (ephemeral !== undefined && typeof ephemeral !== "boolean") {
    throw new SchemaError(`invalid ephemeral ${show(ephemeral)}`, where);
  }
  if (mutable !== undefined && typeof mutable !== "boolean") {
    throw new SchemaError(`invalid mutable ${show(mutable)}`, where);
  }
  if (type === undefined) throw new SchemaError('missing "type"', where);
  return Object.freeze({
    name,
    type: parseColumnType(type, where),
    ephemeral: ephemeral === true,
    mutable: mutable !== false,
  });
}

/** Parses a <type>: an <atomic-type> string, or {"key", "value"?, "min"?, "max"?}. */
export function parseColumnType(json: unknown, where: Where = {}): ColumnType {
  if (typeof json === "string") {
    return Object.freeze({ key: parseBaseType(json, where), min: 1, max: 1 });
  }
  if (!isObject(json)) throw new SchemaError(`invalid type ${show(json)}`, where);
  const { key, value, min, max } = json;
  if (key === undefined) throw new SchemaError('type has no "key"', where);
  const k = parseBaseType(key, where);
  const v = value === undefined ? undefined : parseBaseType(value, where);
  let n = 1;
  if (min !== undefined) {
    if (!Number.isInteger(min) || (min as number) < 0)
      throw new SchemaError(`invalid min ${show(min)}`, where);
    n = min as number;
  }
  let m = 1;
  if (max !== undefined) {
    if (max === "unlimited") m = Number.POSITIVE_INFINITY;
    else if (Number.isInteger(max) && (max as number) >= 1) m = max as number;
    else throw new SchemaError(`invalid max ${show(max)}`, where);
  }
  if (n > m) throw new SchemaError(`min ${n} exceeds max ${m}`, where);
  return Object.freeze(v === undefined ? { key: k, min: n, max: m } : { key: k, value: v, min: n, max: m });
}

/** Parses a <base-type>: an <atomic-type> string or {"type", "enum"?, constraints..., "refTable"?, "refType"?}. */
export function parseBaseType(json: unknown, where: Where = {}): BaseType {
  if (typeof json === "string") {
    if (!ATOMIC_TYPES.has(json)) throw new SchemaError(`unknown atomic type ${show(json)}`, where);
    return Object.freeze({ type: json as AtomicType });
  }
  if (!isObject(json)) throw new SchemaError(`invalid base type ${show(json)}`, where);
  const t = json.type;
  if (typeof t !== "string" || !ATOMIC_TYPES.has(t)) {
    throw new SchemaError(`unknown atomic type ${show(t)}`, where);
  }
  const type = t as AtomicType;
  const out: {
    type: AtomicType;
    enum?: Atom[];
    refTable?: string;
    refType?: "strong" | "weak";
    minInteger?: number;
    maxInteger?: number;
    minReal?: number;
    maxReal?: number;
    minLength?: number;
    maxLength?: number;
  } = { type };

  if (json.enum !== undefined) out.enum = parseEnum(type, json.enum, where);

  const numeric = (field: string, ok: boolean, integer: boolean): number | undefined => {
    const v = json[field];
    if (v === undefined) return undefined;
    if (!ok) throw new SchemaError(`"${field}" is not allowed for type ${type}`, where);
    if (typeof v !== "number" || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
      throw new SchemaError(`invalid ${field} ${show(v)}`, where);
    }
    return v;
  };
  const minInteger = numeric("minInteger", type === "integer", true);
  const maxInteger = numeric("maxInteger", type === "integer", true);
  const minReal = numeric("minReal", type === "real", false);
  const maxReal = numeric("maxReal", type === "real", false);
  const minLength = numeric("minLength", type === "string", true);
  const maxLength = numeric("maxLength", type === "string", true);
  if (minInteger !== undefined) out.minInteger = minInteger;
  if (maxInteger !== undefined) out.maxInteger = maxInteger;
  if (minReal !== undefined) out.minReal = minReal;
  if (maxReal !== undefined) out.maxReal = maxReal;
  if (minLength !== undefined) out.minLength = minLength;
  if (maxLength !== undefined) out.maxLength = maxLength;
  if (minInteger !== undefined && maxInteger !== undefined && minInteger > maxInteger) {
    throw new SchemaError(`minInteger ${minInteger} exceeds maxInteger ${maxInteger}`, where);
  }
  if (minReal !== undefined && maxReal !== undefined && minReal > maxReal) {
    throw new SchemaError(`minReal ${minReal} exceeds maxReal ${maxReal}`, where);
  }
  if (minLength !== undefined && maxLength !== undefined && minLength > maxLength) {
    throw new SchemaError(`minLength ${minLength} exceeds maxLength ${maxLength}`, where);
  }

  if (json.refTable !== undefined) {
    if (type !== "uuid") throw new SchemaError(`"refTable" is not allowed for type ${type}`, where);
    if (typeof json.refTable !== "string" || !ID_RE.test(json.refTable)) {
      throw new SchemaError(`invalid refTable ${show(json.refTable)}`, where);
    }
    out.refTable = json.refTable;
    const rt = json.refType ?? "strong";
    if (rt !== "strong" && rt !== "weak") throw new SchemaError(`invalid refType ${show(rt)}`, where);
    out.refType = rt;
  } else if (json.refType !== undefined) {
    throw new SchemaError('"refType" without "refTable"', where);
  }
  return Object.freeze(out);
}

/** An enum is a <value>: a bare atom or ["set", [atoms...]] (RFC 7047 §3.2). */
function parseEnum(type: AtomicType, json: unknown, where: Where): Atom[] {
  const raw = Array.isArray(json) && json[0] === "set" && json.length === 2 ? json[1] : [json];
  if (!Array.isArray(raw)) throw new SchemaError(`invalid enum ${show(json)}`, where);
  const atoms: Atom[] = [];
  for (const a of raw) {
    let atom: Atom | undefined;
    if (type === "uuid") {
      atom = Array.isArray(a) && a[0] === "uuid" && typeof a[1] === "string" ? a[1] : undefined;
    } else if (type === "string") {
      atom = typeof a === "string" ? a : undefined;
    } else if (type === "boolean") {
      atom = typeof a === "boolean" ? a : undefined;
    } else if (type === "integer") {
      atom = Number.isInteger(a) ? (a as number) : undefined;
    } else {
      atom = typeof a === "number" ? a : undefined;
    }
    if (atom === undefined) throw new SchemaError(`enum value ${show(a)} is not a ${type}`, where);
    atoms.push(atom);
  }
  return Object.freeze(atoms) as Atom[];
}

/** "scalar" iff min 1, max 1 and no value type; "map" iff there is a value type; else "set". */
export function columnShape(col: ColumnSchema): "scalar" | "set" | "map" {
  const t = col.type;
  if (t.value !== undefined) return "map";
  return t.min === 1 && t.max === 1 ? "scalar" : "set";
}

/**
 * The default atom of a base type (RFC 7047 §5.2.1 "insert"): 0, 0.0, false, "", the all-zero uuid.
 *
 * An enum does NOT change the default: ovsdb-server uses the type's default even when it is not one
 * of the enum values (ovsdb_atom_default() ignores constraints), and update2 omits exactly the
 * columns equal to that default, so we must use the same rule to rebuild rows.
 */
export function defaultAtom(base: BaseType): Atom {
  switch (base.type) {
    case "integer":
    case "real":
      return 0;
    case "boolean":
      return false;
    case "string":
      return "";
    case "uuid":
      return ZERO_UUID;
  }
}

/** A Map whose mutators throw, so one default can be shared by every row. */
class FrozenMap<K, V> extends Map<K, V> {
  constructor(entries: Iterable<readonly [K, V]> = []) {
    super();
    for (const [k, v] of entries) Map.prototype.set.call(this, k, v);
  }
  override set(): this {
    throw new TypeError("frozen OVSDB map datum");
  }
  override delete(): boolean {
    throw new TypeError("frozen OVSDB map datum");
  }
  override clear(): void {
    throw new TypeError("frozen OVSDB map datum");
  }
}

/** Shared defaults: decoded rows reference these instead of allocating one per row. */
export const EMPTY_SET: readonly Atom[] = Object.freeze([]);
export const EMPTY_MAP: ReadonlyMap<Atom, Atom> = new FrozenMap<Atom, Atom>();

/**
 * The default datum of a column: an empty set/map when min is 0; otherwise min (in practice 1) default
 * atoms or key/value pairs, like ovsdb_datum_default(). Empty sets and maps are shared, frozen
 * instances.
 */
export function defaultDatum(col: ColumnSchema): Datum {
  const t = col.type;
  const shape = columnShape(col);
  if (shape === "scalar") return defaultAtom(t.key);
  if (t.min === 0) return shape === "map" ? EMPTY_MAP : EMPTY_SET;
  // min >= 1 on a set/map: ovsdb_datum_default() builds min copies of the default, which only makes
  // a valid datum for min 1 (a set cannot hold duplicates); schemas in practice never go beyond that.
  const k = defaultAtom(t.key);
  if (shape === "map") return new FrozenMap<Atom, Atom>([[k, defaultAtom(t.value as BaseType)]]);
  return Object.freeze([k]);
}

/**
 * A view of `table` limited to `columns` (for monitors that request a subset of columns): decoding an
 * update2 "insert" against it fills defaults only for the monitored columns, instead of inventing
 * values for columns the server never sends.
 */
export function restrictTable(table: TableSchema, columns: Iterable<string>): TableSchema {
  const cols = new Map<string, ColumnSchema>();
  for (const c of columns) {
    const col = table.columns.get(c);
    if (!col) throw new SchemaError(`no such column ${c}`, { table: table.name, column: c });
    cols.set(c, col);
  }
  return Object.freeze({ ...table, columns: cols });
}

/** {@link restrictTable} for a whole schema: `tables` maps table name → columns (undefined = all). */
export function restrictSchema(
  schema: DatabaseSchema,
  tables: Readonly<Record<string, readonly string[] | undefined>>,
): DatabaseSchema {
  const out = new Map<string, TableSchema>();
  for (const [name, columns] of Object.entries(tables)) {
    const t = schema.tables.get(name);
    if (!t) throw new SchemaError("no such table", { table: name });
    out.set(name, columns === undefined ? t : restrictTable(t, columns));
  }
  return Object.freeze({ ...schema, tables: out });
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 60)}…` : s;
}
