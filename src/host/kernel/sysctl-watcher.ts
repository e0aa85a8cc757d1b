/**
 * Sysctls have no change notification, so the agent looks at the few it owns (proxy_arp and
 * proxy_ndp of each provider bridge and VLAN device) once a second: a value someone changed is
 * drift, healed by a kernel full pass. Without a netns these are plain /proc/sys reads (no child
 * process); reads never overlap, and the timer does not keep the process alive.
 */
import type { SysctlIo } from "./sysctl.ts";

export interface SysctlWatcherOptions {
  readonly io: SysctlIo;
  /** What the plan wants now: /proc/sys-relative paths and values. */
  readonly wanted: () => ReadonlyArray<{ readonly path: string; readonly value: string }>;
  /** Called with the paths whose value differs from the plan. */
  readonly onDrift: (paths: readonly string[]) => void;
  readonly intervalMs?: number;
}

export class SysctlWatcher {
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(private readonly opts: SysctlWatcherOptions) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.check(), this.opts.intervalMs ?? 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One look (also used by tests). Returns the drifted paths. */
  async check(): Promise<string[]> {
    if (this.busy) return [];
    this.busy = true;
    try {
      const wanted = this.opts.wanted();
      if (wanted.length === 0) return [];
      const have = await this.opts.io.read(wanted.map((w) => w.path));
      // A missing path (the device is not there yet) is the kernel pass's business, not drift.
      const drifted = wanted
        .filter((w) => have.has(w.path) && have.get(w.path) !== w.value)
        .map((w) => w.path);
      if (drifted.length > 0) this.opts.onDrift(drifted);
      return drifted;
    } catch {
      return [];
    } finally {
      this.busy = false;
    }
  }
}
