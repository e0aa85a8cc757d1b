/**
 * The level-triggered loop. A trigger names WHAT to look at again ("kernel", "flows", "frr"), never
 * carries the work: the pass reads the current desired state and the current host state, compares
 * them and acts. So a missed or duplicated trigger is harmless, and a burst of triggers collapses
 * into one pass.
 *
 * - Triggers that arrive while a pass runs are merged and run in the next pass (never concurrently).
 * - A pass that reports failed targets is retried with exponential backoff (initial, multiplier,
 *   max), while new triggers still run at once.
 * - `every(ms)` adds a periodic full pass (the safety net for anything no event told us about).
 */

export type Target = "kernel" | "flows" | "frr";
export const ALL_TARGETS: readonly Target[] = ["kernel", "flows", "frr"];

export interface PassRequest {
  readonly targets: ReadonlySet<Target>;
  /** Why the pass runs, for logs ("sb change", "kernel drift", "periodic", "retry", …). */
  readonly reasons: readonly string[];
  /** A full pass re-reads the host state instead of trusting the cache of what it applied. */
  readonly full: boolean;
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
  private pendingReasons: string[] = [];
  private pendingFull = false;
  private running = false;
  private scheduled = false;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay: number;
  private periodic: NodeJS.Timeout | undefined;
  private passes = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly pass: (req: PassRequest) => Promise<PassResult>,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
  ) {
    this.retryDelay = retry.initialMs;
  }

  /** Ask for a pass over `targets`. Cheap; call it for every event. */
  trigger(targets: Iterable<Target>, reason: string, full = false): void {
    if (this.stopped) return;
    for (const t of targets) this.pendingTargets.add(t);
    if (!this.pendingReasons.includes(reason)) this.pendingReasons.push(reason);
    this.pendingFull ||= full;
    this.schedule();
  }

  /** Run a full pass over everything every `ms` milliseconds. */
  every(ms: number): void {
    if (this.periodic) clearInterval(this.periodic);
    this.periodic = setInterval(() => this.trigger(ALL_TARGETS, "periodic", true), ms);
    this.periodic.unref();
  }

  /** Resolves when no pass is running or pending (tests, `sync --once`). */
  idle(): Promise<void> {
    if (!this.running && !this.scheduled && this.pendingTargets.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    if (this.periodic) clearInterval(this.periodic);
    if (this.retryTimer) clearTimeout(this.retryTimer);
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
      reasons: this.pendingReasons,
      full: this.pendingFull,
      id: ++this.passes,
    };
    this.pendingTargets = new Set();
    this.pendingReasons = [];
    this.pendingFull = false;
    let failed: ReadonlySet<Target>;
    try {
      failed = (await this.pass(req)).failed;
    } catch {
      failed = req.targets; // the pass itself broke: retry all it was asked for
    }
    this.running = false;
    if (failed.size > 0 && !this.stopped) this.scheduleRetry(failed);
    else if (failed.size === 0) this.retryDelay = this.retry.initialMs;
    if (this.pendingTargets.size > 0) this.schedule();
    else this.maybeIdle();
  }

  private scheduleRetry(failed: ReadonlySet<Target>): void {
    if (this.retryTimer) return;
    const delay = this.retryDelay;
    this.retryDelay = Math.min(this.retry.maxMs, this.retryDelay * this.retry.multiplier);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.trigger(failed, "retry", true);
    }, delay);
    this.retryTimer.unref();
  }

  private maybeIdle(): void {
    if (this.running || this.scheduled || this.pendingTargets.size > 0) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
