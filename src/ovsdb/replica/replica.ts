/**
 * An in-memory replica of monitored OVSDB tables: rows by uuid per table, optional secondary
 * indexes, and a listener that receives every batch of row changes (with the old row) in the order
 * the server sent them. The replica never talks to the network; the client feeds it.
 *
 * `resync(snapshot)` replaces the whole content after a reconnect that could not resume, and
 * reports only the real differences (so a reconnect does not look like "everything deleted, then
 * everything inserted" to the consumers).
 */

import type { Row, RowChange } from "../wire/datum.ts";
import { datumEquals } from "../wire/datum-codec.ts";

export type ChangeListener = (changes: readonly RowChange[]) => void;

/** A secondary index: a row maps to zero or more keys. */
export type IndexKeyFn = (row: Row) => Iterable<string>;

class Index {
  readonly byKey = new Map<string, Set<string>>();
  constructor(readonly keyFn: IndexKeyFn) {}
  add(row: Row): void {
    for (const k of this.keyFn(row)) {
      const s = this.byKey.get(k);
      if (s) s.add(row._uuid);
      else this.byKey.set(k, new Set([row._uuid]));
    }
  }
  remove(row: Row): void {
    for (const k of this.keyFn(row)) {
      const s = this.byKey.get(k);
      if (!s) continue;
      s.delete(row._uuid);
      if (s.size === 0) this.byKey.delete(k);
    }
  }
}

export class Replica {
  private readonly tables = new Map<string, Map<string, Row>>();
  private readonly indexes = new Map<string, Map<string, Index>>();
  private readonly listeners = new Set<ChangeListener>();

  constructor(tableNames: Iterable<string> = []) {
    for (const t of tableNames) this.tables.set(t, new Map());
  }

  /** Rows of a table (empty if the table is not replicated). */
  table(name: string): ReadonlyMap<string, Row> {
    return this.tables.get(name) ?? EMPTY;
  }

  get(table: string, uuid: string): Row | undefined {
    return this.tables.get(table)?.get(uuid);
  }

  /** All tables, for planners that take a snapshot view. */
  snapshot(): ReadonlyMap<string, ReadonlyMap<string, Row>> {
    return this.tables;
  }

  /** Define a secondary index; rows already present are indexed now. */
  addIndex(table: string, name: string, keyFn: IndexKeyFn): void {
    const byName = this.indexes.get(table) ?? new Map<string, Index>();
    this.indexes.set(table, byName);
    const idx = new Index(keyFn);
    for (const row of this.table(table).values()) idx.add(row);
    byName.set(name, idx);
  }

  /** Rows whose index `name` yields `key`. */
  lookup(table: string, name: string, key: string): Row[] {
    const idx = this.indexes.get(table)?.get(name);
    if (!idx) throw new Error(`replica: no index '${name}' on table ${table}`);
    const uuids = idx.byKey.get(key);
    if (!uuids) return [];
    const rows = this.tables.get(table);
    const out: Row[] = [];
    for (const u of uuids) {
      const r = rows?.get(u);
      if (r) out.push(r);
    }
    return out;
  }

  onChanges(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Apply changes computed against the current content, then notify listeners once. */
  apply(changes: readonly RowChange[]): void {
    if (changes.length === 0) return;
    for (const c of changes) this.applyOne(c);
    this.notify(changes);
  }

  /**
   * Replace the content of `tables` with `snapshot` (a full reload). Emits only the differences:
   * rows that vanished as deletes, new rows as inserts, changed rows as updates.
   */
  resync(snapshot: ReadonlyMap<string, ReadonlyMap<string, Row>>): RowChange[] {
    const changes: RowChange[] = [];
    for (const [table, rows] of this.tables) {
      const next = snapshot.get(table) ?? EMPTY;
      for (const [uuid, old] of rows) {
        const now = next.get(uuid);
        if (!now) changes.push({ kind: "delete", table, uuid, old });
        else if (!rowEquals(old, now)) changes.push({ kind: "update", table, uuid, old, new: now });
      }
      for (const [uuid, now] of next) {
        if (!rows.has(uuid)) changes.push({ kind: "insert", table, uuid, new: now });
      }
    }
    this.apply(changes);
    return changes;
  }

  /** Drop everything without notifying (used only when a replica is discarded). */
  clear(): void {
    for (const rows of this.tables.values()) rows.clear();
    for (const byName of this.indexes.values()) for (const idx of byName.values()) idx.byKey.clear();
  }

  private applyOne(c: RowChange): void {
    const rows = this.tables.get(c.table) ?? new Map<string, Row>();
    this.tables.set(c.table, rows);
    const idxs = this.indexes.get(c.table);
    if (c.kind !== "insert") {
      const old = rows.get(c.uuid);
      if (old && idxs) for (const i of idxs.values()) i.remove(old);
    }
    if (c.kind === "delete") {
      rows.delete(c.uuid);
      return;
    }
    rows.set(c.uuid, c.new);
    if (idxs) for (const i of idxs.values()) i.add(c.new);
  }

  private notify(changes: readonly RowChange[]): void {
    for (const l of this.listeners) l(changes);
  }
}

const EMPTY: ReadonlyMap<string, Row> = new Map();

export function rowEquals(a: Row, b: Row): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    const vb = b[k];
    if (vb === undefined) return false;
    if (!datumEquals(a[k] as Row[string], vb)) return false;
  }
  return true;
}
