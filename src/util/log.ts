/**
 * The one logger factory. pino, writing to stderr (stdout belongs to command output such as
 * `ovn-bgp config` or `ovn-bgp plan`), JSON by default so journald/Loki can index fields, or a short
 * human line with `--log-format text` (formatted here; no pino-pretty dependency).
 *
 * Conventions every module follows:
 * - One child per module: `componentLogger(root, "ovsdb")` adds `component: "ovsdb"`.
 * - Facts go in fields, the message stays a constant phrase, so logs can be counted and filtered:
 *     log.info({ event: "PortBindingChassisCreatedEvent", logical_port, ips }, "port bound to this chassis")
 *   Field names: `event` (the upstream event class name when one applies), `logical_port`, `ips`,
 *   `datapath`, `bridge`, `table`, `db`, `remote`, `err` (an Error; pino serialises message and stack),
 *   `duration_ms`.
 * - Level: `--log-level`, else env OVN_BGP_LOG_LEVEL, else info.
 */
import pino from "pino";

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ["json", "text"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export const LOG_LEVEL_ENV = "OVN_BGP_LOG_LEVEL";

/** The `component` field values. */
export type LogComponent =
  | "agent"
  | "ovsdb"
  | "planner"
  | "kernel"
  | "frr"
  | "openflow"
  | "reconcile"
  | "metrics"
  | "lab"
  | "cli";

export type Logger = pino.Logger;

export interface LoggerOptions {
  readonly level?: LogLevel;
  readonly format?: LogFormat;
  /** Where lines go; defaults to stderr (fd 2, synchronous so the last lines before an exit are kept). */
  readonly destination?: { write(line: string): unknown };
}

export function isLogLevel(s: string): s is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(s);
}

export function isLogFormat(s: string): s is LogFormat {
  return (LOG_FORMATS as readonly string[]).includes(s);
}

/**
 * The effective level: the command-line value if given, else the environment variable, else "info".
 * Throws on an unknown level name rather than silently logging at some other level.
 */
export function resolveLogLevel(flag?: string, env: NodeJS.ProcessEnv = process.env): LogLevel {
  const chosen = flag ?? env[LOG_LEVEL_ENV] ?? "info";
  const lower = chosen.trim().toLowerCase();
  if (!isLogLevel(lower)) {
    throw new Error(`unknown log level '${chosen}' (expected one of ${LOG_LEVELS.join(", ")})`);
  }
  return lower;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const format = opts.format ?? "json";
  const sink = opts.destination ?? pino.destination({ fd: 2, sync: true });
  const out = format === "text" ? textStream(sink) : sink;
  return pino(
    {
      level: opts.level ?? "info",
      // Level names, not numbers: the lines are read by people and by grep as often as by tools.
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
      base: { pid: process.pid },
    },
    out as pino.DestinationStream,
  );
}

/** A child logger tagged with the module it belongs to (see the conventions above). */
export function componentLogger(
  parent: Logger,
  component: LogComponent,
  bindings: Readonly<Record<string, unknown>> = {},
): Logger {
  return parent.child({ component, ...bindings });
}

/** A logger that drops everything (tests, library use without logging). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}

function textStream(sink: { write(line: string): unknown }): pino.DestinationStream {
  return {
    write(line: string): void {
      sink.write(`${formatTextLine(line)}\n`);
    },
  };
}

/** Fields the text line shows in its fixed part, or drops as noise. */
const FIXED_FIELDS = new Set(["time", "level", "msg", "component", "pid", "hostname", "err"]);

/**
 * One JSON log line as `TIME LEVEL [component] message key=value ...`, with an error's stack on the
 * following indented lines. Lines that are not JSON objects are passed through unchanged.
 */
export function formatTextLine(json: string): string {
  let rec: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(json);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return json.trimEnd();
    rec = parsed as Record<string, unknown>;
  } catch {
    return json.trimEnd();
  }
  const parts: string[] = [];
  if (typeof rec.time === "string" || typeof rec.time === "number") parts.push(String(rec.time));
  parts.push(
    String(rec.level ?? "?")
      .toUpperCase()
      .padEnd(5),
  );
  if (typeof rec.component === "string") parts.push(`[${rec.component}]`);
  if (rec.msg !== undefined) parts.push(String(rec.msg));
  for (const [k, v] of Object.entries(rec)) {
    if (!FIXED_FIELDS.has(k)) parts.push(`${k}=${textValue(v)}`);
  }
  const err = rec.err as { message?: unknown; stack?: unknown } | undefined;
  if (err && typeof err === "object") {
    parts.push(`err=${textValue(err.message ?? err)}`);
    if (typeof err.stack === "string") {
      const stack = err.stack
        .split("\n")
        .slice(1)
        .map((l) => `    ${l.trim()}`);
      return [parts.join(" "), ...stack].join("\n");
    }
  }
  return parts.join(" ");
}

function textValue(v: unknown): string {
  if (typeof v === "string") return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean" || v === null) return String(v);
  return JSON.stringify(v) ?? String(v);
}
