/**
 * Converts OVSDB values between their JSON wire form (RFC 7047 §5.1) and the in-memory {@link Datum}.
 *
 * Decoding is on the hot path (a Southbound snapshot is hundreds of thousands of rows), so each column
 * is compiled once into a small {@link ColumnCodec} (shape + atomic type codes + default), cached per
 * schema object; per atom we only do `typeof` checks, and invalid input is reported through a
 * sentinel (`undefined`) so no exception handling runs per atom. Range/enum/length constraints are NOT
 * re-checked when decoding server data: the server enforced them against the same schema, and the
 * replica must not drop rows over them. They ARE checked when encoding, to catch our own bugs before a
 * whole transaction is refused.
 */
import type { Atom, Datum, Row } from "./datum.ts";
import { DatumError } from "./errors.ts";
import {
  type AtomicType,
  type BaseType,
  type ColumnSchema,
  columnShape,
  defaultDatum,
  EMPTY_MAP,
  EMPTY_SET,
  type TableSchema,
} from "./schema.ts";

// Atomic type codes (small ints keep the per-atom switch monomorphic).
const T_INTEGER = 0;
const T_REAL = 1;
const T_BOOLEAN = 2;
const T_STRING = 3;
const T_UUID = 4;

export const SHAPE_SCALAR = 0;
export const SHAPE_SET = 1;
export const SHAPE_MAP = 2;

/** A column compiled for decoding. Internal to the wire layer (updates.ts uses it). */
export interface ColumnCodec {
  readonly col: ColumnSchema;
  readonly name: string;
  readonly shape: 0 | 1 | 2;
  readonly key: number;
  readonly value: number;
  readonly def: Datum;
  /**
   * An update2 "modify" carries a diff for this column (max > 1) rather than the new value. This is
   * ovsdb_type_is_composite() in ovsdb-server: an optional scalar (set or map with max 1, e.g.
   * Port_Binding.chassis) is sent as its new value, checked against ovsdb-server 3.1.
   */
  readonly diff: boolean;
}

/** A table compiled for decoding: columns in schema order plus a by-name index. */
export interface TableCodec {
  readonly table: TableSchema;
  readonly columns: readonly ColumnCodec[];
  readonly byName: ReadonlyMap<string, ColumnCodec>;
  /** `_uuid` then every column at its default, in schema order: rows are shallow copies of it. */
  readonly template: Readonly<Record<string, Datum>>;
}

function typeCode(t: AtomicType): number {
  switch (t) {
    case "integer":
      return T_INTEGER;
    case "real":
      return T_REAL;
    case "boolean":
      return T_BOOLEAN;
    case "string":
      return T_STRING;
    case "uuid":
      return T_UUID;
  }
}

const columnCache = new WeakMap<ColumnSchema, ColumnCodec>();
const tableCache = new WeakMap<TableSchema, TableCodec>();

export function columnCodec(col: ColumnSchema): ColumnCodec {
  let c = columnCache.get(col);
  if (c === undefined) {
    const shape = columnShape(col);
    c = {
      col,
      name: col.name,
      shape: shape === "scalar" ? SHAPE_SCALAR : shape === "set" ? SHAPE_SET : SHAPE_MAP,
      key: typeCode(col.type.key.type),
      value: col.type.value ? typeCode(col.type.value.type) : -1,
      def: defaultDatum(col),
      diff: col.type.max > 1,
    };
    columnCache.set(col, c);
  }
  return c;
}

export function tableCodec(table: TableSchema): TableCodec {
  let t = tableCache.get(table);
  if (t === undefined) {
    const columns: ColumnCodec[] = [];
    const byName = new Map<string, ColumnCodec>();
    for (const col of table.columns.values()) {
      const c = columnCodec(col);
      columns.push(c);
      byName.set(col.name, c);
    }
    // Object.fromEntries keeps the template in fast (non-dictionary) mode even with many columns,
    // unlike adding them one by one; its spread copies are then cheap fast-mode objects too.
    const template: Record<string, Datum> = Object.fromEntries([
      ["_uuid", ""],
      ...columns.map((c) => [c.name, c.def] as const),
    ]);
    t = { table, columns, byName, template };
    tableCache.set(table, t);
  }
  return t;
}

/** HEX[c] is 1 for the ASCII code of a hex digit (either case). */
const HEX = new Uint8Array(128);
for (const ch of "0123456789abcdefABCDEF") HEX[ch.charCodeAt(0)] = 1;

/** 0 when s[from..to) are all hex digits; branch-free so the decode path stays cheap. */
function nonHex(s: string, from: number, to: number): number {
  let bad = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    bad |= (c >> 7) | ((HEX[c & 0x7f] as number) ^ 1);
  }
  return bad;
}

/**
 * True for a canonical 36-character uuid string (8-4-4-4-12 hex digits, either case). Runs on every
 * uuid atom decoded, so it avoids a regex: a table lookup per character measured about 1.5x faster.
 */
export function isUuid(s: string): boolean {
  if (
    s.length !== 36 ||
    s.charCodeAt(8) !== 0x2d ||
    s.charCodeAt(13) !== 0x2d ||
    s.charCodeAt(18) !== 0x2d ||
    s.charCodeAt(23) !== 0x2d
  ) {
    return false;
  }
  return (
    (nonHex(s, 0, 8) | nonHex(s, 9, 13) | nonHex(s, 14, 18) | nonHex(s, 19, 23) | nonHex(s, 24, 36)) === 0
  );
}

const ID_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** True for a valid <id> (RFC 7047 §3.1), usable as a named-uuid. */
export function isId(s: string): boolean {
  return ID_RE.test(s);
}

/** The atom, or undefined when `w` is not a valid wire atom of type `code`. */
function decodeAtomCode(code: number, w: unknown): Atom | undefined {
  switch (code) {
    case T_STRING:
      return typeof w === "string" ? w : undefined;
    case T_UUID:
      if (Array.isArray(w) && w.length === 2 && w[0] === "uuid") {
        const s = w[1];
        if (typeof s === "string" && isUuid(s)) return s;
      }
      return undefined;
    case T_INTEGER:
      return Number.isInteger(w) ? (w as number) : undefined;
    case T_REAL:
      // JSON has one number type: a real that happens to be whole arrives as "1".
      return typeof w === "number" ? w : undefined;
    case T_BOOLEAN:
      return typeof w === "boolean" ? w : undefined;
    default:
      return undefined;
  }
}

const TYPE_NAMES = ["integer", "real", "boolean", "string", "uuid"];

function badAtom(c: ColumnCodec, code: number, w: unknown, what = "value"): DatumError {
  let why = `expected ${TYPE_NAMES[code] ?? "?"}`;
  if (code === T_UUID && Array.isArray(w) && w[0] === "named-uuid") {
    why = "named-uuid is only valid in operations sent to the server";
  } else if (code === T_UUID) {
    why = 'expected ["uuid", "<36-char uuid>"]';
  } else if (code === T_INTEGER && typeof w === "number") {
    why = "expected an integer";
  }
  return new DatumError(`invalid ${what} ${show(w)}: ${why}`, { column: c.name });
}

/** Decodes `w` with a compiled column; throws DatumError naming the column. */
export function decodeWith(c: ColumnCodec, w: unknown): Datum {
  if (c.shape === SHAPE_SCALAR) {
    const a = decodeAtomCode(c.key, w);
    if (a !== undefined) return a;
    // RFC 7047 §5.1: a set of exactly one atom is also a valid scalar value.
    if (Array.isArray(w) && w[0] === "set" && w.length === 2 && Array.isArray(w[1]) && w[1].length === 1) {
      const b = decodeAtomCode(c.key, w[1][0]);
      if (b !== undefined) return b;
      throw badAtom(c, c.key, w[1][0]);
    }
    throw badAtom(c, c.key, w);
  }
  if (c.shape === SHAPE_SET) {
    if (Array.isArray(w) && w[0] === "set") {
      const items = w[1];
      if (w.length !== 2 || !Array.isArray(items)) {
        throw new DatumError(`invalid set ${show(w)}: expected ["set", [atoms...]]`, { column: c.name });
      }
      const n = items.length;
      if (n === 0) return EMPTY_SET;
      const out: Atom[] = [];
      for (let i = 0; i < n; i++) {
        const a = decodeAtomCode(c.key, items[i]);
        if (a === undefined) throw badAtom(c, c.key, items[i], "set element");
        out.push(a);
      }
      return out;
    }
    // One-element sets arrive as the bare atom.
    const a = decodeAtomCode(c.key, w);
    if (a === undefined) throw badAtom(c, c.key, w);
    return [a];
  }
  if (!Array.isArray(w) || w.length !== 2 || w[0] !== "map" || !Array.isArray(w[1])) {
    throw new DatumError(`invalid map ${show(w)}: expected ["map", [[key, value]...]]`, { column: c.name });
  }
  const pairs = w[1] as unknown[];
  const n = pairs.length;
  if (n === 0) return EMPTY_MAP;
  const m = new Map<Atom, Atom>();
  for (let i = 0; i < n; i++) {
    const p = pairs[i];
    if (!Array.isArray(p) || p.length !== 2) {
      throw new DatumError(`invalid map pair ${show(p)}: expected [key, value]`, { column: c.name });
    }
    const k = decodeAtomCode(c.key, p[0]);
    if (k === undefined) throw badAtom(c, c.key, p[0], "map key");
    const v = decodeAtomCode(c.value, p[1]);
    if (v === undefined) throw badAtom(c, c.value, p[1], "map value");
    m.set(k, v);
  }
  return m;
}

/**
 * Decodes one column value from server data. Accepts the bare atom for a one-element set, and a
 * one-element ["set", ...] for a scalar. Integers must be whole numbers; reals may arrive as integers.
 * Throws {@link DatumError} with `.column` set.
 */
export function decodeDatum(col: ColumnSchema, wire: unknown): Datum {
  return decodeWith(columnCodec(col), wire);
}

export interface DecodeRowOptions {
  /** Put every schema column missing from the wire row at its default (update2 "initial"/"insert"). */
  fillDefaults: boolean;
  /** Called for wire columns the schema lacks (they are skipped, never thrown). */
  onUnknownColumn?: (column: string) => void;
}

/**
 * Decodes a wire <row>. `_uuid` in the wire row is ignored (the `uuid` argument is authoritative);
 * `_version` (present in `select` results) is kept as a uuid string. Columns the schema lacks are
 * skipped and reported through `onUnknownColumn`. Throws {@link DatumError} naming table, row, column.
 *
 * With fillDefaults the row's properties are in schema order (after `_uuid`).
 */
export function decodeRow(
  table: TableSchema,
  uuid: string,
  wireRow: Record<string, unknown>,
  opts: DecodeRowOptions,
): Row {
  if (wireRow === null || typeof wireRow !== "object" || Array.isArray(wireRow)) {
    throw new DatumError(`row is not a JSON object: ${show(wireRow)}`, { table: table.name, uuid });
  }
  const tc = tableCodec(table);
  const byName = tc.byName;
  let row: Record<string, Datum>;
  if (opts.fillDefaults) {
    // A shallow copy of the all-defaults template: absent columns cost nothing, and every row of the
    // table shares the template's hidden class (fast properties, whatever the column count).
    row = { ...tc.template };
    row._uuid = uuid;
  } else {
    row = { _uuid: uuid };
  }
  try {
    for (const k in wireRow) {
      const c = byName.get(k);
      if (c !== undefined) row[k] = decodeWith(c, wireRow[k]);
      else extraColumn(k, wireRow[k], row, opts.onUnknownColumn);
    }
  } catch (err) {
    if (err instanceof DatumError) throw err.locate(table.name, uuid);
    throw err;
  }
  return row as Row;
}

function extraColumn(
  k: string,
  w: unknown,
  row: Record<string, Datum>,
  onUnknown: ((column: string) => void) | undefined,
): void {
  if (k === "_uuid") return;
  if (k === "_version") {
    const v = decodeAtomCode(T_UUID, w);
    if (v === undefined) throw new DatumError(`invalid _version ${show(w)}`, { column: k });
    row[k] = v;
    return;
  }
  onUnknown?.(k);
}

// ---------------------------------------------------------------------------------------------------
// Encoding (operations we send: transact, conditions)

export interface EncodeOptions {
  /**
   * Encode a string that is a valid <id> but not a uuid as ["named-uuid", id] in uuid columns
   * (default true). Conditions must not contain named-uuids: they pass false.
   */
  allowNamedUuid?: boolean;
}

/** ["named-uuid", name]: refers to a row inserted earlier in the same transaction. */
export function namedUuid(name: string): ["named-uuid", string] {
  if (!isId(name)) throw new DatumError(`invalid named-uuid ${show(name)}: expected an <id>`);
  return ["named-uuid", name];
}

/**
 * Encodes one atom, checking type and constraints (enum, integer/real range, string length in
 * Unicode code points). Uuids become ["uuid", s]; a valid <id> in a uuid column becomes
 * ["named-uuid", id] unless `allowNamedUuid` is false.
 */
export function encodeAtom(base: BaseType, atom: Atom, opts?: EncodeOptions): unknown {
  let out: unknown;
  switch (base.type) {
    case "integer":
      if (!Number.isInteger(atom)) throw new DatumError(`invalid integer ${show(atom)}`);
      checkRange(atom as number, base.minInteger, base.maxInteger);
      out = atom;
      break;
    case "real":
      if (typeof atom !== "number" || !Number.isFinite(atom))
        throw new DatumError(`invalid real ${show(atom)}`);
      checkRange(atom, base.minReal, base.maxReal);
      out = atom;
      break;
    case "boolean":
      if (typeof atom !== "boolean") throw new DatumError(`invalid boolean ${show(atom)}`);
      out = atom;
      break;
    case "string":
      if (typeof atom !== "string") throw new DatumError(`invalid string ${show(atom)}`);
      if (base.minLength !== undefined || base.maxLength !== undefined) {
        checkRange(codePoints(atom), base.minLength, base.maxLength, "length");
      }
      out = atom;
      break;
    case "uuid":
      if (typeof atom === "string" && isUuid(atom)) out = ["uuid", atom];
      else if (typeof atom === "string" && opts?.allowNamedUuid !== false && isId(atom)) {
        return ["named-uuid", atom];
      } else throw new DatumError(`invalid uuid ${show(atom)}`);
      break;
  }
  if (base.enum !== undefined && !base.enum.includes(atom)) {
    throw new DatumError(`${show(atom)} is not one of ${show(base.enum)}`);
  }
  return out;
}

function checkRange(n: number, min: number | undefined, max: number | undefined, what = "value"): void {
  if ((min !== undefined && n < min) || (max !== undefined && n > max)) {
    throw new DatumError(`${what} ${n} out of range [${min ?? "-inf"}, ${max ?? "inf"}]`);
  }
}

function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A high surrogate followed by a low one is a single code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/**
 * Encodes a datum for an operation. Scalars become the atom; sets always become ["set", [...]] (a
 * bare atom is accepted as a one-element set); maps become ["map", [[k, v]...]]. Set/map sizes are
 * not checked against min/max (conditions legitimately relax them; the server checks transactions).
 * Throws {@link DatumError} with `.column` set.
 */
export function encodeDatum(col: ColumnSchema, datum: Datum, opts?: EncodeOptions): unknown {
  const t = col.type;
  try {
    const shape = columnShape(col);
    if (shape === "scalar") {
      if (Array.isArray(datum)) {
        if (datum.length !== 1) throw new DatumError(`expected one atom, got a set of ${datum.length}`);
        return encodeAtom(t.key, datum[0] as Atom, opts);
      }
      if (datum instanceof Map) throw new DatumError("expected an atom, got a map");
      return encodeAtom(t.key, datum as Atom, opts);
    }
    if (shape === "set") {
      if (datum instanceof Map) throw new DatumError("expected a set, got a map");
      const items: readonly Atom[] = Array.isArray(datum) ? datum : [datum as Atom];
      const out: unknown[] = [];
      for (const a of items) out.push(encodeAtom(t.key, a, opts));
      return ["set", out];
    }
    if (!(datum instanceof Map)) throw new DatumError("expected a map");
    const vt = t.value as BaseType;
    const pairs: unknown[] = [];
    for (const [k, v] of datum as ReadonlyMap<Atom, Atom>) {
      pairs.push([encodeAtom(t.key, k, opts), encodeAtom(vt, v, opts)]);
    }
    return ["map", pairs];
  } catch (err) {
    if (err instanceof DatumError && err.column === undefined) {
      err.column = col.name;
      err.locate(undefined, undefined);
    }
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------------
// Equality

/**
 * Value equality of two datums: atoms by ===, sets regardless of order, maps by key/value. Assumes
 * sets hold no duplicates (OVSDB sets never do).
 */
export function datumEquals(a: Datum, b: Datum): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a)) return Array.isArray(b) && setEquals(a, b as readonly Atom[]);
  if (Array.isArray(b)) return false;
  const ma = a as ReadonlyMap<Atom, Atom>;
  const mb = b as ReadonlyMap<Atom, Atom>;
  if (ma.size !== mb.size) return false;
  for (const [k, v] of ma) {
    if (mb.get(k) !== v) return false;
  }
  return true;
}

function setEquals(a: readonly Atom[], b: readonly Atom[]): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  if (i === n) return true;
  if (n <= 16) {
    for (let j = i; j < n; j++) if (!b.includes(a[j] as Atom)) return false;
    return true;
  }
  const s = new Set(b);
  for (let j = i; j < n; j++) if (!s.has(a[j] as Atom)) return false;
  return true;
}

/** True when two rows have the same columns with equal datums. */
export function rowEquals(a: Row, b: Row): boolean {
  if (a === b) return true;
  let n = 0;
  for (const k in a) {
    const bv = b[k];
    if (bv === undefined || !datumEquals(a[k] as Datum, bv)) return false;
    n++;
  }
  for (const _ in b) n--;
  return n === 0;
}

function show(v: unknown): string {
  let s: string | undefined;
  try {
    s = JSON.stringify(v, (_k, x) => (x instanceof Map ? ["map", [...x]] : x));
  } catch {
    s = undefined;
  }
  if (s === undefined) s = String(v);
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}
