/**
 * The agent's only way to talk to FRR: `vtysh --vty_socket <dir>` through the exec seam. The socket
 * directory makes namespaced FRR instances reachable (`-N NAME` puts them in /var/run/frr/NAME);
 * `netns` is passed through for completeness (Unix sockets do not depend on the network namespace).
 *
 * Changes go in ONE process per batch: `vtysh -f FILE` reads the whole script in config mode, keeps
 * going after a failing line and exits 2, printing `line N: % …` for each failure. (`-c` mode
 * instead stops at the first failing command.) The script goes through a private temp file:
 * `-f /dev/stdin` fails with ENXIO because Node's child stdin is a socket, not a pipe.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Exec, type ExecResult, run } from "../exec.ts";

export interface VtyshOptions {
  /** Directory of the daemons' `*.vty` sockets (config `frr_vty_socket_dir`, default /run/frr). */
  readonly socketDir: string;
  readonly netns?: string;
  readonly exec?: Exec;
  /** Daemons whose sockets must exist; default zebra and bgpd. */
  readonly daemons?: readonly string[];
  readonly timeoutMs?: number;
  /** Words before `vtysh` (config `frr_command_prefix`): FRR in a container or another root. */
  readonly commandPrefix?: readonly string[];
}

/** FRR is not there (socket missing, daemon down). Transient: the caller retries. */
export class FrrUnavailableError extends Error {
  readonly code = "FRR_UNAVAILABLE";
}

/** vtysh ran but FRR rejected commands. */
export class FrrCommandError extends Error {
  readonly code = "FRR_COMMAND";
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(message);
  }
}

/** What vtysh prints when it cannot reach a daemon. */
const DOWN = /(\S+) is not running|failed to connect to any daemons/;

export class Vtysh {
  readonly socketDir: string;
  private readonly exec: Exec;
  private readonly daemons: readonly string[];

  constructor(private readonly opts: VtyshOptions) {
    this.socketDir = opts.socketDir;
    this.exec = opts.exec ?? run;
    this.daemons = opts.daemons ?? ["zebra", "bgpd"];
  }

  /** Throws FrrUnavailableError naming the socket directory when a daemon's socket is missing. */
  assertReachable(): void {
    const missing = this.daemons.filter((d) => !existsSync(join(this.socketDir, `${d}.vty`)));
    if (missing.length > 0)
      throw new FrrUnavailableError(
        `FRR not reachable: no ${missing.map((d) => `${d}.vty`).join(", ")} in ${this.socketDir} (is FRR running? check frr_vty_socket_dir)`,
      );
  }

  private async vtysh(args: readonly string[]): Promise<ExecResult> {
    this.assertReachable();
    const res = await this.exec({
      argv: [...(this.opts.commandPrefix ?? []), "vtysh", "--vty_socket", this.socketDir, ...args],
      ...(this.opts.netns !== undefined ? { netns: this.opts.netns } : {}),
      timeoutMs: this.opts.timeoutMs ?? 30_000,
    });
    const down = DOWN.exec(`${res.stdout}\n${res.stderr}`);
    if (down)
      throw new FrrUnavailableError(
        `FRR not reachable via ${this.socketDir}: ${down[0]} (vtysh exited ${res.code})`,
      );
    return res;
  }

  /** Run one show command; throws FrrCommandError on failure. */
  async show(command: string): Promise<string> {
    const res = await this.vtysh(["-c", command]);
    if (res.code !== 0)
      throw new FrrCommandError(
        `vtysh -c "${command}" exited ${res.code}: ${res.stdout}${res.stderr}`.trim(),
        res.stdout,
      );
    return res.stdout;
  }

  /** Run a `show … json` command and parse it. */
  async showJson(command: string): Promise<unknown> {
    const out = await this.show(command);
    try {
      return JSON.parse(out) as unknown;
    } catch {
      throw new FrrCommandError(`vtysh -c "${command}" did not print JSON: ${out.slice(0, 200)}`, out);
    }
  }

  runningConfig(): Promise<string> {
    return this.show("show running-config");
  }

  /** Apply a configuration script in one vtysh process; every failing line is reported. */
  async applyScript(script: string): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), "ovn-bgp-vtysh-"));
    const file = join(dir, "agent.conf");
    let res: ExecResult;
    try {
      await writeFile(file, script, { mode: 0o600 });
      res = await this.vtysh(["-f", file]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    if (res.code !== 0) {
      const output = `${res.stdout}${res.stderr}`.trim();
      const failed = output.split("\n").filter((l) => /^line \d+:/.test(l) || l.startsWith("%"));
      throw new FrrCommandError(
        `FRR rejected ${failed.length || "some"} line(s) (vtysh exited ${res.code}): ${(failed.length ? failed : [output]).join("; ")}`,
        output,
      );
    }
  }
}
