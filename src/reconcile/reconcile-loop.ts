/**
 * The level-triggered loop. A trigger names WHAT to look at again ("kernel", "flows", "frr") and
 * whether a full observe-and-diff is needed; it never carries the work. The pass reads the current
 * desired state (and, for a delta, the keys the agent noted since the last pass), so a missed or
 * duplicated trigger is harmless and a burst of triggers collapses into one pass.
 *
 * - Passes never overlap: triggers that arrive while a pass runs are merged into the next one, so
 *   a full diff computed before a delta was applied can never undo it.
 * - `full` is per target: an FRR retry never turns a kernel delta into a full kernel pass.
 * - A target that fails is retried with its own exponential backoff (initial, multiplier, max) as a
 *   full pass of that target; other targets' failures and successes do not touch its schedule.
 * - `every(ms)` adds a periodic full pass (the safety net for anything no event told us about).
 */

export type Target = "kernel" | "flows" | "frr";
export const ALL_TARGETS: readonly Target[] = ["kernel", "flows", "frr"];

export interface PassRequest {
  readonly targets: ReadonlySet<Target>;
  /** The targets to observe and diff in full (a subset of `targets`); the others run their delta. */
  readonly full: ReadonlySet<Target>;
  /** Why the pass runs, for logs ("southbound change", "kernel drift", "periodic", "retry", …). */
  readonly reasons: readonly string[];
  readonly id: number;
}

/** What a pass returns: the targets that failed and should be retried. */
export interface PassResult {
  readonly failed: ReadonlySet<Target>;
}

export interface RetryPolicy {
  readonly initialMs: number;
  readonly multiplier: number;
  readonly maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { initialMs: 500, multiplier: 2, maxMs: 30_000 };

export class ReconcileLoop {
  private pendingTargets = new Set<Target>();
  private pendingFull = new Set<Target>();
  private pendingReasons: string[] = [];
  private running = false;
  private scheduled = false;
  private stopped = false;
  private readonly retries = new Map<Target, { timer?: NodeJS.Timeout; delay: number }>();
  private periodic: NodeJS.Timeout | undefined;
  private passes = 0;
  /** When the running pass started (performance.now()), for liveness. */
  private passStartedAt: number | undefined;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly pass: (req: PassRequest) => Promise<PassResult>,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
  ) {}

  /** Ask for a pass over `targets`. Cheap; call it for every event. */
  trigger(targets: Iterable<Target>, reason: string, full = false): void {
    if (this.stopped) return;
    for (const t of targets) {
      this.pendingTargets.add(t);
      if (full) this.pendingFull.add(t);
    }
    if (!this.pendingReasons.includes(reason)) this.pendingReasons.push(reason);
    this.schedule();
  }

  /** Run a full pass over everything every `ms` milliseconds. */
  every(ms: number): void {
    if (this.periodic) clearInterval(this.periodic);
    this.periodic = setInterval(() => this.trigger(ALL_TARGETS, "periodic", true), ms);
    this.periodic.unref();
  }

  /** How long the running pass has been running (0 when none is): a wedged loop shows here. */
  runningForMs(): number {
    return this.passStartedAt === undefined ? 0 : performance.now() - this.passStartedAt;
  }

  /** Resolves when no pass is running or pending (tests, `sync --once`). */
  idle(): Promise<void> {
    if (!this.running && !this.scheduled && this.pendingTargets.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    if (this.periodic) clearInterval(this.periodic);
    for (const r of this.retries.values()) if (r.timer) clearTimeout(r.timer);
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    // setImmediate lets every event of the current I/O turn (one OVSDB message = one burst) land first.
    setImmediate(() => {
      this.scheduled = false;
      void this.runPass();
    });
  }

  private async runPass(): Promise<void> {
    if (this.running || this.stopped || this.pendingTargets.size === 0) {
      this.maybeIdle();
      return;
    }
    this.running = true;
    const req: PassRequest = {
      targets: this.pendingTargets,
      full: this.pendingFull,
      reasons: this.pendingReasons,
      id: ++this.passes,
    };
    this.pendingTargets = new Set();
    this.pendingFull = new Set();
    this.pendingReasons = [];
    let failed: ReadonlySet<Target>;
    this.passStartedAt = performance.now();
    try {
      failed = (await this.pass(req)).failed;
    } catch {
      failed = req.targets; // the pass itself broke: retry all it was asked for
    }
    this.passStartedAt = undefined;
    this.running = false;
    if (!this.stopped)
      for (const t of req.targets) {
        if (failed.has(t)) this.scheduleRetry(t);
        else this.retries.delete(t); // healthy again: backoff starts over next time
      }
    if (this.pendingTargets.size > 0) this.schedule();
    else this.maybeIdle();
  }

  private scheduleRetry(target: Target): void {
    const r = this.retries.get(target) ?? { delay: this.retry.initialMs };
    this.retries.set(target, r);
    if (r.timer) return; // already waiting: the pending retry covers it
    const delay = r.delay;
    r.delay = Math.min(this.retry.maxMs, r.delay * this.retry.multiplier);
    r.timer = setTimeout(() => {
      r.timer = undefined;
      this.trigger([target], "retry", true);
    }, delay);
    r.timer.unref();
  }

  private maybeIdle(): void {
    if (this.running || this.scheduled || this.pendingTargets.size > 0) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
