/**
 * What configuration loading reports: one fatal `ConfigError` (the first problem found, naming the option
 * and the file it came from, so an operator can fix it without reading code) and any number of
 * `ConfigWarning`s for input that was accepted but not used (upstream options this agent does not
 * implement, unknown options, options in a deprecated place). Warnings never stop the agent: a drop-in
 * replacement must start with the upstream agent's config file unchanged.
 */

/** Source label used when a value came from the built-in defaults rather than a file. */
export const DEFAULTS_SOURCE = "<defaults>";
/** Source label used for values passed programmatically (`loadConfig({ overrides })`). */
export const OVERRIDES_SOURCE = "<overrides>";

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  /** Stable code for callers that branch on the error kind (the CLI maps it to exit status 2). */
  readonly code = "CONFIG_INVALID";

  /**
   * @param file   the file (or DEFAULTS_SOURCE / OVERRIDES_SOURCE) that holds the bad value
   * @param option the option as `name` (for `[DEFAULT]`) or `group.name`; undefined when the whole file is
   *               at fault (unreadable, not valid YAML)
   * @param detail what is wrong, e.g. "expected an integer 1..4294967295, got 'abc'"
   */
  constructor(
    readonly file: string,
    readonly option: string | undefined,
    readonly detail: string,
  ) {
    super(option === undefined ? `${file}: ${detail}` : `${option} in ${file}: ${detail}`);
  }
}

export type ConfigWarningCode =
  /** An upstream ovn-bgp-agent option (or value) this agent does not implement; ignored. */
  | "unsupported-option"
  /** Neither ours nor a known upstream option; ignored (most often a typo). */
  | "unknown-option"
  /** Accepted, but found where upstream only reads it for backwards compatibility. */
  | "deprecated-location";

export interface ConfigWarning {
  readonly code: ConfigWarningCode;
  readonly file: string;
  /** The options concerned, as `name`, `group.name`, or `name=value` when only the value is unsupported. */
  readonly options: readonly string[];
  /** One human sentence naming the file and every option concerned. */
  readonly message: string;
}
