/**
 * What every command receives: the global options, a logger built from them, output streams, an abort
 * signal for long-running commands, and config loading that turns a ConfigError into a usage error.
 * Commands take everything from here (never from `process` directly) so they run in-process in tests.
 */
import { ConfigError } from "../config/errors.ts";
import { defaultConfigFiles, type LoadedConfig, loadConfig } from "../config/load.ts";
import { componentLogger, createLogger, type LogFormat, type Logger, type LogLevel } from "../util/log.ts";
import { CliError, EXIT } from "./errors.ts";

export interface Writer {
  write(text: string): unknown;
}

export interface GlobalOptions {
  /** `--config-file`, in the order given (later override earlier); empty when none was given. */
  readonly configFiles: readonly string[];
  readonly configDir?: string;
  readonly logLevel: LogLevel;
  /** The level came from --log-level or the environment (a config file's `debug = True` then yields). */
  readonly logLevelExplicit?: boolean;
  readonly logFormat: LogFormat;
}

export interface CliContext {
  readonly globals: GlobalOptions;
  /** Root logger, tagged `component: "cli"`; make module children with componentLogger(ctx.rootLog, …). */
  readonly log: Logger;
  readonly rootLog: Logger;
  readonly stdout: Writer;
  readonly stderr: Writer;
  /** Aborted on SIGINT/SIGTERM (when run from main.ts); long-running commands stop and return. */
  readonly signal: AbortSignal;
  /**
   * Loads the configuration named by the global options (or the packaged default file, if present).
   * Warnings are logged unless `logWarnings` is false. A ConfigError becomes a CliError with exit 2.
   */
  loadConfig(opts?: { logWarnings?: boolean }): LoadedConfig;
}

/** Options of one command as commander parsed them, plus its operands (and, for pass-through commands, */
/** the options it did not know) in `args`. */
/** Resolves once SIGINT/SIGTERM arrived (at once if one already did). */
export function whenSignalled(signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

export type CommandOptions = Readonly<Record<string, unknown>> & { readonly args: readonly string[] };

/** What `src/cli/commands/<name>.ts` exports. Returns the exit status (undefined means 0). */
export interface CommandModule {
  run(ctx: CliContext, opts: CommandOptions): Promise<number | undefined> | number | undefined;
}

export interface ContextIo {
  readonly stdout: Writer;
  readonly stderr: Writer;
  readonly signal: AbortSignal;
  /** Log destination override (tests); default stderr. */
  readonly logDestination?: Writer;
}

export function createContext(globals: GlobalOptions, io: ContextIo): CliContext {
  const rootLog = createLogger({
    level: globals.logLevel,
    format: globals.logFormat,
    ...(io.logDestination ? { destination: io.logDestination } : {}),
  });
  const log = componentLogger(rootLog, "cli");
  return {
    globals,
    log,
    rootLog,
    stdout: io.stdout,
    stderr: io.stderr,
    signal: io.signal,
    loadConfig(opts = {}) {
      const none = globals.configFiles.length === 0 && globals.configDir === undefined;
      let loaded: LoadedConfig;
      try {
        loaded = loadConfig({
          configFiles: none ? defaultConfigFiles() : globals.configFiles,
          ...(globals.configDir === undefined ? {} : { configDir: globals.configDir }),
        });
      } catch (err) {
        if (err instanceof ConfigError) throw new CliError(err.message, EXIT.USAGE, { cause: err });
        throw err;
      }
      // oslo.log's `debug = True`, unless the command line or the environment chose a level.
      if (loaded.config.debug && !globals.logLevelExplicit) {
        rootLog.level = "debug";
        log.level = "debug";
      }
      if (opts.logWarnings !== false) {
        for (const w of loaded.warnings)
          log.warn({ code: w.code, file: w.file, options: w.options }, w.message);
      }
      return loaded;
    },
  };
}
