/**
 * Exit statuses of `ovn-bgp` and the error that carries one. Commands throw `CliError` for failures the
 * user can act on; the program prints its message as one line (`ovn-bgp: <message>`) and exits with its
 * code. Scripts (systemd units, CI) rely on these numbers, so they are fixed here.
 */
export const EXIT = {
  OK: 0,
  /** An unexpected failure (a bug, or an environment problem nobody anticipated). */
  FAILURE: 1,
  /** Invalid configuration or command line: fix the input, retrying will not help. */
  USAGE: 2,
  /** The command exists but is not implemented yet. */
  NOT_IMPLEMENTED: 3,
  /** Stopped by SIGINT/SIGTERM before it finished (what was applied stays applied). */
  INTERRUPTED: 130,
} as const;

export class CliError extends Error {
  override readonly name = "CliError";

  constructor(
    message: string,
    readonly exitCode: number = EXIT.FAILURE,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What placeholder commands throw until their module is written. */
export function notImplemented(command: string): CliError {
  return new CliError(`${command}: not implemented yet`, EXIT.NOT_IMPLEMENTED);
}
