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
 *
 * Under systemd, when stderr is the journal (env JOURNAL_STREAM names fd 2's device and inode), every line
 * starts with the sd-daemon priority prefix `<N>` (journald strips it and files the entry at that
 * priority, so `journalctl -p warning` finds warnings); the rest of the line is the chosen format as is.
 */
import { fstatSync } from "node:fs";
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
  /**
   * Prefix each line with its syslog priority (`<4>` for warn, …) for journald. Default: detected with
   * stderrIsJournal() when writing to stderr; false with an explicit `destination`.
   */
  readonly journal?: boolean;
}

/** The environment variable systemd sets to `DEV:INODE` of the journal stream it gave a service. */
export const JOURNAL_STREAM_ENV = "JOURNAL_STREAM";

/** syslog priorities (RFC 5424 severities) of our levels, as journald reads them from `<N>`. */
const JOURNAL_PRIORITIES: Readonly<Record<string, number>> = {
  trace: 7,
  debug: 7,
  info: 6,
  warn: 4,
  error: 3,
  fatal: 2,
};

/** pino's numeric levels, for lines written with numbers rather than names. */
const PINO_LEVEL_NAMES: Readonly<Record<number, string>> = {
  10: "trace",
  20: "debug",
  30: "info",
  40: "warn",
  50: "error",
  60: "fatal",
};

/**
 * The syslog priority of a log level (name or pino number): trace/debug 7, info 6, warn 4, error 3,
 * fatal 2; undefined for anything else.
 */
export function journalPriority(level: string | number): number | undefined {
  const name = typeof level === "number" ? PINO_LEVEL_NAMES[level] : level.toLowerCase();
  return name === undefined ? undefined : JOURNAL_PRIORITIES[name];
}

/**
 * Whether fd 2 is the stream systemd connected to the journal: `JOURNAL_STREAM` must equal fd 2's
 * `DEV:INODE` (the variable alone is inherited by children whose stderr was redirected elsewhere).
 * `fstat` is injectable for tests; any failure to stat means "no".
 */
export function stderrIsJournal(
  env: NodeJS.ProcessEnv = process.env,
  fstat: (fd: number) => { dev: number | bigint; ino: number | bigint } = (fd) =>
    fstatSync(fd, { bigint: true }),
): boolean {
  const expected = env[JOURNAL_STREAM_ENV]?.trim();
  if (!expected) return false;
  try {
    const st = fstat(2);
    return `${st.dev}:${st.ino}` === expected;
  } catch {
    return false;
  }
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
  const journal = opts.journal ?? (opts.destination === undefined && stderrIsJournal());
  const out = format === "text" || journal ? lineStream(sink, format, journal) : sink;
  const family = new Set<WeakRef<Logger>>();
  const root = pino(
    {
      level: opts.level ?? "info",
      // Level names, not numbers: the lines are read by people and by grep as often as by tools.
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
      base: { pid: process.pid },
      // Children copy the level when made; remember them so setLoggerLevel reaches every one.
      onChild: (child) => {
        family.add(new WeakRef(child));
      },
    },
    out as pino.DestinationStream,
  );
  families.set(root, family);
  return root;
}

/** Each root logger's children (and theirs), for run-time level changes. */
const families = new WeakMap<Logger, Set<WeakRef<Logger>>>();

/**
 * Change the level of a root logger made by createLogger and of every child made from it since
 * (pino children keep the level they were made with). `ovn-bgp status --set-log-level`, SIGHUP.
 */
export function setLoggerLevel(root: Logger, level: LogLevel): void {
  root.level = level;
  const family = families.get(root);
  if (!family) return;
  for (const ref of family) {
    const child = ref.deref();
    if (child) child.level = level;
    else family.delete(ref);
  }
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

/** Rewrites each JSON line pino writes: as text, and/or with the journal priority prefix. */
function lineStream(
  sink: { write(line: string): unknown },
  format: LogFormat,
  journal: boolean,
): pino.DestinationStream {
  return {
    write(line: string): void {
      const body = format === "text" ? formatTextLine(line) : line.replace(/\n$/, "");
      sink.write(`${journal ? withJournalPriority(body, lineLevel(line)) : body}\n`);
    },
  };
}

/** The level of one JSON log line (pino writes `"level"` first; a full parse is the fallback). */
function lineLevel(json: string): string | number | undefined {
  const m = /^\{"level":(?:"(\w+)"|(\d+))/.exec(json);
  if (m) return m[1] ?? Number(m[2]);
  try {
    const level: unknown = (JSON.parse(json) as { level?: unknown } | null)?.level;
    return typeof level === "string" || typeof level === "number" ? level : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Prefixes every line of `text` with `<N>`, N the level's syslog priority. journald makes each line an
 * entry of its own, so a text line's stack trace lines carry the priority too. An unknown level gets no
 * prefix (journald then files it at the unit's default priority, info).
 */
export function withJournalPriority(text: string, level: string | number | undefined): string {
  const priority = level === undefined ? undefined : journalPriority(level);
  if (priority === undefined) return text;
  return text
    .split("\n")
    .map((l) => `<${priority}>${l}`)
    .join("\n");
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
  const err: unknown = rec.err;
  if (typeof err === "object" && err !== null) {
    const { message, stack } = err as { message?: unknown; stack?: unknown };
    parts.push(`err=${textValue(message ?? err)}`);
    if (typeof stack === "string") {
      const frames = stack
        .split("\n")
        .slice(1)
        .map((l) => `    ${l.trim()}`);
      return [parts.join(" "), ...frames].join("\n");
    }
  } else if (err !== undefined) {
    // A reason passed as a string (or number), not an Error: shown like any other field.
    parts.push(`err=${textValue(err)}`);
  }
  return parts.join(" ");
}

function textValue(v: unknown): string {
  if (typeof v === "string") return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean" || v === null) return String(v);
  return JSON.stringify(v) ?? String(v);
}
