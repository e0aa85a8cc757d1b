/**
 * The `ovn-bgp` command line: global options, the command table, and the one place errors become exit
 * statuses. Each command's code lives in `commands/<name>.ts` and is imported only when that command runs
 * (startup stays fast, and a broken module cannot break `--help` or the other commands).
 *
 * `runCli(argv, io)` never exits the process and never touches process.stdout/stderr itself, so tests
 * run the real program in-process; main.ts is the thin entry that wires it to the process.
 */
import { Command, CommanderError, Option } from "commander";
import { ConfigError } from "../config/errors.ts";
import {
  isLogLevel,
  LOG_FORMATS,
  LOG_LEVEL_ENV,
  LOG_LEVELS,
  type LogFormat,
  resolveLogLevel,
} from "../util/log.ts";
import {
  type CommandModule,
  type CommandOptions,
  createContext,
  type GlobalOptions,
  type Writer,
} from "./context.ts";
import { CliError, EXIT } from "./errors.ts";

interface CommandSpec {
  readonly name: string;
  readonly summary: string;
  /** Operand syntax, e.g. "[args...]". */
  readonly operands?: string;
  readonly options?: readonly Option[];
  /**
   * Unknown options and extra operands are handed to the command in `opts.args` instead of being refused,
   * so a command module can parse its own flags before they are declared in this table.
   */
  readonly passThrough?: boolean;
  /** A pass-through command's own flags and operands, for its --help (commander does not parse them). */
  readonly usage?: readonly (readonly [string, string])[];
  readonly load: () => Promise<CommandModule>;
}

/** The commands, in the order `--help` lists them. */
const COMMANDS: readonly CommandSpec[] = [
  {
    name: "agent",
    summary:
      "run the agent: follow the Southbound DB and keep this chassis' routes, rules, flows and FRR in sync",
    operands: "[args...]",
    passThrough: true,
    load: () => import("./commands/agent.ts"),
  },
  {
    name: "sync",
    summary: "one full reconcile of this chassis, then exit",
    operands: "[args...]",
    passThrough: true,
    usage: [
      ["--once", "one full reconcile, a report, exit 0 when every part applied, 1 otherwise (the only mode)"],
    ],
    load: () => import("./commands/sync.ts"),
  },
  {
    name: "plan",
    summary: "show what a sync would change on this host, changing nothing",
    operands: "[args...]",
    passThrough: true,
    usage: [
      ["--json", "the plan as JSON (entries with their cause: seed event, logical port, rows)"],
      ["--diff", "also read the host and print what a sync would change in the kernel, the flows and FRR"],
    ],
    load: () => import("./commands/plan.ts"),
  },
  {
    name: "sb-watch",
    summary: "print the Southbound changes that concern this chassis as they happen",
    operands: "[args...]",
    passThrough: true,
    usage: [
      ["--once", "print the snapshot summary and exit"],
      ["--all", "replicate the whole Port_Binding table, not the view narrowed to this chassis"],
    ],
    load: () => import("./commands/sb-watch.ts"),
  },
  {
    name: "lab",
    summary: "build or tear down a local test topology (namespaces, OVS, OVN, FRR)",
    operands: "[args...]",
    passThrough: true,
    usage: [
      ["up", "build the seed's lab in namespaces and start the agents"],
      [
        "  --layout vrf|table",
        "announce_via of the lab's agents (default vrf where the kernel has VRF and dummy)",
      ],
      ["  --rule-layout per-ip|per-bridge", "ip_rule_layout of the lab's agents (default per-ip)"],
      ["  --vlan TAG", "make the provider network a VLAN network"],
      [
        "  --platform bookworm|trixie",
        "whose OVS/OVN/FRR: the host's (default) or Debian 13's root (docs/PLATFORMS.md)",
      ],
      ["  --manual", "no agents: the seed's objects are programmed by hand"],
      ["check", "the seed's traffic walks, moves and failover, asserted with real packets"],
      ["status", "what each host announces and the spine's BGP routes"],
      ["down", "remove every namespace, process and file the lab made"],
      ["--instance NAME", "which lab instance (default: lab, namespaces ovnbgp-lab-…)"],
    ],
    load: () => import("./commands/lab.ts"),
  },
  {
    name: "explain",
    summary: "why an IP, logical port or CIDR is (or is not) exposed by this chassis, and what carries it",
    operands: "[args...]",
    passThrough: true,
    usage: [
      ["<ip|logical port|cidr>", "what to explain (e.g. 172.24.4.92, vm1-port, 10.0.0.64/26)"],
      ["--json", "the explanation as JSON"],
    ],
    load: () => import("./commands/explain.ts"),
  },
  {
    name: "status",
    summary: "ask the running agent over its control socket: connections, passes, exposures, recent events",
    operands: "[args...]",
    passThrough: true,
    usage: [
      ["--json", "the agent's report as JSON"],
      ["--set-log-level LEVEL", "change the running agent's log level (trace, debug, info, warn, error)"],
      ["--reload", "make the agent read its configuration again (as SIGHUP does)"],
      ["--control-socket PATH", "the agent's socket (default: control_socket of the configuration)"],
    ],
    load: () => import("./commands/status.ts"),
  },
  {
    name: "version",
    summary: "print this agent's version and the Node, FRR, Open vSwitch, OVN and iproute2 versions found",
    options: [new Option("--json", "one JSON object")],
    load: () => import("./commands/version.ts"),
  },
  {
    name: "config",
    summary: "print the resolved configuration (YAML) and any warnings about it",
    options: [
      new Option("--format <format>", "output format").choices(["yaml", "json"]).default("yaml"),
      new Option("--sources", "annotate each option with the file it came from"),
    ],
    load: () => import("./commands/config.ts"),
  },
];

export interface CliIo {
  readonly stdout: Writer;
  readonly stderr: Writer;
  /** Environment for OVN_BGP_LOG_LEVEL; default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Aborted to stop long-running commands (main.ts wires SIGINT/SIGTERM); default: never aborted. */
  readonly signal?: AbortSignal;
  /** Log destination (tests); default stderr. */
  readonly logDestination?: Writer;
}

/** Runs `ovn-bgp` with `argv` (without the node and script paths); resolves to the exit status. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const env = io.env ?? process.env;
  let exitCode: number = EXIT.OK;
  const program = buildProgram(io, env, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(versionAsCommand(argv), { from: "user" });
    return exitCode;
  } catch (err) {
    return reportError(err, io.stderr, wantsStack(program, env));
  }
}

function buildProgram(io: CliIo, env: NodeJS.ProcessEnv, setExit: (code: number) => void): Command {
  const program = new Command("ovn-bgp")
    .description(
      "Makes OVN workloads reachable over BGP: follows the OVN Southbound DB and programs the kernel, OVS and FRR on this hypervisor",
    )
    .option("-V, --version", "the same as the version command")
    .option(
      "--config-file <path>",
      "config file, INI (upstream bgp-agent.conf) or YAML (.yaml/.yml); repeatable, later override earlier",
      collect,
      [],
    )
    .option(
      "--config-dir <dir>",
      "also read *.conf/*.yaml/*.yml in this directory, sorted by name, after the files",
    )
    .addOption(
      new Option("--log-level <level>", `log level (default: $${LOG_LEVEL_ENV} or info)`).choices(LOG_LEVELS),
    )
    .addOption(
      new Option("--log-format <format>", "log format on stderr").choices(LOG_FORMATS).default("json"),
    )
    .helpCommand(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // Usage errors are printed like every other error (reportError), once.
      outputError: () => {},
    });
  program.addHelpText(
    "after",
    `\nWithout --config-file/--config-dir, /etc/ovn-bgp-agent/bgp-agent.conf is read if it exists.\nExit status: 0 ok, 1 failure, 2 invalid configuration or usage, 3 not implemented.`,
  );

  for (const spec of COMMANDS) {
    const cmd = program.command(spec.name).summary(spec.summary).description(spec.summary);
    if (spec.operands) cmd.argument(spec.operands);
    for (const opt of spec.options ?? []) cmd.addOption(opt);
    if (spec.passThrough) cmd.allowUnknownOption(true).allowExcessArguments(true);
    if (spec.usage) {
      const width = Math.max(...spec.usage.map(([f]) => f.length)) + 2;
      cmd.addHelpText(
        "after",
        `\n${spec.name === "lab" ? "Subcommands and flags" : "Flags"}:\n${spec.usage.map(([f, d]) => `  ${f.padEnd(width)}${d}`).join("\n")}\n`,
      );
    }
    cmd.action(async (...actionArgs: unknown[]) => {
      const self = actionArgs[actionArgs.length - 1] as Command;
      const globals = globalOptions(self.optsWithGlobals(), env);
      const ctx = createContext(globals, {
        stdout: io.stdout,
        stderr: io.stderr,
        signal: io.signal ?? new AbortController().signal,
        ...(io.logDestination ? { logDestination: io.logDestination } : {}),
      });
      const opts: CommandOptions = { ...self.opts(), args: [...self.args] };
      const mod = await spec.load();
      setExit((await mod.run(ctx, opts)) ?? EXIT.OK);
    });
  }
  return program;
}

function globalOptions(o: Record<string, unknown>, env: NodeJS.ProcessEnv): GlobalOptions {
  let logLevel: GlobalOptions["logLevel"];
  try {
    logLevel = resolveLogLevel(o.logLevel as string | undefined, env);
  } catch (err) {
    throw new CliError(`${LOG_LEVEL_ENV}: ${(err as Error).message}`, EXIT.USAGE);
  }
  return {
    configFiles: (o.configFile as string[] | undefined) ?? [],
    ...(typeof o.configDir === "string" ? { configDir: o.configDir } : {}),
    logLevel,
    logLevelExplicit: o.logLevel !== undefined || env[LOG_LEVEL_ENV] !== undefined,
    logFormat: (o.logFormat as LogFormat | undefined) ?? "json",
  };
}

/** Prints one line for the error and returns the exit status it maps to. */
function reportError(err: unknown, stderr: Writer, stack: boolean): number {
  if (err instanceof CommanderError) {
    // --help and --version end parsing with a "success" CommanderError.
    if (err.exitCode === 0) return EXIT.OK;
    // No command given: commander has already printed the help (on stderr).
    if (err.code === "commander.help") return EXIT.USAGE;
    stderr.write(`ovn-bgp: ${err.message.replace(/^error: /, "")} (see 'ovn-bgp --help')\n`);
    return EXIT.USAGE;
  }
  const code =
    err instanceof CliError ? err.exitCode : err instanceof ConfigError ? EXIT.USAGE : EXIT.FAILURE;
  const message = err instanceof Error ? err.message : String(err);
  stderr.write(`ovn-bgp: ${message.split("\n")[0]}\n`);
  if (stack && err instanceof Error && err.stack) stderr.write(`${err.stack}\n`);
  return code;
}

/** Stacks are for developers: only with --log-level debug/trace (or the same in the environment). */
function wantsStack(program: Command, env: NodeJS.ProcessEnv): boolean {
  const flag = program.opts().logLevel as string | undefined;
  const level = (flag ?? env[LOG_LEVEL_ENV] ?? "info").toLowerCase();
  return isLogLevel(level) && (level === "debug" || level === "trace");
}

/** `--version` / `-V` before any command is the `version` command (the global options stay). */
function versionAsCommand(argv: readonly string[]): string[] {
  const commands = new Set(COMMANDS.map((c) => c.name));
  const first = argv.findIndex((a) => commands.has(a) || a === "help");
  const flag = argv.findIndex((a) => a === "--version" || a === "-V");
  if (flag < 0 || (first >= 0 && first < flag)) return [...argv];
  return [...argv.slice(0, flag), ...argv.slice(flag + 1), "version"];
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
