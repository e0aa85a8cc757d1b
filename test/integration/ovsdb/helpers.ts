/** Small helpers shared by the OVSDB client integration tests. */
import { OvsdbClient, type OvsdbClientOptions } from "../../../src/ovsdb/client.ts";
import type { Row, RowChange } from "../../../src/ovsdb/wire/datum.ts";
import { waitFor } from "../../support/wait.ts";

export interface CapturedLog {
  readonly lines: Array<{ level: string; obj: object; msg: string }>;
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  text(): string;
}

/** A pino-shaped logger that keeps what it is told, for assertions on messages. */
export function captureLog(): CapturedLog {
  const lines: CapturedLog["lines"] = [];
  const at = (level: string) => (obj: object, msg: string) => {
    lines.push({ level, obj, msg });
  };
  return {
    lines,
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    text: () => lines.map((l) => `${l.level} ${l.msg} ${JSON.stringify(l.obj)}`).join("\n"),
  };
}

/** A started client that records every change batch; stopped by `stop()`. */
export function recordingClient(opts: OvsdbClientOptions): { client: OvsdbClient; changes: RowChange[] } {
  const client = new OvsdbClient({ probeIntervalMs: 2_000, connectTimeoutMs: 2_000, ...opts });
  const changes: RowChange[] = [];
  client.on("changes", (c: RowChange[]) => changes.push(...c));
  client.start();
  return { client, changes };
}

export function rowBy(client: OvsdbClient, table: string, column: string, value: string): Row | undefined {
  for (const row of client.replica.table(table).values()) if (row[column] === value) return row;
  return undefined;
}

/** Wait until a row with column == value is (or, with present=false, is no longer) replicated. */
export async function waitForRow(
  client: OvsdbClient,
  table: string,
  column: string,
  value: string,
  present = true,
  timeoutMs = 10_000,
): Promise<Row | undefined> {
  return waitFor(
    () => {
      const r = rowBy(client, table, column, value);
      return present ? r : r ? undefined : ({} as Row);
    },
    { timeoutMs, what: `${table}.${column}=${value} ${present ? "present" : "absent"}` },
  );
}
