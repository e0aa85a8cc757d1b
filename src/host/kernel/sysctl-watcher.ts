/**
 * Sysctls have no change notification, so the agent looks at the few it owns (proxy_arp and
 * proxy_ndp of each provider bridge and VLAN device) once a second: a value someone changed is
 * drift, healed by a kernel full pass. Without a netns these are plain /proc/sys reads (no child
 * process); reads never overlap, and the timer does not keep the process alive.
 */
import { Poller } from "../../util/poller.ts";
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
  private readonly poller: Poller;

  constructor(private readonly opts: SysctlWatcherOptions) {
    this.poller = new Poller(opts.intervalMs ?? 1000, () => this.check());
  }

  start(): void {
    this.poller.start();
  }

  stop(): void {
    this.poller.stop();
  }

  /** One look (also used by tests). Returns the drifted paths. */
  async check(): Promise<string[]> {
    const wanted = this.opts.wanted();
    if (wanted.length === 0) return [];
    let have: ReadonlyMap<string, string>;
    try {
      have = await this.opts.io.read(wanted.map((w) => w.path));
    } catch {
      return [];
    }
    // A missing path (the device is not there yet) is the kernel pass's business, not drift.
    const drifted = wanted.filter((w) => have.has(w.path) && have.get(w.path) !== w.value).map((w) => w.path);
    if (drifted.length > 0) this.opts.onDrift(drifted);
    return drifted;
  }
}
