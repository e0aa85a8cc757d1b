/**
 * Notice FRR restarts so the agent re-applies its configuration at once (upstream re-applies every
 * 15 s, so a restarted bgpd advertises nothing for up to 15 s).
 *
 * A daemon that restarts unlinks and recreates its vty socket, so the socket's identity (device +
 * inode) changes. The socket directory is watched with inotify (`fs.watch`): a socket appearing or
 * going away wakes the watcher at once, and an idle host costs nothing. `stat` on
 * `<dir>/<daemon>.vty` then says what changed; it also runs every 10 s as a safety net, and every
 * 500 ms while the directory cannot be watched (it does not exist yet: FRR not installed or started). The first poll records a baseline and reports nothing; after that
 * every change where a socket appears or is replaced fires `onRestart` once, naming the daemons.
 * A daemon that disappears is reported through `onDown` (the caller's sync then fails with
 * FRR_UNAVAILABLE and retries until the new socket appears, which fires `onRestart`).
 */
import { type FSWatcher, watch } from "node:fs";
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
/** With inotify on the directory, polling is only a safety net. */
export const FRR_SAFETY_POLL_MS = 10_000;

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
  private fsWatcher: FSWatcher | undefined;
  /** Identity of the directory being watched: a directory removed and made again needs a new watch. */
  private watchedDir: string | undefined;
  private soon: NodeJS.Timeout | undefined;
  private running = false;
  private last: Map<string, string | undefined> | undefined;
  private polling = false;
  private again = false;
  private readonly daemons: readonly string[];

  constructor(private readonly opts: FrrWatcherOptions) {
    this.daemons = opts.daemons ?? ["zebra", "bgpd"];
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.attach();
    void this.poll();
    this.schedule();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.soon) clearTimeout(this.soon);
    this.timer = undefined;
    this.fsWatcher?.close();
    this.fsWatcher = undefined;
  }

  /** inotify on the socket directory; undefined while it cannot be watched (missing). */
  private attach(): void {
    if (this.fsWatcher || !this.running) return;
    try {
      const w = watch(this.opts.socketDir, { persistent: false }, () => {
        // A restart is an unlink and a create: one look shortly after the burst of events.
        this.soon ??= setTimeout(() => {
          this.soon = undefined;
          void this.poll();
        }, 50);
      });
      w.on("error", () => {
        w.close();
        if (this.fsWatcher === w) this.fsWatcher = undefined;
      });
      this.fsWatcher = w;
      void identity(this.opts.socketDir).then((id) => {
        this.watchedDir = id;
      });
    } catch {
      this.fsWatcher = undefined;
    }
  }

  private schedule(): void {
    if (!this.running) return;
    const every = this.opts.intervalMs ?? (this.fsWatcher ? FRR_SAFETY_POLL_MS : FRR_WATCH_INTERVAL_MS);
    this.timer = setTimeout(() => {
      this.attach();
      void this.poll().finally(() => this.schedule());
    }, every);
    this.timer.unref();
  }

  /** One observation; exposed so tests and the agent can force a check. */
  async poll(): Promise<void> {
    if (this.polling) {
      this.again = true; // a change arrived during this look: look once more after it
      return;
    }
    this.polling = true;
    try {
      const dir = await identity(this.opts.socketDir);
      if (this.fsWatcher && dir !== this.watchedDir && this.watchedDir !== undefined) {
        this.fsWatcher.close();
        this.fsWatcher = undefined;
        this.attach();
      }
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
      if (this.again) {
        this.again = false;
        void this.poll();
      }
    }
  }
}
