/**
 * OvsdbClient: a long-lived session with one database, served by one server or by a RAFT cluster.
 *
 * It keeps `replica` equal to the monitored part of the database, for as long as it runs:
 *   connect (next remote, backoff with jitter) → get_schema → check _Server (clustered members
 *   must be connected to the cluster and not behind what we have seen) → monitor → apply
 *   notifications → on any failure, close and go round again.
 *
 * Monitoring uses the newest method the server knows: monitor_cond_since (resume from the last
 * transaction id; only a clustered server ever answers "found"), then monitor_cond, then monitor.
 * A reconnect that cannot resume reloads the snapshot and hands consumers only the differences.
 * Tables or columns that the server's schema lacks are dropped from the request with a warning.
 */
import { EventEmitter } from "node:events";
import { Replica } from "./replica/replica.ts";
import { ConnectionClosedError, RpcConnection, RpcError } from "./rpc/json-rpc.ts";
import { connectRemote, type SslFiles } from "./transport/connect.ts";
import { parseRemoteList, type Remote } from "./transport/remote.ts";
import type { Row, RowChange } from "./wire/datum.ts";
import { checkTransactResults } from "./wire/errors.ts";
import { type DatabaseSchema, parseSchema, restrictSchema } from "./wire/schema.ts";
import { applyTableUpdates } from "./wire/updates.ts";

export const ZERO_TXN_ID = "00000000-0000-0000-0000-000000000000";

/** The logging the client needs; a pino logger fits. */
export interface OvsdbLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** What to replicate of one table. */
export interface TableMonitor {
  /** Columns to replicate; all columns when omitted. */
  readonly columns?: readonly string[];
  /** monitor_cond clauses, OR-ed; all rows when omitted. */
  readonly where?: readonly unknown[];
}

export interface Backoff {
  readonly initialMs: number;
  readonly multiplier: number;
  readonly maxMs: number;
  /** Fraction of the delay taken off at random (0..1), so a thousand agents do not reconnect in step. */
  readonly jitter: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 250, multiplier: 2, maxMs: 8_000, jitter: 0.5 };

export interface OvsdbClientOptions {
  /** `unix:…`, `tcp:…`, `ssl:…`, or a comma-separated list of them (a cluster). */
  readonly remotes: string;
  readonly database: string;
  readonly tables: Readonly<Record<string, TableMonitor>>;
  readonly ssl?: SslFiles;
  readonly logger?: OvsdbLogger;
  readonly probeIntervalMs?: number;
  readonly connectTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly backoff?: Backoff;
  /** Check _Server and move off cluster members that are disconnected or stale (default true). */
  readonly checkClusterMembership?: boolean;
  /** Test seam: pick a remote. Default: rotate, starting at a random member. */
  readonly shuffle?: boolean;
}

export type ClientState = "idle" | "connecting" | "handshaking" | "active" | "backoff" | "stopped";

export type MonitorMethod = "monitor_cond_since" | "monitor_cond" | "monitor";

export interface ClientStats {
  bytesReceived: number;
  reconnects: number;
  /** How the last (re)connect got its data: resumed from lastTxnId, or a full snapshot. */
  lastSync: "none" | "resumed" | "snapshot";
  lastTxnId: string;
  monitorMethod: MonitorMethod | undefined;
  remote: string | undefined;
}

const MONITOR_ID = "db";
const SERVER_MONITOR_ID = "_server";

/**
 * Events: "state" (from, to, why), "synced" (first complete replica after each connect),
 * "changes" (RowChange[]; same batches as replica listeners), "warning" (message).
 */
/** What `serverWhere` holds for a table whose condition change failed: equal to no real condition. */
const UNKNOWN_CONDITION = "?";

export class OvsdbClient extends EventEmitter {
  readonly replica: Replica;
  readonly remotes: readonly Remote[];
  readonly stats: ClientStats = {
    bytesReceived: 0,
    reconnects: 0,
    lastSync: "none",
    lastTxnId: ZERO_TXN_ID,
    monitorMethod: undefined,
    remote: undefined,
  };
  private _state: ClientState = "idle";
  /** The last connection or session error, for the message of a start that never synced. */
  private lastError: string | undefined;
  private _schema: DatabaseSchema | undefined;
  /**
   * The schema narrowed to the monitored tables and columns: inserts omit default-valued columns,
   * so rows are completed from this one (completing from the full schema would invent values for
   * columns we never asked for).
   */
  private monitored: DatabaseSchema | undefined;
  private conn: RpcConnection | undefined;
  private nextRemote: number;
  private attempt = 0;
  private wakeUp: (() => void) | undefined;
  private readonly where = new Map<string, readonly unknown[] | undefined>();
  /** The condition the server has for each monitored table on this connection (JSON). */
  private readonly serverWhere = new Map<string, string>();
  private readonly warned = new Set<string>();
  /** Highest RAFT log index seen from any member, so we never step back to a stale one. */
  private maxServerIndex = 0;
  private synced = false;
  /** Applies _Server notifications of the current connection and judges the member again. */
  private serverUpdates: ((updates: unknown) => void) | undefined;
  /** `whenSynced` callers: called with no error once synced, with one when the client stops. */
  private syncWaiters: Array<(err?: Error) => void> = [];
  private readonly opts: Required<
    Pick<OvsdbClientOptions, "probeIntervalMs" | "connectTimeoutMs" | "requestTimeoutMs" | "backoff">
  > &
    OvsdbClientOptions;

  constructor(options: OvsdbClientOptions) {
    super();
    this.opts = {
      probeIntervalMs: 5_000,
      connectTimeoutMs: 5_000,
      requestTimeoutMs: 120_000,
      backoff: DEFAULT_BACKOFF,
      ...options,
    };
    this.remotes = parseRemoteList(options.remotes);
    this.nextRemote = options.shuffle === false ? 0 : Math.floor(Math.random() * this.remotes.length);
    this.replica = new Replica(Object.keys(options.tables));
    for (const [t, m] of Object.entries(options.tables)) this.where.set(t, m.where);
    this.replica.onChanges((c) => this.emit("changes", c));
  }

  /** A method, not a narrowed field read: the state changes across awaits. */
  private get stopped(): boolean {
    return this._state === "stopped";
  }

  get state(): ClientState {
    return this._state;
  }

  get schema(): DatabaseSchema | undefined {
    return this._schema;
  }

  /** The last connection or session error (undefined before any). */
  get lastConnectionError(): string | undefined {
    return this.lastError;
  }

  get isSynced(): boolean {
    return this.synced;
  }

  /** Start the session loop in the background. */
  start(): this {
    if (this._state !== "idle") return this;
    void this.loop();
    return this;
  }

  async stop(): Promise<void> {
    this.transition("stopped", "stop requested");
    this.conn?.close(new ConnectionClosedError("client stopped"));
    this.wakeUp?.();
    // Nobody waits 30 s for a client that will never sync (and no timer keeps the process up).
    for (const w of this.syncWaiters.splice(0)) w(new ConnectionClosedError("client stopped"));
  }

  /** Resolves once the replica holds a complete copy (after the first successful monitor). */
  whenSynced(timeoutMs = 30_000): Promise<void> {
    if (this.synced) return Promise.resolve();
    if (this._state === "stopped") return Promise.reject(new ConnectionClosedError("client stopped"));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `${this.opts.database}: not synced after ${timeoutMs} ms (state ${this._state}${this.lastError ? `; last error: ${this.lastError}` : ""})`,
            ),
          ),
        timeoutMs,
      );
      this.syncWaiters.push((err) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      });
    });
  }

  /**
   * Run a transaction (operations as plain RFC 7047 values). Throws TransactionError (per
   * operation, or for the commit) or a connection error; it is never retried here.
   */
  async transact(ops: readonly unknown[]): Promise<unknown[]> {
    const conn = this.conn;
    if (!conn || this._state !== "active") {
      throw new ConnectionClosedError(`${this.opts.database}: not connected (state ${this._state})`);
    }
    const results = (await conn.request("transact", [this.opts.database, ...ops])) as unknown[];
    const err = checkTransactResults(ops, results);
    if (err) throw err;
    return results;
  }

  /**
   * Change which rows of `table` are replicated. Takes effect now when connected (rows that stop
   * matching are removed from the replica, new matches added); otherwise at the next connect.
   */
  async setCondition(table: string, where: readonly unknown[] | undefined): Promise<void> {
    this.where.set(table, where);
    const conn = this.conn;
    if (!conn || this._state !== "active") {
      // Not monitoring right now. If a monitor request is in flight, the session sends the change
      // once the monitor is up (syncConditions). Otherwise the last txn id no longer describes our
      // replica's row set, so the next connect must take a full snapshot.
      if (this._state !== "handshaking") this.stats.lastTxnId = ZERO_TXN_ID;
      return;
    }
    await this.syncConditions(conn);
  }

  /**
   * Resolves once the server has answered a request sent now: every notification it sent before
   * (e.g. the rows a condition change brought in) has been applied to the replica by then.
   */
  async barrier(): Promise<void> {
    const conn = this.conn;
    if (!conn || this._state !== "active") return;
    await conn.request("echo", []);
  }

  /** Send monitor_cond_change for every table whose wanted condition differs from the server's. */
  private async syncConditions(conn: RpcConnection): Promise<void> {
    if (this.stats.monitorMethod === "monitor") return; // plain monitor has no conditions
    const changes: Record<string, unknown> = {};
    const sent = new Map<string, string>();
    for (const [table, where] of this.where) {
      if (!this.serverWhere.has(table)) continue; // not monitored (absent from the server's schema)
      const key = JSON.stringify(where ?? null);
      if (this.serverWhere.get(table) === key) continue;
      changes[table] = [{ where: where ?? [true] }];
      sent.set(table, key);
    }
    if (sent.size === 0) return;
    // Marked as the server's before the reply: a second change made while this one is in flight
    // compares against it (the server applies changes in order), instead of against the condition
    // this one replaces and wrongly finding nothing to send (a tenant datapath dropped and re-added
    // within one round trip then stayed dropped).
    for (const [t, k] of sent) this.serverWhere.set(t, k);
    try {
      await conn.request("monitor_cond_change", [MONITOR_ID, MONITOR_ID, changes]);
    } catch (err) {
      // Not known what the server holds: the next sync sends the condition again.
      for (const [t, k] of sent)
        if (this.serverWhere.get(t) === k) this.serverWhere.set(t, UNKNOWN_CONDITION);
      this.stats.lastTxnId = ZERO_TXN_ID;
      throw err;
    }
  }

  // ---------------------------------------------------------------- session loop

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const remote = this.remotes[this.nextRemote % this.remotes.length] as Remote;
      this.nextRemote = (this.nextRemote + 1) % this.remotes.length;
      try {
        await this.session(remote);
      } catch (err) {
        if (this.stopped) break;
        const msg = (err as Error).message;
        this.lastError = msg.includes(remote.text) ? msg : `${remote.text}: ${msg}`;
        this.log("warn", { remote: remote.text, err: (err as Error).message }, "ovsdb session ended");
      }
      if (this.stopped) break;
      this.stats.reconnects += 1;
      const delay = this.backoffDelay();
      this.transition("backoff", `retry in ${delay} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        this.wakeUp = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wakeUp = undefined;
    }
  }

  private backoffDelay(): number {
    const b = this.opts.backoff;
    // A failure on one member of a cluster moves straight on to the next one first.
    if (this.remotes.length > 1 && this.attempt % this.remotes.length !== 0) {
      this.attempt += 1;
      return Math.round(b.initialMs * (1 - Math.random() * b.jitter));
    }
    const exp = Math.min(
      b.maxMs,
      b.initialMs * b.multiplier ** Math.floor(this.attempt / this.remotes.length),
    );
    this.attempt += 1;
    return Math.round(exp * (1 - Math.random() * b.jitter));
  }

  /** One connection's life. Resolves or rejects when it ends. */
  private async session(remote: Remote): Promise<void> {
    this.transition("connecting", remote.text);
    const socket = await connectRemote(remote, {
      ...(this.opts.ssl ? { ssl: this.opts.ssl } : {}),
      timeoutMs: this.opts.connectTimeoutMs,
    });
    if (this.stopped) {
      socket.destroy();
      return;
    }
    const conn = new RpcConnection(socket, {
      remote: remote.text,
      probeIntervalMs: this.opts.probeIntervalMs,
      requestTimeoutMs: this.opts.requestTimeoutMs,
    });
    this.conn = conn;
    this.serverUpdates = undefined;
    this.stats.remote = remote.text;
    const closed = new Promise<Error | undefined>((resolve) => conn.once("close", resolve));
    conn.on("bytes", (n: number) => {
      this.stats.bytesReceived += n;
    });
    // Notifications can come before the reply of the monitor they belong to is processed: hold
    // them back until the session is set up, then replay them in order.
    const held: Array<[string, unknown[]]> = [];
    let monitorReady = false;
    conn.on("notification", (method: string, params: unknown[]) => {
      if (!monitorReady) held.push([method, params]);
      else this.onNotification(conn, method, params);
    });
    try {
      this.transition("handshaking", remote.text);
      this._schema = parseSchema(await conn.request("get_schema", [this.opts.database]));
      if (this.opts.checkClusterMembership !== false) await this.checkServer(conn, remote);
      this.serverWhere.clear();
      await this.monitor(conn, remote);
      await this.syncConditions(conn); // conditions changed while the monitor request was in flight
      monitorReady = true;
      for (const [m, p] of held.splice(0)) this.onNotification(conn, m, p);
      this.attempt = 0;
      this.transition("active", remote.text);
      this.markSynced();
    } catch (err) {
      conn.close(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
    const why = await closed;
    if (this.conn === conn) this.conn = undefined;
    if (why && !this.stopped) throw why;
  }

  /**
   * A clustered member that has lost the cluster, or that is behind what we already replicated,
   * would serve us stale data: refuse it and move on (as ovsdb-idl does). Old servers without
   * _Server, and standalone databases, pass.
   */
  private async checkServer(conn: RpcConnection, remote: Remote): Promise<void> {
    let schema: DatabaseSchema;
    try {
      schema = parseSchema(await conn.request("get_schema", ["_Server"]));
    } catch (err) {
      if (err instanceof RpcError) return; // no _Server database: a very old or non-OVS server
      throw err;
    }
    const server = new Replica(["Database"]);
    const reply = await conn.request("monitor_cond", [
      "_Server",
      SERVER_MONITOR_ID,
      { Database: [{ columns: ["name", "model", "connected", "leader", "index"] }] },
    ]);
    const apply = (updates: unknown) => {
      const { changes } = applyTableUpdates(schema, (t, u) => server.get(t, u), updates ?? {}, 2);
      server.apply(changes);
      for (const row of server.table("Database").values()) {
        if (row.name === this.opts.database) this.judgeServerRow(row, remote);
      }
    };
    this.serverUpdates = apply;
    apply(reply);
  }

  private judgeServerRow(row: Row, remote: Remote): void {
    if (row.model !== "clustered") return;
    if (row.connected === false) {
      throw new ConnectionClosedError(`${remote.text}: cluster member is not connected to the cluster`);
    }
    const idx = row.index;
    const index =
      Array.isArray(idx) && typeof idx[0] === "number" ? idx[0] : typeof idx === "number" ? idx : 0;
    if (index && index < this.maxServerIndex) {
      throw new ConnectionClosedError(
        `${remote.text}: cluster member is behind (log index ${index} < ${this.maxServerIndex} already seen)`,
      );
    }
    if (index) this.maxServerIndex = Math.max(this.maxServerIndex, index);
  }

  private monitorRequests(schema: DatabaseSchema, withWhere: boolean): Record<string, unknown> {
    const requests: Record<string, unknown> = {};
    const columnsByTable: Record<string, readonly string[]> = {};
    for (const [table, m] of Object.entries(this.opts.tables)) {
      const ts = schema.tables.get(table);
      if (!ts) {
        this.warnOnce(
          `table:${table}`,
          `server schema ${schema.name} ${schema.version} has no table ${table}; not replicated`,
        );
        continue;
      }
      const columns = (m.columns ?? [...ts.columns.keys()]).filter((c) => {
        if (ts.columns.has(c)) return true;
        this.warnOnce(
          `col:${table}.${c}`,
          `server schema ${schema.name} ${schema.version} has no column ${table}.${c}`,
        );
        return false;
      });
      columnsByTable[table] = columns;
      const where = this.where.get(table);
      requests[table] = withWhere && where ? { columns, where } : { columns };
      this.serverWhere.set(table, JSON.stringify((withWhere && where) || null));
    }
    this.monitored = restrictSchema(schema, columnsByTable);
    return requests;
  }

  private async monitor(conn: RpcConnection, remote: Remote): Promise<void> {
    const schema = this._schema as DatabaseSchema;
    const db = this.opts.database;
    const methods: MonitorMethod[] = ["monitor_cond_since", "monitor_cond", "monitor"];
    const start = this.stats.monitorMethod ? methods.indexOf(this.stats.monitorMethod) : 0;
    for (const method of methods.slice(start)) {
      try {
        if (method === "monitor_cond_since") {
          const reply = (await conn.request(method, [
            db,
            MONITOR_ID,
            this.monitorRequests(schema, true),
            this.stats.lastTxnId,
          ])) as [boolean, string, unknown];
          if (!Array.isArray(reply) || reply.length !== 3)
            throw new Error(`${remote.text}: malformed ${method} reply`);
          const [found, lastId, updates] = reply;
          this.stats.monitorMethod = method;
          if (found && this.stats.lastSync !== "none") {
            this.applyUpdates(updates, 2);
            this.stats.lastSync = "resumed";
          } else {
            this.loadSnapshot(updates, 2);
          }
          this.stats.lastTxnId = typeof lastId === "string" ? lastId : ZERO_TXN_ID;
        } else {
          const reply = await conn.request(method, [
            db,
            MONITOR_ID,
            this.monitorRequests(schema, method === "monitor_cond"),
          ]);
          this.stats.monitorMethod = method;
          if (method === "monitor") {
            for (const [t, w] of this.where)
              if (w)
                this.warnOnce(
                  `nocond:${t}`,
                  `${remote.text}: server lacks monitor_cond; replicating all of ${t}`,
                );
          }
          this.loadSnapshot(reply, method === "monitor" ? 1 : 2);
          this.stats.lastTxnId = ZERO_TXN_ID;
        }
        this.log(
          "info",
          { remote: remote.text, method, sync: this.stats.lastSync, txn: this.stats.lastTxnId },
          "ovsdb monitoring",
        );
        return;
      } catch (err) {
        if (err instanceof RpcError && err.kind === "unknown method") continue;
        throw err;
      }
    }
    throw new Error(`${remote.text}: server supports none of ${methods.join(", ")}`);
  }

  private loadSnapshot(tableUpdates: unknown, version: 1 | 2): void {
    const fresh = new Replica(Object.keys(this.opts.tables));
    const { changes, errors } = applyTableUpdates(
      this.monitored as DatabaseSchema,
      (t, u) => fresh.get(t, u),
      tableUpdates ?? {},
      version,
    );
    this.reportErrors(errors);
    fresh.apply(changes);
    this.replica.resync(fresh.snapshot());
    this.stats.lastSync = "snapshot";
  }

  private applyUpdates(tableUpdates: unknown, version: 1 | 2): RowChange[] {
    const { changes, errors } = applyTableUpdates(
      this.monitored as DatabaseSchema,
      (t, u) => this.replica.get(t, u),
      tableUpdates ?? {},
      version,
    );
    this.reportErrors(errors);
    this.replica.apply(changes);
    return changes;
  }

  private onNotification(conn: RpcConnection, method: string, params: unknown[]): void {
    const id = params[0];
    try {
      if (id === SERVER_MONITOR_ID) {
        if (method === "update2") this.serverUpdates?.(params[1]);
        return;
      }
      if (id !== MONITOR_ID) return;
      if (method === "update3") {
        this.applyUpdates(params[2], 2);
        if (typeof params[1] === "string") this.stats.lastTxnId = params[1];
      } else if (method === "update2") {
        this.applyUpdates(params[1], 2);
      } else if (method === "update") {
        this.applyUpdates(params[1], 1);
      }
    } catch (err) {
      // A consumer's bug or a server we must leave: drop this connection, keep the replica.
      conn.close(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private reportErrors(errors: readonly Error[]): void {
    for (const e of errors) {
      this.log(
        "error",
        { remote: this.stats.remote, err: e.message },
        "ovsdb row skipped: malformed data from server",
      );
    }
  }

  private markSynced(): void {
    this.synced = true;
    this.emit("synced");
    for (const w of this.syncWaiters.splice(0)) w();
  }

  private transition(to: ClientState, why: string): void {
    const from = this._state;
    if (from === to || from === "stopped") return;
    this._state = to;
    this.log("debug", { db: this.opts.database, from, to, why }, `ovsdb ${from} -> ${to}`);
    this.emit("state", from, to, why);
  }

  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.log("warn", { db: this.opts.database }, message);
    this.emit("warning", message);
  }

  private log(level: "debug" | "info" | "warn" | "error", obj: object, msg: string): void {
    this.opts.logger?.[level](obj, msg);
  }
}

export type { Row, RowChange };
