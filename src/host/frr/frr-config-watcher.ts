/**
 * Notice when someone else changes FRR's configuration (a hand edit in vtysh, an `frr-reload`
 * that drops the agent's stanzas): FRR sends no notification, so each daemon's running config is
 * read once a second over its vty socket (`VtyClient`, no process start, about 1 ms) and compared
 * with the last text seen. A change asks for an FRR pass, which diffs the agent's own lines and
 * restores only those; an operator's change to their own lines costs one read-only pass.
 *
 * A change is acted on once the text has stayed the same for `settleMs` (a second read): an
 * `frr-reload` sends its commands one by one, tens of milliseconds apart, over a second or more,
 * and writing the agent's lines in the middle of that would fight it (FRR 8.4's bgpd was seen to
 * die once with two writers at once). Text still moving is looked at again at the next poll.
 *
 * The agent's own writes are not drift: around a pass that writes, `writing()` pauses the checks
 * and `wrote(changed)` takes the text after the write as the new baseline. A daemon that cannot be
 * reached loses its baseline (FrrWatcher reports the restart, and the FRR pass then re-applies).
 */
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { Poller } from "../../util/poller.ts";
import { VtyClient } from "./vty-client.ts";

export interface FrrConfigWatcherOptions {
  readonly socketDir: string;
  /** Daemons whose configuration the agent writes; default zebra and bgpd. */
  readonly daemons?: readonly string[];
  readonly intervalMs?: number;
  /** How long a changed config must stay the same before it is acted on; default 200 ms. */
  readonly settleMs?: number;
  /** The running configuration of these daemons changed, not by the agent. */
  readonly onDrift: (daemons: readonly string[]) => void;
}

/** Lines that are not configuration and may differ between two reads. */
const VOLATILE = /^(Building configuration|Current configuration)/;

function normalise(text: string): string {
  return text
    .split("\n")
    .filter((l) => !VOLATILE.test(l))
    .join("\n");
}

export class FrrConfigWatcher {
  private readonly poller: Poller;
  private readonly clients = new Map<string, VtyClient>();
  private readonly baseline = new Map<string, string>();
  private paused = 0;
  /** Writes begun so far: a look that overlapped one judges nothing. */
  private writes = 0;
  /** Daemons whose config changed at the last look and is waiting to be seen settled. */
  private unsettled = new Set<string>();

  constructor(private readonly opts: FrrConfigWatcherOptions) {
    for (const d of opts.daemons ?? ["zebra", "bgpd"])
      this.clients.set(d, new VtyClient(join(opts.socketDir, `${d}.vty`)));
    this.poller = new Poller(opts.intervalMs ?? 1000, () => this.check());
  }

  start(): void {
    this.poller.start();
  }

  stop(): void {
    this.poller.stop();
    for (const c of this.clients.values()) c.close();
  }

  /** The agent is about to write FRR's configuration: its echo is not drift. */
  writing(): void {
    this.paused++;
    this.writes++;
  }

  /** The agent's write is done; when it changed something, the text now is the new baseline. */
  async wrote(changed: boolean): Promise<void> {
    try {
      if (changed) for (const d of this.clients.keys()) await this.read(d, true);
      this.unsettled.clear();
    } finally {
      this.paused = Math.max(0, this.paused - 1);
    }
  }

  /** One look at every daemon (also used by tests). Returns the daemons whose config changed. */
  async check(): Promise<string[]> {
    if (this.paused > 0) return [];
    const writes = this.writes;
    const changed = new Set(this.unsettled);
    for (const d of this.clients.keys()) if (await this.read(d, false)) changed.add(d);
    if (changed.size === 0) return [];
    await delay(this.opts.settleMs ?? 200);
    const settled: string[] = [];
    const moving = new Set<string>();
    for (const d of changed) {
      if (await this.read(d, false)) moving.add(d);
      else settled.push(d);
    }
    // A write that started during this look makes what was read here its own echo.
    if (this.paused > 0 || this.writes !== writes) return [];
    this.unsettled = moving;
    if (settled.length > 0) this.opts.onDrift(settled);
    return settled;
  }

  /** Read one daemon's config; true when it differs from a baseline that existed (drift). */
  private async read(daemon: string, rebase: boolean): Promise<boolean> {
    const client = this.clients.get(daemon) as VtyClient;
    let text: string;
    try {
      text = normalise(await client.run("show running-config"));
    } catch {
      this.baseline.delete(daemon);
      return false;
    }
    const before = this.baseline.get(daemon);
    this.baseline.set(daemon, text);
    return !rebase && before !== undefined && before !== text;
  }
}
