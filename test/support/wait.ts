/**
 * Polling with a deadline, for tests against real daemons on a loaded machine: never sleep a fixed
 * time and hope, poll a condition until it holds or the deadline passes, then fail with a message that
 * says what was awaited and what the last probe saw.
 *
 *   const row = await waitFor(async () => (await sbctl(db, "find", "Port_Binding", "logical_port=p1")) || undefined,
 *                             { what: "Port_Binding p1", timeoutMs: 20_000 });
 */
import { setTimeout as delay } from "node:timers/promises";

export interface WaitOptions {
  /** Shown in the timeout error: "timed out after 20000 ms waiting for <what>". */
  readonly what?: string;
  /** Default 20 s: generous, because a 2-core CI machine running two test files can be slow. */
  readonly timeoutMs?: number;
  /** Pause between probes; default 100 ms. */
  readonly intervalMs?: number;
}

export class WaitTimeoutError extends Error {
  readonly code = "WAIT_TIMEOUT";
}

export function sleep(ms: number): Promise<void> {
  return delay(ms);
}

/**
 * Call `probe` until it returns a value other than `undefined`/`false`/`null` and return that value.
 * A probe that throws counts as "not yet"; its last error is quoted if the deadline passes. Throw an
 * `AbortWait` from the probe to give up at once (e.g. the daemon died).
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  opts: WaitOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const intervalMs = opts.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== null && v !== false) return v;
      last = v;
    } catch (err) {
      if (err instanceof AbortWait) throw err.cause ?? err;
      last = err;
    }
    if (Date.now() >= deadline) {
      const seen = last instanceof Error ? last.message : JSON.stringify(last);
      throw new WaitTimeoutError(
        `timed out after ${timeoutMs} ms waiting for ${opts.what ?? "condition"} (last probe: ${seen})`,
      );
    }
    await delay(intervalMs);
  }
}

/** Thrown from a `waitFor` probe to stop waiting immediately; `waitFor` rethrows `cause`. */
export class AbortWait extends Error {
  constructor(override readonly cause: Error) {
    super(cause.message);
  }
}
