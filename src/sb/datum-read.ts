/**
 * Tolerant readers for decoded OVSDB values. The Southbound views never throw: a column with an
 * unexpected shape reads as empty, and the reader records the oddity so the planner can report
 * it as a PlanProblem for the row (only when that row matters to this chassis).
 */
import type { Atom, Datum } from "../ovsdb/wire/datum.ts";

/** Collects column-shape oddities while a view is built from a Row. */
export class Oddities {
  readonly list: string[] = [];
  note(column: string, what: string): void {
    this.list.push(`${column}: ${what}`);
  }
  /** The oddities found (a shared empty array when none: views are built by the 100,000). */
  take(): readonly string[] {
    if (this.list.length === 0) return NO_ODDITIES;
    const out = [...this.list];
    this.list.length = 0;
    return out;
  }
}

const NO_ODDITIES: readonly string[] = Object.freeze([]);

function isAtomArray(d: Datum | undefined): d is readonly Atom[] {
  return Array.isArray(d);
}

/** A scalar string column (also accepts a one-element set, as some encoders send). */
export function readString(d: Datum | undefined, column: string, odd: Oddities): string {
  if (typeof d === "string") return d;
  if (d === undefined) return "";
  if (isAtomArray(d) && d.length === 1 && typeof d[0] === "string") return d[0];
  odd.note(column, "not a string");
  return "";
}

/** An optional (min 0, max 1) string or uuid column. */
export function readOptionalString(d: Datum | undefined, column: string, odd: Oddities): string | undefined {
  if (d === undefined) return undefined;
  if (typeof d === "string") return d;
  if (isAtomArray(d)) {
    if (d.length === 0) return undefined;
    if (d.length === 1 && typeof d[0] === "string") return d[0];
  }
  odd.note(column, "not an optional string");
  return undefined;
}

/** An optional integer column. */
export function readOptionalInt(d: Datum | undefined, column: string, odd: Oddities): number | undefined {
  if (d === undefined) return undefined;
  const v = isAtomArray(d) ? (d.length === 0 ? undefined : d.length === 1 ? d[0] : null) : d;
  if (v === undefined) return undefined;
  if (typeof v === "number" && Number.isInteger(v)) return v;
  odd.note(column, "not an optional integer");
  return undefined;
}

/** An optional boolean column. */
export function readOptionalBool(d: Datum | undefined, column: string, odd: Oddities): boolean | undefined {
  if (d === undefined) return undefined;
  const v = isAtomArray(d) ? (d.length === 0 ? undefined : d.length === 1 ? d[0] : null) : d;
  if (v === undefined) return undefined;
  if (typeof v === "boolean") return v;
  odd.note(column, "not an optional boolean");
  return undefined;
}

/** A set of strings (or uuids); a bare atom is a one-element set. Non-string members are dropped. */
export function readStringSet(d: Datum | undefined, column: string, odd: Oddities): readonly string[] {
  if (d === undefined) return [];
  if (typeof d === "string") return [d];
  if (isAtomArray(d)) {
    let clean = true;
    for (const x of d) if (typeof x !== "string") clean = false;
    if (clean) return d as readonly string[];
    odd.note(column, "non-string set members ignored");
    return d.filter((x): x is string => typeof x === "string");
  }
  odd.note(column, "not a set");
  return [];
}

const EMPTY_MAP: ReadonlyMap<string, string> = new Map();

/** A string→string map column; non-string keys or values are dropped. */
export function readStringMap(
  d: Datum | undefined,
  column: string,
  odd: Oddities,
): ReadonlyMap<string, string> {
  if (d === undefined) return EMPTY_MAP;
  if (d instanceof Map) {
    let clean = true;
    for (const [k, v] of d) {
      if (typeof k !== "string" || typeof v !== "string") {
        clean = false;
        break;
      }
    }
    if (clean) return d as ReadonlyMap<string, string>;
    const out = new Map<string, string>();
    for (const [k, v] of d) if (typeof k === "string" && typeof v === "string") out.set(k, v);
    odd.note(column, "non-string map entries ignored");
    return out;
  }
  odd.note(column, "not a map");
  return EMPTY_MAP;
}
