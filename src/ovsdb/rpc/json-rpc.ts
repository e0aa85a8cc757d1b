/**
 * JSON-RPC 1.0 as OVSDB speaks it (RFC 7047 §4): requests carry an id, notifications carry
 * `"id": null`, responses carry both `result` and `error`. The server sends its own `echo`
 * requests, which we must answer or be disconnected; we send `echo` ourselves when the line has
 * been silent for `probeIntervalMs` and close it when that probe goes unanswered (inactivity probe).
 *
 * One RpcConnection lives exactly as long as its socket; reconnecting makes a new one.
 */
import { EventEmitter } from "node:events";
import type { Duplex } from "node:stream";
import { FramingError } from "../wire/errors.ts";
import { JsonFramer } from "../wire/json-framer.ts";

export class RpcError extends Error {
  readonly code = "OVSDB_RPC_ERROR";
  constructor(
    readonly method: string,
    readonly error: unknown,
    readonly remote: string,
  ) {
    super(`${remote}: ${method} failed: ${typeof error === "string" ? error : JSON.stringify(error)}`);
  }
  /** The RFC error string, e.g. "unknown method". */
  get kind(): string {
    if (typeof this.error === "string") return this.error;
    if (this.error && typeof this.error === "object" && "error" in this.error)
      return String(this.error.error);
    return "";
  }
}

export class ConnectionClosedError extends Error {
  readonly code = "OVSDB_CLOSED";
}

export interface RpcConnectionOptions {
  /** For messages: which remote this is. */
  readonly remote: string;
  /** Send an echo after this much silence; close if it is not answered within the same time. 0 disables. */
  readonly probeIntervalMs: number;
  /** Upper bound for one request's reply (a full Southbound snapshot can be big and slow). */
  readonly requestTimeoutMs: number;
  readonly maxMessageBytes?: number;
}

interface Pending {
  readonly method: string;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Events: "notification" (method, params), "close" (Error | undefined: why), "bytes" (n received).
 */
export class RpcConnection extends EventEmitter {
  private readonly framer: JsonFramer;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  private lastRx = Date.now();
  private probeOutstanding = false;
  private probeTimer: NodeJS.Timeout | undefined;
  bytesReceived = 0;

  constructor(
    private readonly socket: Duplex,
    private readonly opts: RpcConnectionOptions,
  ) {
    super();
    this.framer = new JsonFramer({ maxMessageBytes: opts.maxMessageBytes ?? 256 * 1024 * 1024 });
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (err) => this.close(new ConnectionClosedError(`${opts.remote}: ${err.message}`)));
    socket.on("close", () =>
      this.close(new ConnectionClosedError(`${opts.remote}: connection closed by peer`)),
    );
    if (opts.probeIntervalMs > 0) this.armProbe();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Send a request; resolves with `result`, rejects with RpcError for a non-null `error`. */
  request(method: string, params: unknown[], timeoutMs = this.opts.requestTimeoutMs): Promise<unknown> {
    if (this.closed) return Promise.reject(new ConnectionClosedError(`${this.opts.remote}: not connected`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new ConnectionClosedError(`${this.opts.remote}: no reply to ${method} within ${timeoutMs} ms`),
        );
        this.close(new ConnectionClosedError(`${this.opts.remote}: ${method} timed out`));
      }, timeoutMs);
      this.pending.set(id, { method, resolve, reject, timer });
      this.send({ method, params, id });
    });
  }

  /** Close the connection; pending requests fail with `reason`. Idempotent. */
  close(reason?: Error): void {
    if (this.closed) return;
    this.closed = true;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    const err = reason ?? new ConnectionClosedError(`${this.opts.remote}: closed`);
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    this.socket.destroy();
    this.emit("close", reason);
  }

  private send(msg: unknown): void {
    if (this.closed) return;
    this.socket.write(JSON.stringify(msg));
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.lastRx = Date.now();
    this.probeOutstanding = false;
    this.bytesReceived += chunk.length;
    this.emit("bytes", chunk.length);
    let messages: unknown[];
    try {
      messages = this.framer.push(chunk);
    } catch (err) {
      const what = err instanceof FramingError ? err.message : String(err);
      this.close(new ConnectionClosedError(`${this.opts.remote}: bad data from server: ${what}`));
      return;
    }
    for (const msg of messages) {
      if (this.closed) return;
      this.dispatch(msg);
    }
  }

  private dispatch(msg: unknown): void {
    if (!msg || typeof msg !== "object" || Array.isArray(msg)) {
      this.close(
        new ConnectionClosedError(`${this.opts.remote}: bad message from server: not a JSON object`),
      );
      return;
    }
    const m = msg as { id?: unknown; method?: unknown; params?: unknown; result?: unknown; error?: unknown };
    if (typeof m.method === "string") {
      const params = Array.isArray(m.params) ? m.params : [];
      if (m.id !== null && m.id !== undefined) {
        // A request from the server. Only echo is defined for clients.
        if (m.method === "echo") this.send({ id: m.id, result: params, error: null });
        else this.send({ id: m.id, result: null, error: { error: "unknown method", details: m.method } });
        return;
      }
      this.emit("notification", m.method, params);
      return;
    }
    if (typeof m.id !== "number") return; // a reply to our probe (id "echo") or something we never asked
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.error !== null && m.error !== undefined)
      p.reject(new RpcError(p.method, m.error, this.opts.remote));
    else p.resolve(m.result);
  }

  private armProbe(): void {
    const interval = this.opts.probeIntervalMs;
    const tick = () => {
      if (this.closed) return;
      const idle = Date.now() - this.lastRx;
      if (idle >= interval) {
        if (this.probeOutstanding) {
          this.close(
            new ConnectionClosedError(`${this.opts.remote}: no answer to inactivity probe after ${idle} ms`),
          );
          return;
        }
        this.probeOutstanding = true;
        this.lastRx = Date.now();
        this.send({ method: "echo", params: [], id: "echo" });
      }
      this.probeTimer = setTimeout(tick, Math.max(50, interval - (Date.now() - this.lastRx)));
      this.probeTimer.unref();
    };
    this.probeTimer = setTimeout(tick, interval);
    this.probeTimer.unref();
  }
}
