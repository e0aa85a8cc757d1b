/**
 * The decoded, in-memory form of OVSDB values (RFC 7047 §5.1), as the replica stores them.
 *
 * Column shape is decided by the column's schema type, never by what one message happened to send:
 * - scalar column (min 1, max 1, no value type):      Atom
 * - set column (any other min/max, no value type):    readonly Atom[]   (one-element sets arrive as bare atoms on the wire)
 * - map column (has a value type):                    ReadonlyMap<Atom, Atom>
 * A uuid atom is its canonical string ("8c4f…"); named-uuids only appear in operations we send.
 */
export type Atom = string | number | boolean;
export type Datum = Atom | readonly Atom[] | ReadonlyMap<Atom, Atom>;

/** One row of a replicated table. `_uuid` is always present. */
export interface Row {
  readonly _uuid: string;
  readonly [column: string]: Datum;
}

/** A row-level change seen by a replica; `old` is the row before, `new` after. */
export type RowChange =
  | { readonly kind: "insert"; readonly table: string; readonly uuid: string; readonly new: Row }
  | {
      readonly kind: "update";
      readonly table: string;
      readonly uuid: string;
      readonly old: Row;
      readonly new: Row;
    }
  | { readonly kind: "delete"; readonly table: string; readonly uuid: string; readonly old: Row };
