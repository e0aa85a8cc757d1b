/**
 * Reading configuration sources into flat "layers" of (group, key, value) entries, before any
 * interpretation. Two file syntaxes share one option namespace:
 *
 * - INI as oslo.config (the upstream agent) reads it: `[DEFAULT]` plus groups such as `[ovn]`, `[agent]`.
 *   Parsed with `ini`; every value stays a string (or a boolean when written exactly `true`/`false`), and
 *   typing happens later in one place (options.ts) so INI and YAML values are judged alike.
 * - Our YAML (files ending `.yaml`/`.yml`): top-level scalars and lists are `[DEFAULT]` options, a
 *   top-level mapping is a group (`ovn: { ovn_sb_connection: … }`).
 *
 * As oslo.config's parser, a line's key ends at its first `=` or `:`, whichever comes first, so
 * `key: value` works like `key = value` and `ovn_sb_connection = tcp:1.2.3.4:6642` keeps its colons.
 * Known differences from oslo.config's own parser, accepted because upstream's documented files do not
 * use them: indented continuation lines are not understood, and `;`/`#` start an inline comment.
 * Oslo's `$other_option` interpolation is not performed.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { decode as decodeIni } from "ini";
import { parseDocument } from "yaml";
import { ConfigError, OVERRIDES_SOURCE } from "./errors.ts";

/** The unnamed oslo.config group. */
export const DEFAULT_GROUP = "DEFAULT";

export interface RawEntry {
  /** `DEFAULT`, or a lower-cased group name (`ovn`, `agent`, …). */
  readonly group: string;
  readonly key: string;
  /** As written: a string for INI, any YAML scalar or list for YAML; `null` means "unset here". */
  readonly value: unknown;
}

export interface RawLayer {
  /** The file path (or OVERRIDES_SOURCE) that error messages and warnings name. */
  readonly source: string;
  readonly entries: readonly RawEntry[];
}

/**
 * Group names compare case-insensitively: upstream registered `[AGENT]` in early releases and `[agent]`
 * later, and operators' files contain both.
 */
export function normalizeGroup(group: string): string {
  return group.toUpperCase() === DEFAULT_GROUP ? DEFAULT_GROUP : group.toLowerCase();
}

export function isYamlPath(path: string): boolean {
  return /\.ya?ml$/i.test(path);
}

/** Reads one config file, choosing the syntax from its name (YAML for .yaml/.yml, INI otherwise). */
export function readLayer(path: string): RawLayer {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(path, undefined, `cannot read config file: ${describeFsError(err)}`);
  }
  return isYamlPath(path) ? parseYamlLayer(text, path) : parseIniLayer(text, path);
}

/**
 * Files of a `--config-dir`, in the order they apply (later override earlier). oslo.config reads `*.conf`
 * sorted by name; we also read our `*.yaml`/`*.yml` from the same directory, in the same single sorted
 * order, so a directory may mix both. Hidden files (editor leftovers such as `.x.conf.swp`) are skipped.
 */
export function listConfigDir(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new ConfigError(dir, undefined, `cannot read config directory: ${describeFsError(err)}`);
  }
  return names
    .filter((n) => !n.startsWith(".") && /\.(conf|ya?ml)$/i.test(n))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((n) => join(dir, n));
}

export function parseIniLayer(text: string, source: string): RawLayer {
  // bracketedArray=false: a repeated key becomes an array instead of `key[]` meaning a list; oslo.config
  // keeps the last value of a repeated single-valued option, and so do we (see lastValue).
  const doc = decodeIni(colonsToEquals(text), { bracketedArray: false }) as Record<string, unknown>;
  const entries: RawEntry[] = [];
  const visit = (group: string, obj: Record<string, unknown>): void => {
    for (const [key, value] of Object.entries(obj)) {
      if (isPlainObject(value)) {
        // `[ovn]` at top level, or a dotted section name `[a.b]` that `ini` nests under `a`.
        visit(group === DEFAULT_GROUP ? normalizeGroup(key) : `${group}.${key.toLowerCase()}`, value);
      } else {
        entries.push({ group, key, value: lastValue(value) });
      }
    }
  };
  // Keys before any section header are taken as [DEFAULT] (oslo.config would refuse the file).
  visit(DEFAULT_GROUP, doc);
  return { source, entries };
}

/**
 * Rewrites `key: value` lines as `key= value` for the `ini` package, which only splits at `=`. oslo.config
 * splits an assignment at the first `=` or `:`; only lines whose first separator is a `:` change, so a
 * value's own colons (`tcp:1.2.3.4:6642`) and equals signs (`key: a=b`) stay in the value. Comments,
 * blank lines and section headers are left alone.
 */
export function colonsToEquals(text: string): string {
  return text
    .split("\n")
    .map((line) => {
      if (/^\s*(?:[;#[]|\r?$)/.test(line)) return line;
      const colon = line.indexOf(":");
      // No key before the colon: left as is, so it is reported as an unknown option, not dropped.
      if (colon < 0 || line.slice(0, colon).trim() === "") return line;
      const equals = line.indexOf("=");
      return equals >= 0 && equals < colon ? line : `${line.slice(0, colon)}=${line.slice(colon + 1)}`;
    })
    .join("\n");
}

export function parseYamlLayer(text: string, source: string): RawLayer {
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  const firstError = doc.errors[0];
  if (firstError) {
    throw new ConfigError(source, undefined, `not valid YAML: ${firstError.message.split("\n")[0]}`);
  }
  const top: unknown = doc.toJS();
  if (top === null || top === undefined) return { source, entries: [] };
  if (!isPlainObject(top)) {
    throw new ConfigError(source, undefined, "expected a YAML mapping of option names at the top level");
  }
  return { source, entries: flattenObject(top) };
}

/**
 * Programmatic overrides, highest precedence. Keys are `name` for `[DEFAULT]`, `group.name` for a group,
 * or a group name whose value is an object (`{ ovn: { ovn_sb_connection: "…" } }`).
 */
export function overridesLayer(overrides: Readonly<Record<string, unknown>>): RawLayer {
  const entries: RawEntry[] = [];
  for (const [key, value] of Object.entries(overrides)) {
    const dot = key.indexOf(".");
    if (dot > 0) {
      entries.push({ group: normalizeGroup(key.slice(0, dot)), key: key.slice(dot + 1), value });
    } else if (isPlainObject(value)) {
      for (const [k, v] of Object.entries(value))
        entries.push({ group: normalizeGroup(key), key: k, value: v });
    } else {
      entries.push({ group: DEFAULT_GROUP, key, value });
    }
  }
  return { source: OVERRIDES_SOURCE, entries };
}

function flattenObject(top: Record<string, unknown>): RawEntry[] {
  const entries: RawEntry[] = [];
  for (const [key, value] of Object.entries(top)) {
    if (isPlainObject(value)) {
      for (const [k, v] of Object.entries(value))
        entries.push({ group: normalizeGroup(key), key: k, value: v });
    } else {
      entries.push({ group: DEFAULT_GROUP, key, value });
    }
  }
  return entries;
}

function lastValue(value: unknown): unknown {
  return Array.isArray(value) ? value[value.length - 1] : value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describeFsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === "ENOENT") return "no such file or directory";
  if (e?.code === "EACCES") return "permission denied";
  if (e?.code === "ENOTDIR") return "not a directory";
  if (e?.code === "EISDIR") return "is a directory";
  return e?.message ?? String(err);
}
