/**
 * Error types of the OVSDB wire layer. Every error carries a stable `code` so callers (the RPC client,
 * the replica, the metrics) can tell a broken stream from a bad schema, a bad datum or a refused
 * transaction without parsing messages.
 */

/** Base class: `code` is one of the `OVSDB_*` constants below (subclasses set it). */
export class OvsdbError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * The byte stream is not a sequence of JSON objects/arrays (garbage, an oversized message or invalid
 * JSON). The stream cannot be resynchronised: the connection must be dropped.
 */
export class FramingError extends OvsdbError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("OVSDB_FRAMING", message, options);
  }
}

/** A database schema (RFC 7047 §3.2) is malformed; `table`/`column` say where. */
export class SchemaError extends OvsdbError {
  readonly table: string | undefined;
  readonly column: string | undefined;

  constructor(message: string, where: { table?: string; column?: string } = {}) {
    const at = where.table ? ` (table ${where.table}${where.column ? `, column ${where.column}` : ""})` : "";
    super("OVSDB_SCHEMA", `${message}${at}`);
    this.table = where.table;
    this.column = where.column;
  }
}

/**
 * A value on the wire does not match its column type (RFC 7047 §5.1), or an update cannot be applied
 * (e.g. a "modify" for a row we do not have). `table`/`uuid`/`column` say where when known.
 */
export class DatumError extends OvsdbError {
  /** The message without the location suffix. */
  readonly detail: string;
  column: string | undefined;
  table: string | undefined;
  uuid: string | undefined;

  constructor(detail: string, where: { table?: string; uuid?: string; column?: string } = {}) {
    super("OVSDB_DATUM", detail);
    this.detail = detail;
    this.table = where.table;
    this.uuid = where.uuid;
    this.column = where.column;
    this.message = detail + describeWhere(this);
  }

  /**
   * Adds the table/row to an error raised deeper (where only the column was known). Returns `this`
   * so it can be rethrown in one expression.
   */
  locate(table: string | undefined, uuid: string | undefined): this {
    if (this.table === undefined) this.table = table;
    if (this.uuid === undefined) this.uuid = uuid;
    this.message = this.detail + describeWhere(this);
    return this;
  }
}

function describeWhere(e: DatumError): string {
  const parts: string[] = [];
  if (e.table !== undefined) parts.push(`table ${e.table}`);
  if (e.uuid !== undefined) parts.push(`row ${e.uuid}`);
  if (e.column !== undefined) parts.push(`column ${e.column}`);
  return parts.length ? ` (${parts.join(", ")})` : "";
}

/**
 * One failed `transact` (RFC 7047 §4.1.3). `error` is the server's error string ("constraint
 * violation", "referential integrity violation", "timed out", "not supported", "aborted", "not owner",
 * "resources exhausted", "I/O error", "duplicate uuid name", "domain error", "range error",
 * "unknown database", "not a column", "syntax error or unknown column", "permission error"...).
 * `opIndex` is the index of the failing operation in the `ops` array, or -1 when the commit itself
 * failed (the extra N+1th result) or the reply was malformed.
 */
export class TransactionError extends OvsdbError {
  readonly error: string;
  readonly details: string | undefined;
  readonly opIndex: number;
  readonly op: unknown;

  constructor(fields: { error: string; details?: string; opIndex: number; op?: unknown }) {
    super("OVSDB_TXN", describeTxnError(fields));
    this.error = fields.error;
    this.details = fields.details;
    this.opIndex = fields.opIndex;
    this.op = fields.op;
  }
}

function describeTxnError(f: { error: string; details?: string; opIndex: number; op?: unknown }): string {
  let where = "commit";
  if (f.opIndex >= 0) {
    where = `operation #${f.opIndex}`;
    if (f.op !== null && typeof f.op === "object") {
      const o = f.op as { op?: unknown; table?: unknown };
      if (typeof o.op === "string") where += ` (${o.op}${typeof o.table === "string" ? ` ${o.table}` : ""})`;
    }
  }
  return `transaction failed at ${where}: ${f.error}${f.details ? `: ${f.details}` : ""}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function errorFrom(r: Record<string, unknown>, opIndex: number, op: unknown): TransactionError {
  const error = typeof r.error === "string" ? r.error : JSON.stringify(r.error);
  const details = typeof r.details === "string" ? r.details : undefined;
  return new TransactionError(
    details === undefined ? { error, opIndex, op } : { error, details, opIndex, op },
  );
}

/**
 * Checks the `result` array of a `transact` reply against the operations sent (`ops` WITHOUT the
 * leading database name). Returns the first error, or undefined when every operation succeeded.
 *
 * Rules (RFC 7047 §4.1.3 and what ovsdb-server does):
 * - a result object with an "error" member is that operation's failure;
 * - N+1 results for N operations: the extra last one holds the commit error (opIndex -1), while the
 *   JSON-RPC `error` is null;
 * - results after a failed operation are null ("not attempted"), and a reply may stop early, so fewer
 *   results than operations is fine only when one of them holds an error;
 * - anything else (too few results without an error, a non-object result that is not null, surplus
 *   results without an error) is reported as `error: "malformed reply"` with opIndex -1, because
 *   treating it as success could hide a lost write.
 */
export function checkTransactResults(
  ops: readonly unknown[],
  results: readonly unknown[],
): TransactionError | undefined {
  if (!Array.isArray(results)) {
    return new TransactionError({
      error: "malformed reply",
      details: "transact result is not an array",
      opIndex: -1,
    });
  }
  for (let i = 0; i < results.length; i++) {
    const r = results[i];
    if (isObject(r) && "error" in r && r.error !== null && r.error !== undefined) {
      return errorFrom(r, i < ops.length ? i : -1, i < ops.length ? ops[i] : undefined);
    }
  }
  if (results.length < ops.length) {
    return new TransactionError({
      error: "malformed reply",
      details: `${results.length} results for ${ops.length} operations and no error`,
      opIndex: -1,
    });
  }
  if (results.length > ops.length) {
    return new TransactionError({
      error: "malformed reply",
      details: `${results.length} results for ${ops.length} operations and no error`,
      opIndex: -1,
    });
  }
  for (let i = 0; i < results.length; i++) {
    if (!isObject(results[i])) {
      return new TransactionError({
        error: "malformed reply",
        details: `result #${i} is ${results[i] === null ? "null (not attempted)" : "not an object"} but no operation failed`,
        opIndex: i,
        op: ops[i],
      });
    }
  }
  return undefined;
}
