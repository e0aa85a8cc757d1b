/**
 * Resolving the agent configuration from files, a config directory and programmatic overrides, with
 * oslo.config's precedence so an upstream deployment behaves the same:
 *
 *   built-in defaults < each `configFiles` entry in order < each file of `configDir` in sorted order
 *   < `overrides`
 *
 * Later sources override earlier ones option by option. Errors stop at the first invalid option and name
 * it and the source that set it; accepted-but-unused input becomes warnings (see errors.ts), returned to
 * the caller to log — loading itself never logs, so it stays a pure function of its inputs and the files.
 */
import { existsSync } from "node:fs";
import type { AgentConfig, OvnConfig } from "./agent-config.ts";
import { ConfigError, type ConfigWarning, DEFAULTS_SOURCE } from "./errors.ts";
import {
  configSchema,
  DEFAULTS,
  DEPRECATED_DEFAULT_LOCATION,
  EXPECTED,
  IMPLEMENTED_OPTIONS,
  MAX_PROVIDER_BRIDGES,
  optionPath,
  type ParsedConfig,
  RESERVED_TABLES,
  schemaLocation,
  showValue,
  UPSTREAM_SB_SSL_DEFAULTS,
} from "./options.ts";
import { DEFAULT_GROUP, listConfigDir, overridesLayer, type RawLayer, readLayer } from "./sources.ts";
import { judgeUnimplemented, UPSTREAM_DEFAULT_LOCATION } from "./upstream-options.ts";

export interface LoadConfigOptions {
  /** Read in order; later files override earlier ones (`--config-file`, repeatable). */
  readonly configFiles: readonly string[];
  /** Its `*.conf`, `*.yaml`, `*.yml` files are read after `configFiles`, sorted by name (`--config-dir`). */
  readonly configDir?: string;
  /** Highest precedence; keys `name`, `group.name`, or `{ group: { name: value } }`. */
  readonly overrides?: Readonly<Record<string, unknown>>;
}

export interface LoadedConfig {
  readonly config: AgentConfig;
  /** Accepted but unused input, in source order; the caller logs them. */
  readonly warnings: readonly ConfigWarning[];
  /** The files actually read, in precedence order (lowest first). */
  readonly files: readonly string[];
  /** For each option path (`bgp_AS`, `ovn.ovn_sb_connection`), the source its value came from. */
  readonly sources: ReadonlyMap<string, string>;
}

/** Where packaging installs the config file; the CLI reads it when no --config-file/--config-dir is given. */
export const DEFAULT_CONFIG_FILE = "/etc/ovn-bgp-agent/bgp-agent.conf";

/** The files to read when the user named none: the packaged file if it exists, else none (defaults). */
export function defaultConfigFiles(): string[] {
  return existsSync(DEFAULT_CONFIG_FILE) ? [DEFAULT_CONFIG_FILE] : [];
}

/**
 * Loads, merges and validates. Throws ConfigError (with `.option` and `.file`) on the first invalid value,
 * an unreadable file or directory, or invalid YAML.
 */
export function loadConfig(opts: LoadConfigOptions): LoadedConfig {
  const files = [...opts.configFiles, ...(opts.configDir === undefined ? [] : listConfigDir(opts.configDir))];
  const layers: RawLayer[] = files.map(readLayer);
  if (opts.overrides) layers.push(overridesLayer(opts.overrides));
  return resolveLayers(layers, files);
}

interface Slot {
  readonly value: unknown;
  readonly source: string;
  /** Index of the layer that set it; -1 for the defaults. Used to blame the latest of two options. */
  readonly rank: number;
}

function resolveLayers(layers: readonly RawLayer[], files: readonly string[]): LoadedConfig {
  const slots = new Map<string, Slot>();
  for (const [path, value] of Object.entries(DEFAULTS))
    slots.set(path, { value, source: DEFAULTS_SOURCE, rank: -1 });
  // [DEFAULT] spellings of [ovn] options: used only where no source set the [ovn] one (oslo's rule).
  const deprecated = new Map<string, Slot>();
  const warnings: ConfigWarning[] = [];

  layers.forEach((layer, rank) => {
    const unsupported: string[] = [];
    let loggingHint = false;
    const unknown: string[] = [];
    const suggestions: string[] = [];
    const moved: string[] = [];
    for (const { group, key, value } of layer.entries) {
      const path = optionPath(group, key);
      // null (an empty YAML value) means "back to the default" for this option.
      const written = value === null ? DEFAULTS[path] : value;
      if (IMPLEMENTED_OPTIONS.has(path)) {
        slots.set(path, { value: written, source: layer.source, rank });
      } else if (group === DEFAULT_GROUP && DEPRECATED_DEFAULT_LOCATION.has(key)) {
        const ovnValue = value === null ? DEFAULTS[`ovn.${key}`] : value;
        deprecated.set(`ovn.${key}`, { value: ovnValue, source: layer.source, rank });
        if (!UPSTREAM_DEFAULT_LOCATION.has(key)) moved.push(key);
      } else {
        const verdict = judgeUnimplemented(group, key, value);
        if (verdict.kind === "refused") throw new ConfigError(layer.source, path, verdict.detail);
        if (verdict.kind === "unsupported") {
          unsupported.push(verdict.label);
          loggingHint ||= verdict.logging;
        } else if (verdict.kind === "unknown") {
          unknown.push(path);
          const near = nearestOption(key);
          suggestions.push(near && near !== path ? `${path} (did you mean ${near}?)` : path);
        }
      }
    }
    const src = layer.source;
    if (moved.length > 0) {
      const list = moved.join(", ");
      warnings.push({
        code: "deprecated-location",
        file: src,
        options: moved,
        message: `${src}: [DEFAULT] ${list} used for compatibility; these options belong in [ovn] (which wins when both are set)`,
      });
    }
    if (unsupported.length > 0) {
      const hint = loggingHint ? " (logging is set with --log-level and --log-format)" : "";
      warnings.push({
        code: "unsupported-option",
        file: src,
        options: unsupported,
        message: `${src}: ignored upstream options this agent does not implement: ${unsupported.join(", ")}${hint}`,
      });
    }
    if (unknown.length > 0) {
      warnings.push({
        code: "unknown-option",
        file: src,
        options: unknown,
        message: `${src}: ignored unknown options: ${suggestions.join(", ")}`,
      });
    }
  });
  for (const [path, slot] of deprecated) {
    if ((slots.get(path)?.rank ?? -1) < 0) slots.set(path, slot);
  }

  const parsed = validate(slots);
  const config = assemble(parsed);
  crossCheck(config, slots);
  const sources = new Map<string, string>();
  for (const [path, slot] of slots) sources.set(path, slot.source);
  return { config, warnings, files, sources };
}

/** Runs the zod schema; the first issue becomes a ConfigError naming the option and its source. */
function validate(slots: ReadonlyMap<string, Slot>): ParsedConfig {
  const raw: Record<string, unknown> = {};
  const ovn: Record<string, unknown> = {};
  for (const path of IMPLEMENTED_OPTIONS) {
    const { group, key } = schemaLocation(path);
    const value = slots.get(path)?.value;
    if (group === DEFAULT_GROUP) raw[key] = value;
    else ovn[key] = value;
  }
  raw.ovn = ovn;
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const segs = (issue?.path ?? []).map(String);
  const path = (segs[0] === "ovn" ? segs.slice(0, 2) : segs.slice(0, 1)).join(".");
  const slot = slots.get(path);
  const expected = EXPECTED[path] ?? issue?.message ?? "a valid value";
  throw new ConfigError(
    slot?.source ?? DEFAULTS_SOURCE,
    path,
    `expected ${expected}, got ${showValue(slot?.value)}`,
  );
}

function assemble(p: ParsedConfig): AgentConfig {
  const { ovn: o, bgp_router_id, ...rest } = p;
  const ssl = o.ovn_sb_connection?.split(",").some((r) => r.trim().startsWith("ssl:")) ?? false;
  const ovn: OvnConfig = withoutUndefined({
    ovn_sb_connection: o.ovn_sb_connection,
    // Upstream has defaults for these; they only matter (and are only filled in) for ssl: remotes.
    ovn_sb_private_key:
      o.ovn_sb_private_key ?? (ssl ? UPSTREAM_SB_SSL_DEFAULTS.ovn_sb_private_key : undefined),
    ovn_sb_certificate:
      o.ovn_sb_certificate ?? (ssl ? UPSTREAM_SB_SSL_DEFAULTS.ovn_sb_certificate : undefined),
    ovn_sb_ca_cert: o.ovn_sb_ca_cert ?? (ssl ? UPSTREAM_SB_SSL_DEFAULTS.ovn_sb_ca_cert : undefined),
    chassis_name: o.chassis_name,
    ovsdb_connection_timeout: o.ovsdb_connection_timeout,
  });
  return { ...rest, ...(bgp_router_id === undefined ? {} : { bgp_router_id }), ovn };
}

/** Checks between options; blames whichever of the options involved was set last. */
function crossCheck(c: AgentConfig, slots: ReadonlyMap<string, Slot>): void {
  const fail = (paths: readonly string[], detail: string): never => {
    let blamed = paths[0] ?? "";
    for (const p of paths) if ((slots.get(p)?.rank ?? -1) > (slots.get(blamed)?.rank ?? -1)) blamed = p;
    throw new ConfigError(slots.get(blamed)?.source ?? DEFAULTS_SOURCE, blamed, detail);
  };
  const first = c.bridge_table_base;
  const last = first + MAX_PROVIDER_BRIDGES - 1;
  for (const [table, name] of RESERVED_TABLES) {
    if (table >= first && table <= last) {
      fail(
        ["bridge_table_base"],
        `provider bridge tables ${first}..${last} (room for ${MAX_PROVIDER_BRIDGES} bridges) would include table ${table} (${name})`,
      );
    }
  }
  if (c.bgp_vrf_table_id >= first && c.bgp_vrf_table_id <= last) {
    fail(
      ["bgp_vrf_table_id", "bridge_table_base"],
      `bgp_vrf_table_id ${c.bgp_vrf_table_id} lies inside the provider bridge tables ${first}..${last} (bridge_table_base ${first})`,
    );
  }
  if (c.bgp_nic === c.bgp_vrf) {
    fail(
      ["bgp_nic", "bgp_vrf"],
      `bgp_nic and bgp_vrf are both '${c.bgp_nic}'; they must be different devices`,
    );
  }
}

/** Case-insensitive match of a key against implemented option names, in any group. */
function nearestOption(key: string): string | undefined {
  const lower = key.toLowerCase();
  for (const path of IMPLEMENTED_OPTIONS) {
    if (schemaLocation(path).key.toLowerCase() === lower) return path;
  }
  return undefined;
}

function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
