/**
 * Drift watcher: ONE long-lived `ip -N -o monitor label rule route address neigh link` (inside the
 * netns when given) whose lines are filtered to the changes that can matter to the agent and turned
 * into a debounced "kernel changed" event listing the object kinds seen. The agent answers with a
 * sync, so a rule or route deleted by hand is back within a second; the periodic resync remains
 * the safety net for what netlink does not announce (NDP proxy entries send no notification).
 *
 * The event is a trigger, never the work: it names what changed so the caller can log it, and the
 * caller re-reads the kernel (level-triggered). The agent's own batches also produce events: with
 * `explains`, the lines its model already accounts for (the echo of its own writes) start nothing.
 *
 * If the monitor dies it is restarted with backoff, and a change event is emitted after every
 * restart, since events may have been missed meanwhile.
 */
import { type SpawnStreaming, type StreamingChild, spawnStreaming } from "../exec.ts";

export type WatchKind = "rule" | "route" | "address" | "neigh" | "link";

export interface KernelChange {
  readonly kinds: ReadonlySet<WatchKind>;
  /** Relevant monitor lines folded into this event. */
  readonly events: number;
  /** True when the event marks a (re)start of the monitor: anything may have changed. */
  readonly restarted: boolean;
}

export interface KernelWatcherOptions {
  readonly netns?: string;
  /** Routes and neighbours are relevant only when they carry this protocol (or are permanent/proxy). */
  readonly routeProtocol: number;
  readonly onChange: (change: KernelChange) => void;
  /** Window from the first relevant line to the event (default 200 ms). */
  readonly debounceMs?: number;
  readonly spawn?: SpawnStreaming;
  /** Called when the monitor exits unexpectedly (before the restart). */
  readonly onMonitorExit?: (info: { code: number | null; stderr: string }) => void;
  /**
   * Watch one family only (`ip -4|-6 monitor`): its lines then say which family they are about,
   * which a rule without a destination does not. Family 6 leaves links to the family 4 watcher.
   */
  readonly family?: 4 | 6;
  /**
   * Whether a relevant line is explained by what the agent itself wrote (its echo): such lines
   * start no pass. Unset: every relevant line counts as a change.
   */
  readonly explains?: (line: string, family: 4 | 6 | undefined) => boolean;
  /** Called for each relevant line with the verdict (metrics). */
  readonly onLine?: (verdict: "echo" | "change") => void;
}

const LABELS: Record<string, WatchKind> = {
  RULE: "rule",
  ROUTE: "route",
  ADDR: "address",
  NEIGH: "neigh",
  LINK: "link",
};

const RESTART_INITIAL_MS = 100;
const RESTART_MULTIPLIER = 2;
const RESTART_MAX_MS = 5_000;
/** A monitor that ran this long resets the backoff. */
const RESTART_HEALTHY_MS = 10_000;

export const MONITOR_ARGV = [
  "ip",
  "-N",
  "-o",
  "monitor",
  "label",
  "rule",
  "route",
  "address",
  "neigh",
  "link",
];

/** The monitor command for one family (or both, when undefined). */
export function monitorArgv(family?: 4 | 6): string[] {
  if (family === undefined) return [...MONITOR_ARGV];
  const kinds = family === 4 ? MONITOR_ARGV.slice(4) : MONITOR_ARGV.slice(4).filter((k) => k !== "link");
  return ["ip", `-${family}`, "-N", "-o", "monitor", ...kinds];
}

/**
 * Which kind a monitor line is about, or undefined when it cannot matter: routes of other protocols
 * (FRR installing BGP routes, the kernel's local routes) and dynamic neighbour churn are dropped.
 */
export function classifyMonitorLine(line: string, routeProtocol: number): WatchKind | undefined {
  const m = /^\[([A-Z]+)\]/.exec(line);
  const kind = m ? LABELS[m[1] ?? ""] : undefined;
  if (!kind) return undefined;
  const proto = /\bproto (\d+)\b/.exec(line);
  const ours = proto !== null && Number(proto[1]) === routeProtocol;
  if (kind === "route") return ours ? kind : undefined;
  if (kind === "neigh") return ours || /\bPERMANENT\b|\bproxy\b/.test(line) ? kind : undefined;
  return kind;
}

export class KernelWatcher {
  private child: StreamingChild | undefined;
  private running = false;
  private pending = new Set<WatchKind>();
  private pendingEvents = 0;
  private timer: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private backoff = RESTART_INITIAL_MS;
  private startedAt = 0;
  private exitWaiters: Array<() => void> = [];
  private restartedFlag = false;
  private readonly spawn: SpawnStreaming;
  private readonly debounceMs: number;
  /** How many times the monitor has been started (1 after `start`). */
  starts = 0;

  constructor(private readonly opts: KernelWatcherOptions) {
    this.spawn = opts.spawn ?? spawnStreaming;
    this.debounceMs = opts.debounceMs ?? 200;
  }

  /** PID of the current monitor process (undefined while restarting or stopped). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.launch();
  }

  /** Stop watching: kill the monitor by PID and wait for it to exit. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.timer = undefined;
    this.restartTimer = undefined;
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => this.exitWaiters.push(resolve));
    child.kill();
    let guard: NodeJS.Timeout | undefined;
    // SIGTERM ends `ip monitor` at once; the guard only keeps a wedged child from hanging shutdown.
    await Promise.race([exited, new Promise<void>((r) => (guard = setTimeout(r, 2_000)))]);
    clearTimeout(guard);
  }

  private launch(): void {
    this.starts++;
    this.startedAt = Date.now();
    const child = this.spawn({
      argv: monitorArgv(this.opts.family),
      ...(this.opts.netns ? { netns: this.opts.netns } : {}),
      onLine: (line) => this.onLine(line),
      // The kernel dropped notifications (the monitor's socket buffer overflowed, e.g. under a burst
      // of thousands of changes): what was lost is unknown, so ask for a full look, as after a restart.
      onErrLine: (line) => {
        if (/No buffer space|ENOBUFS/.test(line)) this.note(undefined, true);
      },
      onExit: (code, _signal, stderr) => this.onExit(child, code, stderr),
    });
    this.child = child;
    if (this.starts > 1) this.note(undefined, true);
  }

  private onLine(line: string): void {
    const kind = classifyMonitorLine(line, this.opts.routeProtocol);
    if (!kind) return;
    if (this.opts.explains?.(line, this.opts.family)) {
      this.opts.onLine?.("echo");
      return;
    }
    this.opts.onLine?.("change");
    this.note(kind, false);
  }

  private note(kind: WatchKind | undefined, restarted: boolean): void {
    if (!this.running) return;
    if (kind) {
      this.pending.add(kind);
      this.pendingEvents++;
    }
    if (restarted) this.restartedFlag = true;
    // A fixed window from the first line (not a trailing debounce): a steady stream of changes
    // still produces an event every `debounceMs`.
    this.timer ??= setTimeout(() => this.flush(), this.debounceMs);
  }

  private flush(): void {
    this.timer = undefined;
    const change: KernelChange = {
      kinds: this.pending,
      events: this.pendingEvents,
      restarted: this.restartedFlag,
    };
    this.pending = new Set();
    this.pendingEvents = 0;
    this.restartedFlag = false;
    if (this.running) this.opts.onChange(change);
  }

  private onExit(child: StreamingChild, code: number | null, stderr: string): void {
    if (this.child === child) this.child = undefined;
    const waiters = this.exitWaiters;
    this.exitWaiters = [];
    for (const w of waiters) w();
    if (!this.running) return;
    this.opts.onMonitorExit?.({ code, stderr });
    if (Date.now() - this.startedAt > RESTART_HEALTHY_MS) this.backoff = RESTART_INITIAL_MS;
    const delay = this.backoff;
    this.backoff = Math.min(this.backoff * RESTART_MULTIPLIER, RESTART_MAX_MS);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.running) this.launch();
    }, delay);
  }
}
