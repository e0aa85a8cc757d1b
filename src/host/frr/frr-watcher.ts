/**
 * Notice FRR restarts so the agent re-applies its configuration at once (upstream re-applies every
 * 15 s, so a restarted bgpd advertises nothing for up to 15 s).
 *
 * A daemon that restarts unlinks and recreates its vty socket, so the socket's identity (device +
 * inode) changes. Polling `stat` on `<dir>/<daemon>.vty` every 500 ms costs no process spawn and
 * sees a restart well within 2 s. The first poll records a baseline and reports nothing; after that
 * every change where a socket appears or is replaced fires `onRestart` once, naming the daemons.
 * A daemon that disappears is reported through `onDown` (the caller's sync then fails with
 * FRR_UNAVAILABLE and retries until the new socket appears, which fires `onRestart`).
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";

export interface FrrWatcherOptions {
  readonly socketDir: string;
  /** Daemons to watch; default zebra and bgpd. */
  readonly daemons?: readonly string[];
  readonly intervalMs?: number;
  /** A socket appeared or was replaced: FRR (re)started, re-apply. */
  readonly onRestart: (daemons: readonly string[]) => void;
  readonly onDown?: (daemons: readonly string[]) => void;
}

export const FRR_WATCH_INTERVAL_MS = 500;

async function identity(path: string): Promise<string | undefined> {
  try {
    const s = await stat(path);
    return `${s.dev}:${s.ino}:${s.birthtimeMs || s.ctimeMs}`;
  } catch {
    return undefined;
  }
}

export class FrrWatcher {
  private timer: NodeJS.Timeout | undefined;
  private last: Map<string, string | undefined> | undefined;
  private polling = false;
  private readonly daemons: readonly string[];

  constructor(private readonly opts: FrrWatcherOptions) {
    this.daemons = opts.daemons ?? ["zebra", "bgpd"];
  }

  start(): void {
    if (this.timer) return;
    void this.poll();
    this.timer = setInterval(() => void this.poll(), this.opts.intervalMs ?? FRR_WATCH_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One observation; exposed so tests and the agent can force a check. */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const now = new Map<string, string | undefined>();
      for (const d of this.daemons) now.set(d, await identity(join(this.opts.socketDir, `${d}.vty`)));
      const prev = this.last;
      this.last = now;
      if (!prev) return;
      const restarted = this.daemons.filter((d) => now.get(d) !== undefined && now.get(d) !== prev.get(d));
      const down = this.daemons.filter((d) => now.get(d) === undefined && prev.get(d) !== undefined);
      if (down.length > 0) this.opts.onDown?.(down);
      if (restarted.length > 0) this.opts.onRestart(restarted);
    } finally {
      this.polling = false;
    }
  }
}
